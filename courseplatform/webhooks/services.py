"""Writes on webhooks: endpoints (owner only, audited) and queueing deliveries.

Every committed domain event (``ops.events``) reaches ``queue_event``: one delivery row
per enabled endpoint of that school that chose the event, each sent by the task worker
once the rows have committed (``tasks.deliver_webhook``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from courseplatform.accounts import permissions
from courseplatform.accounts.models import User
from courseplatform.ops.crypto import encrypt
from courseplatform.ops.events import EVENT_TYPES, Event
from courseplatform.ops.services import record_audit
from courseplatform.ops.text import validate_single_line
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import bypass_active, current_school_id, school_context

from . import signing
from .models import MAX_ENDPOINTS_PER_SCHOOL, WebhookDelivery, WebhookEndpoint
from .selectors import subscribed_endpoints
from .tasks import enqueue_delivery
from .urlguard import UnsafeDestination, check_destination

TEST_EVENT_TYPE = "webhook.test"
OWNERS_ONLY = gettext_lazy("Only the school owner can manage webhooks.")


def payload_for(*, event_type: str, occurred_at: datetime, data: dict[str, Any]) -> str:
    """The JSON body of a delivery (Standard Webhooks: type, timestamp, data)."""
    return json.dumps(
        {"type": event_type, "timestamp": occurred_at.isoformat(), "data": data},
        separators=(",", ":"),
        sort_keys=True,
    )


def _clean(
    *, school: School, url: str, description: str, event_types: Sequence[str]
) -> tuple[str, str, list[str]]:
    errors: dict[str, str] = {}
    try:
        url = check_destination(url).url
    except UnsafeDestination as exc:
        errors["url"] = str(exc)
    description = (description or "").strip()
    if len(description) > 200:
        errors["description"] = _("Use at most %(limit)d characters.") % {"limit": 200}
    else:
        try:
            validate_single_line(description, field="description")
        except ValidationError as exc:
            errors["description"] = " ".join(exc.messages)
    chosen = [t for t in EVENT_TYPES if t in set(event_types)]
    unknown = sorted(set(event_types) - set(EVENT_TYPES))
    if unknown:
        errors["event_types"] = _("Unknown events: %(events)s.") % {"events": ", ".join(unknown)}
    elif not chosen:
        errors["event_types"] = _("Choose at least one event.")
    if errors:
        raise ValidationError(errors)
    return url, description, chosen


def create_endpoint(
    *,
    school: School,
    actor: User,
    url: str,
    description: str = "",
    event_types: Sequence[str],
    ip: str | None = None,
) -> WebhookEndpoint:
    permissions.require_school_owner(school, actor, message=OWNERS_ONLY)
    url, description, chosen = _clean(
        school=school, url=url, description=description, event_types=event_types
    )
    with transaction.atomic():
        # Serialise per school so two requests cannot both pass the cap.
        School.objects.select_for_update(of=("self",)).get(pk=school.pk)
        if WebhookEndpoint.objects.filter(school=school).count() >= MAX_ENDPOINTS_PER_SCHOOL:
            raise ValidationError(
                _("A school can have at most %(limit)d webhook endpoints.")
                % {"limit": MAX_ENDPOINTS_PER_SCHOOL}
            )
        endpoint = WebhookEndpoint.objects.create(
            school=school,
            url=url,
            description=description,
            event_types=chosen,
            secret_ciphertext=encrypt(signing.new_secret().encode()),
            created_by=actor,
        )
        record_audit(
            school=school,
            actor=actor,
            action="webhook.endpoint_created",
            target=endpoint,
            data={"url": url, "events": chosen},
            ip=ip,
        )
    return endpoint


def update_endpoint(
    *,
    school: School,
    actor: User,
    endpoint: WebhookEndpoint,
    url: str,
    description: str,
    event_types: Sequence[str],
    ip: str | None = None,
) -> WebhookEndpoint:
    permissions.require_school_owner(school, actor, endpoint, message=OWNERS_ONLY)
    url, description, chosen = _clean(
        school=school, url=url, description=description, event_types=event_types
    )
    before = {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.event_types,
    }
    endpoint.url, endpoint.description, endpoint.event_types = url, description, chosen
    with transaction.atomic():
        endpoint.save(update_fields=["url", "description", "event_types", "updated_at"])
        after = {"url": url, "description": description, "events": chosen}
        record_audit(
            school=school,
            actor=actor,
            action="webhook.endpoint_updated",
            target=endpoint,
            data={
                "changed": {
                    k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]
                }
            },
            ip=ip,
        )
    return endpoint


def delete_endpoint(
    *, school: School, actor: User, endpoint: WebhookEndpoint, ip: str | None = None
) -> None:
    permissions.require_school_owner(school, actor, endpoint, message=OWNERS_ONLY)
    with transaction.atomic():
        record_audit(
            school=school,
            actor=actor,
            action="webhook.endpoint_deleted",
            target=endpoint,
            data={"url": endpoint.url},
            ip=ip,
        )
        endpoint.delete()


def rotate_secret(
    *, school: School, actor: User, endpoint: WebhookEndpoint, ip: str | None = None
) -> WebhookEndpoint:
    """A new signing secret; the old one keeps signing alongside it for
    ``WEBHOOKS_SECRET_OVERLAP_SECONDS`` so receivers can switch without losing events."""
    permissions.require_school_owner(school, actor, endpoint, message=OWNERS_ONLY)
    overlap = timedelta(seconds=settings.WEBHOOKS_SECRET_OVERLAP_SECONDS)
    endpoint.previous_secret_ciphertext = endpoint.secret_ciphertext
    endpoint.previous_secret_expires_at = timezone.now() + overlap
    endpoint.secret_ciphertext = encrypt(signing.new_secret().encode())
    with transaction.atomic():
        endpoint.save(
            update_fields=[
                "secret_ciphertext",
                "previous_secret_ciphertext",
                "previous_secret_expires_at",
                "updated_at",
            ]
        )
        record_audit(
            school=school,
            actor=actor,
            action="webhook.secret_rotated",
            target=endpoint,
            data={"previous_valid_until": endpoint.previous_secret_expires_at.isoformat()},
            ip=ip,
        )
    return endpoint


def set_endpoint_enabled(
    *,
    school: School,
    actor: User,
    endpoint: WebhookEndpoint,
    enabled: bool,
    ip: str | None = None,
) -> WebhookEndpoint:
    """Disable by hand (nothing is sent until enabled again), or enable again (the
    failure streak starts over)."""
    permissions.require_school_owner(school, actor, endpoint, message=OWNERS_ONLY)
    if endpoint.is_enabled == enabled:
        return endpoint
    endpoint.is_enabled = enabled
    if enabled:
        endpoint.disabled_reason, endpoint.disabled_at = "", None
        endpoint.consecutive_failures = 0
    else:
        endpoint.disabled_reason = _("Disabled by %(person)s.") % {
            "person": actor.full_name or actor.email
        }
        endpoint.disabled_at = timezone.now()
    with transaction.atomic():
        endpoint.save(
            update_fields=[
                "is_enabled",
                "disabled_reason",
                "disabled_at",
                "consecutive_failures",
                "updated_at",
            ]
        )
        record_audit(
            school=school,
            actor=actor,
            action="webhook.endpoint_enabled" if enabled else "webhook.endpoint_disabled",
            target=endpoint,
            data={"url": endpoint.url, "automatic": False},
            ip=ip,
        )
    return endpoint


def _new_delivery(
    *, endpoint: WebhookEndpoint, event_id: str, event_type: str, payload: str
) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        school_id=endpoint.school_id,
        endpoint=endpoint,
        event_id=event_id,
        event_type=event_type,
        payload=payload,
    )
    enqueue_delivery(school_id=endpoint.school_id, delivery_id=delivery.pk)
    return delivery


def queue_event(event: Event) -> list[WebhookDelivery]:
    """Subscriber of ``ops.events``: one delivery per endpoint that chose the event.

    Runs after every committed event of every school, mostly where none has an
    endpoint: that case costs one query (no context switch when the request or task is
    already in the event's school).
    """
    in_place = current_school_id() == event.school_id and not bypass_active()
    with nullcontext() if in_place else school_context(event.school_id):
        endpoints = subscribed_endpoints(school=event.school_id, event_type=event.type)
        if not endpoints:
            return []
        payload = payload_for(event_type=event.type, occurred_at=event.occurred_at, data=event.data)
        with transaction.atomic():
            return [
                _new_delivery(
                    endpoint=endpoint, event_id=event.id, event_type=event.type, payload=payload
                )
                for endpoint in endpoints
            ]


def resend_delivery(*, school: School, actor: User, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery's event again (same id and body) as a new delivery."""
    permissions.require_school_owner(school, actor, delivery, message=OWNERS_ONLY)
    endpoint = delivery.endpoint
    if not endpoint.is_enabled:
        raise ValidationError(_("Enable the endpoint before resending."))
    with transaction.atomic():
        return _new_delivery(
            endpoint=endpoint,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            payload=delivery.payload,
        )


def send_test_event(*, school: School, actor: User, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A ``webhook.test`` delivery to this endpoint, whatever events it chose."""
    permissions.require_school_owner(school, actor, endpoint, message=OWNERS_ONLY)
    if not endpoint.is_enabled:
        raise ValidationError(_("Enable the endpoint before sending a test event."))
    event = Event(
        school_id=school.pk,
        type=TEST_EVENT_TYPE,
        data={"message": "A test event from your school.", "school": school.slug},
    )
    with transaction.atomic():
        return _new_delivery(
            endpoint=endpoint,
            event_id=event.id,
            event_type=TEST_EVENT_TYPE,
            payload=payload_for(
                event_type=TEST_EVENT_TYPE, occurred_at=event.occurred_at, data=event.data
            ),
        )
