"""Small ops rules seen from outside: health probes answer on any host, the CSP for
AWS S3 without an endpoint and for plain-HTTP development, and the operator console's
one-line rule for names."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory

from courseplatform.accounts.models import User
from courseplatform.ops.csp import build_policy, origin
from courseplatform.ops.text import CONTROL_CHARACTERS_MESSAGE
from courseplatform.tenancy.models import School


@pytest.mark.django_db
def test_health_probes_answer_on_an_unknown_host() -> None:
    client = Client(HTTP_HOST="10.0.0.7")
    healthz = client.get("/healthz")
    assert healthz.status_code == 200
    assert client.get("/readyz").status_code in {200, 503}
    assert client.get("/readyz")["Content-Type"].startswith("application/json")
    # Anything else on an unknown host is refused by host resolution.
    assert client.get("/accounts/login/").status_code != 200


def test_policy_for_aws_s3_without_endpoint_over_plain_http() -> None:
    policy = build_policy(
        platform_domain="localhost",
        platform_scheme="http",
        storage_bucket="media",
        cdn_base_url="ftp://cdn.example",
        extra_origins=["not a url", "https://img.example/a", "https://img.example/b"],
    )
    assert policy["img-src"] == [
        "'self'",
        "data:",
        "blob:",
        "https://*.amazonaws.com",
        "https://img.example",
    ]
    assert "upgrade-insecure-requests" not in policy
    assert "report-uri" not in policy
    assert policy["form-action"] == ["'self'", "http://localhost:*", "http://*.localhost:*"]
    assert origin("") == origin("javascript:alert(1)") == ""


@pytest.mark.parametrize(("model", "field"), [(User, "full_name"), (School, "name")])
def test_operator_console_refuses_control_characters_in_names(model: Any, field: str) -> None:
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/admin/")
    form_field = model_admin.formfield_for_dbfield(model._meta.get_field(field), request)
    assert form_field is not None
    with pytest.raises(ValidationError) as excinfo:
        form_field.clean("Sam\nStudent")
    assert excinfo.value.messages == [CONTROL_CHARACTERS_MESSAGE]
    assert form_field.clean("Sam Student") == "Sam Student"
