"""Reads of webhook endpoints and deliveries, always scoped to one school.

An id of another school is the same ``Http404`` as an id that never existed.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from courseplatform.ops.crypto import decrypt
from courseplatform.tenancy.models import School

from .models import WebhookDelivery, WebhookEndpoint


def endpoints_of(*, school: School) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(school=school).order_by("created_at", "id")


def get_endpoint(*, school: School, endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(school=school, pk=endpoint_id).first()
    if endpoint is None:
        raise Http404("No such webhook endpoint.")
    return endpoint


def deliveries_of(*, school: School, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(school=school, endpoint=endpoint).defer(
        "payload", "response_body", "request_headers"
    )


def get_delivery(*, school: School, endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery:
    delivery = (
        WebhookDelivery.objects.filter(school=school, endpoint=endpoint, pk=delivery_id)
        .select_related("endpoint")
        .first()
    )
    if delivery is None:
        raise Http404("No such delivery.")
    return delivery


def subscribed_endpoints(*, school: School | int, event_type: str) -> list[WebhookEndpoint]:
    """Enabled endpoints of the school that chose ``event_type``."""
    school_id = school if isinstance(school, int) else school.pk
    return [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(school_id=school_id, is_enabled=True)
        if endpoint.receives(event_type)
    ]


def current_secret(endpoint: WebhookEndpoint) -> str:
    return decrypt(endpoint.secret_ciphertext).decode()


def signing_secrets(endpoint: WebhookEndpoint, *, now: datetime | None = None) -> list[str]:
    """The secrets that sign a delivery now: the current one, and the previous one while
    its overlap after a rotation lasts."""
    now = now or timezone.now()
    in_use = [current_secret(endpoint)]
    if (
        endpoint.previous_secret_ciphertext
        and endpoint.previous_secret_expires_at is not None
        and endpoint.previous_secret_expires_at > now
    ):
        in_use.append(decrypt(endpoint.previous_secret_ciphertext).decode())
    return in_use
