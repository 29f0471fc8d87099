"""``manage.py check --deploy`` refuses the development signing key in production."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def check_signing_key(**kwargs: Any) -> list[Error]:
    if settings.CERTIFICATE_SIGNING_KEY_FROM_ENV:
        return []
    return [
        Error(
            "CERTIFICATE_SIGNING_KEY is not set: certificates are signed with a key "
            "derived from SECRET_KEY.",
            hint="Set CERTIFICATE_SIGNING_KEY (e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'`) and keep it: changing it makes every "
            "issued PDF fail verification unless the old key stays listed second.",
            id="certificates.E001",
        )
    ]
