"""Signed one-click unsubscribe links, one per student and school.

The token signs (school id, user id, the preference's ``token_version``) with the
site's secret (``django.core.signing``, its own salt). It is refused when the
signature is wrong (forged or mangled), when it names another school, and when its
version is not the current one: unsubscribing bumps the version, so a replayed link
gets a clear "already used" answer instead of silently doing something.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from courseplatform.tenancy.models import School

SALT = "courseplatform.notices.unsubscribe"
MAX_TOKEN_LENGTH = 400


class UnsubscribeError(Exception):
    """A link that cannot be honoured; the message is for the person who clicked."""


@dataclass(frozen=True)
class UnsubscribeToken:
    user_id: int
    version: int


NOT_VALID = _("This unsubscribe link is not valid. Use the link in your latest email.")


def make_token(*, school: School, user_id: int, version: int) -> str:
    return signing.dumps({"s": school.pk, "u": user_id, "v": version}, salt=SALT, compress=False)


def read_token(*, school: School, token: str) -> UnsubscribeToken:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise UnsubscribeError(NOT_VALID)
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise UnsubscribeError(NOT_VALID) from None
    if (
        not isinstance(data, dict)
        or data.get("s") != school.pk
        or not isinstance(data.get("u"), int)
        or not isinstance(data.get("v"), int)
    ):
        raise UnsubscribeError(
            gettext(
                "This unsubscribe link is not valid for this school. "
                "Use the link in your latest email."
            )
        )
    return UnsubscribeToken(data["u"], data["v"])
