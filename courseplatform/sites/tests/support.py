"""Helpers shared by the site/builder tests: logged-in clients, courses, JSON saves."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from django.test import Client

from courseplatform.courses import services as course_services
from courseplatform.courses.models import Course
from courseplatform.sites.models import Page
from courseplatform.tenancy.rls import school_context


def logged_in(client_for: Callable[..., Client], user: Any) -> Client:
    client = client_for(f"{user.school.slug}.localhost")
    with school_context(user.school):
        client.force_login(user)
    return client


def home_page(school: Any) -> Page:
    with school_context(school):
        return Page.objects.get(school=school, is_home=True)


def reload(page: Page) -> Page:
    with school_context(page.school):
        return Page.objects.get(pk=page.pk)


def publish_course(school: Any, owner: Any, title: str, *, subtitle: str = "") -> Course:
    with school_context(school):
        course = course_services.create_course(
            school=school, actor=owner, title=title, subtitle=subtitle
        )
        section = course_services.add_section(
            school=school, actor=owner, course=course, title="Start"
        )
        course_services.add_lesson(school=school, actor=owner, section=section, title="Hello")
        return course_services.set_course_status(
            school=school, actor=owner, course=course, publish=True
        )


def save_draft(
    client: Client, page_id: int, *, html: str = "", css: str = "", project: Any = None
) -> Any:
    return client.post(
        f"/manage/site/pages/{page_id}/draft/",
        data=json.dumps({"html": html, "css": css, "project": project or {}}),
        content_type="application/json",
    )


def publish(client: Client, page_id: int) -> Any:
    return client.post(f"/manage/site/pages/{page_id}/publish/", HTTP_ACCEPT="application/json")


def main_html(response: Any) -> str:
    """The <main> element of a school page (what the page body renders into)."""
    text = response.content.decode()
    match = re.search(r"<main id=\"main\".*?</main>", text, re.DOTALL)
    assert match, "no <main> in the page"
    return match.group(0)
