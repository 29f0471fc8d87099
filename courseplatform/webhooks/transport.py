"""One webhook POST over the network, through the SSRF guard.

The standard library's ``http.client``, with the connection pinned: the host is resolved
and checked once (``urlguard.resolve_public``), the socket connects to exactly that
address, and the request still carries the original ``Host`` header and, over TLS, the
original name for SNI and certificate checks. Redirects are followed by hand (the same
signed POST, at most ``WEBHOOKS_MAX_REDIRECTS`` hops), each new location checked and
pinned again. Connect and read timeouts are bounded (``WEBHOOKS_CONNECT_TIMEOUT_SECONDS``,
``WEBHOOKS_READ_TIMEOUT_SECONDS``), and so is the whole request with its redirects
(``WEBHOOKS_TOTAL_TIMEOUT_SECONDS``); only the first 2 KB of an answer is read.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin

from django.conf import settings

from .models import RESPONSE_BODY_MAX
from .urlguard import Destination, UnsafeDestination, parse_destination, resolve_public

REDIRECTS = frozenset({301, 302, 303, 307, 308})


class DeliveryError(Exception):
    """The request could not be completed; the message says why (shown in the log)."""


@dataclass
class Answer:
    status: int
    body: str
    latency_ms: int
    url: str
    redirects: list[str] = field(default_factory=list)


def _timeouts() -> tuple[float, float]:
    return (
        float(settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS),
        float(settings.WEBHOOKS_READ_TIMEOUT_SECONDS),
    )


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, destination: Destination, addresses: list[str], deadline: float) -> None:
        connect_timeout, self._read_timeout = _timeouts()
        super().__init__(destination.host, destination.port, timeout=connect_timeout)
        self._addresses = addresses
        self._deadline = deadline
        self._watchdog: threading.Timer | None = None
        self.deadline_passed = False

    def _cut_off(self, sock: socket.socket) -> None:
        # A receiver that dribbles its answer byte by byte never trips the read timeout:
        # past the whole request's deadline the socket is shut, which ends the read.
        self.deadline_passed = True
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    def _guard(self, sock: socket.socket) -> None:
        self._watchdog = threading.Timer(
            max(0.0, self._deadline - time.monotonic()), self._cut_off, args=(sock,)
        )
        self._watchdog.daemon = True
        self._watchdog.start()

    def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        super().close()

    def _open_socket(self) -> socket.socket:
        # Only the addresses that passed the guard, in the resolver's order (the first
        # that accepts wins, as socket.create_connection does for a name).
        last_error: OSError | None = None
        for address in self._addresses:
            try:
                sock = socket.create_connection((address, self.port), self.timeout)
            except OSError as exc:
                last_error = exc
                continue
            sock.settimeout(self._read_timeout)
            self._guard(sock)
            return sock
        assert last_error is not None
        raise last_error

    def connect(self) -> None:
        self.sock = self._open_socket()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = 443

    def connect(self) -> None:
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self._open_socket(), server_hostname=self.host)


def _read_prefix(response: http.client.HTTPResponse) -> str:
    raw = response.read(RESPONSE_BODY_MAX)
    # PostgreSQL text cannot hold NUL; the log shows a replacement character instead.
    return raw.decode("utf-8", errors="replace").replace("\x00", "\ufffd")


def _post_once(
    destination: Destination,
    addresses: list[str],
    body: bytes,
    headers: dict[str, str],
    deadline: float,
) -> tuple[int, str, str | None]:
    connection_class = (
        _PinnedHTTPSConnection if destination.scheme == "https" else _PinnedHTTPConnection
    )
    connection = connection_class(destination, addresses, deadline)
    try:
        connection.putrequest("POST", destination.target, skip_host=True)
        connection.putheader("Host", destination.host_header)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        location = response.getheader("Location")
        text = _read_prefix(response)
        if connection.deadline_passed:
            # Cut off mid-answer: what was read may look complete but is not.
            raise TimeoutError("the whole request took too long")
        return response.status, text, location
    except (OSError, http.client.HTTPException) as exc:
        if connection.deadline_passed:
            raise TimeoutError("the whole request took too long") from exc
        raise
    finally:
        connection.close()


def post(url: str, *, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``url`` (following redirects); raises DeliveryError."""
    started = time.monotonic()
    deadline = started + float(settings.WEBHOOKS_TOTAL_TIMEOUT_SECONDS)
    redirects: list[str] = []
    current = url
    try:
        while True:
            destination = parse_destination(current)
            addresses = resolve_public(destination)
            try:
                status, text, location = _post_once(destination, addresses, body, headers, deadline)
            except TimeoutError as exc:
                raise DeliveryError(f"No answer in time from {destination.host}.") from exc
            except ssl.SSLError as exc:
                raise DeliveryError(f"TLS failed with {destination.host}: {exc.reason}.") from exc
            except (OSError, http.client.HTTPException) as exc:
                raise DeliveryError(
                    f"Could not talk to {destination.host}: {type(exc).__name__}: {exc}"[:500]
                ) from exc
            if status in REDIRECTS and location:
                if len(redirects) >= settings.WEBHOOKS_MAX_REDIRECTS:
                    raise DeliveryError(
                        f"Too many redirects (more than {settings.WEBHOOKS_MAX_REDIRECTS})."
                    )
                current = urljoin(current, location)
                redirects.append(current)
                continue
            return Answer(
                status=status,
                body=text,
                latency_ms=int((time.monotonic() - started) * 1000),
                url=current,
                redirects=redirects,
            )
    except UnsafeDestination as exc:
        where = " after a redirect" if redirects else ""
        raise DeliveryError(f"Refused{where}: {exc}") from exc
