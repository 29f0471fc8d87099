"""Settings → API: the owner's page for the school's API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from courseplatform.accounts import permissions
from courseplatform.accounts.decorators import manager_required
from courseplatform.ops.forms import submit
from courseplatform.ops.net import client_ip
from courseplatform.tenancy.selectors import school_url

from . import selectors, services
from .forms import NewTokenForm


def _require_owner(request: HttpRequest) -> None:
    if not permissions.is_school_owner(request.user, request.school):  # type: ignore[attr-defined]
        raise PermissionDenied(_("Only the school owner manages API tokens."))


# The session key holding a token created by the previous POST, for one read.
NEW_TOKEN_SESSION_KEY = "api_new_token"


@manager_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    _require_owner(request)
    school = request.school  # type: ignore[attr-defined]
    form = NewTokenForm(request.POST or None)
    if request.method == "POST":
        created = submit(
            form,
            lambda data: services.create_token(
                school=school,
                actor=request.user,  # type: ignore[arg-type]
                name=data["name"],
                scope=data["scope"],
                expires_at=form.expires_at(),
                ip=client_ip(request),
            ),
        )
        if created is not None:
            # POST-redirect-GET, so a reload does not create a second token. The secret
            # rides in the session to the next page view and is removed as it is shown.
            request.session[NEW_TOKEN_SESSION_KEY] = {
                "id": created.token.pk,
                "plaintext": created.plaintext,
            }
            return redirect("manage_api_tokens")
    response = render(
        request,
        "api/tokens.html",
        {
            "nav_active": "settings",
            "form": form,
            "new_token": _new_token_once(request) if request.method == "GET" else None,
            "tokens": selectors.tokens_of_school(school=school),
            "api_base": school_url(school, "/api/v1/", port=request.host_port),  # type: ignore[attr-defined]
        },
    )
    response["Cache-Control"] = "private, no-store"
    return response


def _new_token_once(request: HttpRequest) -> services.NewToken | None:
    """The token the previous POST created, taken out of the session: shown once."""
    stashed = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    if not isinstance(stashed, dict) or not isinstance(stashed.get("id"), int):
        return None
    school = request.school  # type: ignore[attr-defined]
    token = selectors.tokens_of_school(school=school).filter(pk=stashed["id"]).first()
    if token is None:  # revoked and gone, or not this school's
        return None
    return services.NewToken(token=token, plaintext=str(stashed.get("plaintext", "")))


@manager_required
@require_POST
def revoke_api_token(request: HttpRequest, token_id: int) -> HttpResponse:
    _require_owner(request)
    school = request.school  # type: ignore[attr-defined]
    token = selectors.get_token(school=school, token_id=token_id)
    services.revoke_token(
        school=school,
        actor=request.user,  # type: ignore[arg-type]
        token=token,
        ip=client_ip(request),
    )
    messages.success(
        request, _("Token “%(name)s” revoked: it stops working at once.") % {"name": token.name}
    )
    return redirect("manage_api_tokens")
