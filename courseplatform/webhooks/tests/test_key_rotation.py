"""``manage.py rotate_webhook_secret_keys``: a new ENCRYPTION_KEYS key re-encrypts every
school's signing secrets (current and previous) without changing them."""

from __future__ import annotations

import io
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

from courseplatform.ops.crypto import decrypt
from courseplatform.tenancy.rls import school_context
from courseplatform.webhooks import services
from courseplatform.webhooks.models import WebhookEndpoint
from courseplatform.webhooks.selectors import current_secret, signing_secrets


def _endpoint(created: Any) -> WebhookEndpoint:
    with school_context(created.school):
        endpoint = services.create_endpoint(
            school=created.school,
            actor=created.owner,
            url="https://93.184.215.14/hooks",
            event_types=["video.ready"],
        )
        return services.rotate_secret(school=created.school, actor=created.owner, endpoint=endpoint)


@pytest.mark.django_db(transaction=True)
def test_rotating_the_encryption_key_keeps_every_school_secret(
    settings: Any, school_a: Any, school_b: Any
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [old]
    endpoints = [_endpoint(school_a), _endpoint(school_b)]
    before = {e.pk: signing_secrets(e) for e in endpoints}
    assert all(len(pair) == 2 for pair in before.values())

    settings.ENCRYPTION_KEYS = [new, old]
    out = io.StringIO()
    call_command("rotate_webhook_secret_keys", stdout=out)
    assert "Re-encrypted the secrets of 2 webhook endpoint(s)" in out.getvalue()

    settings.ENCRYPTION_KEYS = [new]  # the old key is gone
    for created, endpoint in zip((school_a, school_b), endpoints, strict=True):
        with school_context(created.school):
            endpoint.refresh_from_db()
        assert signing_secrets(endpoint) == before[endpoint.pk]
    settings.ENCRYPTION_KEYS = [old]
    with pytest.raises(ValueError):
        decrypt(endpoints[0].secret_ciphertext)


@pytest.mark.django_db(transaction=True)
def test_a_secret_no_key_opens_is_reported(settings: Any, school_a: Any) -> None:
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    endpoint = _endpoint(school_a)
    assert current_secret(endpoint).startswith("whsec_")
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="1 endpoint"):
        call_command("rotate_webhook_secret_keys", stdout=io.StringIO())
