"""Deliveries to a real loopback receiver: signatures checked with the README's own
snippet, retries with backoff (time travel on next_attempt_at), timeouts, giving up,
auto-disable with the owner's email, secret rotation."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from courseplatform.courses import services as course_services
from courseplatform.ops.events import Event
from courseplatform.ops.models import AuditLog
from courseplatform.tenancy.rls import school_context
from courseplatform.webhooks import services
from courseplatform.webhooks.models import RESPONSE_BODY_MAX, WebhookDelivery, WebhookEndpoint
from courseplatform.webhooks.selectors import current_secret
from courseplatform.webhooks.tasks import retry_delay_seconds, run_delivery

from .conftest import Receiver, Reply

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


def queued(school: Any, kind: str = "course.published", **data: Any) -> WebhookDelivery:
    with school_context(school):
        [delivery] = services.queue_event(
            Event(school_id=school.pk, type=kind, data=data or {"id": 1})
        )
    return delivery


def reload(delivery: WebhookDelivery) -> WebhookDelivery:
    with school_context(delivery.school_id):
        return WebhookDelivery.objects.select_related("endpoint").get(pk=delivery.pk)


def tasks_for(delivery: WebhookDelivery) -> list[DBTaskResult]:
    return [
        t
        for t in DBTaskResult.objects.filter(task_path__endswith="deliver_webhook")
        if t.args_kwargs["args"] == [delivery.school_id, delivery.pk]
    ]


def time_travel(delivery: WebhookDelivery, **shift: Any) -> None:
    """Move the scheduled retry (and optionally the creation) into the past."""
    with school_context(delivery.school_id):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1), **shift
        )


def test_a_committed_event_is_delivered_signed_and_verifies_with_the_readme_snippet(
    hooked: SimpleNamespace,
    verify_webhook: Callable[..., bool],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    school, owner, endpoint = hooked.school, hooked.owner, hooked.endpoint
    hooked.receiver.replies.append(Reply(status=200, body=b"x" * 5000))
    with school_context(school):
        course = course_services.create_course(school=school, actor=owner, title="Ink")
        section = course_services.add_section(
            school=school, actor=owner, course=course, title="One"
        )
        course_services.add_lesson(school=school, actor=owner, section=section, title="Hi")
        with django_capture_on_commit_callbacks(execute=True):
            course_services.set_course_status(
                school=school, actor=owner, course=course, publish=True
            )
        [delivery] = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert tasks_for(delivery), "the delivery task was enqueued on commit"
    assert run_delivery(school_id=school.pk, delivery_id=delivery.pk) == "succeeded"

    [request] = hooked.receiver.received
    secret = current_secret(endpoint)
    assert verify_webhook(secret, request.headers, request.body)
    assert not verify_webhook(secret, request.headers, request.body + b" ")
    assert not verify_webhook(secret.replace("whsec_", "whsec_A"), request.headers, request.body)
    stale = {
        **request.headers,
        "webhook-timestamp": str(int(request.headers["webhook-timestamp"]) - 600),
    }
    assert not verify_webhook(secret, stale, request.body)
    assert request.headers["webhook-id"] == delivery.event_id
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.body)
    assert body["type"] == "course.published"
    assert body["data"]["id"] == course.pk and body["data"]["title"] == "Ink"

    delivery = reload(delivery)
    assert delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert delivery.attempts == 1 and delivery.response_status == 200
    assert delivery.latency_ms is not None
    assert delivery.response_body == "x" * RESPONSE_BODY_MAX  # first 2 KB only
    assert delivery.request_headers["webhook-signature"].startswith("v1,")
    # Delivered once: a duplicate task run sends nothing more.
    assert run_delivery(school_id=school.pk, delivery_id=delivery.pk) == "skipped"
    assert len(hooked.receiver.received) == 1


def test_a_rolled_back_write_queues_nothing(
    hooked: SimpleNamespace, django_capture_on_commit_callbacks: Capture
) -> None:
    from django.db import transaction

    school, owner = hooked.school, hooked.owner
    with school_context(school), django_capture_on_commit_callbacks(execute=True):
        course = course_services.create_course(school=school, actor=owner, title="Ink")
        section = course_services.add_section(
            school=school, actor=owner, course=course, title="One"
        )
        course_services.add_lesson(school=school, actor=owner, section=section, title="Hi")
        with pytest.raises(RuntimeError), transaction.atomic():
            course_services.set_course_status(
                school=school, actor=owner, course=course, publish=True
            )
            raise RuntimeError("rolled back")
    with school_context(school):
        assert not WebhookDelivery.objects.exists()


def test_a_500_is_retried_with_backoff_then_delivered(
    hooked: SimpleNamespace, settings: Any, django_capture_on_commit_callbacks: Capture
) -> None:
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 60
    hooked.receiver.replies.append(Reply(status=500, body=b"database down"))
    delivery = queued(hooked.school)
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        outcome = run_delivery(school_id=hooked.school.pk, delivery_id=delivery.pk)
    assert outcome == "retrying"
    delivery = reload(delivery)
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.attempts == 1 and delivery.response_status == 500
    assert delivery.response_body == "database down"
    assert delivery.error == "The endpoint answered 500."
    assert delivery.next_attempt_at is not None
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 60 * 0.8 - 1 <= wait <= 60 * 1.2 + 5  # base delay with ±20 % jitter
    retry_tasks = [t for t in tasks_for(delivery) if t.run_after is not None]
    assert [t.run_after for t in retry_tasks] == [delivery.next_attempt_at]

    # Before its time a (duplicate) run does nothing.
    assert run_delivery(school_id=hooked.school.pk, delivery_id=delivery.pk) == "early"
    assert len(hooked.receiver.received) == 1

    time_travel(delivery)
    assert run_delivery(school_id=hooked.school.pk, delivery_id=delivery.pk) == "succeeded"
    delivery = reload(delivery)
    assert delivery.attempts == 2 and delivery.status == WebhookDelivery.Status.SUCCEEDED
    assert delivery.error == ""
    first, second = hooked.receiver.received
    assert first.body == second.body
    assert first.headers["webhook-id"] == second.headers["webhook-id"]


def test_a_timeout_is_retried(hooked: SimpleNamespace, settings: Any) -> None:
    settings.WEBHOOKS_READ_TIMEOUT_SECONDS = 1
    hooked.receiver.replies.append(Reply(hang=True))
    delivery = queued(hooked.school)
    assert run_delivery(school_id=hooked.school.pk, delivery_id=delivery.pk) == "retrying"
    delivery = reload(delivery)
    assert "No answer in time" in delivery.error
    assert delivery.response_status is None and delivery.next_attempt_at is not None
    hooked.receiver.release.set()
    time_travel(delivery)
    assert run_delivery(school_id=hooked.school.pk, delivery_id=delivery.pk) == "succeeded"


def test_a_receiver_dribbling_its_answer_is_cut_off_at_the_total_deadline(
    hooked: SimpleNamespace, settings: Any
) -> None:
    settings.WEBHOOKS_READ_TIMEOUT_SECONDS = 5  # every byte arrives well within it
    settings.WEBHOOKS_TOTAL_TIMEOUT_SECONDS = 1.5
    hooked.receiver.replies.append(Reply(dribble=True))
    delivery = queued(hooked.school)
    assert run_delivery(school_id=hooked.school.pk, delivery_id=delivery.pk) == "retrying"
    assert "No answer in time" in reload(delivery).error


def test_backoff_doubles_is_capped_and_jittered(settings: Any) -> None:
    import random

    settings.WEBHOOKS_RETRY_BASE_SECONDS = 30
    settings.WEBHOOKS_RETRY_MAX_DELAY_SECONDS = 3600
    rng = random.Random(7)
    delays = [retry_delay_seconds(n, rng=rng) for n in range(1, 12)]
    for n, delay in enumerate(delays, start=1):
        nominal = min(3600, 30 * 2 ** (n - 1))
        assert nominal * 0.8 <= delay <= nominal * 1.2
    assert len({round(d, 3) for d in delays}) == len(delays)  # jitter: no two alike


def test_after_the_retry_window_a_delivery_fails_and_enough_failures_disable_the_endpoint(
    hooked: SimpleNamespace,
    settings: Any,
    make_user: Callable[..., Any],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 2
    school, endpoint = hooked.school, hooked.endpoint
    make_user(school, "helper@alpha.test", role="instructor")  # not emailed: not an owner
    day_ago = {"created_at": timezone.now() - timedelta(hours=25)}
    for number in (1, 2):
        hooked.receiver.replies.append(Reply(status=503))
        delivery = queued(school)
        time_travel(delivery, **day_ago)
        with django_capture_on_commit_callbacks(execute=True):
            assert run_delivery(school_id=school.pk, delivery_id=delivery.pk) == "failed"
        assert reload(delivery).status == WebhookDelivery.Status.FAILED
        with school_context(school):
            endpoint.refresh_from_db()
        assert endpoint.consecutive_failures == number
    assert not endpoint.is_enabled
    assert "2 failed deliveries in a row" in endpoint.disabled_reason
    [email] = mail.outbox
    assert email.to == [hooked.owner.email]
    assert endpoint.url in email.body and "503" in email.body
    assert f"/manage/settings/webhooks/{endpoint.pk}/" in email.body
    with school_context(school):
        entry = AuditLog.objects.get(action="webhook.endpoint_disabled")
    assert entry.data["automatic"] is True and entry.actor_id is None

    # Disabled: new events queue nothing, a delivery still queued is cancelled unsent.
    with school_context(school):
        assert (
            services.queue_event(Event(school_id=school.pk, type="course.published", data={})) == []
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_enabled=True)
        pending = services.queue_event(
            Event(school_id=school.pk, type="course.published", data={})
        )[0]
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_enabled=False)
    sent = len(hooked.receiver.received)
    assert run_delivery(school_id=school.pk, delivery_id=pending.pk) == "cancelled"
    assert reload(pending).status == WebhookDelivery.Status.CANCELLED
    assert len(hooked.receiver.received) == sent


def test_a_success_resets_the_failure_streak(hooked: SimpleNamespace) -> None:
    with school_context(hooked.school):
        WebhookEndpoint.objects.filter(pk=hooked.endpoint.pk).update(consecutive_failures=3)
    delivery = queued(hooked.school)
    assert run_delivery(school_id=hooked.school.pk, delivery_id=delivery.pk) == "succeeded"
    with school_context(hooked.school):
        hooked.endpoint.refresh_from_db()
    assert hooked.endpoint.consecutive_failures == 0


def test_after_a_rotation_both_secrets_sign_until_the_overlap_ends(
    hooked: SimpleNamespace, verify_webhook: Callable[..., bool]
) -> None:
    school, owner, endpoint = hooked.school, hooked.owner, hooked.endpoint
    old = current_secret(endpoint)
    with school_context(school):
        services.rotate_secret(school=school, actor=owner, endpoint=endpoint)
    new = current_secret(endpoint)
    assert new != old and new.startswith("whsec_")
    delivery = queued(school)
    run_delivery(school_id=school.pk, delivery_id=delivery.pk)
    request = hooked.receiver.received[-1]
    assert len(request.headers["webhook-signature"].split()) == 2
    assert verify_webhook(new, request.headers, request.body)
    assert verify_webhook(old, request.headers, request.body)

    with school_context(school):
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
        )
    delivery = queued(school)
    run_delivery(school_id=school.pk, delivery_id=delivery.pk)
    request = hooked.receiver.received[-1]
    assert len(request.headers["webhook-signature"].split()) == 1
    assert verify_webhook(new, request.headers, request.body)
    assert not verify_webhook(old, request.headers, request.body)
    with school_context(school):
        assert AuditLog.objects.filter(action="webhook.secret_rotated").count() == 1


def test_resend_and_test_event_reach_the_receiver(
    hooked: SimpleNamespace, verify_webhook: Callable[..., bool]
) -> None:
    school, owner, endpoint = hooked.school, hooked.owner, hooked.endpoint
    delivery = queued(school, kind="student.created", id=5, email="x@alpha.test")
    run_delivery(school_id=school.pk, delivery_id=delivery.pk)
    with school_context(school):
        again = services.resend_delivery(school=school, actor=owner, delivery=reload(delivery))
        test = services.send_test_event(school=school, actor=owner, endpoint=endpoint)
    assert again.pk != delivery.pk and again.event_id == delivery.event_id
    assert again.payload == delivery.payload
    assert run_delivery(school_id=school.pk, delivery_id=again.pk) == "succeeded"
    assert run_delivery(school_id=school.pk, delivery_id=test.pk) == "succeeded"
    first, resent, tested = hooked.receiver.received
    assert resent.headers["webhook-id"] == first.headers["webhook-id"]
    assert json.loads(tested.body)["type"] == "webhook.test"
    assert verify_webhook(current_secret(endpoint), tested.headers, tested.body)


def test_redirects_are_followed_with_the_same_signed_post(hooked: SimpleNamespace) -> None:
    receiver: Receiver = hooked.receiver
    receiver.replies.append(Reply(status=307, location="/moved"))
    delivery = queued(hooked.school)
    assert run_delivery(school_id=hooked.school.pk, delivery_id=delivery.pk) == "succeeded"
    first, second = receiver.received
    assert (first.path, second.path) == ("/hooks", "/moved")
    assert first.body == second.body
    delivery = reload(delivery)
    assert delivery.request_url.endswith("/moved") and "Redirected via" in delivery.error


def test_too_many_redirects_fail_the_attempt(hooked: SimpleNamespace, settings: Any) -> None:
    settings.WEBHOOKS_MAX_REDIRECTS = 2
    hooked.receiver.replies.extend(Reply(status=302, location="/again") for _ in range(5))
    delivery = queued(hooked.school)
    assert run_delivery(school_id=hooked.school.pk, delivery_id=delivery.pk) == "retrying"
    assert "Too many redirects" in reload(delivery).error
    assert len(hooked.receiver.received) == 3


def test_a_connection_refused_is_a_failed_attempt(
    hooked: SimpleNamespace, make_receiver: Callable[[], Receiver]
) -> None:
    closed = make_receiver()
    url = closed.url()
    closed.server.shutdown()
    closed.server.server_close()
    with school_context(hooked.school):
        WebhookEndpoint.objects.filter(pk=hooked.endpoint.pk).update(url=url)
    delivery = queued(hooked.school)
    assert run_delivery(school_id=hooked.school.pk, delivery_id=delivery.pk) == "retrying"
    assert "Could not talk to 127.0.0.1" in reload(delivery).error
