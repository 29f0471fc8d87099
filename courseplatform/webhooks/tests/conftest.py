"""Webhook test support: a real HTTP receiver on loopback, the README's own signature
check, and a school with an endpoint pointing at the receiver."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

README = Path(__file__).resolve().parents[3] / "README.md"
SNIPPET_MARKER = "<!-- webhook-verify-snippet -->"


def readme_verify_snippet() -> str:
    """The Python block right after the marker in README.md."""
    text = README.read_text()
    assert SNIPPET_MARKER in text, "README lost its webhook verification snippet"
    after = text.split(SNIPPET_MARKER, 1)[1]
    match = re.match(r"\s*```python\n(.*?)```", after, re.DOTALL)
    assert match, "the README marker is not followed by a ```python block"
    return match.group(1)


@pytest.fixture(scope="session")
def verify_webhook() -> Callable[..., bool]:
    namespace: dict[str, Any] = {}
    exec(compile(readme_verify_snippet(), str(README), "exec"), namespace)
    return namespace["verify_webhook"]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    location: str | None = None
    hang: bool = False  # wait (bounded) without answering: the client's read times out
    dribble: bool = False  # answer one byte at a time, each well within the read timeout
    before: Callable[[], None] | None = None  # runs in the server thread before answering


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)  # one per request; then 200 "ok"
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str = "/hooks", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


def _start_receiver() -> Receiver:
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            receiver = holder["r"]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            receiver.received.append(
                Received(
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
            )
            reply = receiver.replies.pop(0) if receiver.replies else Reply()
            if reply.before is not None:
                reply.before()
            if reply.hang:
                receiver.release.wait(30)  # bounded; released at teardown
                return
            if reply.dribble:
                try:
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                    for _ in range(150):  # at most ~30 s; the client hangs up long before
                        self.wfile.write(b"z")
                        self.wfile.flush()
                        if receiver.release.wait(0.2):
                            break
                except OSError:
                    pass  # the client cut us off, as it should
                return
            self.send_response(reply.status)
            if reply.location:
                self.send_header("Location", reply.location)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(server=server)
    holder["r"] = receiver
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


@pytest.fixture
def make_receiver() -> Iterator[Callable[[], Receiver]]:
    started: list[Receiver] = []

    def _make() -> Receiver:
        receiver = _start_receiver()
        started.append(receiver)
        return receiver

    yield _make
    for receiver in started:
        receiver.release.set()
        receiver.server.shutdown()
        receiver.server.server_close()


@pytest.fixture
def receiver(make_receiver: Callable[[], Receiver]) -> Receiver:
    return make_receiver()


@pytest.fixture
def loopback_allowed(settings: Any) -> Any:
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    settings.WEBHOOKS_READ_TIMEOUT_SECONDS = 5
    settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS = 5
    return settings


@pytest.fixture
def hooked(school_a: Any, receiver: Receiver, loopback_allowed: Any) -> SimpleNamespace:
    """School A with an endpoint (every event) at the loopback receiver."""
    from courseplatform.ops.events import EVENT_TYPES
    from courseplatform.tenancy.rls import school_context
    from courseplatform.webhooks import services

    school, owner = school_a.school, school_a.owner
    with school_context(school):
        endpoint = services.create_endpoint(
            school=school,
            actor=owner,
            url=receiver.url(),
            description="Receiver",
            event_types=list(EVENT_TYPES),
        )
    return SimpleNamespace(school=school, owner=owner, endpoint=endpoint, receiver=receiver)
