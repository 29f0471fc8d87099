"""/accounts/session/: the smallest signed-in page (the bench's signed-in ceiling)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from courseplatform.tenancy.rls import school_context

pytestmark = pytest.mark.django_db


def test_it_names_the_signed_in_person_privately_and_reads_nothing_when_warm(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    client = client_for("alpha.localhost")
    with school_context(school_a.school):
        client.force_login(school_a.owner)
    first = client.get("/accounts/session/")
    assert first.status_code == 200
    assert "as owner@alpha.test" in first.content.decode()
    assert "Alpha Academy" in first.content.decode()
    assert "public" not in first.get("Cache-Control", "")
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/accounts/session/").status_code == 200
    assert len(ctx.captured_queries) == 0  # session in Redis, user from the user cache


def test_visitors_are_sent_to_sign_in(school_a: Any) -> None:
    response = Client(HTTP_HOST="alpha.localhost").get("/accounts/session/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_warm_it_asks_redis_for_the_session_alone(
    school_a: Any, client_for: Callable[..., Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The host, the theme and the user come from the web process's memory while it
    # hears every change (tenancy/heard.py); it used to send six commands to Redis.
    import redis

    from courseplatform.tenancy import broadcast

    assert broadcast.wait_until_listening()
    client = client_for("alpha.localhost")
    with school_context(school_a.school):
        client.force_login(school_a.owner)
    assert client.get("/accounts/session/").status_code == 200
    sent: list[str] = []
    real = redis.Redis.execute_command

    def counting(self: redis.Redis, *args: Any, **kwargs: Any) -> Any:
        sent.append(f"{args[0]} {args[1]}")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "execute_command", counting)
    assert client.get("/accounts/session/").status_code == 200
    session_key = client.cookies["sessionid"].value
    assert len(sent) == 1 and sent[0].startswith("GET ") and sent[0].endswith(session_key)
