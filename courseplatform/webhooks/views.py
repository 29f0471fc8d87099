"""Settings → Webhooks (owner only): endpoints, their secret, the delivery log, resend
and test events. Thin: parse, call ``services``, render; ids are looked up through the
school-scoped ``selectors`` (another school's id is 404)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from courseplatform.accounts import permissions
from courseplatform.accounts.decorators import manager_required
from courseplatform.ops.forms import submit
from courseplatform.ops.net import client_ip

from . import selectors, services
from .event_labels import event_meaning
from .forms import EndpointForm
from .models import WebhookEndpoint

DELIVERIES_PER_PAGE = 25


def owner_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Webhooks carry signing secrets and student data: the owner's alone."""

    @manager_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not permissions.is_school_owner(request.user, request.school):  # type: ignore[attr-defined]
            raise PermissionDenied(services.OWNERS_ONLY)
        return view(request, *args, **kwargs)

    return wrapper


def _endpoint_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {name: data[name] for name in ("url", "description", "event_types")}


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {"nav_active": "settings", **extra}


@owner_required
def endpoint_list(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    endpoints = list(selectors.endpoints_of(school=school))
    return render(request, "webhooks/endpoint_list.html", _context(request, endpoints=endpoints))


@owner_required
def endpoint_create(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    form = EndpointForm(request.POST or None)
    if request.method == "POST":
        endpoint = submit(
            form,
            lambda data: services.create_endpoint(
                school=school,
                actor=request.user,  # type: ignore[arg-type]
                ip=client_ip(request),
                **_endpoint_fields(data),
            ),
        )
        if endpoint is not None:
            messages.success(request, _("Endpoint added. Copy its signing secret below."))
            return redirect("webhooks:detail", endpoint_id=endpoint.pk)
    return render(
        request, "webhooks/endpoint_form.html", _context(request, form=form, endpoint=None)
    )


@owner_required
def endpoint_edit(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    endpoint = selectors.get_endpoint(school=school, endpoint_id=endpoint_id)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST":
        saved = submit(
            form,
            lambda data: services.update_endpoint(
                school=school,
                actor=request.user,  # type: ignore[arg-type]
                endpoint=endpoint,
                ip=client_ip(request),
                **_endpoint_fields(data),
            ),
        )
        if saved is not None:
            messages.success(request, _("Endpoint saved."))
            return redirect("webhooks:detail", endpoint_id=endpoint.pk)
    return render(
        request,
        "webhooks/endpoint_form.html",
        _context(request, form=form, endpoint=endpoint),
    )


@owner_required
def endpoint_detail(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    endpoint = selectors.get_endpoint(school=school, endpoint_id=endpoint_id)
    page = Paginator(
        selectors.deliveries_of(school=school, endpoint=endpoint), DELIVERIES_PER_PAGE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "webhooks/endpoint_detail.html",
        _context(
            request,
            endpoint=endpoint,
            secret=selectors.current_secret(endpoint),
            events=[(name, event_meaning(name)) for name in endpoint.event_types],
            page=page,
        ),
    )


def _endpoint_action(
    request: HttpRequest, endpoint_id: int, action: Callable[[WebhookEndpoint], str]
) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    endpoint = selectors.get_endpoint(school=school, endpoint_id=endpoint_id)
    try:
        messages.success(request, action(endpoint))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("webhooks:detail", endpoint_id=endpoint.pk)


@require_POST
@owner_required
def endpoint_rotate_secret(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    def rotate(endpoint: WebhookEndpoint) -> str:
        services.rotate_secret(
            school=request.school,  # type: ignore[attr-defined]
            actor=request.user,  # type: ignore[arg-type]
            endpoint=endpoint,
            ip=client_ip(request),
        )
        until = endpoint.previous_secret_expires_at
        if until is None:
            return _("New signing secret created.")
        return _(
            "New signing secret created. The previous one also signs deliveries until "
            "%(until)s UTC."
        ) % {"until": date_format(until, "DATETIME_FORMAT")}

    return _endpoint_action(request, endpoint_id, rotate)


@require_POST
@owner_required
def endpoint_set_enabled(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    enabled = request.POST.get("enabled") == "1"

    def toggle(endpoint: WebhookEndpoint) -> str:
        services.set_endpoint_enabled(
            school=request.school,  # type: ignore[attr-defined]
            actor=request.user,  # type: ignore[arg-type]
            endpoint=endpoint,
            enabled=enabled,
            ip=client_ip(request),
        )
        return _("Endpoint enabled.") if enabled else _("Endpoint disabled: nothing is sent to it.")

    return _endpoint_action(request, endpoint_id, toggle)


@require_POST
@owner_required
def endpoint_send_test(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    def send(endpoint: WebhookEndpoint) -> str:
        services.send_test_event(
            school=request.school,  # type: ignore[attr-defined]
            actor=request.user,  # type: ignore[arg-type]
            endpoint=endpoint,
        )
        return _("Test event queued: it appears in the log below once sent.")

    return _endpoint_action(request, endpoint_id, send)


@require_POST
@owner_required
def endpoint_delete(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    endpoint = selectors.get_endpoint(school=school, endpoint_id=endpoint_id)
    services.delete_endpoint(
        school=school,
        actor=request.user,  # type: ignore[arg-type]
        endpoint=endpoint,
        ip=client_ip(request),
    )
    messages.success(request, _("Endpoint %(url)s deleted.") % {"url": endpoint.url})
    return redirect("webhooks:list")


@owner_required
def delivery_detail(request: HttpRequest, endpoint_id: int, delivery_id: int) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    endpoint = selectors.get_endpoint(school=school, endpoint_id=endpoint_id)
    delivery = selectors.get_delivery(school=school, endpoint=endpoint, delivery_id=delivery_id)
    try:
        payload = json.dumps(json.loads(delivery.payload), indent=2, ensure_ascii=False)
    except ValueError:  # pragma: no cover - we wrote it as JSON
        payload = delivery.payload
    return render(
        request,
        "webhooks/delivery_detail.html",
        _context(request, endpoint=endpoint, delivery=delivery, payload=payload),
    )


@require_POST
@owner_required
def delivery_resend(request: HttpRequest, endpoint_id: int, delivery_id: int) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    endpoint = selectors.get_endpoint(school=school, endpoint_id=endpoint_id)
    delivery = selectors.get_delivery(school=school, endpoint=endpoint, delivery_id=delivery_id)
    try:
        services.resend_delivery(
            school=school,
            actor=request.user,  # type: ignore[arg-type]
            delivery=delivery,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(event)s queued again (same webhook-id).") % {"event": delivery.event_type},
        )
    return redirect("webhooks:detail", endpoint_id=endpoint.pk)
