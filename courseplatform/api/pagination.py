"""Cursor pagination: stable ascending id order, an opaque signed cursor, a ``next`` link.

The cursor names the last id seen and the list it came from; it is signed, so a
client cannot forge one into another list or another position it did not reach.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.core import signing
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from .problems import ApiProblem

CURSOR_SALT = "courseplatform.api.cursor"
DEFAULT_LIMIT = 50


def _decode(cursor: str, resource: str) -> int:
    try:
        payload = signing.loads(cursor, salt=CURSOR_SALT)
    except signing.BadSignature:
        payload = None
    if (
        not isinstance(payload, dict)
        or payload.get("r") != resource
        or not isinstance(payload.get("a"), int)
    ):
        raise ApiProblem(
            400,
            "The cursor is not valid. Use the `next` link of a previous page, "
            "or leave cursor out to start at the beginning.",
            kind="invalid-cursor",
        )
    return int(payload["a"])


def paginate[M: Model](
    request: HttpRequest,
    queryset: QuerySet[M],
    *,
    resource: str,
    cursor: str | None,
    limit: int,
) -> tuple[list[M], str | None]:
    """One page of ``queryset`` in id order and the URL of the next one (None at the end)."""
    if cursor:
        queryset = queryset.filter(pk__gt=_decode(cursor, resource))
    rows = list(queryset.order_by("pk")[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    params: dict[str, Any] = {k: v for k, v in request.GET.items() if k != "cursor"}
    params["cursor"] = signing.dumps({"r": resource, "a": rows[-1].pk}, salt=CURSOR_SALT)
    return rows, request.build_absolute_uri(f"{request.path}?{urlencode(params)}")
