"""Maintenance around deliveries: pruning the log across schools, and an endpoint deleted
while a delivery to it was in flight."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from courseplatform.ops.events import Event
from courseplatform.ops.models import AuditLog
from courseplatform.tenancy.rls import school_context
from courseplatform.webhooks import services
from courseplatform.webhooks.models import WebhookDelivery, WebhookEndpoint
from courseplatform.webhooks.tasks import run_delivery

from .conftest import Reply


def _deliveries(created: Any, statuses: list[str], age_days: int) -> None:
    school = created.school
    with school_context(school):
        endpoint = WebhookEndpoint.objects.filter(
            school=school
        ).first() or services.create_endpoint(
            school=school,
            actor=created.owner,
            url="https://93.184.215.14/hooks",
            event_types=["video.ready"],
        )
        for status in statuses:
            [delivery] = services.queue_event(
                Event(school_id=school.pk, type="video.ready", data={"id": "v"})
            )
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status=status, created_at=timezone.now() - timedelta(days=age_days)
            )
    assert endpoint.pk


@pytest.mark.django_db(transaction=True)
def test_prune_deletes_old_finished_deliveries_of_every_school(
    school_a: Any, school_b: Any
) -> None:
    for created in (school_a, school_b):
        _deliveries(created, ["succeeded", "failed", "cancelled", "pending"], age_days=40)
        _deliveries(created, ["succeeded"], age_days=2)
    out = io.StringIO()
    call_command("prune_webhook_deliveries", "--days", "30", stdout=out)
    assert "Deleted 6 webhook deliveries older than 30 days" in out.getvalue()
    quiet = io.StringIO()  # the periodic service's run: silent when nothing was due
    call_command("prune_webhook_deliveries", "--quiet", stdout=quiet)
    assert quiet.getvalue() == ""
    for created in (school_a, school_b):
        with school_context(created.school):
            left = sorted(WebhookDelivery.objects.values_list("status", flat=True))
        assert left == ["pending", "succeeded"]  # the retrying one and the recent one
    with school_context(None):
        assert AuditLog.objects.filter(
            action="platform.rls_bypass", data__reason__startswith="prune webhook"
        ).exists()


@pytest.mark.django_db(transaction=True)
def test_an_endpoint_deleted_during_an_attempt_ends_the_delivery_quietly(
    hooked: Any,
) -> None:
    school, endpoint = hooked.school, hooked.endpoint

    def delete_endpoint() -> None:  # in the receiver's thread, on its own connection
        with school_context(school):
            WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()
        connection.close()

    hooked.receiver.replies.append(Reply(status=500, before=delete_endpoint))
    with school_context(school):
        [delivery] = services.queue_event(
            Event(school_id=school.pk, type="video.ready", data={"id": "v"})
        )
    assert run_delivery(school_id=school.pk, delivery_id=delivery.pk) == "gone"
    assert len(hooked.receiver.received) == 1
    with school_context(school):
        assert not WebhookDelivery.objects.filter(pk=delivery.pk).exists()
