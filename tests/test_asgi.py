"""The ASGI entry point (courseplatform.asgi) serves the same app as WSGI: a request
through the ASGI protocol reaches the host middleware and the health view."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator

# Generous: the machine running the suite may be busy.
RESPONSE_TIMEOUT = 120


def _scope(path: str, host: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", host)],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }


def _request(path: str, host: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
    from courseplatform.asgi import application

    async def run() -> tuple[int, dict[bytes, bytes], bytes]:
        communicator = ApplicationCommunicator(application, _scope(path, host))
        await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
        start = await communicator.receive_output(timeout=RESPONSE_TIMEOUT)
        body = b""
        while True:
            message = await communicator.receive_output(timeout=RESPONSE_TIMEOUT)
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        return start["status"], dict(start["headers"]), body

    # Playwright's sync API (a session fixture of the browser tests, which may run
    # earlier in the session) leaves its asyncio loop marked as running in this thread,
    # and AsyncToSync refuses to start under a running loop. Nothing of Playwright's
    # runs meanwhile: hide its loop for this call and put it back after.
    playwright_loop = asyncio.events._get_running_loop()
    asyncio.events._set_running_loop(None)
    try:
        return async_to_sync(run)()
    finally:
        asyncio.events._set_running_loop(playwright_loop)


@pytest.mark.django_db
def test_asgi_application_answers_health_checks() -> None:
    status, headers, body = _request("/healthz", b"localhost")
    assert status == 200
    assert headers[b"Content-Type"] == b"application/json"
    assert json.loads(body) == {"status": "ok"}


@pytest.mark.django_db
def test_asgi_application_applies_the_host_rules() -> None:
    status, _, _ = _request("/", b"no-such-school.localhost")
    assert status == 404
