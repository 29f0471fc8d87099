"""Delivering webhooks (queue ``webhooks``, run by ``manage.py db_worker``).

``deliver_webhook(school_id, delivery_id)`` is enqueued once the delivery row has
committed. It re-enters the school's context, claims the attempt (a conditional UPDATE,
so two workers never send the same attempt), signs the stored body afresh and POSTs it
through the SSRF guard (``transport.post``), outside any transaction.

* 2xx → ``succeeded``; the endpoint's failure streak is reset.
* anything else (another status, timeout, refused address, TLS or connection error) →
  retried after ``WEBHOOKS_RETRY_BASE_SECONDS`` x 2^(attempt-1), capped at
  ``WEBHOOKS_RETRY_MAX_DELAY_SECONDS``, with ±20 % jitter (so a recovering receiver is
  not hit by every school at the same second), by enqueueing the task again with
  ``run_after``; while the delivery is younger than ``WEBHOOKS_RETRY_WINDOW_SECONDS``
  (a day). Then ``failed``, and the endpoint's streak grows; at
  ``WEBHOOKS_DISABLE_AFTER_FAILURES`` it is disabled and its school's owners are emailed.
"""

from __future__ import annotations

import logging
import random
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.tasks import task
from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy, ngettext

from courseplatform.accounts.language import recipient_language
from courseplatform.accounts.models import User
from courseplatform.accounts.services import send_school_email
from courseplatform.ops.services import record_audit
from courseplatform.telemetry import metrics
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context
from courseplatform.tenancy.selectors import school_url

from . import signing
from .models import WebhookDelivery, WebhookEndpoint
from .selectors import signing_secrets
from .transport import Answer, DeliveryError, post

logger = logging.getLogger(__name__)

USER_AGENT = "courseplatform-webhooks/1"
JITTER = 0.2


def enqueue_delivery(*, school_id: int, delivery_id: int, run_after: Any = None) -> None:
    """Enqueue the delivery task once the current transaction commits."""

    def _enqueue() -> None:
        job = deliver_webhook
        if run_after is not None:
            job = job.using(run_after=run_after)
        job.enqueue(school_id, delivery_id)

    transaction.on_commit(_enqueue)


def retry_delay_seconds(attempt: int, *, rng: random.Random | None = None) -> float:
    """Wait before the retry that follows failed attempt number ``attempt`` (1-based)."""
    base = settings.WEBHOOKS_RETRY_BASE_SECONDS * 2 ** max(0, attempt - 1)
    delay = min(float(settings.WEBHOOKS_RETRY_MAX_DELAY_SECONDS), float(base))
    return delay * (1 + (rng or random).uniform(-JITTER, JITTER))


@task(queue_name="webhooks")
def deliver_webhook(school_id: int, delivery_id: int) -> str:
    """Make one attempt; returns the outcome (succeeded/retrying/failed/…)."""
    outcome = run_delivery(school_id=school_id, delivery_id=delivery_id)
    metrics.WEBHOOK_DELIVERIES.labels(outcome).inc()
    return outcome


def request_headers(
    *, delivery: WebhookDelivery, endpoint: WebhookEndpoint, timestamp: int
) -> dict[str, str]:
    body = delivery.payload.encode()
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": delivery.event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signing.signature_header(
            secrets_in_use=signing_secrets(endpoint),
            message_id=delivery.event_id,
            timestamp=timestamp,
            body=body,
        ),
    }


def run_delivery(*, school_id: int, delivery_id: int) -> str:
    with school_context(school_id):
        delivery = (
            WebhookDelivery.objects.select_related("endpoint")
            .filter(school_id=school_id, pk=delivery_id)
            .first()
        )
        if delivery is None:
            return "gone"
        if delivery.status != WebhookDelivery.Status.PENDING:
            return "skipped"
        now = timezone.now()
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            return "early"  # a duplicate task: the scheduled one will come
        endpoint = delivery.endpoint
        if not endpoint.is_enabled:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status=WebhookDelivery.Status.CANCELLED,
                next_attempt_at=None,
                error="Not sent: the endpoint is disabled.",
            )
            return "cancelled"
        claimed = WebhookDelivery.objects.filter(
            pk=delivery.pk, status=WebhookDelivery.Status.PENDING, attempts=delivery.attempts
        ).update(attempts=F("attempts") + 1, last_attempt_at=now, next_attempt_at=None)
        if not claimed:
            return "skipped"
        delivery.attempts += 1
        headers = request_headers(delivery=delivery, endpoint=endpoint, timestamp=int(time.time()))
        answer: Answer | None = None
        try:
            answer = post(endpoint.url, body=delivery.payload.encode(), headers=headers)
        except DeliveryError as exc:
            error = str(exc)
        else:
            error = "" if 200 <= answer.status < 300 else f"The endpoint answered {answer.status}."
        return _record(
            delivery=delivery, endpoint=endpoint, headers=headers, answer=answer, error=error
        )


def _record(
    *,
    delivery: WebhookDelivery,
    endpoint: WebhookEndpoint,
    headers: dict[str, str],
    answer: Answer | None,
    error: str,
) -> str:
    now = timezone.now()
    fields: dict[str, Any] = {
        "request_headers": headers,
        "request_url": answer.url if answer else endpoint.url,
        "response_status": answer.status if answer else None,
        "response_body": answer.body if answer else "",
        "latency_ms": answer.latency_ms if answer else None,
        "error": error,
    }
    if answer is not None and answer.redirects:
        fields["error"] = (
            (error + " " if error else "") + "Redirected via " + ", ".join(answer.redirects)
        )
    with transaction.atomic():
        rows = WebhookDelivery.objects.filter(pk=delivery.pk)
        if not rows.select_for_update().exists():
            return "gone"  # the endpoint (and its log) was deleted during the attempt
        if not error:
            rows.update(status=WebhookDelivery.Status.SUCCEEDED, **fields)
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
            return "succeeded"
        delay = retry_delay_seconds(delivery.attempts)
        window = timedelta(seconds=settings.WEBHOOKS_RETRY_WINDOW_SECONDS)
        retry_at = now + timedelta(seconds=delay)
        if retry_at <= delivery.created_at + window:
            rows.update(next_attempt_at=retry_at, **fields)
            enqueue_delivery(
                school_id=delivery.school_id, delivery_id=delivery.pk, run_after=retry_at
            )
            logger.info(
                "webhook delivery %s: attempt %s failed, retry at %s",
                delivery.pk,
                delivery.attempts,
                retry_at,
            )
            return "retrying"
        rows.update(status=WebhookDelivery.Status.FAILED, **fields)
        failures = _count_failure(endpoint)
        if failures >= settings.WEBHOOKS_DISABLE_AFTER_FAILURES:
            auto_disable(endpoint=endpoint, failures=failures, last_error=error)
        return "failed"


def _count_failure(endpoint: WebhookEndpoint) -> int:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    return WebhookEndpoint.objects.values_list("consecutive_failures", flat=True).get(
        pk=endpoint.pk
    )


def auto_disable(*, endpoint: WebhookEndpoint, failures: int, last_error: str) -> None:
    """Disable an endpoint that keeps failing, audit it and tell the school's owners."""
    school = School.objects.get(pk=endpoint.school_id)
    # Stored, and shown on the endpoint's page: in the school's language (a task has none).
    with translation.override(recipient_language(school=school, user=None)):
        reason = ngettext(
            "Disabled automatically after %(failures)d failed delivery in a row.",
            "Disabled automatically after %(failures)d failed deliveries in a row.",
            failures,
        ) % {"failures": failures}
    changed = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_enabled=True).update(
        is_enabled=False, disabled_reason=reason, disabled_at=timezone.now()
    )
    if not changed:
        return
    record_audit(
        school=school,
        actor=None,
        action="webhook.endpoint_disabled",
        target=endpoint,
        data={"url": endpoint.url, "reason": reason, "automatic": True},
    )
    owners = list(
        User.objects.filter(school=school, role=User.Role.OWNER, is_active=True).order_by("pk")
    )
    link = school_url(school, f"/manage/settings/webhooks/{endpoint.pk}/")

    def notify() -> None:
        for owner in owners:
            send_school_email(
                school=school,
                user=owner,
                subject=format_lazy(
                    gettext_lazy("A webhook endpoint of {school} was disabled"),
                    school=school.name,
                ),
                template="webhooks/email/endpoint_disabled",
                context={
                    "endpoint": endpoint,
                    "failures": failures,
                    "last_error": last_error,
                    "link": link,
                },
                port=None,
            )

    transaction.on_commit(notify)
