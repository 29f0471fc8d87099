"""A course from an empty school to a student's progress, in Chromium against the real app.

An owner logs in on the school's host, creates a course in /manage/courses/, adds a
section and two text lessons through the outline forms, writes the first lesson's
Markdown in the lesson editor, publishes the course and enrols a student by email on
the roster. The student (an existing account, so no invitation email is needed) logs
in in a separate browser context, opens the catalogue, the course and its first
lesson, marks it complete and sees the progress move from 0% to 50% on the course
page and in My courses. Screenshots of the student's pages at 1280 px and 375 px;
at 375 px no page may scroll sideways.

The app runs in a subprocess (``live_app``) that only sees committed rows: the school
and the student are created here through the app's services with no wrapping test
transaction, under a fresh slug per run. Everything else is done through the UI.
"""

from __future__ import annotations

import re
import secrets
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.browser import VIEWPORT, LiveApp, screenshot

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
PASSWORD = "a-long-test-passphrase-42"

COURSE_TITLE = "Botanical Drawing"
SECTION_TITLE = "Getting started"
LESSON_ONE = "Choosing your pencils"
LESSON_TWO = "Drawing a single leaf"
LESSON_ONE_MD = """\
## Three pencils are enough

Start with an **HB**, a **2B** and a _4B_:

- HB for the first light outline
- 2B for the veins
- 4B for the darkest shadows
"""


@pytest.fixture
def school(committed_db: None, live_app: LiveApp) -> Any:
    """A fresh school with its owner, and a student account with a known password."""
    from courseplatform.accounts.services import register_user
    from courseplatform.onboarding.services import create_school
    from courseplatform.tenancy.rls import school_context

    slug = f"e2e-flow-{secrets.token_hex(4)}"
    created = create_school(
        slug=slug,
        name="Fern & Feather Studio",
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name="Olive Owner",
    )
    with school_context(created.school):
        student = register_user(
            school=created.school,
            email=f"sam@{slug}.test",
            password=PASSWORD,
            full_name="Sam Student",
        )
    return SimpleNamespace(
        slug=slug, host=f"{slug}.", school=created.school, owner=created.owner, student=student
    )


def desktop_and_phone(page: Page, name: str) -> None:
    """Screenshots at 1280 and 375 wide; at 375 the page must not scroll sideways."""
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    screenshot(page, f"{name}-phone")
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    scroll_width, inner_width = widths
    assert scroll_width <= inner_width + 1, (
        f"{name}: the page is {scroll_width}px wide at {inner_width}px: it scrolls sideways"
    )


def log_in(page: Page, live_app: LiveApp, host: str, email: str, landing: str) -> None:
    page.goto(live_app.url(host, "/accounts/login/"))
    page.locator('input[name="email"]').fill(email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(live_app.url(host, landing))


def test_instructor_builds_and_publishes_a_course_and_a_student_progresses(
    live_app: LiveApp, school: Any, new_page: Any
) -> None:
    host = school.host
    student_email = school.student.email

    # --- the owner creates the course -------------------------------------------------
    owner_page = new_page()
    log_in(owner_page, live_app, host, school.owner.email, "/manage/")
    owner_page.goto(live_app.url(host, "/manage/courses/"))
    expect(owner_page.get_by_role("heading", name="Courses", exact=True)).to_be_visible()
    owner_page.locator("main").get_by_role("link", name="New course").click()
    owner_page.wait_for_url(live_app.url(host, "/manage/courses/new/"))
    owner_page.get_by_label("Title", exact=True).fill(COURSE_TITLE)
    owner_page.get_by_role("button", name="Create course").click()
    owner_page.wait_for_url(re.compile(r"/manage/courses/\d+/$"))
    course_id = int(owner_page.url.rstrip("/").rsplit("/", 1)[1])
    expect(owner_page.get_by_role("heading", name=COURSE_TITLE, level=1)).to_be_visible()
    expect(owner_page.locator("[data-status]")).to_have_text("Draft")
    expect(owner_page.locator("[data-outline-empty]")).to_be_visible()

    # --- a section and two text lessons through the outline forms (htmx swaps) --------
    outline = owner_page.locator("#outline")
    owner_page.get_by_label("New section", exact=True).fill(SECTION_TITLE)
    outline.get_by_role("button", name="Add section").click()
    section = outline.locator('[data-sortable="sections"] > li')
    expect(section).to_have_count(1)
    expect(section.get_by_role("heading", name=SECTION_TITLE)).to_be_visible()
    expect(owner_page.locator("#authoring-status")).to_contain_text(
        f"Section “{SECTION_TITLE}” added."
    )

    for title in (LESSON_ONE, LESSON_TWO):
        section.get_by_label("Lesson title").fill(title)
        section.get_by_label("Type").select_option("text")
        section.get_by_role("button", name="Add lesson").click()
        expect(section.get_by_role("link", name=title, exact=True)).to_be_visible()
    lessons = section.locator('[data-sortable="lessons"] > li[data-id]')
    expect(lessons).to_have_count(2)
    # In outline order (the other link of each row is its delete control).
    expect(lessons.locator("a:not([hx-post])")).to_have_text([LESSON_ONE, LESSON_TWO])

    # --- the first lesson's Markdown, previewed live and saved -------------------------
    section.get_by_role("link", name=LESSON_ONE, exact=True).click()
    owner_page.wait_for_url(re.compile(r"/manage/courses/lessons/\d+/$"))
    lesson_one_id = int(owner_page.url.rstrip("/").rsplit("/", 1)[1])
    expect(owner_page.get_by_role("heading", name=LESSON_ONE, level=1)).to_be_visible()
    owner_page.get_by_label("Lesson text").fill(LESSON_ONE_MD)
    preview = owner_page.locator("#body-preview")
    expect(preview.get_by_role("heading", name="Three pencils are enough")).to_be_visible()
    owner_page.get_by_role("button", name="Save lesson").click()
    expect(owner_page.get_by_text("Lesson saved.")).to_be_visible()
    # Saved as typed (Django's CharField strips the trailing newline).
    expect(owner_page.get_by_label("Lesson text")).to_have_value(LESSON_ONE_MD.strip())
    expect(preview.locator("strong", has_text="2B")).to_be_visible()

    # --- publish ----------------------------------------------------------------------
    owner_page.get_by_role("link", name="Back to course").click()
    owner_page.wait_for_url(re.compile(rf"/manage/courses/{course_id}/(#.*)?$"))
    owner_page.get_by_role("button", name="Publish").click()
    expect(owner_page.get_by_text(f"“{COURSE_TITLE}” is published")).to_be_visible()
    expect(owner_page.locator("[data-status]")).to_have_text("Published")

    # --- enrol the student by email on the roster --------------------------------------
    owner_page.locator("main").get_by_role("link", name="Students", exact=True).click()
    owner_page.wait_for_url(live_app.url(host, f"/manage/courses/{course_id}/students/"))
    expect(owner_page.get_by_text("0 students enrolled")).to_be_visible()
    owner_page.get_by_role("textbox", name="Email", exact=True).fill(student_email)
    owner_page.get_by_role("button", name="Add student").click()
    owner_page.wait_for_url(live_app.url(host, f"/manage/courses/{course_id}/students/"))
    expect(owner_page.get_by_text("No invitation was sent")).to_be_visible()
    expect(owner_page.get_by_text("1 student enrolled")).to_be_visible()
    row = owner_page.locator("tbody tr", has_text=student_email)
    expect(row).to_contain_text("Sam Student")
    expect(row).to_contain_text("0/2 lessons")

    owner_page.locator("header").get_by_role("button", name="Log out").click()
    owner_page.wait_for_url(live_app.url(host, "/"))
    expect(
        owner_page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in")
    ).to_be_visible()

    # --- the student: catalogue → course → first lesson --------------------------------
    page = new_page()
    log_in(page, live_app, host, student_email, "/")
    main_nav = page.get_by_role("navigation", name="Main")
    main_nav.get_by_role("link", name="Courses", exact=True).click()
    page.wait_for_url(live_app.url(host, "/courses/"))
    card = page.get_by_role("link", name=re.compile(COURSE_TITLE))
    expect(card).to_have_count(1)
    expect(card).to_contain_text("2 lessons")
    expect(card).to_contain_text("Enrolled")
    desktop_and_phone(page, "course-flow-catalogue")

    card.click()
    page.wait_for_url(re.compile(r"/courses/[a-z0-9-]+/$"))
    course_url = page.url
    course_path = course_url.split(f":{live_app.port}", 1)[1]
    access = page.get_by_role("complementary", name="Your access")
    expect(access).to_contain_text("0%")
    expect(access).to_contain_text("0 of 2 lessons completed")
    expect(access.get_by_label("Course progress")).to_have_attribute("value", "0")
    expect(access.get_by_role("link", name="Start the course")).to_be_visible()
    desktop_and_phone(page, "course-flow-course")

    page.goto(live_app.url(host, "/my/"))
    my_card = page.locator("main li", has_text=COURSE_TITLE)
    expect(my_card).to_contain_text("0 of 2 lessons")
    expect(my_card).to_contain_text("0%")
    expect(my_card.get_by_label(f"Progress in {COURSE_TITLE}")).to_have_attribute("value", "0")
    page.goto(course_url)

    syllabus = page.locator("section", has=page.get_by_role("heading", name="Syllabus"))
    syllabus.get_by_role("link", name=LESSON_ONE).click()
    lesson_one_url = live_app.url(host, f"{course_path}lessons/{lesson_one_id}/")
    page.wait_for_url(lesson_one_url)
    article = page.locator("article")
    expect(article.get_by_role("heading", name=LESSON_ONE, level=1)).to_be_visible()
    expect(article.get_by_role("heading", name="Three pencils are enough")).to_be_visible()
    expect(article.locator("li")).to_have_text(
        [
            "HB for the first light outline",
            "2B for the veins",
            "4B for the darkest shadows",
        ]
    )
    expect(article).to_contain_text("Mark it complete to move on to the next lesson")
    desktop_and_phone(page, "course-flow-lesson")

    # --- Mark complete moves on to the next lesson --------------------------------------
    next_link = article.locator('a[rel="next"]')
    expect(next_link).to_contain_text(LESSON_TWO)
    lesson_two_path = next_link.get_attribute("href")
    assert lesson_two_path and lesson_two_path.startswith(f"{course_path}lessons/")
    article.get_by_role("button", name="Mark complete", exact=True).click()
    page.wait_for_url(live_app.url(host, lesson_two_path))
    expect(page.get_by_role("heading", name=LESSON_TWO, level=1)).to_be_visible()
    expect(page.get_by_text(f"“{LESSON_ONE}” completed. On to the next lesson.")).to_be_visible()
    expect(page.get_by_role("link", name=f"Completed: {LESSON_ONE}").first).to_be_attached()

    # --- the progress moved: course page and My courses ---------------------------------
    page.goto(course_url)
    access = page.get_by_role("complementary", name="Your access")
    expect(access).to_contain_text("50%")
    expect(access).to_contain_text("1 of 2 lessons completed")
    expect(access.get_by_label("Course progress")).to_have_attribute("value", "50")
    expect(access.get_by_role("link", name="Continue")).to_have_attribute("href", lesson_two_path)
    expect(access).to_contain_text(f"Next up: {LESSON_TWO}")

    main_nav.get_by_role("link", name="My courses", exact=True).click()
    page.wait_for_url(live_app.url(host, "/my/"))
    my_card = page.locator("main li", has_text=COURSE_TITLE)
    expect(my_card).to_contain_text("1 of 2 lessons")
    expect(my_card).to_contain_text("50%")
    expect(my_card.get_by_label(f"Progress in {COURSE_TITLE}")).to_have_attribute("value", "50")
    continue_link = my_card.locator("[data-continue]")
    expect(continue_link).to_contain_text("Continue where you left off")
    expect(continue_link).to_have_attribute("href", lesson_two_path)
    desktop_and_phone(page, "course-flow-my-courses")

    # The owner's roster agrees.
    log_in(owner_page, live_app, host, school.owner.email, "/manage/")
    owner_page.goto(live_app.url(host, f"/manage/courses/{course_id}/students/"))
    row = owner_page.locator("tbody tr", has_text=student_email)
    expect(row).to_contain_text("50%")
    expect(row).to_contain_text("1/2 lessons")
