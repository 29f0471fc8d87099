"""Instructor authoring in /manage/courses/: list, create, course editor, outline
(drag-and-drop endpoints and the move up/down fallback), lesson editor, uploads.

Every access rule runs against two schools (``alpha`` and ``bravo``). Data is made
through the services inside ``in_school`` (row-level security hides tenant rows from
code outside a school context), and clients log in with ``force_login`` inside the
user's school so the session survives ``SchoolAccountMiddleware``.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from courseplatform.accounts.models import User
from courseplatform.courses import services
from courseplatform.courses.models import Attachment, Course, Lesson, Section
from courseplatform.tenancy.rls import school_context

pytestmark = pytest.mark.django_db

ALPHA = "alpha.localhost"
BRAVO = "bravo.localhost"
HTMX = {"HX-Request": "true"}


# --- helpers ------------------------------------------------------------------------------


@dataclass
class Outline:
    course: Course
    sections: list[Section]
    lessons: list[Lesson]  # s1: lessons[0], lessons[1]; s2: lessons[2]
    attachment: Attachment


def _text(response: Any) -> str:
    return response.content.decode()


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _field_errors(html: str, field_id: str) -> str:
    """The inline error text under one form field ("" when it has none)."""
    match = re.search(rf'<div id="{field_id}_error">(.*?)</div>', html, re.DOTALL)
    return _plain(match.group(1)) if match else ""


def _logged_in(client_for: Callable[..., Client], host: str, user: User) -> Client:
    client = client_for(host)
    with school_context(user.school):
        client.force_login(user)
    return client


def png_upload(name: str = "cover.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 36), (79, 70, 229)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def build_outline(school: Any, actor: User, title: str = "Watercolour Basics") -> Outline:
    """A course with two sections and three lessons (2 + 1) and one attachment."""
    with school_context(school):
        course = services.create_course(
            school=school, actor=actor, title=title, description_md="Paint **loosely**."
        )
        s1 = services.add_section(
            school=school, actor=actor, course=course, title="Getting started"
        )
        s2 = services.add_section(school=school, actor=actor, course=course, title="Colour")
        lessons = [
            services.add_lesson(school=school, actor=actor, section=s1, title="Welcome"),
            services.add_lesson(
                school=school, actor=actor, section=s1, title="Materials", kind=Lesson.Kind.VIDEO
            ),
            services.add_lesson(school=school, actor=actor, section=s2, title="Mixing greens"),
        ]
        attachment = services.add_attachment(
            school=school,
            actor=actor,
            lesson=lessons[0],
            upload=SimpleUploadedFile("notes.txt", b"Bring brushes.\n", content_type="text/plain"),
        )
    return Outline(course, [s1, s2], lessons, attachment)


def section_order(school: Any, course: Course) -> list[int]:
    with school_context(school):
        return list(
            Section.objects.filter(course=course)
            .order_by("position", "id")
            .values_list("pk", flat=True)
        )


def lesson_layout(school: Any, course: Course) -> dict[int, list[int]]:
    """section id -> lesson ids in order."""
    with school_context(school):
        layout: dict[int, list[int]] = {
            pk: [] for pk in Section.objects.filter(course=course).values_list("pk", flat=True)
        }
        for section_id, lesson_id in (
            Lesson.objects.filter(course=course)
            .order_by("position", "id")
            .values_list("section_id", "id")
        ):
            layout[section_id].append(lesson_id)
        return layout


def snapshot(school: Any) -> list[tuple[Any, ...]]:
    """Everything authoring can change in a school, to prove that nothing did."""
    with school_context(school):
        return [
            *Course.objects.filter(school=school)
            .order_by("pk")
            .values_list(
                "pk", "title", "slug", "subtitle", "description_md", "status", "cover_key"
            ),
            *Section.objects.filter(school=school)
            .order_by("pk")
            .values_list("pk", "title", "position", "course_id"),
            *Lesson.objects.filter(school=school)
            .order_by("pk")
            .values_list("pk", "title", "kind", "body_md", "position", "section_id", "is_preview"),
            *Attachment.objects.filter(school=school)
            .order_by("pk")
            .values_list("pk", "filename", "lesson_id"),
        ]


@pytest.fixture
def alpha(school_a: Any) -> Any:
    return school_a.school


@pytest.fixture
def owner(school_a: Any) -> User:
    return school_a.owner  # type: ignore[no-any-return]


@pytest.fixture
def client(client_for: Callable[..., Client], owner: User) -> Client:
    return _logged_in(client_for, ALPHA, owner)


@pytest.fixture
def built(alpha: Any, owner: User) -> Outline:
    return build_outline(alpha, owner)


# --- access -------------------------------------------------------------------------------


def test_course_list_needs_a_manager(
    school_a: Any, make_user: Callable[..., Any], client_for: Callable[..., Client]
) -> None:
    anonymous = client_for(ALPHA).get("/manage/courses/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")

    student = make_user(school_a.school, "student@example.com", role=User.Role.STUDENT)
    assert _logged_in(client_for, ALPHA, student).get("/manage/courses/").status_code == 403
    assert _logged_in(client_for, ALPHA, student).get("/manage/courses/new/").status_code == 403


def test_manage_nav_has_courses_between_dashboard_and_people(client: Client) -> None:
    html = _text(client.get("/manage/courses/"))
    nav = re.findall(r'data-nav="(\w+)"', html)
    assert nav[:2] == ["dashboard", "courses"]
    assert nav.index("courses") < nav.index("students")
    assert re.search(
        r'href="/manage/courses/" data-nav="courses" class="sidebar-link" '
        r'aria-current="page"',
        html,
    )


# --- list and create ----------------------------------------------------------------------


def test_course_list_empty_state_and_plan_usage(client: Client) -> None:
    response = client.get("/manage/courses/")
    assert response.status_code == 200
    html = _text(response)
    assert "data-empty-state" in html
    assert "Create your first course" in html
    assert "0 of 5 courses on the Free plan" in html


def test_create_course_redirects_to_the_editor(client: Client, alpha: Any, owner: User) -> None:
    response = client.post(
        "/manage/courses/new/",
        {
            "title": "Sketching 101",
            "subtitle": "Pencils first",
            "description_md": "# Hello",
        },
    )
    assert response.status_code == 302
    with school_context(alpha):
        course = Course.objects.get(school=alpha)
        assert course.title == "Sketching 101" and course.slug == "sketching-101"
        assert course.status == Course.Status.DRAFT
        assert course.description_html == "<h1>Hello</h1>\n"
        assert list(course.instructors.all()) == [owner]
    assert response["Location"] == f"/manage/courses/{course.pk}/"

    editor = client.get(response["Location"])
    assert editor.status_code == 200
    assert "is created as a draft" in _text(editor)

    listing = _text(client.get("/manage/courses/"))
    assert "Sketching 101" in listing and "Draft" in listing
    assert "1 of 5 courses on the Free plan" in listing


def test_create_course_requires_a_title(client: Client, alpha: Any) -> None:
    response = client.post("/manage/courses/new/", {"title": "   ", "subtitle": ""})
    assert response.status_code == 200
    assert _field_errors(_text(response), "id_title") == "This field is required."
    with school_context(alpha):
        assert not Course.objects.filter(school=alpha).exists()


def test_sixth_course_on_free_plan_is_refused_with_the_limit_and_upgrade_path(
    client: Client, alpha: Any, owner: User
) -> None:
    with school_context(alpha):
        for n in range(5):
            services.create_course(school=alpha, actor=owner, title=f"Course {n}")
    listing = _text(client.get("/manage/courses/"))
    assert "5 of 5 courses on the Free plan" in listing
    assert "You have used all 5 courses" in listing

    response = client.post("/manage/courses/new/", {"title": "One too many"})
    assert response.status_code == 200
    alert = _plain(_text(response))
    assert "Your Free plan includes up to 5 courses" in alert
    assert "upgrade" in alert and "Premium" in alert
    with school_context(alpha):
        assert Course.objects.filter(school=alpha).count() == 5
        assert not Course.objects.filter(school=alpha, title="One too many").exists()


def test_course_list_runs_the_same_queries_for_one_and_six_courses(
    make_school: Callable[..., Any], client_for: Callable[..., Client]
) -> None:
    created = make_school("gamma", plan="premium")
    school, owner = created.school, created.owner
    client = _logged_in(client_for, "gamma.localhost", owner)

    def count_queries() -> int:
        client.get("/manage/courses/")  # warm caches (school by host, session)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/manage/courses/")
        assert response.status_code == 200
        return len(queries)

    build_outline(school, owner, "Course 1")
    one = count_queries()
    for n in range(2, 7):
        build_outline(school, owner, f"Course {n}")
    six = count_queries()
    assert "Course 6" in _text(client.get("/manage/courses/"))
    assert one == six


# --- course editor ------------------------------------------------------------------------


def test_course_editor_shows_outline_details_cover_and_actions(
    client: Client, built: Outline
) -> None:
    response = client.get(f"/manage/courses/{built.course.pk}/")
    assert response.status_code == 200
    html = _text(response)
    for title in ("Getting started", "Colour", "Welcome", "Materials", "Mixing greens"):
        assert title in html
    # sections and lessons in order, with their reorder endpoints for SortableJS
    assert html.index("Getting started") < html.index("Colour")
    assert html.index("Welcome") < html.index("Materials") < html.index("Mixing greens")
    assert f'data-reorder-url="/manage/courses/{built.course.pk}/reorder-sections/"' in html
    s1 = built.sections[0].pk
    assert f'data-reorder-url="/manage/courses/sections/{s1}/reorder-lessons/"' in html
    assert f'href="/courses/{built.course.slug}/?preview=student"' in html  # preview as student
    assert "dist/Sortable.min.js" in html and "dist/outline.js" in html
    assert 'id="authoring-status"' in html and 'aria-live="polite"' in html
    assert "<script>" not in html  # no inline scripts (CSP)
    assert "<strong>loosely</strong>" in html  # description preview


def test_edit_course_details(client: Client, alpha: Any, owner: User, built: Outline) -> None:
    url = f"/manage/courses/{built.course.pk}/"
    response = client.post(
        url,
        {
            "title": "Watercolour for everyone",
            "slug": "Water Colour!",
            "subtitle": "Loose and bright",
            "description_md": "Hello <script>alert(1)</script>",
        },
    )
    assert response.status_code == 302
    with school_context(alpha):
        course = Course.objects.get(pk=built.course.pk)
        other = services.create_course(school=alpha, actor=owner, title="Other course")
    assert (course.title, course.slug, course.subtitle) == (
        "Watercolour for everyone",
        "water-colour",
        "Loose and bright",
    )
    assert "<script" not in course.description_html

    # a taken address is refused inline and nothing is saved
    taken = client.post(
        url, {"title": "Renamed", "slug": other.slug, "subtitle": "", "description_md": ""}
    )
    assert taken.status_code == 200
    assert _field_errors(_text(taken), "id_slug") == "Another course already uses this address."
    with school_context(alpha):
        assert Course.objects.get(pk=built.course.pk).title == "Watercolour for everyone"


def test_publish_needs_a_lesson_then_publishes_and_unpublishes(
    client: Client, alpha: Any, owner: User
) -> None:
    with school_context(alpha):
        course = services.create_course(school=alpha, actor=owner, title="Empty course")
    status_url = f"/manage/courses/{course.pk}/status/"
    refused = client.post(status_url, {"publish": "1"}, follow=True)
    assert "Add at least one lesson before publishing." in _text(refused)
    with school_context(alpha):
        assert Course.objects.get(pk=course.pk).status == Course.Status.DRAFT
        section = services.add_section(school=alpha, actor=owner, course=course, title="One")
        services.add_lesson(school=alpha, actor=owner, section=section, title="First")

    published = client.post(status_url, {"publish": "1"}, follow=True)
    assert "is published" in _text(published)
    with school_context(alpha):
        assert Course.objects.get(pk=course.pk).status == Course.Status.PUBLISHED
    assert "Published" in _text(client.get("/manage/courses/"))

    client.post(status_url, {"publish": "0"})
    with school_context(alpha):
        assert Course.objects.get(pk=course.pk).status == Course.Status.DRAFT


def test_delete_course_asks_first(client: Client, alpha: Any, built: Outline) -> None:
    url = f"/manage/courses/{built.course.pk}/delete/"
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "This cannot be undone" in _text(
        confirm
    ) and "3 lessons with their text and files" in _text(confirm)
    with school_context(alpha):
        assert Course.objects.filter(pk=built.course.pk).exists()
    done = client.post(url)
    assert done.status_code == 302 and done["Location"] == "/manage/courses/"
    with school_context(alpha):
        assert not Course.objects.filter(pk=built.course.pk).exists()
        assert not Lesson.objects.filter(course_id=built.course.pk).exists()


def test_cover_upload_accepts_a_real_png(client: Client, alpha: Any, built: Outline) -> None:
    response = client.post(f"/manage/courses/{built.course.pk}/cover/", {"cover": png_upload()})
    assert response.status_code == 302
    with school_context(alpha):
        key = Course.objects.get(pk=built.course.pk).cover_key
    assert key.startswith(f"schools/{alpha.pk}/covers/") and key.endswith(".png")
    editor = _text(client.get(f"/manage/courses/{built.course.pk}/"))
    assert "Cover image updated." in editor
    match = re.search(r'<img src="([^"]+)" alt="Current cover', editor)
    assert match
    image = client.get(match.group(1))
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert image["Content-Disposition"].startswith("inline")


def test_cover_upload_refuses_an_exe_renamed_png(
    client: Client, alpha: Any, built: Outline
) -> None:
    fake = SimpleUploadedFile("cover.png", b"MZ\x90\x00" + b"\x00" * 200, content_type="image/png")
    response = client.post(f"/manage/courses/{built.course.pk}/cover/", {"cover": fake})
    assert response.status_code == 200
    error = _field_errors(_text(response), "id_cover")
    assert "not an image we can read" in error
    with school_context(alpha):
        assert Course.objects.get(pk=built.course.pk).cover_key == ""


# --- outline: add, rename, delete ---------------------------------------------------------


def test_add_section_with_htmx_returns_the_outline(
    client: Client, alpha: Any, built: Outline
) -> None:
    url = f"/manage/courses/{built.course.pk}/sections/new/"
    response = client.post(url, {"title": "Composition"}, headers=HTMX)
    assert response.status_code == 200
    html = _text(response)
    assert html.lstrip().startswith('<div id="outline"')  # the partial, not the page
    assert "Composition" in html
    assert json.loads(response["HX-Trigger"]) == {"authoringStatus": "Section “Composition” added."}
    with school_context(alpha):
        assert list(
            Section.objects.filter(course=built.course).values_list("title", flat=True)
        ) == ["Getting started", "Colour", "Composition"]

    blank = client.post(url, {"title": ""}, headers=HTMX)
    assert blank.status_code == 200
    assert _field_errors(_text(blank), "id_new_section_title") == "This field is required."
    assert "Could not save" in json.loads(blank["HX-Trigger"])["authoringStatus"]


def test_outline_forms_work_without_javascript(client: Client, alpha: Any, built: Outline) -> None:
    s1 = built.sections[0]
    added = client.post(
        f"/manage/courses/sections/{s1.pk}/lessons/new/", {"title": "Brushes", "kind": "file"}
    )
    assert added.status_code == 302
    assert added["Location"].startswith(f"/manage/courses/{built.course.pk}/#lesson-")
    renamed = client.post(f"/manage/courses/sections/{s1.pk}/rename/", {"title": "Start here"})
    assert renamed.status_code == 302
    with school_context(alpha):
        assert Section.objects.get(pk=s1.pk).title == "Start here"
        lesson = Lesson.objects.get(course=built.course, title="Brushes")
        assert (lesson.section_id, lesson.kind, lesson.position) == (s1.pk, "file", 3)

    bad_kind = client.post(
        f"/manage/courses/sections/{s1.pk}/lessons/new/", {"title": "Bad", "kind": "podcast"}
    )
    assert bad_kind.status_code == 200
    assert "Select a valid choice" in _field_errors(
        _text(bad_kind), f"id_section{s1.pk}_lesson_kind"
    )


def test_delete_section_and_lesson(client: Client, alpha: Any, built: Outline) -> None:
    lesson = built.lessons[2]
    assert client.get(f"/manage/courses/lessons/{lesson.pk}/delete/").status_code == 200
    response = client.post(f"/manage/courses/lessons/{lesson.pk}/delete/", headers=HTMX)
    assert response.status_code == 200 and "Mixing greens" not in _text(response)
    section = built.sections[0]
    confirm = client.get(f"/manage/courses/sections/{section.pk}/delete/")
    assert "2 lessons in this section" in _text(confirm)
    client.post(f"/manage/courses/sections/{section.pk}/delete/")
    with school_context(alpha):
        assert list(Section.objects.filter(course=built.course).values_list("pk", flat=True)) == [
            built.sections[1].pk
        ]
        assert not Lesson.objects.filter(course=built.course).exists()


# --- reordering: drag-and-drop endpoints --------------------------------------------------


def test_reorder_sections(client: Client, alpha: Any, built: Outline) -> None:
    s1, s2 = (s.pk for s in built.sections)
    url = f"/manage/courses/{built.course.pk}/reorder-sections/"
    response = client.post(url, {"ids": [s2, s1]})
    assert response.status_code == 200 and response.json()["ok"] is True
    assert section_order(alpha, built.course) == [s2, s1]
    # JSON bodies work too
    response = client.post(url, json.dumps({"ids": [s1, s2]}), content_type="application/json")
    assert response.status_code == 200
    assert section_order(alpha, built.course) == [s1, s2]


def test_reorder_lessons_within_and_between_sections(
    client: Client, alpha: Any, built: Outline
) -> None:
    s1, s2 = (s.pk for s in built.sections)
    welcome, materials, greens = (lesson.pk for lesson in built.lessons)
    response = client.post(
        f"/manage/courses/sections/{s1}/reorder-lessons/", {"ids": [materials, welcome]}
    )
    assert response.status_code == 200
    assert lesson_layout(alpha, built.course) == {s1: [materials, welcome], s2: [greens]}

    # drag "Welcome" into section 2, between nothing and "Mixing greens"
    response = client.post(
        f"/manage/courses/sections/{s2}/reorder-lessons/", {"ids": [welcome, greens]}
    )
    assert response.status_code == 200
    assert lesson_layout(alpha, built.course) == {s1: [materials], s2: [welcome, greens]}


def test_reorder_refuses_ids_of_another_course_or_school_and_changes_nothing(
    client: Client, alpha: Any, owner: User, built: Outline, school_b: Any
) -> None:
    other = build_outline(alpha, owner, "Another course")
    bravo = build_outline(school_b.school, school_b.owner, "Bravo course")
    s1, s2 = (s.pk for s in built.sections)
    before_a, before_b = snapshot(alpha), snapshot(school_b.school)

    sections_url = f"/manage/courses/{built.course.pk}/reorder-sections/"
    lessons_url = f"/manage/courses/sections/{s1}/reorder-lessons/"
    attempts = [
        (sections_url, [s2, s1, other.sections[0].pk]),  # a section of another course
        (sections_url, [s2, other.sections[0].pk]),
        (sections_url, [s2, s1, bravo.sections[0].pk]),  # a section of another school
        (sections_url, [s2]),  # incomplete
        (sections_url, [s1, s1, s2]),  # duplicate
        (lessons_url, [built.lessons[1].pk, built.lessons[0].pk, other.lessons[0].pk]),
        (lessons_url, [built.lessons[1].pk, built.lessons[0].pk, bravo.lessons[0].pk]),
        (lessons_url, [built.lessons[1].pk]),  # would orphan "Welcome"
        (lessons_url, ["x", "y"]),
    ]
    for url, ids in attempts:
        response = client.post(url, {"ids": ids})
        assert response.status_code == 400, (url, ids)
        body = response.json()
        assert body["ok"] is False and body["error"], body
    garbage = client.post(sections_url, "{not json", content_type="application/json")
    assert garbage.status_code == 400
    assert snapshot(alpha) == before_a
    assert snapshot(school_b.school) == before_b


# --- reordering: keyboard / no-JS fallback ------------------------------------------------


def test_move_section_up_and_down(client: Client, alpha: Any, built: Outline) -> None:
    s1, s2 = (s.pk for s in built.sections)
    response = client.post(f"/manage/courses/sections/{s2}/move/", {"direction": "up"})
    assert response.status_code == 302 and response["Location"].endswith(f"#section-{s2}")
    assert section_order(alpha, built.course) == [s2, s1]

    move_s2 = f"/manage/courses/sections/{s2}/move/"
    response = client.post(move_s2, {"direction": "down"}, headers=HTMX)
    assert response.status_code == 200 and 'id="outline"' in _text(response)
    assert section_order(alpha, built.course) == [s1, s2]

    # already first: nothing changes, and the person is told so
    move_s1 = f"/manage/courses/sections/{s1}/move/"
    response = client.post(move_s1, {"direction": "up"}, headers=HTMX)
    assert "already the first section" in json.loads(response["HX-Trigger"])["authoringStatus"]
    assert section_order(alpha, built.course) == [s1, s2]


def test_move_lesson_within_and_across_sections(client: Client, alpha: Any, built: Outline) -> None:
    s1, s2 = (s.pk for s in built.sections)
    welcome, materials, greens = (lesson.pk for lesson in built.lessons)

    def move(lesson_id: int, direction: str) -> Any:
        return client.post(f"/manage/courses/lessons/{lesson_id}/move/", {"direction": direction})

    assert move(materials, "up").status_code == 302
    assert lesson_layout(alpha, built.course) == {s1: [materials, welcome], s2: [greens]}
    move(welcome, "down")  # last of section 1 -> first of section 2
    assert lesson_layout(alpha, built.course) == {s1: [materials], s2: [welcome, greens]}
    move(welcome, "up")  # first of section 2 -> last of section 1
    assert lesson_layout(alpha, built.course) == {s1: [materials, welcome], s2: [greens]}
    move(greens, "down")  # last lesson of the course: stays
    move(materials, "up")  # first lesson of the course: stays
    assert lesson_layout(alpha, built.course) == {s1: [materials, welcome], s2: [greens]}
    page = _text(client.get(f"/manage/courses/{built.course.pk}/"))
    assert "already the first lesson of the course" in page


# --- lesson editor ------------------------------------------------------------------------


def test_lesson_editor_saves_and_links_around(client: Client, alpha: Any, built: Outline) -> None:
    welcome, materials, greens = built.lessons
    page = client.get(f"/manage/courses/lessons/{materials.pk}/")
    assert page.status_code == 200
    html = _text(page)
    assert "Video lesson" in html
    assert f'href="/manage/courses/lessons/{welcome.pk}/"' in html  # previous
    assert f'href="/manage/courses/lessons/{greens.pk}/"' in html  # next
    assert f'href="/manage/courses/{built.course.pk}/#lesson-{materials.pk}"' in html  # back

    response = client.post(
        f"/manage/courses/lessons/{materials.pk}/",
        {
            "title": "What you need",
            "kind": "text",
            "body_md": "A *list*",
            "is_preview": "on",
            "duration_minutes": "12",
        },
    )
    assert response.status_code == 302
    with school_context(alpha):
        lesson = Lesson.objects.get(pk=materials.pk)
    assert (lesson.title, lesson.kind, lesson.is_preview, lesson.duration_minutes) == (
        "What you need",
        "text",
        True,
        12,
    )
    assert lesson.body_html == "<p>A <em>list</em></p>\n"
    assert "Text lesson" in _text(client.get(f"/manage/courses/lessons/{lesson.pk}/"))

    bad = client.post(
        f"/manage/courses/lessons/{materials.pk}/",
        {
            "title": "",
            "kind": "text",
            "body_md": "",
            "duration_minutes": "5000",
        },
    )
    assert bad.status_code == 200
    assert _field_errors(_text(bad), "id_title") == "This field is required."
    assert "1440" in _field_errors(_text(bad), "id_duration_minutes")


def test_hostile_markdown_is_stripped_in_stored_html_and_preview(
    client: Client, alpha: Any, built: Outline
) -> None:
    hostile = (
        "<script>alert('x')</script>\n\n"
        '<img src="/site-media/x.png" onerror="alert(1)">\n\n'
        '[click me](javascript:alert(1)) and <a href="javascript:alert(2)">this</a>\n\n'
        "**bold stays**"
    )
    lesson = built.lessons[0]
    client.post(
        f"/manage/courses/lessons/{lesson.pk}/",
        {
            "title": "Welcome",
            "kind": "text",
            "body_md": hostile,
            "duration_minutes": "0",
        },
    )
    with school_context(alpha):
        stored = Lesson.objects.get(pk=lesson.pk)
    assert stored.body_md == hostile
    for html in (
        stored.body_html,
        _text(client.post("/manage/courses/preview/", {"body_md": hostile})),
    ):
        lowered = html.lower()
        assert "<script" not in lowered and "onerror" not in lowered
        # no link or attribute carries a javascript: URL (the refused Markdown link is
        # left as harmless text by markdown-it)
        assert not re.search(r"<[^>]*javascript:", lowered), html
        assert "<strong>bold stays</strong>" in html
        assert '<img src="/site-media/x.png">' in html
    assert client.get("/manage/courses/preview/").status_code == 405


def test_attachments_upload_text_ok_and_refusals_are_shown_inline(
    client: Client, alpha: Any, built: Outline, settings: Any
) -> None:
    lesson = built.lessons[1]
    url = f"/manage/courses/lessons/{lesson.pk}/attachments/"
    ok = client.post(url, {"file": SimpleUploadedFile("reading.md", b"# Read this\n")}, follow=True)
    assert "“reading.md” attached." in _text(ok)
    with school_context(alpha):
        attachment = Attachment.objects.get(lesson=lesson)
    assert attachment.content_type.startswith("text/markdown") and attachment.size == 12
    assert "reading.md" in _text(client.get(f"/manage/courses/lessons/{lesson.pk}/"))

    exe = client.post(url, {"file": SimpleUploadedFile("slides.pdf", b"MZ\x90\x00rest")})
    assert "Programs and scripts cannot be uploaded." in _field_errors(_text(exe), "id_file")

    settings.MAX_ATTACHMENT_BYTES = 1024
    big = client.post(url, {"file": SimpleUploadedFile("big.txt", b"a" * 4096)})
    assert big.status_code == 200
    assert "the limit is" in _field_errors(_text(big), "id_file")
    with school_context(alpha):
        assert Attachment.objects.filter(lesson=lesson).count() == 1

    # remove it (htmx answers with the refreshed list)
    removed = client.post(f"/manage/courses/attachments/{attachment.pk}/delete/", headers=HTMX)
    assert removed.status_code == 200 and "reading.md" not in _text(removed)
    with school_context(alpha):
        assert not Attachment.objects.filter(pk=attachment.pk).exists()


# --- isolation ----------------------------------------------------------------------------


def _manage_urls(built: Outline) -> list[str]:
    course, section, lesson = built.course.pk, built.sections[0].pk, built.lessons[0].pk
    return [
        f"/manage/courses/{course}/",
        f"/manage/courses/{course}/cover/",
        f"/manage/courses/{course}/status/",
        f"/manage/courses/{course}/delete/",
        f"/manage/courses/{course}/outline/",
        f"/manage/courses/{course}/sections/new/",
        f"/manage/courses/{course}/reorder-sections/",
        f"/manage/courses/sections/{section}/rename/",
        f"/manage/courses/sections/{section}/delete/",
        f"/manage/courses/sections/{section}/move/",
        f"/manage/courses/sections/{section}/lessons/new/",
        f"/manage/courses/sections/{section}/reorder-lessons/",
        f"/manage/courses/lessons/{lesson}/",
        f"/manage/courses/lessons/{lesson}/move/",
        f"/manage/courses/lessons/{lesson}/delete/",
        f"/manage/courses/lessons/{lesson}/attachments/",
        f"/manage/courses/attachments/{built.attachment.pk}/delete/",
    ]


def _hostile_post(client: Client, url: str, built: Outline) -> Any:
    """A POST with plausible data for any of the URLs."""
    data = {
        "title": "Hijacked",
        "slug": "hijacked",
        "subtitle": "",
        "description_md": "",
        "publish": "1",
        "direction": "up",
        "kind": "text",
        "body_md": "x",
        "duration_minutes": "1",
        "ids": [s.pk for s in reversed(built.sections)]
        if "sections/" not in url
        else [lesson.pk for lesson in reversed(built.lessons[:2])],
        "file": SimpleUploadedFile("x.txt", b"hello"),
    }
    if "/cover/" in url:
        data["cover"] = png_upload()
    return client.post(url, data)


def test_other_schools_owner_gets_404_on_every_manage_url_and_nothing_changes(
    alpha: Any, built: Outline, school_b: Any, client_for: Callable[..., Client]
) -> None:
    intruder = _logged_in(client_for, BRAVO, school_b.owner)
    assert intruder.get("/manage/courses/").status_code == 200  # their own area works
    before = snapshot(alpha)
    for url in _manage_urls(built):
        assert intruder.get(url).status_code == 404, url
        assert _hostile_post(intruder, url, built).status_code == 404, url
        assert intruder.post(url, headers=HTMX).status_code == 404, url
    assert snapshot(alpha) == before
    assert "Watercolour" not in _text(intruder.get("/manage/courses/"))


def test_instructor_sees_only_their_own_courses(
    alpha: Any,
    owner: User,
    built: Outline,
    make_user: Callable[..., Any],
    client_for: Callable[..., Client],
) -> None:
    teacher = make_user(alpha, "teacher@alpha.test", role=User.Role.INSTRUCTOR)
    client = _logged_in(client_for, ALPHA, teacher)
    listing = _text(client.get("/manage/courses/"))
    assert "Watercolour" not in listing and "No courses yet" in listing
    before = snapshot(alpha)
    # A course of their school that they do not teach: 403 (it exists; they may not).
    for url in _manage_urls(built):
        assert client.get(url).status_code == 403, url
        assert _hostile_post(client, url, built).status_code == 403, url
    assert snapshot(alpha) == before

    # a course the instructor creates is theirs to edit
    created = client.post("/manage/courses/new/", {"title": "Teacher's course"})
    assert created.status_code == 302
    assert client.get(created["Location"]).status_code == 200
    assert "Teacher&#x27;s course" in _text(client.get("/manage/courses/"))
