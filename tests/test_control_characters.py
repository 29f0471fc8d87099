"""Control characters in names (issue 11 item 13), across every app that takes one: each
name and title form refuses CR, LF, FF, NUL and the other controls with one clear error
and stores nothing; every themed email stays one header line even when a school name
saved before the rule holds a line break (signup used to answer 500)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import admin
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory

from courseplatform.access.models import AccessCodeBatch
from courseplatform.accounts.models import User
from courseplatform.courses import services as courses
from courseplatform.courses.models import Course, Lesson, Section
from courseplatform.ops.text import CONTROL_CHARACTERS_MESSAGE
from courseplatform.sites.models import Page
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context
from courseplatform.video import services as video

from .fixtures.schools import PASSWORD

pytestmark = pytest.mark.django_db

ALPHA = "alpha.localhost"
CONTROLS = {
    "CR": "\r",
    "LF": "\n",
    "FF": "\x0c",
    "NUL": "\x00",
    "ESC": "\x1b",
    "C1": "\x85",
    "LS": "\u2028",
}
IDS = list(CONTROLS)


def _name(control: str) -> str:
    return f"Alpha{control}Bcc: evil@example.com"


def _refused(response: Any) -> bool:
    return (
        response.status_code in {200, 400}
        and CONTROL_CHARACTERS_MESSAGE in response.content.decode()
    )


@pytest.fixture
def owner_client(school_a: Any, client_for: Callable[..., Client]) -> Client:
    client = client_for(ALPHA)
    with school_context(school_a.school):
        client.force_login(school_a.owner)
    return client


@pytest.fixture
def outline(school_a: Any) -> tuple[Course, Section, Lesson]:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        course = courses.create_course(school=school, actor=owner, title="Inks")
        section = courses.add_section(school=school, actor=owner, course=course, title="One")
        lesson = courses.add_lesson(school=school, actor=owner, section=section, title="Intro")
    return course, section, lesson


@pytest.mark.parametrize("control", CONTROLS.values(), ids=IDS)
def test_control_characters_refused_at_school_signup(
    control: str, client_for: Callable[..., Client]
) -> None:
    base = {
        "full_name": "Ada Lovelace",
        "email": "ada@example.com",
        "password": PASSWORD,
        "school_name": "Engines",
        "subdomain": "engines",
    }
    for field in ("full_name", "school_name"):
        response = client_for("localhost").post("/signup/", {**base, field: _name(control)})
        assert _refused(response), field
    assert not School.objects.filter(slug="engines").exists()


@pytest.mark.parametrize("control", CONTROLS.values(), ids=IDS)
def test_control_characters_refused_in_people_names(
    control: str,
    school_a: Any,
    client_for: Callable[..., Client],
    owner_client: Client,
    outline: tuple[Course, Section, Lesson],
) -> None:
    signup = client_for(ALPHA).post(
        "/accounts/signup/",
        {"full_name": _name(control), "email": "new@example.com", "password": PASSWORD},
    )
    assert _refused(signup)
    course = outline[0]
    roster = owner_client.post(
        f"/manage/courses/{course.pk}/students/add/",
        {"email": "invited@example.com", "full_name": _name(control)},
    )
    assert _refused(roster)
    with school_context(school_a.school):
        assert not User.objects.filter(email__in=["new@example.com", "invited@example.com"])
    assert mail.outbox == []


@pytest.mark.parametrize("control", CONTROLS.values(), ids=IDS)
def test_control_characters_refused_in_titles_and_school_name(
    control: str, school_a: Any, owner_client: Client, outline: tuple[Course, Section, Lesson]
) -> None:
    course, section, lesson = outline
    bad = _name(control)
    posts = [
        ("/manage/settings/", {"name": bad}),
        ("/manage/courses/new/", {"title": bad, "subtitle": "", "description_md": ""}),
        ("/manage/courses/new/", {"title": "Fine", "subtitle": bad, "description_md": ""}),
        (
            f"/manage/courses/{course.pk}/",
            {"title": bad, "slug": course.slug, "subtitle": "", "description_md": ""},
        ),
        (
            f"/manage/courses/lessons/{lesson.pk}/",
            {"title": bad, "kind": "text", "body_md": "", "duration_minutes": "0"},
        ),
        (
            "/manage/codes/",
            {"name": bad, "courses": [str(course.pk)], "code_count": "1", "uses_per_code": "1"},
        ),
    ]
    for url, data in posts:
        assert _refused(owner_client.post(url, data)), url
    # Forms that answer with a redirect and a message.
    for url, data in [
        (f"/manage/courses/{course.pk}/sections/new/", {"title": bad}),
        (f"/manage/courses/sections/{section.pk}/rename/", {"title": bad}),
        (f"/manage/courses/sections/{section.pk}/lessons/new/", {"title": bad, "kind": "text"}),
        ("/manage/site/pages/new/", {"title": bad, "starter": "blank"}),
    ]:
        response = owner_client.post(url, data, follow=True)
        assert CONTROL_CHARACTERS_MESSAGE in response.content.decode(), url
    with school_context(school_a.school):
        assert School.objects.get(pk=school_a.school.pk).name == "Alpha Academy"
        assert list(Course.objects.values_list("title", "subtitle")) == [("Inks", "")]
        assert list(Section.objects.values_list("title", flat=True)) == ["One"]
        assert list(Lesson.objects.values_list("title", flat=True)) == ["Intro"]
        assert not AccessCodeBatch.objects.exists()
        assert list(Page.objects.values_list("title", flat=True)) == ["Alpha Academy"]


@pytest.mark.parametrize("control", CONTROLS.values(), ids=IDS)
def test_control_characters_refused_in_video_titles_and_file_names(
    control: str, school_a: Any
) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        for kwargs in ({"title": _name(control)}, {"filename": f"clip{control}.mp4"}):
            arguments: dict[str, Any] = {"filename": "clip.mp4", "size": 1000, **kwargs}
            with pytest.raises(Exception) as refused:
                video.create_asset(school=school, actor=owner, **arguments)
            assert CONTROL_CHARACTERS_MESSAGE in str(refused.value)


# PostgreSQL text cannot hold NUL, so no saved name can contain one.
STORABLE = {name: c for name, c in CONTROLS.items() if c != "\x00"}


@pytest.mark.parametrize("control", STORABLE.values(), ids=list(STORABLE))
def test_control_characters_in_saved_school_name_keep_every_email_one_line(
    control: str,
    school_a: Any,
    client_for: Callable[..., Client],
    owner_client: Client,
    outline: tuple[Course, Section, Lesson],
) -> None:
    """A name saved before the rule (straight into the table) reaches every email."""
    school = school_a.school
    with school_context(school):
        School.objects.filter(pk=school.pk).update(name=_name(control))
    visitor = client_for(ALPHA)
    signup = visitor.post(
        "/accounts/signup/",
        {"full_name": "Sam Student", "email": "sam@example.com", "password": PASSWORD},
    )
    assert signup.status_code == 302
    again = client_for(ALPHA).post(  # the "someone tried to sign up as you" notice
        "/accounts/signup/",
        {"full_name": "Sam Again", "email": "sam@example.com", "password": PASSWORD},
    )
    assert again.status_code in {200, 302}
    reset = client_for(ALPHA).post("/accounts/password-reset/", {"email": "sam@example.com"})
    assert reset.status_code in {200, 302}
    invite = owner_client.post(
        f"/manage/courses/{outline[0].pk}/students/add/",
        {"email": "invited@example.com", "full_name": "Ivy Invited"},
    )
    assert invite.status_code in {200, 302}
    subjects = [message.subject for message in mail.outbox]
    assert len(subjects) == 4, subjects
    for message in mail.outbox:
        rendered = message.message()
        subject = str(rendered["Subject"])
        assert "Alpha Bcc: evil@example.com" in subject
        assert not any(c in subject for c in "\r\n\x0c\x00\x1b\x85\u2028")
        assert rendered["Bcc"] is None
        assert message.recipients() in (["sam@example.com"], ["invited@example.com"])


# The console works through platform_bypass, whose own connection sees committed rows only.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("control", CONTROLS.values(), ids=IDS)
def test_control_characters_refused_in_operator_console(
    control: str, school_a: Any, client_for: Callable[..., Client]
) -> None:
    staff = User.objects.create_superuser("ops@platform.test", PASSWORD)
    console = client_for("localhost")
    console.force_login(staff)
    school = school_a.school
    response = console.post(
        f"/admin/tenancy/school/{school.pk}/change/",
        {"name": _name(control), "plan": str(school.plan_id)},
    )
    assert _refused(response)
    assert School.objects.get(pk=school.pk).name == "Alpha Academy"
    request = RequestFactory().get("/admin/")
    request.user = staff
    user_form = admin.site._registry[User].get_form(request, school_a.owner)
    with pytest.raises(ValidationError) as refused:
        user_form.base_fields["full_name"].clean(_name(control))
    assert CONTROL_CHARACTERS_MESSAGE in refused.value.messages
