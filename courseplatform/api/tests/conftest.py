"""Fixtures of the API tests: tokens made through the service and clients that send them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.fixtures.schools import host_of


class ApiClient:
    """A test client bound to one school host and one bearer token; JSON in and out."""

    def __init__(self, host: str, token: str | None) -> None:
        self.client = Client(HTTP_HOST=host)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def request(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        kwargs: dict[str, Any] = {"headers": {**self.headers, **headers}}
        if body is not None:
            kwargs["data"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
            kwargs["content_type"] = "application/json"
        return getattr(self.client, method.lower())(f"/api/v1{path}", **kwargs)

    def get(self, path: str, **headers: str) -> Any:
        return self.request("GET", path, **headers)

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.request("POST", path, {} if body is None else body, **headers)

    def patch(self, path: str, body: Any, **headers: str) -> Any:
        return self.request("PATCH", path, body, **headers)

    def delete(self, path: str, **headers: str) -> Any:
        return self.request("DELETE", path, **headers)


@pytest.fixture
def alpha(school_a: Any) -> Any:
    """School A (a School; ``school_a`` is the school with its owner)."""
    return school_a.school


@pytest.fixture
def bravo(school_b: Any) -> Any:
    return school_b.school


@pytest.fixture
def make_token(db: None) -> Callable[..., str]:
    """``make_token(school, scope="write")`` → the plaintext of a new token of its owner."""
    from courseplatform.accounts.models import User
    from courseplatform.api.services import create_token
    from courseplatform.tenancy.rls import school_context

    def _make(school: Any, scope: str = "write", **kwargs: Any) -> str:
        with school_context(school):
            owner = User.objects.get(school=school, role=User.Role.OWNER)
            return create_token(
                school=school,
                actor=owner,
                name=kwargs.pop("name", f"{scope} token"),
                scope=scope,
                **kwargs,
            ).plaintext

    return _make


@pytest.fixture
def api_for(make_token: Callable[..., str]) -> Callable[..., ApiClient]:
    """``api_for(school, scope="write")``: a client on the school's host with a new token
    (``token=`` to send another one, or None for none)."""

    def _make(school: Any, scope: str = "write", **kwargs: Any) -> ApiClient:
        token = kwargs["token"] if "token" in kwargs else make_token(school, scope)
        return ApiClient(kwargs.get("host", host_of(school)), token)

    return _make


def is_problem(response: Any, status: int) -> dict[str, Any]:
    """Assert an RFC 9457 answer with ``status``; returns its body."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = json.loads(response.content)
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    return body
