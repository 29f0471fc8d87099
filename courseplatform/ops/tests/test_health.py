"""/readyz names each dependency that is down (and answers 503), so a load balancer
stops sending traffic and the operator sees which one to fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import RequestFactory

from courseplatform.ops.health import readyz

pytestmark = pytest.mark.django_db


def _ready() -> tuple[int, dict[str, Any], str]:
    response = readyz(RequestFactory().get("/readyz"))
    return response.status_code, json.loads(response.content), response["Cache-Control"]


def _storage_under_a_file(settings: Any, tmp_path: Path) -> None:
    """File storage whose folder cannot exist (its parent is a regular file)."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(blocker / "media")},
        },
    }


def test_readyz_names_a_cache_that_keeps_nothing_and_a_broken_storage(
    settings: Any, tmp_path: Path
) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    _storage_under_a_file(settings, tmp_path)
    status, body, cache_control = _ready()
    assert status == 503
    assert cache_control == "no-store"
    assert body["status"] == "unavailable"
    assert body["failed"] == ["cache", "storage"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["cache"] == (
        "error: RuntimeError: cache did not return the value it was given"
    )
    assert body["checks"]["storage"].startswith("error: NotADirectoryError")


def test_readyz_names_an_unreachable_redis(settings: Any) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            # Nothing listens on port 1: the connection is refused at once.
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        }
    }
    status, body, _ = _ready()
    assert status == 503
    assert body["failed"] == ["cache"]
    assert body["checks"]["cache"].startswith("error: ConnectionError")
    assert len(body["checks"]["cache"]) <= 300
    assert body["checks"]["storage"] == "ok" and body["checks"]["database"] == "ok"
