"""Copies kept while this process hears every change (tenancy/heard.py): a change heard
here or from another process, a new listening epoch, the lifetime and not listening at
all each make the copy unusable."""

from __future__ import annotations

import time

import pytest

from courseplatform.tenancy import broadcast, heard
from courseplatform.tenancy.broadcast import announce_change
from courseplatform.tenancy.tests.test_broadcast import _until


def _copies(now: list[float] | None = None, size: int = 10) -> heard.HeardCopies[str]:
    clock = (lambda: now[0]) if now is not None else time.monotonic
    return heard.HeardCopies(size=size, lifetime=60, clock=clock)


def test_a_copy_lives_until_its_school_changes_here_or_elsewhere() -> None:
    assert broadcast.wait_until_listening()
    copies = _copies()
    copies.put(7, "theme of 7", names=("school:7",), stamp=copies.begin())
    copies.put(8, "theme of 8", names=("school:8",), stamp=copies.begin())
    found = copies.get(7)
    assert found is not None and found.value == "theme of 7"
    announce_change("school:7")  # a change made in this process
    assert copies.get(7) is None
    assert copies.get(8) is not None
    client = broadcast._redis_client()
    assert client is not None
    client.publish(broadcast.channel(), "another-process\nschool:8")  # type: ignore[attr-defined]
    assert _until(lambda: copies.get(8) is None)


def test_a_change_between_reading_and_keeping_makes_the_copy_stale() -> None:
    assert broadcast.wait_until_listening()
    copies = _copies()
    stamp = copies.begin()
    announce_change("school:9")  # while the value was being read
    copies.put(9, "read before the change", names=("school:9",), stamp=stamp)
    assert copies.get(9) is None


def test_everything_announced_a_new_epoch_or_the_lifetime_end_a_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert broadcast.wait_until_listening()
    now = [1000.0]
    copies = _copies(now)
    copies.put(1, "a", names=("school:1",), stamp=copies.begin())
    announce_change(None)
    assert copies.get(1) is None

    copies.put(1, "a", names=("school:1",), stamp=copies.begin())
    now[0] += 59
    assert copies.get(1) is not None
    now[0] += 1
    assert copies.get(1) is None  # its lifetime

    copies.put(1, "a", names=("school:1",), stamp=copies.begin())
    epoch = broadcast.listening_epoch()
    assert epoch is not None
    monkeypatch.setattr(heard, "listening_epoch", lambda: epoch + 1)  # resubscribed
    assert copies.get(1) is None


def test_nothing_is_kept_while_not_listening(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heard, "ensure_listening", lambda: None)
    monkeypatch.setattr(heard, "listening_epoch", lambda: None)
    copies = _copies()
    stamp = copies.begin()
    assert stamp is None
    copies.put(1, "a", names=("school:1",), stamp=stamp)
    assert copies.get(1) is None and len(copies) == 0


def test_the_least_recently_used_copy_goes_first() -> None:
    assert broadcast.wait_until_listening()
    copies = _copies(size=2)
    for key in (1, 2):
        copies.put(key, str(key), names=(f"school:{key}",), stamp=copies.begin())
    assert copies.get(1) is not None  # 2 is now the least recently used
    copies.put(3, "3", names=("school:3",), stamp=copies.begin())
    assert copies.get(2) is None and copies.get(1) is not None and copies.get(3) is not None
    heard.clear_all()
    assert len(copies) == 0
