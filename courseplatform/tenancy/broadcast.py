"""Changes announced to every web process through Redis pub/sub, for the copies each
process keeps in its own memory (``ops/pagecache.py``).

The Redis tokens (``cache_tokens``) tell a process that something changed only when it
asks Redis, and the process page cache answers without asking. So every change that
replaces a token is also *announced*: ``announce_change("school:7")`` notes it in this
process (``cache_tokens.note_local_change``) and publishes it on one channel; a daemon
thread in each web process (``ensure_listening``, started by the page cache on its first
request) subscribes to that channel and notes what it hears the same way. A copy then
lives until its school changes, in every process, within the milliseconds Redis takes to
deliver the message.

Pub/sub delivers only to who is connected, so a copy may rely on it only while the
listener has been subscribed without a break since before the copy was made:
``listening_epoch()`` is a number that changes on every (re)subscription and is None
while not subscribed; ``ops/pagecache.py`` keeps a copy long only while the epoch it
was made under is still the current one, and otherwise for its short window
(``PUBLIC_PROCESS_CACHE_SECONDS``), as without Redis. The listener pings Redis when the
channel has been quiet for ``HEALTH_CHECK_SECONDS``, so a connection that died silently
is noticed within that plus ``SOCKET_TIMEOUT_SECONDS`` and the epoch dropped; it never
reconnects behind our back (a reconnect starts a new epoch).

Channels are per Redis server, not per database: the channel name carries the cache's
key prefix, so two deployments (or test runs) sharing a server do not hear each other.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time

import structlog
from django.conf import settings
from django.core.cache import cache

from .cache_tokens import note_local_change

EVERYTHING = "*"
HEALTH_CHECK_SECONDS = 5
SOCKET_TIMEOUT_SECONDS = 5
RETRY_SECONDS = (0.5, 1, 2, 5, 10)

_ORIGIN = secrets.token_hex(6)  # this process's messages are noted locally already
CLIENT_NAME_PREFIX = "cp-change-listener"
_log = structlog.get_logger(__name__)


def channel() -> str:
    return str(cache.make_key("tenancy:changes"))


def _redis_client() -> object | None:
    """The redis-py client behind Django's Redis cache, or None for any other cache."""
    backend = getattr(cache, "_cache", None)
    get_client = getattr(backend, "get_client", None)
    if not callable(get_client) or not settings.REDIS_URL:
        return None
    return get_client(write=True)


def announce_change(*names: str | None) -> None:
    """Something changed: ``names`` ("school:<id>", "slug:<slug>"), or everything when a
    name is None (or none is given). Noted here at once and published to the others; a
    failed publish is logged and leaves the others to their short window."""
    note_local_change(*names)
    client = _redis_client()
    if client is None:
        return
    wanted = EVERYTHING if not names or None in names else "\n".join(str(n) for n in names)
    try:
        client.publish(channel(), f"{_ORIGIN}\n{wanted}")  # type: ignore[attr-defined]
    except Exception:  # Redis down: the writer's request must still succeed
        _log.warning("change_announcement_failed", names=list(names))


def _heard(payload: bytes | str) -> None:
    text = payload.decode() if isinstance(payload, bytes) else payload
    origin, _, wanted = text.partition("\n")
    if origin == _ORIGIN:
        return
    if wanted == EVERYTHING or not wanted:
        note_local_change(None)
    else:
        note_local_change(*wanted.split("\n"))


class _Listener:
    def __init__(self) -> None:
        self.pid = os.getpid()
        self.epoch: int | None = None
        self._epochs = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="change-listener", daemon=True)

    def _subscribed(self) -> None:
        # Whatever was announced before this moment was not heard: copies made before
        # it keep only their short window (they carry an older epoch).
        self._epochs += 1
        self.epoch = self._epochs

    def _run(self) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        failures = 0
        while not self.stopping.is_set():
            pubsub = None
            try:
                client = redis.Redis.from_url(
                    settings.REDIS_URL,
                    socket_timeout=SOCKET_TIMEOUT_SECONDS,
                    socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
                    # No silent reconnects: a break must end the epoch (messages in
                    # the gap are lost), so every failure surfaces here.
                    retry=Retry(NoBackoff(), 0),
                    client_name=f"{CLIENT_NAME_PREFIX}-{_ORIGIN}",
                )
                pubsub = client.pubsub()
                pubsub.subscribe(channel())
                heard = pinged = time.monotonic()
                while not self.stopping.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    now = time.monotonic()
                    if message is not None:
                        heard = now  # anything, a PONG included, shows the link lives
                        if message["type"] == "subscribe":
                            self._subscribed()
                            failures = 0
                        elif message["type"] == "message":
                            _heard(message["data"])
                        continue
                    if now - heard > HEALTH_CHECK_SECONDS + SOCKET_TIMEOUT_SECONDS:
                        raise ConnectionError("Redis did not answer the listener's PING")
                    if now - heard >= HEALTH_CHECK_SECONDS and now - pinged >= HEALTH_CHECK_SECONDS:
                        pubsub.ping()
                        pinged = now
            except Exception:  # any failure: stop trusting, retry
                self.epoch = None
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                _log.warning("change_listener_disconnected", retry_in=delay)
                self.stopping.wait(delay)
            finally:
                self.epoch = None
                if pubsub is not None:
                    with contextlib.suppress(Exception):  # already broken
                        pubsub.close()


_listener: _Listener | None = None
_lock = threading.Lock()


def ensure_listening() -> None:
    """Start this process's listener (once per process; again after a fork)."""
    global _listener
    current = _listener
    if current is not None and current.pid == os.getpid():
        return
    if _redis_client() is None:
        return
    with _lock:
        if _listener is None or _listener.pid != os.getpid():
            _listener = _Listener()
            _listener.thread.start()


def listening_epoch() -> int | None:
    """None unless this process hears every announced change right now; else a number
    that stays the same for as long as it has heard every one without a break."""
    current = _listener
    if current is None or current.pid != os.getpid():
        return None
    return current.epoch


def stop_listening() -> None:
    """Stop the listener (tests)."""
    global _listener
    with _lock:
        current, _listener = _listener, None
    if current is not None:
        current.stopping.set()
        current.thread.join(timeout=10)


def wait_until_listening(timeout: float = 10.0) -> bool:
    """Start the listener and wait (bounded) until it is subscribed (tests, start-up)."""
    ensure_listening()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if listening_epoch() is not None:
            return True
        time.sleep(0.01)
    return False


def kill_own_connection_for_tests() -> int:
    """Cut this process's listener connection on the Redis side (by its client name, so
    nobody else's connection); returns how many were cut."""
    client = _redis_client()
    if client is None:
        return 0
    name = f"{CLIENT_NAME_PREFIX}-{_ORIGIN}"
    killed = 0
    for entry in client.client_list(_type="pubsub"):  # type: ignore[attr-defined]
        if entry.get("name") == name:
            killed += int(bool(client.client_kill_filter(_id=entry["id"])))  # type: ignore[attr-defined]
    return killed
