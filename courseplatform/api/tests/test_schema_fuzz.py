"""Schemathesis against the live OpenAPI document, through the real WSGI application.

Every operation gets a bounded number of generated requests (valid and invalid), sent
with a real write token of an Enterprise school on its own host. Checks: no 5xx, every
status code documented, every answer of the documented media type and shape.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import set_urlconf
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from courseplatform.api.api import api as school_api
from courseplatform.tenancy.middleware import SCHOOL_URLCONF

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Bounded so the whole run takes a few minutes on a loaded machine (about 25 operations).
MAX_EXAMPLES = 12


def _on_host(app: WSGIHandler, host: str) -> Callable[..., Any]:
    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        environ["HTTP_HOST"] = environ["SERVER_NAME"] = host
        return app(environ, start_response)

    return wrapped


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    # The test's transaction must survive each request, as with Django's test client:
    # the end-of-request hook would close a connection that is inside a transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_token(make_school: Any, make_token: Any, settings: Any) -> tuple[Any, str]:
    settings.RATE_LIMIT_API_TOKEN = "100000/60"
    school = make_school(FUZZ_SLUG, plan="enterprise").school
    return school, make_token(school, "write")


FUZZ_SLUG = "fuzz"


# The document the API serves, loaded when the tests are collected; requests go to the
# real WSGI application on the fuzz school's host.
def _served_document() -> dict[str, Any]:
    """What /api/v1/openapi.json serves (its view resolves URLs in the school URLconf)."""
    set_urlconf(SCHOOL_URLCONF)
    try:
        return dict(school_api.get_openapi_schema())
    finally:
        set_urlconf(None)


schema = schemathesis.openapi.from_dict(_served_document())
schema.app = _on_host(WSGIHandler(), f"{FUZZ_SLUG}.localhost")


def test_served_document_is_the_fuzzed_one(wsgi_app: WSGIHandler, fuzz_token: Any) -> None:
    from django.test import Client

    served = Client(HTTP_HOST=f"{FUZZ_SLUG}.localhost").get("/api/v1/openapi.json").json()
    assert served == json.loads(json.dumps(_served_document()))


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(
    case: Any, wsgi_app: WSGIHandler, fuzz_token: tuple[Any, str]
) -> None:
    _, token = fuzz_token
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
