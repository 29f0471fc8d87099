"""The content generation is read from Redis once per request (tenancy/generation.py),
and a bump made during the request is seen by the rest of it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from courseplatform.tenancy import generation

pytestmark = pytest.mark.django_db


class _CountingCache:
    def __init__(self) -> None:
        self.gets = 0

    def get(self, key: str, default: Any = None) -> Any:
        self.gets += 1
        return cache.get(key, default)

    def __getattr__(self, name: str) -> Any:
        return getattr(cache, name)


def test_one_redis_read_per_request_and_a_bump_is_seen_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counting = _CountingCache()
    monkeypatch.setattr(generation, "cache", counting)
    with generation.read_once_per_request():
        first = generation.content_generation(7)
        assert generation.content_generation(7) == first
        assert counting.gets == 1
        generation.bump_content_generation(7)
        bumped = generation.content_generation(7)
        assert bumped != first and counting.gets == 2
        generation.content_generation(8)
        assert counting.gets == 3
    # outside a request (tasks, the shell) every call asks Redis
    assert generation.content_generation(7) == bumped
    assert generation.content_generation(7) == bumped
    assert counting.gets == 5


def test_a_change_elsewhere_shows_from_the_next_request(monkeypatch: pytest.MonkeyPatch) -> None:
    with generation.read_once_per_request():
        before = generation.content_generation(9)
        cache.set(generation._key(9), "from-another-process", 60)
        assert generation.content_generation(9) == before
    with generation.read_once_per_request():
        assert generation.content_generation(9) == "from-another-process"
