"""The courses pages in Chromium: WCAG 2.2 AA (axe-core) in English and Arabic, Arabic
screenshots at desktop and phone width, and the outline's keyboard moves.

The app runs in a subprocess (``live_app``) that only sees committed rows, so the school,
its course and its people are created through the services with no wrapping test
transaction, under a fresh slug per run. Arabic comes from the visitor's language cookie
(the accounts here leave ``User.language`` empty, so the cookie decides).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.fixtures.a11y import PHONE, assert_accessible, language_cookie
from tests.fixtures.browser import VIEWPORT, WAIT_MS, LiveApp, screenshot

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-test-passphrase-42"
LESSON_MD = """\
## Three pencils are enough

Start with an **HB**, a **2B** and a _4B_:

- HB for the first light outline
- 4B for the darkest shadows
"""


@pytest.fixture
def school(committed_db: None, live_app: LiveApp) -> Any:
    """A school with a published course (two sections, three text lessons, one done by
    the enrolled student), a second draft course, a file on a lesson and a student."""
    from courseplatform.accounts.services import register_user
    from courseplatform.courses import drip, services
    from courseplatform.courses.models import Enrollment, Lesson
    from courseplatform.onboarding.services import create_school
    from courseplatform.tenancy.rls import school_context

    slug = f"e2e-courses-{secrets.token_hex(4)}"
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
            subtitle="Leaves, stems and flowers in pencil",
            description_md="Draw what you see, one leaf at a time.",
        )
        basics = services.add_section(school=school, actor=owner, course=course, title="Basics")
        leaves = services.add_section(school=school, actor=owner, course=course, title="Leaves")
        pencils = services.add_lesson(
            school=school, actor=owner, section=basics, title="Choosing your pencils"
        )
        services.update_lesson(
            school=school,
            actor=owner,
            lesson=pencils,
            title=pencils.title,
            kind=Lesson.Kind.TEXT,
            body_md=LESSON_MD,
            is_preview=True,
            duration_minutes=12,
        )
        paper = services.add_lesson(school=school, actor=owner, section=basics, title="Paper")
        leaf = services.add_lesson(
            school=school, actor=owner, section=leaves, title="A single leaf"
        )
        # "Leaves" opens a week after enrolment: the student meets the not-open page.
        drip.set_section_release(school=school, actor=owner, section=leaves, release="days", days=7)
        services.set_course_status(school=school, actor=owner, course=course, publish=True)
        enrollment, _ = services.enroll_student(
            school=school,
            actor=owner,
            course=course,
            student=student,
            source=Enrollment.Source.MANUAL,
        )
        services.set_lesson_completed(
            school=school, student=student, lesson=pencils, completed=True
        )
        draft = services.create_course(school=school, actor=owner, title="Ink Washes")
    return SimpleNamespace(
        host=f"{slug}.",
        school=school,
        owner=owner,
        student=student,
        course=course,
        draft=draft,
        basics=basics,
        leaves=leaves,
        pencils=pencils,
        paper=paper,
        leaf=leaf,
        enrollment=enrollment,
    )


@pytest.fixture
def signed_in(chromium_browser: Browser, live_app: LiveApp) -> Iterator[Callable[..., Page]]:
    """``signed_in(host, email, language)``: a page in a fresh context, logged in
    (``email=None``: a visitor, not logged in)."""
    contexts = []

    def _open(host: str, email: str | None, language: str) -> Page:
        context = chromium_browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
        context.set_default_timeout(WAIT_MS)
        context.add_cookies([language_cookie(live_app.url(host, "/"), language)])  # type: ignore[list-item]
        contexts.append(context)
        page = context.new_page()
        if email is None:
            return page
        page.goto(live_app.url(host, "/accounts/login/"))
        page.locator('input[name="email"]').fill(email)
        page.locator('input[name="password"]').fill(PASSWORD)
        # By its type, not its words: the button is in the page's language.
        page.locator('main button[type="submit"]').first.click()
        page.wait_for_load_state()
        expect(page).not_to_have_url(live_app.url(host, "/accounts/login/"))
        return page

    try:
        yield _open
    finally:
        for context in contexts:
            context.close()


def _check(page: Page, url: str, name: str, language: str) -> None:
    """Open ``url``, check it with axe-core; in Arabic, screenshots at both widths."""
    page.goto(url)
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == language, (name, language)
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    assert_accessible(page, f"{name} ({language})")
    if language == "ar":
        screenshot(page, f"ar-{name}-desktop")
        page.set_viewport_size(PHONE)  # type: ignore[arg-type]
        assert_accessible(page, f"{name} (ar, phone)")
        screenshot(page, f"ar-{name}-phone")
        page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]


@pytest.mark.parametrize("language", ["en", "ar"])
def test_course_pages_pass_axe_in_english_and_arabic(
    live_app: LiveApp, school: Any, signed_in: Callable[..., Page], language: str
) -> None:
    host, course = school.host, school.course
    student = signed_in(host, school.student.email, language)
    for name, path in [
        ("catalogue", "/courses/"),
        ("course", f"/courses/{course.slug}/"),
        ("lesson", f"/courses/{course.slug}/lessons/{school.pencils.pk}/"),
        ("my-courses", "/my/"),
        ("lesson-not-open", f"/courses/{course.slug}/lessons/{school.leaf.pk}/"),
    ]:
        _check(student, live_app.url(host, path), name, language)
    # A visitor: the course page's access card and a lesson outside the free preview.
    visitor = signed_in(host, None, language)
    for name, path in [
        ("visitor-course", f"/courses/{course.slug}/"),
        ("visitor-preview-lesson", f"/courses/{course.slug}/lessons/{school.pencils.pk}/"),
        ("visitor-lesson-locked", f"/courses/{course.slug}/lessons/{school.paper.pk}/"),
    ]:
        _check(visitor, live_app.url(host, path), name, language)
    # The student side speaks the page's language (the Arabic catalog is in use).
    student.goto(live_app.url(host, "/my/"))
    heading = student.get_by_role("heading", level=1)
    expect(heading).to_have_text("دوراتي" if language == "ar" else "My courses")

    owner = signed_in(host, school.owner.email, language)
    manage = [
        ("manage-course-list", "/manage/courses/"),
        ("manage-course-new", "/manage/courses/new/"),
        ("manage-course-edit", f"/manage/courses/{course.pk}/"),
        ("manage-course-delete", f"/manage/courses/{school.draft.pk}/delete/"),
        ("manage-section-delete", f"/manage/courses/sections/{school.leaves.pk}/delete/"),
        ("manage-lesson-edit", f"/manage/courses/lessons/{school.pencils.pk}/"),
        ("manage-lesson-delete", f"/manage/courses/lessons/{school.paper.pk}/delete/"),
        ("manage-roster", f"/manage/courses/{course.pk}/students/"),
        (
            "manage-roster-remove",
            f"/manage/courses/{course.pk}/students/{school.enrollment.pk}/remove/",
        ),
    ]
    for name, path in manage:
        _check(owner, live_app.url(host, path), name, language)
    # The section menu (rename, schedule, delete) open, as an author uses it.
    owner.goto(live_app.url(host, f"/manage/courses/{course.pk}/"))
    owner.locator(f"#section-{school.basics.pk}-menu").click()
    assert_accessible(owner, f"manage-course-edit, section menu open ({language})")
    if language == "ar":
        screenshot(owner, "ar-manage-section-menu-desktop")


def test_outline_moves_a_lesson_by_keyboard_and_the_order_persists(
    live_app: LiveApp, school: Any, signed_in: Callable[..., Page]
) -> None:
    from courseplatform.courses.models import Lesson
    from courseplatform.tenancy.rls import school_context

    host, course = school.host, school.course
    page = signed_in(host, school.owner.email, "en")
    page.goto(live_app.url(host, f"/manage/courses/{course.pk}/"))
    page.wait_for_load_state("networkidle")
    status = page.locator("#authoring-status")

    def order() -> list[tuple[str, str]]:
        with school_context(school.school):  # row-level security: the school's rows only
            rows = list(
                Lesson.objects.filter(school=school.school, course=course).select_related("section")
            )
        ordered = sorted(rows, key=lambda lesson: (lesson.section.position, lesson.position))
        return [(lesson.section.title, lesson.title) for lesson in ordered]

    assert order() == [
        ("Basics", "Choosing your pencils"),
        ("Basics", "Paper"),
        ("Leaves", "A single leaf"),
    ]
    # Keyboard only: focus moves with Tab from the lesson's own link to its buttons, and
    # Enter presses them (no pointer events).
    page.locator(f"#lesson-{school.pencils.pk} a").first.focus()
    page.keyboard.press("Tab")
    down = page.locator(f"#lesson-{school.pencils.pk}-down")
    page.keyboard.press("Tab")
    expect(down).to_be_focused()
    page.keyboard.press("Enter")
    expect(status).to_have_text("Moved “Choosing your pencils” down.")
    # htmx swapped the outline and kept focus on the same button: press it again to
    # cross into the next section.
    # The swapped outline shows the lesson second in its section.
    second = page.locator(f"#section-{school.basics.pk} [data-sortable=lessons] > li[data-id]")
    expect(second.nth(1)).to_have_id(f"lesson-{school.pencils.pk}")
    expect(page.locator(f"#lesson-{school.pencils.pk}-down")).to_be_focused()
    # Until htmx has settled the swap, the new form is not wired yet and Enter would
    # post it without htmx (a full page load, the status line then empty).
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )
    page.keyboard.press("Enter")
    expect(status).to_have_text("Moved “Choosing your pencils” to the start of “Leaves”.")
    assert order() == [
        ("Basics", "Paper"),
        ("Leaves", "Choosing your pencils"),
        ("Leaves", "A single leaf"),
    ]
    # The saved order is what a fresh page shows.
    page.reload()
    titles = page.locator("[data-sortable=lessons] > li[data-id] > a").all_inner_texts()
    assert titles == ["Paper", "Choosing your pencils", "A single leaf"]


def test_outline_status_is_translated_for_an_arabic_author(
    live_app: LiveApp, school: Any, signed_in: Callable[..., Page]
) -> None:
    """The aria-live status of a keyboard move is in the author's language."""
    host, course = school.host, school.course
    page = signed_in(host, school.owner.email, "ar")
    page.goto(live_app.url(host, f"/manage/courses/{course.pk}/"))
    page.wait_for_load_state("networkidle")
    page.locator(f"#lesson-{school.paper.pk}-up").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#authoring-status")).to_have_text("نُقل «Paper» إلى الأعلى.")
