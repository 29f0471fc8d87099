"""What wraps every API request: the token, the rate limit, the transaction of a write,
idempotent POSTs and the audit entry of each write.

``guarded`` wraps each URL of the API (see ``urls.py``); the ninja auth classes below
read the token it found, so the lookup happens once per request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from ninja.security import HttpBearer

from courseplatform.ops import ratelimit
from courseplatform.ops.net import client_ip
from courseplatform.ops.services import acting_through, record_audit

from . import services
from .models import ApiToken
from .problems import ApiProblem, problem_response
from .selectors import token_for_bearer

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_UNSET = object()
_IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")


def request_token(request: HttpRequest) -> ApiToken | None:
    """The usable token of this school named by the request's bearer header (cached)."""
    cached = getattr(request, "_api_token", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    token = None
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    school = getattr(request, "school", None)
    if scheme.lower() == "bearer" and raw and school is not None:
        token = token_for_bearer(school=school, raw=raw)
        if token is not None:
            services.note_token_use(token=token, ip=client_ip(request))
    request._api_token = token  # type: ignore[attr-defined]
    return token


class TokenAuth(HttpBearer):
    """Bearer token of this school; ``write=True`` also demands the write scope (403)."""

    def __init__(self, *, write: bool = False) -> None:
        super().__init__()
        self.write = write

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = request_token(request)
        if found is not None and self.write and not found.can_write:
            raise ApiProblem(
                403,
                "This token can only read. Create a token with the write scope.",
                kind="insufficient-scope",
            )
        return found


read_auth = TokenAuth()
write_auth = TokenAuth(write=True)


def _rate_headers(response: HttpResponse, status: ratelimit.RateStatus) -> None:
    response["RateLimit-Limit"] = str(status.limit)
    response["RateLimit-Remaining"] = str(status.remaining)
    response["RateLimit-Reset"] = str(status.reset)


def guarded(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token = request_token(request)
        if token is None:  # ninja answers 401 for the operations; docs and schema are open
            return view(request, *args, **kwargs)
        status = ratelimit.hit("api-token", str(token.pk), settings.RATE_LIMIT_API_TOKEN)
        if status.limited:
            response = problem_response(
                request,
                429,
                f"Too many requests for this token. Try again in {status.retry_after} seconds.",
                kind="rate-limited",
                headers={"Retry-After": str(status.retry_after)},
            )
        elif request.method in SAFE_METHODS:
            response = view(request, *args, **kwargs)
        else:
            response = _write(request, token, view, *args, **kwargs)
        _rate_headers(response, status)
        return response

    return wrapper


def _write(
    request: HttpRequest,
    token: ApiToken,
    view: Callable[..., HttpResponse],
    *args: Any,
    **kwargs: Any,
) -> HttpResponse:
    """One transaction: the write, its idempotency record and its audit entry. An error
    answer rolls everything back, so a refused request changes nothing."""
    key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
    if key is not None and not _IDEMPOTENCY_KEY_RE.match(key):
        return problem_response(
            request,
            400,
            "Idempotency-Key must be 1 to 255 visible ASCII characters.",
            kind="invalid-idempotency-key",
        )
    fingerprint = services.idempotency_fingerprint(
        method=request.method or "", path=request.get_full_path(), body=request.body
    )
    with acting_through({"api_token": token.pk, "name": token.name}), transaction.atomic():
        if key is not None:
            previous = services.find_idempotent_answer(token=token, key=key)
            if previous is None:
                try:
                    with transaction.atomic():
                        # Claimed before the work: a concurrent twin waits on this row's
                        # unique index, then finds the stored answer.
                        record = services.store_idempotent_answer(
                            token=token,
                            key=key,
                            fingerprint=fingerprint,
                            status_code=0,
                            content_type="",
                            body=b"",
                        )
                except IntegrityError:
                    previous = services.find_idempotent_answer(token=token, key=key)
            if previous is not None:
                return _replay(request, previous, fingerprint)
        response = view(request, *args, **kwargs)
        if response.status_code >= 400:
            transaction.set_rollback(True)
            return response
        if key is not None:
            record.status_code = response.status_code
            record.content_type = response.get("Content-Type", "")
            record.body = response.content
            record.save(update_fields=["status_code", "content_type", "body"])
        record_audit(
            school=request.school,  # type: ignore[attr-defined]
            actor=token.created_by,
            action="api.write",
            target=token,
            data={
                "method": request.method,
                "path": request.path[:300],
                "status": response.status_code,
            },
            ip=client_ip(request),
        )
    return response


def _replay(request: HttpRequest, record: Any, fingerprint: str) -> HttpResponse:
    if record.fingerprint != fingerprint:
        return problem_response(
            request,
            422,
            "This Idempotency-Key was already used with a different request. "
            "Use a new key for a new request.",
            kind="idempotency-key-reused",
        )
    if record.status_code == 0:  # pragma: no cover - only while the twin is running
        return problem_response(
            request, 409, "A request with this Idempotency-Key is in progress.", kind="conflict"
        )
    response = HttpResponse(
        bytes(record.body), status=record.status_code, content_type=record.content_type
    )
    response["Idempotent-Replayed"] = "true"
    return response
