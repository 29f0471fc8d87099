"""Drip schedule and announcements in Chromium against the real app.

A course of two sections whose second opens 3 days after enrolment, one enrolled
student and an announcement with Markdown, made through the services (committed: the
live app only sees committed rows). The student sees the announcement (loaded with
htmx) and the locked section's "Opens on …" on the course page, the refusal page of a
locked lesson, and the announcement on My courses; the owner sees the announcement's
email progress. Screenshots at 1280 and 375 px; at 375 px no page scrolls sideways.
"""

from __future__ import annotations

import secrets
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_course_flow import PASSWORD, desktop_and_phone, log_in
from tests.fixtures.browser import LiveApp

pytestmark = pytest.mark.e2e


@pytest.fixture
def world(committed_db: None, live_app: LiveApp) -> Any:
    from courseplatform.accounts.services import register_user
    from courseplatform.courses import drip, services
    from courseplatform.notices import services as notices
    from courseplatform.notices.tasks import run_announcement_batch
    from courseplatform.onboarding.services import create_school
    from courseplatform.tenancy.rls import school_context

    slug = f"e2e-drip-{secrets.token_hex(4)}"
    created = create_school(
        slug=slug,
        name="Fern & Feather Studio",
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name="Olive Owner",
    )
    school, owner = created.school, created.owner
    with school_context(school):
        student = register_user(
            school=school, email=f"sam@{slug}.test", password=PASSWORD, full_name="Sam Student"
        )
        course = services.create_course(
            school=school,
            actor=owner,
            title="Botanical Drawing",
            subtitle="Six weeks, one leaf at a time",
            description_md="A cohort course: a new section every few days.",
        )
        lessons = []
        for title, names in (
            ("Week 1: Pencils", ["Choosing your pencils", "A single leaf"]),
            ("Week 2: Shading", ["Light and shadow", "Cross-hatching"]),
        ):
            section = services.add_section(school=school, actor=owner, course=course, title=title)
            for name in names:
                lessons.append(
                    services.add_lesson(school=school, actor=owner, section=section, title=name)
                )
        drip.set_section_release(
            school=school, actor=owner, section=lessons[2].section, release="days", days=3
        )
        services.set_course_status(school=school, actor=owner, course=course, publish=True)
        services.enroll_student(
            school=school, actor=owner, course=course, student=student, source="manual"
        )
        announcement = notices.create_announcement(
            school=school,
            actor=owner,
            course=course,
            title="Live Q&A on Thursday",
            body_md="Bring **one leaf** and your _softest_ pencil.\n\n- 18:00 CET\n- 45 minutes",
        )
    run_announcement_batch(school_id=school.pk, announcement_id=announcement.pk)
    return SimpleNamespace(
        host=f"{slug}.",
        owner=owner,
        student=student,
        course=course,
        locked_lesson=lessons[2],
    )


def test_locked_outline_and_announcement_for_student_and_owner(
    live_app: LiveApp, world: Any, new_page: Any
) -> None:
    host, slug = world.host, world.course.slug

    page = new_page()
    log_in(page, live_app, host, world.student.email, "/")
    page.goto(live_app.url(host, "/my/"))
    # My courses: the announcement block arrives by htmx.
    expect(page.locator("[data-announcements]")).to_contain_text("Live Q&A on Thursday")
    expect(page.locator("[data-announcements] strong", has_text="one leaf")).to_be_visible()
    desktop_and_phone(page, "drip-my-courses")

    page.goto(live_app.url(host, f"/courses/{slug}/"))
    expect(page.locator("[data-announcements]")).to_contain_text("Live Q&A on Thursday")
    opens = page.locator("[data-opens]")
    expect(opens).to_have_count(1)
    expect(opens).to_contain_text("(in 3 days)")
    expect(page.get_by_role("link", name="Light and shadow")).to_have_count(0)
    desktop_and_phone(page, "drip-course-locked-outline")

    page.goto(live_app.url(host, f"/courses/{slug}/lessons/{world.locked_lesson.pk}/"))
    expect(page.locator("[data-not-open]")).to_contain_text("Opens on")
    desktop_and_phone(page, "drip-lesson-not-open")

    owner = new_page()
    log_in(owner, live_app, host, world.owner.email, "/manage/")
    owner.goto(live_app.url(host, f"/manage/courses/{world.course.pk}/announcements/"))
    progress = owner.locator("[data-progress]")
    expect(progress.locator("[data-sent]")).to_have_text("1")
    expect(progress.locator("[data-total]")).to_have_text("1")
    desktop_and_phone(owner, "announcements-manage")
