"""Changes announced through Redis pub/sub (tenancy/broadcast.py): heard by this
process's listener from other processes, never twice from itself, and a failed publish
never breaks the writer."""

from __future__ import annotations

import time
from typing import Any

import pytest

from courseplatform.tenancy import broadcast, cache_tokens


def _until(predicate: Any, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_a_message_from_another_process_is_noted_here() -> None:
    assert broadcast.wait_until_listening()
    seq = cache_tokens.local_seq()
    client = broadcast._redis_client()
    assert client is not None
    client.publish(broadcast.channel(), "another-process\nschool:424242")  # type: ignore[attr-defined]
    assert _until(lambda: cache_tokens.changed_here(seq, ("school:424242",)))
    assert not cache_tokens.changed_here(seq, ("school:5",))
    client.publish(broadcast.channel(), f"another-process\n{broadcast.EVERYTHING}")  # type: ignore[attr-defined]
    assert _until(lambda: cache_tokens.changed_here(seq, ("school:5",)))


def test_own_announcements_are_noted_once_and_published(monkeypatch: pytest.MonkeyPatch) -> None:
    noted: list[tuple[str | None, ...]] = []
    monkeypatch.setattr(broadcast, "note_local_change", lambda *names: noted.append(names))
    broadcast._heard(f"{broadcast._ORIGIN}\nschool:7")  # our own message coming back
    assert noted == []
    broadcast.announce_change("school:7", "slug:alpha")
    assert noted == [("school:7", "slug:alpha")]
    broadcast._heard("elsewhere\nschool:8\nslug:bravo")
    assert noted[-1] == ("school:8", "slug:bravo")


def test_a_failed_publish_does_not_break_the_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def publish(self, *args: Any) -> None:
            raise ConnectionError("Redis is down")

    monkeypatch.setattr(broadcast, "_redis_client", lambda: Broken())
    seq = cache_tokens.local_seq()
    broadcast.announce_change("school:9")  # no exception
    assert cache_tokens.changed_here(seq, ("school:9",))  # still noted in this process


def test_the_channel_carries_the_cache_prefix(settings: Any) -> None:
    assert settings.CACHES["default"]["KEY_PREFIX"] in broadcast.channel()
