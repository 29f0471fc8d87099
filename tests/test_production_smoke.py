"""The production topology, for real, and one whole journey through it over HTTPS.

``production_stack`` (tests/fixtures/production.py) makes the database with its three
roles and migrates it as the owner, collects the static files, runs ``scripts/serve.py``
(granian, the task worker, the periodic jobs) with production settings and secrets made
for the run, the bucket on SeaweedFS behind its own HTTPS endpoint, Redis, and Debian's
Caddy on the shipped Caddyfile in front. Chromium trusts the two local CAs (nothing is
ignored) and goes, through the edge only:

platform home → "Create your school" → the new school's dashboard → a course with a video
lesson → the lesson's video uploaded through the upload panel, in presigned multipart
parts straight to the bucket → the real worker transcodes it → published → an access
code batch → in a fresh browser, a new student redeems a code, signs up and plays the
video (its currentTime advances).

On that whole path: every request the browser makes is https (no mixed content, no
http link anywhere), every page carries Strict-Transport-Security and a
Content-Security-Policy, no CSP violation is reported (csp_guard), no answer is a 5xx,
and every cookie is Secure (the session cookie HttpOnly too). Behind the edge /metrics
wants its token, and then counts the worker's transcode and a web process's redemption
in one answer. At the end SIGTERM stops
the supervisor with exit code 0 and every process it started is gone.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, Response, expect

from tests.fixtures.browser import REPO_ROOT, VIEWPORT, screenshot
from tests.fixtures.production import ProductionStack, run, wait_for

pytestmark = pytest.mark.e2e

PASSWORD = "a-long-smoke-passphrase-2026"
WAIT_MS = 60_000  # one step of the journey on a busy 2-core machine
TRANSCODE_MS = 300_000  # upload finished -> video ready (the worker's ffmpeg run)
CLIP_SECONDS = 4
CODE_PATTERN = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short 640x360 test pattern with a tone, made by the ffmpeg of imageio-ffmpeg."""
    import imageio_ffmpeg

    out = tmp_path_factory.mktemp("clip") / "welcome-clip.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=30",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
            "-t",
            str(CLIP_SECONDS),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            str(out),
        ],
        check=True,
        timeout=120,
    )
    return out


@dataclass
class Watched:
    """What a browser context did: every request, every page answer, console complaints."""

    requests: list[str] = field(default_factory=list)
    documents: list[Response] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)


def watched_context(browser: Browser) -> tuple[BrowserContext, Page, Watched]:
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    seen = Watched()

    def on_request(request: Request) -> None:
        seen.requests.append(request.url)

    def on_response(response: Response) -> None:
        if response.request.resource_type == "document":
            seen.documents.append(response)
        if response.status >= 500:
            seen.server_errors.append(f"{response.status} {response.url}")

    context.on("request", on_request)
    context.on("response", on_response)
    context.on(
        "console",
        lambda message: (
            seen.console.append(message.text) if "Mixed Content" in message.text else None
        ),
    )
    return context, context.new_page(), seen


def assert_production_path(context: BrowserContext, seen: Watched, who: str) -> None:
    """HTTPS only, HSTS and CSP on every page, Secure cookies, no 5xx, no mixed content."""
    insecure = [url for url in seen.requests if not url.startswith(("https://", "blob:", "data:"))]
    assert not insecure, f"{who}: requests not over https: {insecure[:10]}"
    assert not seen.console, f"{who}: mixed content reported: {seen.console[:5]}"
    assert not seen.server_errors, f"{who}: server errors: {seen.server_errors[:10]}"
    assert seen.documents, f"{who}: no page was loaded"
    for response in seen.documents:
        if response.status in (301, 302, 303, 307, 308):
            continue  # the page it leads to is checked itself
        headers = response.all_headers()
        assert response.url.startswith("https://"), response.url
        hsts = headers.get("strict-transport-security", "")
        assert re.fullmatch(r"max-age=\d{7,}", hsts), f"{response.url}: HSTS {hsts!r}"
        csp = headers.get("content-security-policy", "")
        assert "default-src 'self'" in csp and "upgrade-insecure-requests" in csp, (
            f"{response.url}: CSP {csp!r}"
        )
    cookies = context.cookies()
    assert cookies, f"{who}: no cookie was set"
    for cookie in cookies:
        assert cookie["secure"], f"{who}: cookie {cookie['name']} is not Secure"
    session = [c for c in cookies if c["name"] == "sessionid"]
    assert session and all(c["httpOnly"] for c in session), f"{who}: session cookie {session}"


def log_events(log: Path) -> list[dict[str, object]]:
    """The JSON lines of the supervisor's log (its own and the Django processes')."""
    events = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except ValueError:
                continue  # a line cut off while it was being written
    return events


def metric_total(exposition: str, name: str) -> float:
    """The sum of every sample of ``<namespace>_<name>`` (all label sets)."""
    pattern = re.compile(rf"^\w*?_?{re.escape(name)}(\{{[^}}]*\}})? (\S+)$")
    return sum(
        float(match.group(2)) for line in exposition.splitlines() if (match := pattern.match(line))
    )


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children, grandchildren...)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_production_settings_pass_the_deploy_checks(production_stack: ProductionStack) -> None:
    # With the web processes' environment (and a real mail server instead of console:),
    # Django's deployment checklist and ours (certificates.E001) find nothing.
    env = {**production_stack.env, "EMAIL_URL": "smtp://mailer:secret@smtp.example.test:587"}
    result = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env,
        "manage.py check --deploy",
    )
    assert "no issues" in result.stdout + result.stderr


def test_a_school_from_signup_to_a_student_playing_its_video_over_https(
    production_stack: ProductionStack, trusting_chromium: Browser, clip: Path
) -> None:
    stack = production_stack
    slug = f"smoke-{secrets.token_hex(3)}"
    school_name = f"Harbour Light Academy {slug[-6:]}"
    host = f"{slug}."
    timings: dict[str, float] = dict(stack.timings)
    started = time.monotonic()

    owner_context, page, owner_seen = watched_context(trusting_chromium)

    # --- a school on the platform domain, through the signup page -----------------------
    response = page.goto(stack.url())
    assert response is not None and response.status == 200
    page.get_by_role("link", name="Create your school").first.click()
    page.wait_for_url(stack.url("", "/signup/"))
    page.locator('input[name="full_name"]').fill("Hana Harbour")
    page.locator('input[name="email"]').fill(f"owner@{slug}.test")
    page.locator('input[name="password"]').fill(PASSWORD)
    page.locator('input[name="school_name"]').fill(school_name)
    page.locator('input[name="subdomain"]').fill(slug)
    expect(page.locator("#subdomain-status")).to_contain_text("is available")
    page.get_by_role("button", name="Create my school").click()

    # The one-time login link hops to the school's own host: its certificate is issued on
    # demand (the edge asks the app), and the owner lands on the dashboard, signed in.
    page.wait_for_url(stack.url(host, "/manage/"))
    expect(page.get_by_role("heading", name=re.compile(r"^Welcome"))).to_be_visible()
    expect(page.locator("body")).to_contain_text(school_name)
    assert stack.edge.peer_certificate_names(f"{slug}.localhost") == [f"{slug}.localhost"]
    screenshot(page, "production-smoke-dashboard")
    timings["signup"] = time.monotonic() - started

    # --- a course with a video lesson ----------------------------------------------------
    mark = time.monotonic()
    page.goto(stack.url(host, "/manage/courses/new/"))
    page.get_by_label("Title", exact=True).fill("Knots at Sea")
    page.get_by_role("button", name="Create course").click()
    page.wait_for_url(re.compile(r"/manage/courses/\d+/$"))
    course_url = page.url
    outline = page.locator("#outline")
    page.get_by_label("New section", exact=True).fill("First knots")
    outline.get_by_role("button", name="Add section").click()
    section = outline.locator('[data-sortable="sections"] > li')
    expect(section).to_have_count(1)
    section.get_by_label("Lesson title").fill("The bowline")
    section.get_by_label("Type").select_option("video")
    section.get_by_role("button", name="Add lesson").click()
    section.get_by_role("link", name="The bowline", exact=True).click()
    page.wait_for_url(re.compile(r"/manage/courses/lessons/\d+/$"))

    # --- the upload: presigned multipart parts, straight to the bucket ------------------
    parts: list[str] = []
    page.on(
        "request",
        lambda request: (
            parts.append(request.url)
            if request.method == "PUT" and "partNumber=" in request.url
            else None
        ),
    )
    uploader = page.locator("[data-video-uploader]")
    expect(uploader).to_be_visible()
    assert '"mode": "s3"' in (uploader.get_attribute("data-config") or "")
    page.locator('[data-role="input"]').set_input_files(str(clip))
    expect(page.locator('[data-role="percent"]')).to_have_text("100%")
    expect(uploader).to_have_attribute("data-state", "done")
    assert parts and all(url.startswith(stack.bucket.endpoint_url + "/") for url in parts), parts
    timings["upload"] = time.monotonic() - mark

    # The worker transcodes it; the panel polls until it is ready.
    mark = time.monotonic()
    expect(page.locator("#lesson-video-status")).to_have_attribute(
        "data-video-status", "ready", timeout=TRANSCODE_MS
    )
    timings["transcode"] = time.monotonic() - mark
    page.reload()  # the ready panel with its poster, a presigned https bucket URL
    poster = page.locator("#lesson-video-status img")
    expect(poster).to_be_visible()
    assert (poster.get_attribute("src") or "").startswith(stack.bucket.endpoint_url + "/")
    page.wait_for_function(
        "() => { const img = document.querySelector('#lesson-video-status img');"
        " return img && img.complete && img.naturalWidth > 0; }"
    )
    screenshot(page, "production-smoke-lesson-ready")

    # --- published, and an access code batch for it -------------------------------------
    mark = time.monotonic()
    page.goto(course_url)
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("[data-status]")).to_have_text("Published")
    page.goto(stack.url(host, "/manage/codes/"))
    new_batch = page.locator("[data-new-batch]")
    if new_batch.get_attribute("open") is None:  # open already while there is no batch
        new_batch.get_by_text("New batch").click()
    page.get_by_label("Batch name").fill("Harbour crew")
    page.get_by_label("Knots at Sea").check()
    page.get_by_label("Number of codes").fill("3")
    page.get_by_role("button", name="Create codes").click()
    page.wait_for_url(re.compile(r"/manage/codes/\d+/$"))
    panel = page.locator("[data-new-codes]")
    expect(panel).to_contain_text("Your 3 new codes")
    codes = CODE_PATTERN.findall(panel.inner_text())
    assert len(set(codes)) == 3
    timings["publish_and_codes"] = time.monotonic() - mark
    assert_production_path(owner_context, owner_seen, "owner")
    owner_context.close()

    # --- a new student, in a fresh browser: redeem, sign up, play -----------------------
    mark = time.monotonic()
    student_context, student, student_seen = watched_context(trusting_chromium)
    student.goto(stack.url(host, "/redeem/"))
    student.get_by_label("Your access code").fill(codes[0])
    student.get_by_role("button", name="Redeem").click()
    student.wait_for_url(re.compile(r"/accounts/signup/\?next="))
    student.locator('input[name="full_name"]').fill("Sam Sailor")
    student.locator('input[name="email"]').fill(f"sam@{slug}.test")
    student.locator('input[name="password"]').fill(PASSWORD)
    student.get_by_role("button", name="Create account").click()
    student.wait_for_url(re.compile(r"/courses/[a-z0-9-]+/$"))
    expect(student.get_by_text("Code accepted!")).to_be_visible()
    student.get_by_role("link", name="The bowline").first.click()
    student.wait_for_url(re.compile(r"/lessons/\d+/$"))
    player = student.locator("[data-video-player]")
    expect(player).to_be_visible()
    player.locator("[data-player-bigplay]").click()
    student.wait_for_function(
        "() => document.querySelector('[data-player-video]').currentTime > 1.5",
        timeout=WAIT_MS * 2,
    )
    screenshot(student, "production-smoke-student-playing")
    # The welcome email (console backend: the supervisor's log) links to the school over
    # https on the public port, never to the app server's own.
    verify_link = stack.url(host, "/accounts/verify/")
    wait_for(
        "the student's confirmation email",
        lambda: verify_link in stack.log.read_text(errors="replace"),
        stack.log,
        WAIT_MS / 1000,
    )
    emailed = stack.log.read_text(errors="replace")
    assert f"http://{slug}." not in emailed
    assert f"{slug}.localhost:{stack.app_port}" not in emailed
    timings["student"] = time.monotonic() - mark
    # The playlists came from the app, the media from the bucket, both over https.
    assert any(url.startswith(stack.bucket.endpoint_url + "/") for url in student_seen.requests)
    assert_production_path(student_context, student_seen, "student")
    student_context.close()
    timings["journey"] = time.monotonic() - started

    # --- /metrics behind the edge: the token only; web and worker add up ----------------
    assert stack.edge.https_get("localhost", "/metrics").status == 401
    metrics = stack.edge.https_request(
        "localhost", "/metrics", headers={"Authorization": f"Bearer {stack.env['METRICS_TOKEN']}"}
    )
    assert metrics.status == 200
    assert metric_total(metrics.body, "transcode_duration_seconds_count") >= 1  # the worker
    assert metric_total(metrics.body, "code_redemptions_total") >= 1  # a web process

    # No service died or failed a periodic run meanwhile (the supervisor would have
    # restarted it silently).
    events = log_events(stack.log)
    assert not [e for e in events if e.get("event") in {"serve.exited", "serve.periodic_failed"}]

    # --- SIGTERM stops everything ------------------------------------------------------
    mark = time.monotonic()
    processes = _descendants(stack.supervisor.pid)
    assert len(processes) >= 3, "web, worker and periodic should be running"
    assert stack.stop() == 0, stack.log.read_text(errors="replace")[-3000:]
    assert not [pid for pid in processes if _alive(pid)], "processes left after SIGTERM"
    timings["stop"] = time.monotonic() - mark
    out = REPO_ROOT / "test-output" / "production-smoke-timings.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({k: round(v, 1) for k, v in timings.items()}, indent=2) + "\n")
    print("production smoke timings (s):", json.dumps({k: round(v, 1) for k, v in timings.items()}))
