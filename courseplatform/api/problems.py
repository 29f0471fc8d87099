"""RFC 9457 problem details: the one shape of every API error (4xx and 5xx).

``type`` is ``about:blank`` when the status code says it all, else a URN naming the
problem (``urn:courseplatform:problem:validation``) that clients can branch on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from courseplatform.accounts.services import AccountError as AccessError
from courseplatform.courses.services import CourseError

PROBLEM_CONTENT_TYPE = "application/problem+json"
logger = logging.getLogger("courseplatform.api")


class ApiProblem(Exception):
    """Raise from an endpoint to answer with a specific problem."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.errors = errors
        self.headers = headers or {}


def problem_response(
    request: HttpRequest | None,
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": f"urn:courseplatform:problem:{kind}" if kind else "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.path
    if errors:
        body["errors"] = errors
    response = HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _field_errors(exc: DjangoValidationError) -> list[dict[str, Any]]:
    if hasattr(exc, "error_dict"):
        return [
            {"field": None if field == NON_FIELD_ERRORS else field, "message": message}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return [{"field": None, "message": message} for message in exc.messages]


def _ninja_errors(errors: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    result = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        # loc starts with the source ("body", "query", "path"); a body's next part is the
        # endpoint's parameter name, which means nothing to the client.
        if len(loc) > 2 and loc[0] == "body":
            del loc[1]
        result.append(
            {
                "field": ".".join(loc[1:]) or None,
                "source": loc[0] if loc else None,
                "message": str(error.get("msg", "Invalid value.")),
                "code": error.get("type"),
            }
        )
    return result


def install_problem_handlers(api: NinjaAPI) -> None:
    """Every exception an endpoint can raise becomes a problem response."""

    def handle(exc_class: type[Exception]) -> Callable[[Callable[..., HttpResponse]], Any]:
        return api.exception_handler(exc_class)

    @handle(ApiProblem)
    def _api_problem(request: HttpRequest, exc: ApiProblem) -> HttpResponse:
        return problem_response(
            request, exc.status, exc.detail, kind=exc.kind, errors=exc.errors, headers=exc.headers
        )

    @handle(NinjaValidationError)
    def _validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return problem_response(
            request,
            422,
            "The request does not match the expected shape; see errors.",
            kind="validation",
            errors=_ninja_errors(exc.errors),
        )

    @handle(DjangoValidationError)
    def _rules(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        return problem_response(
            request,
            422,
            "The request was understood but refused; see errors.",
            kind="validation",
            errors=_field_errors(exc),
        )

    @handle(CourseError)
    @handle(AccessError)
    def _refused(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Rules about the school's state (a plan limit, a course without lessons).
        return problem_response(request, 409, str(exc), kind="conflict")

    @handle(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem_response(
            request,
            401,
            "Send a valid API token of this school: Authorization: Bearer <token>.",
            kind="unauthenticated",
            headers={"WWW-Authenticate": 'Bearer realm="api"'},
        )

    @handle(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return problem_response(request, exc.status_code, str(exc))

    @handle(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem_response(request, 404, "Not found.", kind="not-found")

    @handle(PermissionDenied)
    def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return problem_response(request, 403, str(exc) or "Not allowed.", kind="forbidden")

    @handle(Exception)
    def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        # Logged with its traceback (request id and school id ride along in the log
        # context); the client learns nothing about the internals.
        logger.exception("Unhandled API error", exc_info=exc)
        return problem_response(
            request, 500, "Something went wrong on our side. Try again later.", kind="internal"
        )


def as_problem(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """An error answered outside the endpoints (unknown host, suspended school, wrong
    method, unknown path) in the problem shape, keeping its status and headers."""
    if response.status_code < 400 or response.get("Content-Type", "").startswith(
        PROBLEM_CONTENT_TYPE
    ):
        return response
    status = response.status_code
    detail = {
        404: "Not found.",
        405: "This method is not allowed here.",
        403: "Access to this school is not possible right now.",
        400: "Bad request.",
    }.get(
        status, HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error."
    )
    problem = problem_response(request, status, detail)
    for header in ("Allow", "Retry-After", "X-Request-ID"):
        if header in response:
            problem[header] = response[header]
    return problem
