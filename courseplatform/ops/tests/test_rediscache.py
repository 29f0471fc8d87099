"""The Redis cache backend keeps one redis-py client per server (ops/rediscache.py)
instead of building one per cache call, and still behaves as Django's: values round-trip,
many threads share the client, an unreachable Redis still fails the call."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.cache import caches

from courseplatform.ops.rediscache import RedisCache


def _backend(location: str | None = None) -> RedisCache:
    return RedisCache(location or settings.REDIS_URL, {"KEY_PREFIX": "rediscache-test"})


def test_the_configured_cache_is_this_backend() -> None:
    assert isinstance(caches["default"], RedisCache)


def test_every_call_uses_the_same_client(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = _backend()
    built: list[Any] = []
    original = redis.Redis.__init__

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counting)
    cache.set("a", {"n": 1}, 30)
    assert cache.get("a") == {"n": 1}
    cache.set_many({"b": 2, "c": 3}, 30)
    assert cache.get_many(["a", "b", "c"]) == {"a": {"n": 1}, "b": 2, "c": 3}
    assert cache.incr("b") == 3
    cache.delete_many(["a", "b", "c"])
    assert cache.get("a") is None
    assert len(built) == 1  # Django's own backend builds one per call: 8 here
    client = cache._cache.get_client()
    assert client is cache._cache.get_client(write=True) is built[0]


def test_threads_share_the_client_without_mixing_answers() -> None:
    cache = _backend()
    wrong: list[tuple[int, Any]] = []

    def work(n: int) -> None:
        for i in range(50):
            cache.set(f"t{n}", (n, i), 30)
            got = cache.get(f"t{n}")
            if got != (n, i):
                wrong.append((n, got))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
    cache.delete_many([f"t{n}" for n in range(8)])


def test_an_unreachable_redis_still_fails_the_call() -> None:
    cache = _backend("redis://127.0.0.1:1/0")
    with pytest.raises(redis.exceptions.ConnectionError):
        cache.get("anything")
    with pytest.raises(redis.exceptions.ConnectionError):
        cache.get("anything")  # the kept client does not remember a broken state
