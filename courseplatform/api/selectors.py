"""Reads of the API app: a school's tokens and the token behind a request."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from courseplatform.accounts import permissions
from courseplatform.tenancy.models import School

from .models import ApiToken
from .services import secret_matches, split_token


def tokens_of_school(*, school: School) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(school=school).select_related("created_by")


def get_token(*, school: School, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(school=school, pk=token_id).first()
    if token is None:
        raise Http404("No such token.")
    return token


def token_for_bearer(*, school: School, raw: str) -> ApiToken | None:
    """The usable token ``raw`` names in ``school``, or None: malformed, unknown, another
    school's (invisible here, also to row-level security), revoked, expired, or created by
    someone who is no longer the school's active owner all look the same."""
    parts = split_token(raw)
    if parts is None:
        return None
    key_id, secret = parts
    token = (
        ApiToken.objects.filter(school=school, key_id=key_id).select_related("created_by").first()
    )
    if token is None or not secret_matches(token, secret):
        return None
    return token if _acts_for(token, school) else None


def usable_token(*, school: School, token_id: int) -> ApiToken | None:
    """The token with this id if it still works in ``school`` (the bearer rules above,
    but for a token named by a URL this app signed rather than by its secret)."""
    token = ApiToken.objects.filter(school=school, pk=token_id).select_related("created_by").first()
    return token if token is not None and _acts_for(token, school) else None


def _acts_for(token: ApiToken, school: School) -> bool:
    """Not revoked, not expired, and its creator still the school's active owner."""
    return token.is_usable() and permissions.is_school_owner(token.created_by, school)
