"""What every resource router shares: the school and acting account of the request,
list parameters and the documented error answers."""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.http import HttpRequest
from ninja import Schema
from pydantic import ConfigDict, Field

from courseplatform.accounts.models import User
from courseplatform.tenancy.models import School

from ..models import ApiToken
from ..schemas import Problem

# Every operation may answer these (problem+json); documenting them lets clients and the
# schema fuzzer check every answer against the schema.
ERRORS: dict[int, type[Problem]] = {
    status: Problem for status in (400, 401, 403, 404, 409, 422, 429)
}


class ListParams(Schema):
    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(default=None, max_length=500, description="From a `next` link.")
    limit: int = Field(default=50, ge=1, le=settings.API_PAGE_MAX, description="Rows per page.")


def school(request: HttpRequest) -> School:
    return cast(School, request.school)  # type: ignore[attr-defined]


def token(request: HttpRequest) -> ApiToken:
    return cast(ApiToken, request.auth)  # type: ignore[attr-defined]


def actor(request: HttpRequest) -> User:
    """The account a token acts for: the owner who created it (checked on every request
    to still be the school's active owner)."""
    return cast(User, token(request).created_by)
