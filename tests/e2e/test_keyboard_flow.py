"""The main student flow with the keyboard only, in Chromium (WCAG 2.1.1, 2.4.1, 2.4.3, 2.4.7).

From a school's home page: the first Tab shows a "Skip to content" link that moves focus
to <main>; the header is tabbed through in visual order; then the student logs in,
opens the catalogue and a course, redeems an access code, opens a lesson and marks it
complete, pressing only Tab, Shift+Tab, Enter and Space (and typing into fields). Every
element Tab reaches must be on screen with a visible focus indicator (a computed outline
or box-shadow).

The app runs in a subprocess (``live_app``) that only sees committed rows, so the school
is created through the app's own services with no wrapping test transaction.
"""

from __future__ import annotations

import re
import secrets
from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.browser import LiveApp

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-test-passphrase-42"

# What the focused element looks like: enough to find it, and whether focus shows.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) {
    return {tag: "body", html: "<body>", indicator: false, visible: false, left: 0, top: 0,
            inHeader: false, inMain: false, id: "", href: "", text: ""};
  }
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const shadow = !!style.boxShadow && style.boxShadow !== "none";
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(),
    html: el.outerHTML.slice(0, 160),
    indicator: outline || shadow,
    visible: box.width > 1 && box.height > 1 && box.bottom > 0 && box.right > 0
      && box.top < window.innerHeight && box.left < window.innerWidth,
    left: box.left,
    top: box.top,
    inHeader: !!el.closest("header"),
    inMain: !!el.closest("main"),
    id: el.id,
    href: el.getAttribute("href") || "",
    text: (el.innerText || el.value || "").trim(),
  };
}"""


@pytest.fixture
def school(committed_db: None, live_app: LiveApp) -> Any:
    from courseplatform.access.services import create_batch
    from courseplatform.accounts.models import User
    from courseplatform.courses.services import (
        add_lesson,
        add_section,
        create_course,
        set_course_status,
    )
    from courseplatform.onboarding.services import create_school
    from courseplatform.tenancy.rls import school_context

    slug = f"e2e-keys-{secrets.token_hex(4)}"
    created = create_school(
        slug=slug,
        name="Keyboard Academy",
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name="Olive Owner",
    )
    school, owner = created.school, created.owner
    with school_context(school):
        course = create_course(
            school=school, actor=owner, title="Touch Typing", subtitle="Ten fingers, no mouse"
        )
        section = add_section(school=school, actor=owner, course=course, title="Start here")
        lesson = add_lesson(school=school, actor=owner, section=section, title="Home row")
        course = set_course_status(school=school, actor=owner, course=course, publish=True)
        batch = create_batch(
            school=school, actor=owner, name="Keyboard cohort", course_ids=[course.pk], code_count=1
        )
        student = User.objects.create_user(
            f"student@{slug}.test", PASSWORD, school=school, full_name="Kim Keys"
        )
    return SimpleNamespace(
        host=f"{slug}.",
        school=school,
        course=course,
        lesson=lesson,
        code=batch.codes[0],
        student=student,
    )


def focused(page: Page) -> dict[str, Any]:
    return dict(page.evaluate(FOCUSED))


def press_tab(page: Page, *, back: bool = False) -> dict[str, Any]:
    """One Tab (or Shift+Tab); the element it reached must show that it has focus."""
    page.keyboard.press("Shift+Tab" if back else "Tab")
    info = focused(page)
    assert info["tag"] != "body", "Tab left the page's focusable elements"
    assert info["visible"], f"focused element is off screen or hidden: {info['html']}"
    assert info["indicator"], f"no visible focus indicator on {info['html']}"
    return info


def tab_to(page: Page, wanted: Any, *, back: bool = False, limit: int = 60) -> dict[str, Any]:
    """Tab until ``wanted(info)`` holds for the focused element; fail after ``limit``."""
    seen = []
    for _ in range(limit):
        info = press_tab(page, back=back)
        if wanted(info):
            return info
        seen.append(info["html"][:60])
    raise AssertionError(f"never reached the wanted element; tabbed through: {seen}")


def activate(page: Page, key: str = "Enter") -> None:
    """Press Enter (links, buttons) or Space (buttons) on the focused element."""
    page.keyboard.press(key)


def test_student_flow_by_keyboard_only(live_app: LiveApp, school: Any, page: Page) -> None:
    from courseplatform.courses.models import Enrollment, LessonProgress
    from courseplatform.tenancy.rls import school_context

    home = live_app.url(school.host, "/")
    page.goto(home)

    # 1. The first Tab shows the skip link; Enter moves focus to <main>.
    skip = press_tab(page)
    assert skip["text"] == "Skip to content" and skip["href"] == "#main", skip
    assert skip["top"] >= 0 and skip["left"] >= 0
    activate(page)
    expect(page.locator("main#main")).to_be_focused()
    after_skip = press_tab(page)
    assert after_skip["inMain"], f"the Tab after the skip link left <main>: {after_skip['html']}"

    # 2. The header in visual order: left to right, row by row (and back again).
    page.goto(home)
    press_tab(page)  # the skip link
    header = []
    while True:
        info = press_tab(page)
        if not info["inHeader"]:
            break
        header.append(info)
    texts = [item["text"] for item in header]
    assert "Courses" in texts and "Redeem a code" in texts and "Log in" in texts, texts
    positions = [(round(item["top"] / 8), item["left"]) for item in header]
    assert positions == sorted(positions), f"header tab order is not visual order: {texts}"
    back = press_tab(page, back=True)
    assert back["html"] == header[-1]["html"], "Shift+Tab did not return to the header's end"

    # 3. Log in: the header's link, then the form (the email field has autofocus).
    page.goto(home)
    tab_to(page, lambda i: i["inHeader"] and i["href"] == "/accounts/login/")
    activate(page)
    page.wait_for_url(re.compile(r"/accounts/login/"))
    email = focused(page)
    if email["tag"] != "input":
        email = tab_to(page, lambda i: i["tag"] == "input" and "email" in i["html"])
    assert email["indicator"], f"no visible focus on the email field: {email['html']}"
    page.keyboard.type(f"student@{school.host}test")
    tab_to(page, lambda i: 'type="password"' in i["html"])
    page.keyboard.type(PASSWORD)
    activate(page)
    page.wait_for_url(lambda url: "/accounts/login/" not in url)

    # 4. The catalogue, then the course.
    tab_to(page, lambda i: i["inHeader"] and i["href"] == "/courses/")
    activate(page)
    page.wait_for_url(live_app.url(school.host, "/courses/"))
    course_path = f"/courses/{school.course.slug}/"
    tab_to(page, lambda i: i["inMain"] and i["href"].endswith(course_path))
    activate(page)
    page.wait_for_url(live_app.url(school.host, course_path))
    expect(page.locator("main")).to_contain_text("Touch Typing")

    # 5. Enrol by redeeming the code (from the header's "Redeem a code").
    tab_to(page, lambda i: i["inHeader"] and i["href"] == "/redeem/")
    activate(page)
    page.wait_for_url(live_app.url(school.host, "/redeem/"))
    code_field = focused(page)
    if code_field["tag"] != "input":
        code_field = tab_to(page, lambda i: i["tag"] == "input" and i["inMain"])
    assert code_field["indicator"], f"no visible focus on the code field: {code_field['html']}"
    page.keyboard.type(school.code)
    activate(page)
    page.wait_for_url(live_app.url(school.host, course_path))
    with school_context(school.school):
        assert Enrollment.objects.filter(
            school=school.school, student=school.student, course=school.course
        ).exists()

    # 6. Open the lesson and mark it complete with Space.
    lesson_path = f"{course_path}lessons/{school.lesson.pk}/"
    tab_to(page, lambda i: i["inMain"] and i["href"].endswith(lesson_path))
    activate(page)
    page.wait_for_url(live_app.url(school.host, lesson_path))
    tab_to(page, lambda i: i["tag"] == "button" and "Mark complete" in i["text"])
    activate(page, "Space")
    expect(page.get_by_role("button", name=re.compile("Completed"))).to_be_visible()
    with school_context(school.school):
        progress = LessonProgress.objects.get(
            school=school.school, student=school.student, lesson=school.lesson
        )
        assert progress.completed_at is not None
