"""The lesson video player in Chromium against the real app (``live_app``).

An enrolled student opens a video lesson: hls.js loads the per-viewer master
playlist, fetches the AES key and signed segments, and plays (currentTime
advances); both rungs are listed as levels and the quality menu switches to a
fixed one; keyboard shortcuts work; pausing saves the position and watching past
90 % completes the lesson. Screenshots of the player at 1280 and 375 px wide.

The live app only sees committed rows, so the data is written outside any test
transaction with a random school slug, and its video files are removed afterwards.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from courseplatform.video.tests.playback_support import (
    make_hls,
    remove_asset_files,
    store_ready_asset,
)
from tests.fixtures.browser import VIEWPORT, WAIT_MS, LiveApp, screenshot

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
PASSWORD = "a-long-test-passphrase-42"
CLIP_SECONDS = 12.0


@dataclass
class VideoSchool:
    school: Any
    host: str
    course: Any
    lesson: Any
    asset: Any
    student: Any


@pytest.fixture
def video_school(committed_db: None, live_app: LiveApp) -> Iterator[VideoSchool]:
    from courseplatform.accounts.models import User
    from courseplatform.courses import services
    from courseplatform.onboarding.services import create_school
    from courseplatform.tenancy.rls import school_context

    hls = make_hls(CLIP_SECONDS)
    slug = f"e2e-video-{secrets.token_hex(4)}"
    created = create_school(
        slug=slug,
        name="Lens & Light",
        owner_email=f"owner@{slug}.test",
        owner_password=PASSWORD,
        owner_name="Olive Owner",
    )
    school, owner = created.school, created.owner
    with school_context(school):
        asset = store_ready_asset(school=school, owner=owner, hls=hls, title="Exposure basics")
        course = services.create_course(school=school, actor=owner, title="Photography 101")
        section = services.add_section(school=school, actor=owner, course=course, title="Light")
        lesson = services.add_lesson(
            school=school, actor=owner, section=section, title="Exposure basics", kind="video"
        )
        lesson.video = asset
        lesson.body_md = "Aperture, shutter speed and ISO."
        lesson.save()
        services.set_course_status(school=school, actor=owner, course=course, publish=True)
        student = User.objects.create_user(
            f"sam@{slug}.test", PASSWORD, school=school, full_name="Sam Student"
        )
        services.enroll_student(
            school=school, actor=owner, course=course, student=student, source="manual"
        )
    try:
        yield VideoSchool(school, f"{slug}.", course, lesson, asset, student)
    finally:
        remove_asset_files(asset)


def _progress(vs: VideoSchool) -> Any:
    from courseplatform.courses.models import LessonProgress
    from courseplatform.tenancy.rls import school_context

    with school_context(vs.school):
        return LessonProgress.objects.filter(student=vs.student, lesson=vs.lesson).first()


def _log_in(page: Page, live_app: LiveApp, vs: VideoSchool, next_path: str) -> None:
    page.goto(live_app.url(vs.host, f"/accounts/login/?next={next_path}"))
    page.locator('input[name="email"]').fill(vs.student.email)
    page.locator('input[name="password"]').fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    page.wait_for_url(live_app.url(vs.host, next_path))


def test_hls_player_plays_switches_quality_saves_position_and_completes(
    live_app: LiveApp, page: Page, video_school: VideoSchool
) -> None:
    vs = video_school
    page.set_default_timeout(WAIT_MS)
    refused: list[str] = []
    page.on(
        "response",
        lambda r: refused.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    lesson_path = f"/courses/{vs.course.slug}/lessons/{vs.lesson.pk}/"
    _log_in(page, live_app, vs, lesson_path)

    player = page.locator("[data-video-player]")
    expect(player).to_be_visible()
    assert page.evaluate("() => !!window.Hls && window.Hls.isSupported()")
    expect(player).to_have_attribute("data-mode", "hls.js")
    # Both rungs become hls.js levels; the quality menu lists Auto + each.
    page.wait_for_function(
        "() => { const r = document.querySelector('[data-video-player]');"
        " return r.hls && r.hls.levels.length >= 2; }"
    )
    levels = page.evaluate(
        "() => document.querySelector('[data-video-player]').hls.levels"
        ".map(l => ({height: l.height, bitrate: l.bitrate}))"
    )
    assert sorted(level["height"] for level in levels) == [240, 360]
    expect(player).to_have_attribute("data-levels", "2")

    # Play: currentTime advances (segments fetched, decrypted, appended).
    player.locator("[data-player-bigplay]").click()
    page.wait_for_function("() => document.querySelector('[data-player-video]').currentTime > 1.5")
    expect(player).to_have_attribute("data-state", "playing")
    player.locator("[data-player-frame]").hover()  # controls show while the pointer moves
    screenshot(page, "video-player-desktop")

    # Manual quality switch through the menu: 240p.
    player.get_by_role("button", name="Quality").click()
    menu = player.locator('[data-menu="quality"]')
    expect(menu).to_be_visible()
    expect(menu.get_by_role("menuitemradio")).to_have_count(3)
    menu.get_by_role("menuitemradio", name="240p").click()
    index_240 = next(i for i, level in enumerate(levels) if level["height"] == 240)
    page.wait_for_function(
        f"() => document.querySelector('[data-video-player]').getAttribute('data-level')"
        f" === '{index_240}'"
    )
    state = page.evaluate(
        "() => { const h = document.querySelector('[data-video-player]').hls;"
        " return {auto: h.autoLevelEnabled, current: h.currentLevel}; }"
    )
    assert state == {"auto": False, "current": index_240}
    expect(player.locator("[data-player-quality-label]")).to_have_text("240p")
    before = page.evaluate("() => document.querySelector('[data-player-video]').currentTime")
    page.wait_for_function(
        f"() => document.querySelector('[data-player-video]').currentTime > {before + 0.5}"
    )

    # Keyboard shortcuts (focus on the page body).
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.keyboard.press("m")
    assert page.evaluate("() => document.querySelector('[data-player-video]').muted") is True
    page.keyboard.press(">")
    assert page.evaluate("() => document.querySelector('[data-player-video]').playbackRate") == 1.25
    expect(player.locator("[data-player-speed-label]")).to_have_text("1.25\N{MULTIPLICATION SIGN}")
    page.keyboard.press("<")
    page.keyboard.press("k")  # pause → the position is saved
    expect(player).to_have_attribute("data-state", "paused")
    position = page.evaluate("() => document.querySelector('[data-player-video]').currentTime")
    page.wait_for_function(
        "() => performance.getEntriesByType('resource').some(e => e.name.endsWith('/position'))"
    )
    page.wait_for_timeout(500)
    progress = _progress(vs)
    assert progress is not None and progress.last_position_seconds == int(position)
    assert progress.completed_at is None
    before = page.evaluate("() => document.querySelector('[data-player-video]').currentTime")
    page.keyboard.press("ArrowLeft")
    after = page.evaluate("() => document.querySelector('[data-player-video]').currentTime")
    assert after == pytest.approx(max(0, before - 5), abs=0.3)

    # Phone width: the player fits, nothing scrolls sideways.
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    player.locator("[data-player-frame]").hover()
    screenshot(page, "video-player-phone")
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]
    assert overflow <= 0

    # Watch the end: past 90 % the lesson completes itself.
    page.evaluate(
        f"() => {{ const v = document.querySelector('[data-player-video]');"
        f" v.currentTime = {CLIP_SECONDS * 0.8}; v.play(); }}"
    )
    page.wait_for_function("() => document.querySelector('[data-player-video]').ended")
    expect(player.locator("[data-player-status]")).to_have_text("Lesson completed ✓")
    expect(player).to_have_attribute("data-completed", "1")
    progress = _progress(vs)
    assert progress is not None and progress.completed_at is not None

    # Coming back resumes where the student left off (the end restarts at 0).
    page.reload()
    expect(player).to_be_visible()
    expect(player).to_have_attribute("data-resume", "0")

    assert not errors, errors
    assert not refused, refused


def test_player_resumes_from_the_saved_position(
    live_app: LiveApp, page: Page, video_school: VideoSchool
) -> None:
    from courseplatform.courses.models import LessonProgress
    from courseplatform.tenancy.rls import school_context

    vs = video_school
    page.set_default_timeout(WAIT_MS)
    with school_context(vs.school):
        LessonProgress.objects.create(
            school=vs.school,
            student=vs.student,
            lesson=vs.lesson,
            course=vs.course,
            last_position_seconds=6,
        )
    lesson_path = f"/courses/{vs.course.slug}/lessons/{vs.lesson.pk}/"
    _log_in(page, live_app, vs, lesson_path)
    player = page.locator("[data-video-player]")
    expect(player).to_have_attribute("data-resume", "6")
    expect(player.locator("[data-player-status]")).to_have_text("Resuming at 0:06.")
    page.wait_for_function("() => document.querySelector('[data-player-video]').currentTime >= 5.9")


def test_player_fetches_fresh_playlists_when_a_token_has_expired(
    live_app: LiveApp, page: Page, video_school: VideoSchool
) -> None:
    """Segment tokens live VIDEO_TOKEN_TTL_SECONDS; past that the CDN (or the app)
    answers 403. The player then re-fetches the playlists and plays on."""
    vs = video_school
    page.set_default_timeout(WAIT_MS)
    lesson_path = f"/courses/{vs.course.slug}/lessons/{vs.lesson.pk}/"
    _log_in(page, live_app, vs, lesson_path)
    refused: list[str] = []
    masters: list[str] = []
    page.on("request", lambda r: masters.append(r.url) if "master.m3u8" in r.url else None)

    def expire_once(route: Any) -> None:
        if not refused:
            refused.append(route.request.url)
            route.fulfill(status=403, body="This video link has expired.")
        else:
            route.continue_()

    page.route("**/seg_00003.m4s?verify=*", expire_once)
    page.reload()
    player = page.locator("[data-video-player]")
    player.locator("[data-player-bigplay]").click()
    page.wait_for_function(
        "() => document.querySelector('[data-player-video]').currentTime > 7"
    )  # segment 3 covers 4-6 s: it was fetched again with a fresh token
    assert len(refused) == 1
    expect(player).to_have_attribute("data-refreshes", "1")
    assert len(masters) >= 2
    expect(player.locator("[data-player-error]")).to_be_hidden()


# --- failures: bounded retries, a message with "Try again", one report -------------------

VIDEO_REQUEST = re.compile(r"/video/(lessons/\d+/(master\.m3u8|[^/]+/index\.m3u8|key)|s/)")
# What a give-up may cost at most: a fresh start or three, each a master + media
# playlist, a key and a few segment attempts (hls.js's own retries included).
MAX_VIDEO_REQUESTS = 40
MESSAGES = {
    "decrypt": "This video could not be unlocked.",
    "access": "You no longer have access to this video.",
}


def _failure_lines(live_app: LiveApp, vs: VideoSchool) -> list[dict[str, Any]]:
    lines = []
    for raw in live_app.log_path.read_text(errors="replace").splitlines():
        if '"video.playback_failed"' not in raw:
            continue
        entry = json.loads(raw[raw.index("{") :])
        if entry.get("asset_id") == vs.asset.pk:
            lines.append(entry)
    return lines


def _fail_and_check(
    live_app: LiveApp,
    page: Page,
    vs: VideoSchool,
    break_key: Callable[[Any], None],
    kinds: tuple[str, ...],
    shot: str,
) -> dict[str, Any]:
    """Open the lesson with the key broken by ``break_key``; the player gives up after
    a bounded number of requests, shows the message and reports once; "Try again"
    with the key repaired plays the video."""
    page.set_default_timeout(WAIT_MS)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if VIDEO_REQUEST.search(r.url) else None)
    page.route("**/video/lessons/*/key?verify=*", break_key)
    # hls.js starts loading on its own: the failure shows without pressing play.
    _log_in(page, live_app, vs, f"/courses/{vs.course.slug}/lessons/{vs.lesson.pk}/")
    player = page.locator("[data-video-player]")

    error = player.locator("[data-player-error]")
    expect(error).to_be_visible(timeout=WAIT_MS)
    kind = player.get_attribute("data-failed")
    assert kind in kinds, kind
    expect(player.locator("[data-player-error-message]")).to_have_text(MESSAGES[kind])
    expect(player.locator("[data-player-error-hint]")).not_to_be_empty()
    expect(player.locator("[data-player-bigplay]")).to_be_hidden()
    retry = player.get_by_role("button", name="Try again")
    expect(retry).to_be_visible()
    expect(player).to_have_attribute("data-reported", "1", timeout=WAIT_MS)
    assert page.evaluate("() => document.querySelector('[data-video-player]').hls") is None
    given_up_after = len(requests)
    page.wait_for_timeout(3000)  # nothing more is requested once the player gave up
    assert len(requests) == given_up_after, requests[given_up_after:]
    assert 0 < given_up_after <= MAX_VIDEO_REQUESTS, "\n".join(requests)

    lines = _failure_lines(live_app, vs)
    assert len(lines) == 1, lines
    line = lines[0]
    assert line["video"] == str(vs.asset.uuid) and line["kind"] == kind
    assert line["lesson_id"] == vs.lesson.pk and line["school_id"] == vs.school.pk
    assert line["level"] == "warning" and line["detail"]

    screenshot(page, f"{shot}-desktop")
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    expect(retry).to_be_visible()
    box = retry.bounding_box()
    frame = player.locator("[data-player-frame]").bounding_box()
    assert box is not None and frame is not None
    assert frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"]
    assert frame["y"] <= box["y"] and box["y"] + box["height"] <= frame["y"] + frame["height"]
    screenshot(page, f"{shot}-phone")
    page.set_viewport_size(VIEWPORT)  # type: ignore[arg-type]

    # The key works again: "Try again" plays from where the player stopped.
    page.unroute("**/video/lessons/*/key?verify=*")
    retry.click()
    expect(error).to_be_hidden(timeout=WAIT_MS)
    page.wait_for_function("() => document.querySelector('[data-player-video]').currentTime > 1")
    expect(player).to_have_attribute("data-state", "playing", timeout=WAIT_MS)
    assert player.get_attribute("data-failed") is None
    return line


def test_player_gives_up_on_a_key_that_does_not_decrypt_shows_retry_and_reports(
    live_app: LiveApp, page: Page, video_school: VideoSchool
) -> None:
    """A wrong key (16 bytes, but not the video's): every segment fails to decrypt."""

    def wrong_key(route: Any) -> None:
        route.fulfill(status=200, body=bytes(16), content_type="application/octet-stream")

    line = _fail_and_check(
        live_app, page, video_school, wrong_key, ("decrypt",), "video-player-undecryptable"
    )
    assert line["http_status"] == 0
    assert line["detail"] in ("fragDecryptError", "fragParsingError")


def test_player_gives_up_when_the_key_is_refused_shows_retry_and_reports(
    live_app: LiveApp, page: Page, video_school: VideoSchool
) -> None:
    """The key endpoint answers 403 every time (e.g. a tampered or foreign token)."""

    def refused(route: Any) -> None:
        route.fulfill(status=403, body="This key link has expired or is not yours.")

    line = _fail_and_check(
        live_app, page, video_school, refused, ("access",), "video-player-key-refused"
    )
    assert line["http_status"] == 403 and line["detail"] == "keyLoadError"
    assert int(page.locator("[data-video-player]").get_attribute("data-refreshes") or 0) == 3
