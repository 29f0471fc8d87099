"""Settings → API: the owner's page for the school's API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from courseplatform.accounts import permissions
from courseplatform.accounts.decorators import manager_required
from courseplatform.ops.net import client_ip
from courseplatform.tenancy.selectors import school_url

from . import selectors, services
from .forms import NewTokenForm


def _require_owner(request: HttpRequest) -> None:
    if not permissions.is_school_owner(request.user, request.school):  # type: ignore[attr-defined]
        raise PermissionDenied("Only the school owner manages API tokens.")


@manager_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    _require_owner(request)
    school = request.school  # type: ignore[attr-defined]
    form = NewTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            new_token = services.create_token(
                school=school,
                actor=request.user,  # type: ignore[arg-type]
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_at=form.expires_at(),
                ip=client_ip(request),
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form = NewTokenForm()
    response = render(
        request,
        "api/tokens.html",
        {
            "nav_active": "settings",
            "form": form,
            # Shown once, in this answer only: never stored, never in a redirect or session.
            "new_token": new_token,
            "tokens": selectors.tokens_of_school(school=school),
            "api_base": school_url(school, "/api/v1/", port=request.host_port),  # type: ignore[attr-defined]
        },
    )
    response["Cache-Control"] = "private, no-store"
    return response


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
    messages.success(request, f"Token “{token.name}” revoked: it stops working at once.")
    return redirect("manage_api_tokens")
