"""Server strings in the page builder stay text (issue 11 item 12).

Course titles and subtitles, people's names, video titles, the page title and the
school name are typed by instructors and, for names, by any student at signup. The
builder shows them in the live blocks' canvas previews and in the Course / Person /
Video dropdowns of the settings panel. With the Content-Security-Policy bypassed (so
the test sees the editor's own handling, not the CSP), every hostile payload planted in
those fields must stay text: no payload element exists in the editor or its canvas, no
script or dialog runs (``window.__xss`` stays unset), and nothing is requested from the
``<base href>`` host.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from courseplatform.accounts.models import User
from courseplatform.courses import services as course_services
from courseplatform.onboarding.services import create_school
from courseplatform.sites import services as site_services
from courseplatform.tenancy.rls import school_context
from courseplatform.video.models import VideoAsset
from tests.fixtures.browser import VIEWPORT, WAIT_MS, LiveApp, screenshot

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-test-passphrase-42"
BASE_HOST = "pwn-base.invalid"
# Each payload's elements carry data-pwn: if any becomes an element, the probe finds it.
PAYLOADS = [
    "<img src=x onerror=window.__xss=1 data-pwn>",
    "<svg onload=window.__xss=1 data-pwn>",
    "<details open ontoggle=window.__xss=1 data-pwn>",
    "</select><img src=x onerror=window.__xss=1 data-pwn>",
    '<noscript><p title="</noscript><img src=x onerror=window.__xss=1 data-pwn>">',
    "<style><img src=x onerror=window.__xss=1 data-pwn></style>",
    '<iframe src="javascript:parent.__xss=1" data-pwn></iframe>',
    f'<base href="http://{BASE_HOST}/" data-pwn>',
]
KINDS = ["catalogue", "course", "redeem", "instructor", "video", "embed"]
PROBE = """() => {
    const docs = [document, document.querySelector('iframe.gjs-frame').contentDocument];
    return {
        xss: [typeof window.__xss,
              typeof document.querySelector('iframe.gjs-frame').contentWindow.__xss],
        elements: docs.map(d => d.querySelectorAll('[data-pwn]').length),
        bases: docs.map(d => d.querySelectorAll('base').length),
    };
}"""


def _hostile_school() -> tuple[Any, Any, Any]:
    """A school whose every builder-visible string is a payload."""
    slug = f"names-{secrets.token_hex(4)}"
    created = create_school(
        slug=slug,
        name=PAYLOADS[0],
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name=PAYLOADS[1],
        plan_code="premium",  # room for one course per payload
    )
    school, owner = created.school, created.owner
    with school_context(school):
        for n, payload in enumerate(PAYLOADS):
            course = course_services.create_course(
                school=school, actor=owner, title=payload, subtitle=PAYLOADS[-1 - n]
            )
            if n % 2 == 0:  # published and draft courses both reach the dropdown
                section = course_services.add_section(
                    school=school, actor=owner, course=course, title="Start"
                )
                course_services.add_lesson(
                    school=school, actor=owner, section=section, title="Hello"
                )
                course_services.set_course_status(
                    school=school, actor=owner, course=course, publish=True
                )
            User.objects.create_user(
                f"teacher{n}@{slug}.test",
                PASSWORD,
                school=school,
                full_name=payload,
                role=User.Role.INSTRUCTOR,
            )
            VideoAsset.objects.create(
                school=school,
                title=payload,
                original_filename="clip.mp4",
                status=VideoAsset.Status.READY,
            )
        target = site_services.create_page(school=school, actor=owner, title=PAYLOADS[3])
    return school, owner, target


def test_builder_shows_hostile_names_as_text_with_csp_bypassed(
    committed_db: None, live_app: LiveApp, chromium_browser: Browser
) -> None:
    school, owner, target = _hostile_school()
    context = chromium_browser.new_context(viewport=VIEWPORT, bypass_csp=True)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    page: Page = context.new_page()
    dialogs: list[str] = []
    requested: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    context.on("request", lambda r: requested.append(r.url))
    try:
        page.goto(live_app.url(f"{school.slug}.", "/accounts/login/"))
        page.locator('input[name="email"]').fill(owner.email)
        page.locator('input[name="password"]').fill(PASSWORD)
        page.get_by_role("button", name="Log in", exact=True).click()
        page.wait_for_url(live_app.url(f"{school.slug}.", "/manage/"))
        page.goto(live_app.url(f"{school.slug}.", f"/manage/site/pages/{target.pk}/builder/"))
        expect(page.locator("[data-save-status]")).to_have_attribute("data-state", "saved")
        expect(page.locator("h1").first).to_have_text(PAYLOADS[3])

        seen_labels: dict[str, list[str]] = {}
        for kind in KINDS:
            page.evaluate(
                """(kind) => {
                    const editor = window.cpBuilder.editor;
                    const block = editor.BlockManager.get(`cp-dyn-${kind}`);
                    editor.getWrapper().append(block.get('content'));
                    const placed = editor.getWrapper().find(`[data-cp-block="${kind}"]`).pop();
                    editor.select(placed);
                    editor.Panels.getButton('views', 'open-tm').set('active', true);
                }""",
                kind,
            )
            select = page.locator(".gjs-trt-trait select")
            if kind in {"course", "instructor", "video"}:
                expect(select).to_have_count(1)
                values = select.locator("option").evaluate_all("os => os.map(o => o.value)")
                seen_labels[kind] = select.locator("option").all_text_contents()
                for value in values[1:]:  # every course/person/video, rendered in the canvas
                    select.select_option(value)
            else:
                expect(select).to_have_count(0)
        frame = page.frame_locator("iframe.gjs-frame")
        expect(frame.locator(".cp-dynamic").first).to_be_visible()
        page.wait_for_timeout(500)  # give any onerror/onload/ontoggle a chance to fire
        probe = page.evaluate(PROBE)
        screenshot(page, "builder-hostile-names")
    finally:
        context.close()

    assert probe == {"xss": ["undefined", "undefined"], "elements": [0, 0], "bases": [0, 0]}
    assert not dialogs, dialogs
    assert not [url for url in requested if BASE_HOST in url]
    # The dropdowns list every payload verbatim, as text.
    # The owner (named PAYLOADS[1]) is listed with the instructors.
    assert sorted(seen_labels["instructor"][1:]) == sorted([*PAYLOADS, PAYLOADS[1]])
    assert sorted(seen_labels["video"][1:]) == sorted(PAYLOADS)
    titles = [label.removesuffix(" (draft)") for label in seen_labels["course"][1:]]
    assert sorted(titles) == sorted(PAYLOADS)
