"""Smoke test of the browser harness, independent of the Django app.

A tiny page is served by http.server on 127.0.0.1 and opened as
``http://foo.localhost:<port>/``: this proves Chromium starts, that ``*.localhost``
reaches a server bound to 127.0.0.1 (even when something else listens on the same
port on ::1) and that screenshots are written.
"""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils.asyncio import async_unsafe

from tests.fixtures.browser import SCREENSHOT_DIR, LiveApp, screenshot

pytestmark = pytest.mark.e2e

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Harness check</title>
<style>body {{ font-family: 'Liberation Sans', sans-serif; margin: 2rem; }}</style></head>
<body>
<h1 id="greeting">Hello from the harness</h1>
<p id="host">{host}</p>
<button id="btn" onclick="document.getElementById('out').textContent = 'clicked'">Click</button>
<p id="out"></p>
</body>
</html>
"""


def _handler(body_for_host) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = body_for_host(self.headers.get("Host", "")).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


class _IPv6Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _serve(server: http.server.HTTPServer) -> threading.Thread:
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    return thread


@pytest.fixture
def static_site() -> Iterator[int]:
    """Serve PAGE on 127.0.0.1:<port>; a decoy answers on [::1]:<port> when possible."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), _handler(lambda host: PAGE.format(host=host))
    )
    port = server.server_address[1]
    _serve(server)
    decoy: http.server.HTTPServer | None
    try:
        decoy = _IPv6Server(("::1", port), _handler(lambda host: "<h1>wrong server (::1)</h1>"))
    except OSError:  # no IPv6 loopback here, or the port is taken on ::1
        decoy = None
    else:
        _serve(decoy)
    try:
        yield port
    finally:
        for srv in (server, decoy):
            if srv is not None:
                srv.shutdown()
                srv.server_close()


def test_subdomain_of_localhost_reaches_loopback_server(page, static_site):
    url = f"http://foo.localhost:{static_site}/"
    response = page.goto(url)
    assert response is not None and response.status == 200
    assert page.title() == "Harness check"
    assert page.locator("#greeting").inner_text() == "Hello from the harness"
    # The server saw the school-style Host header, port included.
    assert page.locator("#host").inner_text() == f"foo.localhost:{static_site}"

    page.locator("#btn").click()
    assert page.locator("#out").inner_text() == "clicked"
    assert page.viewport_size == {"width": 1280, "height": 800}

    path = screenshot(page, "harness-foo-localhost")
    assert path == SCREENSHOT_DIR / "harness-foo-localhost.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_pages_do_not_share_cookies(chromium_browser, page, static_site):
    url = f"http://foo.localhost:{static_site}/"
    page.goto(url)
    page.context.add_cookies([{"name": "sid", "value": "1", "url": url}])
    other = chromium_browser.new_context()
    try:
        assert other.cookies() == []
    finally:
        other.close()


@async_unsafe
def _orm_like_call() -> str:
    # Stands in for an ORM query: Django guards those with the same decorator.
    return "ran"


def test_sync_django_calls_work_while_playwright_runs(page):
    # Playwright's sync API leaves an asyncio loop marked as running in this thread;
    # without the harness's DJANGO_ALLOW_ASYNC_UNSAFE this raises
    # SynchronousOnlyOperation here and in every later DB test of the session.
    page.goto("about:blank")
    assert _orm_like_call() == "ran"


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".hidden", "a..b"])
def test_screenshot_rejects_unsafe_names(page, name):
    with pytest.raises(ValueError):
        screenshot(page, name)


def test_live_app_url_builder():
    app = LiveApp(port=8123, log_path=Path("/dev/null"))
    assert app.url() == "http://localhost:8123/"
    assert app.url("demo.") == "http://demo.localhost:8123/"
    assert app.url("demo.", "/courses/?page=2") == "http://demo.localhost:8123/courses/?page=2"
    with pytest.raises(ValueError):
        app.url("demo")
    with pytest.raises(ValueError):
        app.url("", "courses/")
