"""The page builder in Chromium, against the real app (``live_app``).

1. An instructor opens the builder on the home page, clears it, drags a Hero and a
   Course catalogue block from the block panel into the canvas (falling back to the
   GrapesJS API if native drag-and-drop does not land), edits the hero's heading,
   waits for the autosave and publishes. The public home page shows the new heading
   and the published course in the catalogue, in the school's theme colours, at
   1280 px and 375 px (screenshots of the editor and of the page at both widths).
2. An XSS corpus is posted through the builder's save endpoint from the logged-in
   browser and published; visiting the page never runs any of it (``window.__xss``
   stays undefined, no dialog opens).

Setup data is committed (the app runs in another process): unique slugs per run.
"""

from __future__ import annotations

import io
import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from courseplatform.courses import services as course_services
from courseplatform.onboarding.services import create_school
from courseplatform.sites.models import Page as SitePage
from courseplatform.sites.models import Theme
from courseplatform.tenancy.rls import platform_bypass, school_context
from tests.fixtures.browser import VIEWPORT, WAIT_MS, LiveApp, screenshot

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
PASSWORD = "a-long-test-passphrase-42"
PRIMARY = "#0e7490"
PRIMARY_RGB = "rgb(14, 116, 144)"
HEADLINE = "Watercolour classes for everyone"

XSS_HTML = """
<h2 id="xss-probe">Still here</h2>
<script>window.__xss = 1</script>
<img src="x" onerror="window.__xss = 1">
<img src=x onerror=window.__xss=1//>
<body onload="window.__xss = 1">
<svg onload="window.__xss = 1"><script>window.__xss = 1</script></svg>
<a href="javascript:window.__xss=1" id="js-link">javascript link</a>
<a href="JaVaScRiPt:window.__xss=1">mixed case</a>
<a href="&#106;avascript:window.__xss=1">entity</a>
<a href="  java&#x09;script:window.__xss=1">whitespace</a>
<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>
<iframe src="javascript:parent.__xss=1"></iframe>
<meta http-equiv="refresh" content="0;url=javascript:window.__xss=1">
<base href="javascript:window.__xss=1//">
<object data="javascript:window.__xss=1"></object>
<embed src="javascript:window.__xss=1">
<scr<script>ipt>window.__xss=1</scr</script>ipt>
<p title="<img src=x onerror=window.__xss=1>">attribute trick</p>
<details open ontoggle="window.__xss=1"><summary>toggle</summary></details>
<form action="javascript:window.__xss=1"><input autofocus onfocus="window.__xss=1">
<button>Go</button></form>
<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>
<noscript><p title="</noscript><img src=x onerror=window.__xss=1>"></noscript>
<div data-cp-block="embed" data-url="javascript:window.__xss=1"></div>
"""
XSS_CSS = """
#xss-probe{color:red;background:url(javascript:window.__xss=1)}
#x{width:expression(window.__xss=1)}
@import url(https://evil.example/x.css);
#y{behavior:url(xss.htc);-moz-binding:url(https://evil.example/x.xml#x)}
#z{color:blue}</style><script>window.__xss=1</script><style>
"""


@pytest.fixture
def browser_page(chromium_browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A fresh page; console errors and dialogs are collected (a dialog is an XSS)."""
    context = chromium_browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    problems: list[str] = []

    def on_dialog(dialog: Any) -> None:
        if dialog.message.startswith("Remove everything from this page"):
            dialog.accept()  # the builder's own "clear canvas" confirmation
        else:
            problems.append(f"dialog: {dialog.message}")
            dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on(
        "console",
        lambda m: (
            problems.append(f"console: {m.text}")
            if m.type == "error" and "Content-Security-Policy" in m.text
            else None
        ),
    )
    try:
        yield page, problems
    finally:
        context.close()


def _school_with_course(prefix: str) -> tuple[Any, Any, Any]:
    slug = f"{prefix}-{secrets.token_hex(4)}"
    created = create_school(
        slug=slug,
        name="Brushwork Academy",
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name="Olive Owner",
    )
    school, owner = created.school, created.owner
    with school_context(school):
        Theme.objects.filter(school=school).update(primary_color=PRIMARY)
        course = course_services.create_course(
            school=school,
            actor=owner,
            title="Watercolour Basics",
            subtitle="Paint loose, luminous landscapes",
        )
        section = course_services.add_section(
            school=school, actor=owner, course=course, title="Start"
        )
        course_services.add_lesson(school=school, actor=owner, section=section, title="Hello")
        course_services.set_course_status(school=school, actor=owner, course=course, publish=True)
        home = SitePage.objects.get(school=school, is_home=True)
    return school, owner, home


def _png_file(folder: Path) -> Path:
    path = folder / "studio.png"
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), (14, 116, 144)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def _log_in(page: Page, live_app: LiveApp, slug: str, email: str) -> None:
    page.goto(live_app.url(f"{slug}.", "/accounts/login/"))
    page.locator('input[name="email"]').fill(email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(live_app.url(f"{slug}.", "/manage/"))


def _block_count(page: Page, selector: str) -> int:
    return int(
        page.evaluate("(sel) => window.cpBuilder.editor.getWrapper().find(sel).length", selector)
    )


def _drag_block(page: Page, label: str, selector: str) -> str:
    """Drag a block from the panel into the canvas with the mouse (GrapesJS uses native
    drag and drop); fall back to the GrapesJS API if the drop did not land."""
    before = _block_count(page, selector)
    # Selecting a dropped block switches the panel to the styles: back to the blocks.
    page.evaluate("""() => {
        window.cpBuilder.editor.Panels.getButton('views', 'open-blocks').set('active', true);
    }""")
    block = page.locator(f'.gjs-block[title="{label}"]')
    block.scroll_into_view_if_needed()
    expect(block).to_be_visible()
    start = block.bounding_box()
    canvas = page.locator("iframe.gjs-frame").bounding_box()
    assert start and canvas
    x0, y0 = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    # Drop below whatever is already on the page.
    bottom = page.evaluate("""() => {
        const body = window.cpBuilder.editor.Canvas.getBody();
        return Math.min(body.scrollHeight, window.innerHeight);
    }""")
    x1, y1 = (
        canvas["x"] + canvas["width"] / 2,
        min(canvas["y"] + bottom - 20, canvas["y"] + canvas["height"] - 20),
    )
    page.mouse.move(x0, y0)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(x0 + (x1 - x0) * step / 20, y0 + (y1 - y0) * step / 20)
        page.wait_for_timeout(25)
    page.mouse.up()
    try:
        page.wait_for_function(
            "([sel, n]) => window.cpBuilder.editor.getWrapper().find(sel).length > n",
            arg=[selector, before],
            timeout=5_000,
        )
        return "drag"
    except Exception:  # the drop did not land: the same block through the API
        page.evaluate(
            """(label) => {
                const editor = window.cpBuilder.editor;
                const block = editor.BlockManager.getAll().find(b => b.get('label') === label);
                editor.getWrapper().append(block.get('content'));
            }""",
            label,
        )
        assert _block_count(page, selector) > before
        return "api"


def _wait_saved(page: Page) -> None:
    expect(page.locator("[data-save-status]")).to_have_attribute(
        "data-state", "saved", timeout=WAIT_MS
    )


def _desktop_and_phone(page: Page, name: str) -> None:
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    page.wait_for_timeout(300)
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    page.wait_for_timeout(300)
    screenshot(page, f"{name}-phone")
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]


def test_instructor_builds_and_publishes_home_page(
    committed_db: None, live_app: LiveApp, browser_page: tuple[Page, list[str]], tmp_path: Path
) -> None:
    page, problems = browser_page
    school, owner, home = _school_with_course("build")
    _log_in(page, live_app, school.slug, owner.email)

    # --- pages list → builder -----------------------------------------------------------
    page.goto(live_app.url(f"{school.slug}.", "/manage/site/pages/"))
    row = page.locator(f'[data-page-row="{home.slug}"]')
    expect(row).to_contain_text("Home page")
    row.get_by_role("link", name="Edit in builder").click()
    page.wait_for_url(f"**/manage/site/pages/{home.pk}/builder/")
    _wait_saved(page)
    expect(page.locator("[data-publish]")).to_be_enabled()

    # Start from an empty canvas (the preset's "clear canvas" asks for confirmation).
    page.evaluate("() => window.cpBuilder.editor.runCommand('canvas-clear')")
    page.wait_for_function("() => window.cpBuilder.editor.getWrapper().components().length === 0")

    hero_via = _drag_block(page, "Hero", ".cp-hero")
    catalogue_via = _drag_block(page, "Course catalogue", '[data-cp-block="catalogue"]')
    frame = page.frame_locator("iframe.gjs-frame")
    expect(frame.locator(".cp-dynamic .cp-course-card__title").first).to_have_text(
        "Watercolour Basics"
    )

    # An image, uploaded through the asset manager (the Image block opens it on drop).
    image_via = _drag_block(page, "Image", "img.cp-image")
    if image_via == "api":
        page.evaluate("""() => {
            const editor = window.cpBuilder.editor;
            const image = editor.getWrapper().find('img.cp-image').pop();
            editor.select(image);
            editor.runCommand('open-assets', {target: image});
        }""")
    uploader = page.locator(".gjs-am-file-uploader input[type=file]")
    uploader.set_input_files(str(_png_file(tmp_path)))
    asset = page.locator(".gjs-am-asset-image").first
    expect(asset).to_be_visible()
    asset.click()
    page.evaluate("() => { window.cpBuilder.editor.Modal.close(); }")
    image_src = page.evaluate(
        "() => window.cpBuilder.editor.getWrapper().find('img.cp-image').pop().get('src')"
    )
    assert re.fullmatch(r"/site-media/[0-9a-f]{32}\.png", image_src), image_src

    # Edit the hero heading in place (double-click → rich text editor).
    heading = frame.locator(".cp-hero h1").first
    heading.dblclick()
    page.keyboard.press("Control+A")
    # One input event for the whole line: typed key by key on a loaded machine, the
    # editor's re-render could move the caret mid-word ("yoneWatercolour … for ever").
    page.keyboard.insert_text(HEADLINE)
    frame.locator(".cp-hero .cp-lead").first.click()  # leave the text editor
    expect(heading).to_have_text(HEADLINE)
    page.evaluate("""() => {
        const editor = window.cpBuilder.editor;
        editor.select(null);
        editor.Panels.getButton('views', 'open-blocks').set('active', true);
    }""")
    _wait_saved(page)
    expect(page.locator("[data-save-status]")).to_contain_text("Saved")
    _desktop_and_phone(page, "builder-editor")
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]

    page.locator("[data-publish]").click()
    expect(page.locator("[data-save-status]")).to_have_attribute("data-state", "published")
    expect(page.locator("[data-save-status]")).to_contain_text("revision 2")

    # --- the public home page, as a visitor ----------------------------------------------
    browser = page.context.browser
    assert browser is not None
    visitor = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    try:
        public = visitor.new_page()
        public.set_default_timeout(WAIT_MS)
        response = public.goto(live_app.url(f"{school.slug}.", "/"))
        assert response is not None and response.status == 200
        expect(public.locator(".cp-page h1")).to_have_text(HEADLINE)
        catalogue = public.locator('[data-cp-rendered="catalogue"]')
        expect(catalogue.locator(".cp-course-card__title")).to_have_text(["Watercolour Basics"])
        # The theme's primary colour on the hero button and the course card's cover.
        button_bg = public.locator(".cp-hero .cp-btn--primary").first.evaluate(
            "el => getComputedStyle(el).backgroundColor"
        )
        assert button_bg == PRIMARY_RGB, button_bg
        cover_bg = public.locator(".cp-course-card__placeholder").first.evaluate(
            "el => getComputedStyle(el).backgroundImage"
        )
        assert PRIMARY_RGB in cover_bg, cover_bg
        # The uploaded image is served from this school's host.
        image = public.locator(f'.cp-page img[src="{image_src}"]')
        expect(image).to_be_visible()
        assert image.evaluate("img => img.complete && img.naturalWidth") == 120
        # No placeholder markup reaches visitors, and the page never scrolls sideways.
        assert public.locator("[data-cp-block]").count() == 0
        _desktop_and_phone(public, "builder-published-home")
        public.set_viewport_size(PHONE)  # type: ignore[arg-type]
        overflow = public.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the published page scrolls sideways by {overflow}px at 375px"
    finally:
        visitor.close()
    assert not problems, problems
    print(f"blocks added by: hero={hero_via}, catalogue={catalogue_via}, image={image_via}")


def test_xss_corpus_saved_through_the_builder_never_runs(
    committed_db: None, live_app: LiveApp, browser_page: tuple[Page, list[str]]
) -> None:
    page, problems = browser_page
    school, owner, _home = _school_with_course("xss")
    with school_context(school):
        from courseplatform.sites import services as site_services

        target = site_services.create_page(school=school, actor=owner, title="About us")
    _log_in(page, live_app, school.slug, owner.email)
    page.goto(live_app.url(f"{school.slug}.", f"/manage/site/pages/{target.pk}/builder/"))
    _wait_saved(page)

    project = {
        "pages": [
            {
                "frames": [
                    {
                        "component": {
                            "type": "wrapper",
                            "components": [
                                {
                                    "tagName": "img",
                                    "type": "image",
                                    "attributes": {"src": "x", "onerror": "window.__xss=1"},
                                },
                                {
                                    "type": "text",
                                    "content": "<img src=x onerror=window.__xss=1>",
                                    "script": "window.__xss=1",
                                },
                                {"type": "script", "content": "window.__xss=1"},
                            ],
                        }
                    }
                ]
            }
        ],
        "styles": [{"selectors": ["#x"], "style": {"background": "url(javascript:alert(1))"}}],
    }
    result = page.evaluate(
        """async ([url, token, body]) => {
            const r = await fetch(url, {method: 'POST', credentials: 'same-origin',
                headers: {'Content-Type': 'application/json', 'X-CSRFToken': token},
                body: JSON.stringify(body)});
            return {status: r.status, body: await r.json()};
        }""",
        [
            f"/manage/site/pages/{target.pk}/draft/",
            json.loads(page.locator("#builder-data").text_content() or "{}")["csrfToken"],
            {"html": XSS_HTML, "css": XSS_CSS, "project": project},
        ],
    )
    assert result["status"] == 200, result

    # Reloading the builder loads the (sanitised) project into the canvas: nothing runs.
    page.reload()
    _wait_saved(page)
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    assert (
        page.evaluate("() => typeof document.querySelector('iframe.gjs-frame').contentWindow.__xss")
        == "undefined"
    )

    page.locator("[data-publish]").click()
    expect(page.locator("[data-save-status]")).to_have_attribute("data-state", "published")

    for path in (f"/p/{target.slug}/", f"/p/{target.slug}/?preview=draft"):
        response = page.goto(live_app.url(f"{school.slug}.", path))
        assert response is not None and response.status == 200
        expect(page.locator("#xss-probe")).to_have_text("Still here")
        page.wait_for_timeout(500)  # give any onload/onerror/refresh a chance to fire
        assert page.evaluate("() => typeof window.__xss") == "undefined", path
        for link in page.locator(".cp-page a").all():
            href = (link.get_attribute("href") or "").strip().lower()
            assert not href.startswith(("javascript:", "data:", "vbscript:")), href
        assert (
            page.locator(
                ".cp-page script, .cp-page iframe, .cp-page object, .cp-page embed, "
                ".cp-page form, .cp-page svg, .cp-page math, .cp-page meta, "
                "base"
            ).count()
            == 0
        )
    screenshot(page, "builder-xss-page")
    assert not [p for p in problems if p.startswith("dialog")], problems


def test_oversize_autosave_is_refused_with_an_inline_message(
    committed_db: None, live_app: LiveApp, browser_page: tuple[Page, list[str]]
) -> None:
    from courseplatform.tenancy.models import Plan

    page, _problems = browser_page
    school, owner, home = _school_with_course("big")
    # Plans and a school's plan are the platform role's to change.
    with platform_bypass(actor=None, reason="test: tiny plan"):
        tiny, _ = Plan.objects.get_or_create(
            code="e2e-tiny-pages",
            defaults={"name": "Tiny", "max_pages": 2, "max_page_bytes": 40_000},
        )
        school.plan = tiny
        school.save(update_fields=["plan"])
    with school_context(school):
        before = SitePage.objects.get(pk=home.pk).draft_html
    _log_in(page, live_app, school.slug, owner.email)
    page.goto(live_app.url(f"{school.slug}.", f"/manage/site/pages/{home.pk}/builder/"))
    _wait_saved(page)
    page.evaluate("""() => {
        const text = 'Long text. '.repeat(5000);
        window.cpBuilder.editor.getWrapper().append(
            `<section class="cp-section"><p>${text}</p></section>`);
    }""")
    status = page.locator("[data-save-status]")
    expect(status).to_have_attribute("data-state", "error")
    expect(status).to_have_text("Not saved: page too large")
    notice = page.locator("[data-builder-error]")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("your plan allows 39 KB per page")
    expect(notice).to_contain_text("Nothing was saved")
    with school_context(school):
        assert SitePage.objects.get(pk=home.pk).draft_html == before
    screenshot(page, "builder-oversize-error")
