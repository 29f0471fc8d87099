"""Settings → Webhooks pages: owner only, bad URLs refused with nothing saved, audit
entries, two schools that never see or reach each other's endpoints, constant queries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courseplatform.ops.events import EVENT_TYPES, Event
from courseplatform.ops.models import AuditLog
from courseplatform.tenancy.rls import school_context
from courseplatform.webhooks import services
from courseplatform.webhooks.models import WebhookDelivery, WebhookEndpoint
from courseplatform.webhooks.selectors import current_secret
from tests.fixtures.schools import PASSWORD, host_of

pytestmark = pytest.mark.django_db

BASE = "/manage/settings/webhooks/"
PUBLIC_URL = "https://93.184.215.14/hooks"


@pytest.fixture
def owner_client(school_a: Any, client_for: Callable[..., Any]) -> Any:
    client = client_for(host_of(school_a.school))
    response = client.post(
        "/accounts/login/", {"email": school_a.owner.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    return client


def make_endpoint(school: Any, owner: Any, url: str = PUBLIC_URL, **kwargs: Any) -> Any:
    with school_context(school):
        return services.create_endpoint(
            school=school,
            actor=owner,
            url=url,
            description=kwargs.pop("description", "CRM"),
            event_types=kwargs.pop("event_types", list(EVENT_TYPES)),
        )


def test_owner_adds_edits_rotates_disables_and_deletes_an_endpoint_all_audited(
    school_a: Any, owner_client: Any
) -> None:
    school = school_a.school
    assert owner_client.get(BASE).status_code == 200
    assert owner_client.get(BASE + "new/").status_code == 200
    response = owner_client.post(
        BASE + "new/",
        {
            "url": PUBLIC_URL,
            "description": "CRM sync",
            "event_types": ["enrollment.created", "code.redeemed"],
        },
    )
    assert response.status_code == 302
    with school_context(school):
        endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["enrollment.created", "code.redeemed"]
    assert response["Location"] == f"{BASE}{endpoint.pk}/"
    page = owner_client.get(f"{BASE}{endpoint.pk}/").content.decode()
    assert current_secret(endpoint) in page and "Nothing sent yet" in page
    assert current_secret(endpoint).startswith("whsec_")
    assert endpoint.secret_ciphertext and current_secret(endpoint) not in endpoint.secret_ciphertext

    response = owner_client.post(
        f"{BASE}{endpoint.pk}/edit/",
        {"url": PUBLIC_URL + "/v2", "description": "CRM", "event_types": ["video.ready"]},
    )
    assert response.status_code == 302
    old_secret = current_secret(endpoint)
    assert owner_client.post(f"{BASE}{endpoint.pk}/rotate-secret/").status_code == 302
    assert owner_client.post(f"{BASE}{endpoint.pk}/enabled/", {"enabled": "0"}).status_code == 302
    with school_context(school):
        endpoint.refresh_from_db()
    assert endpoint.url == PUBLIC_URL + "/v2" and endpoint.event_types == ["video.ready"]
    assert current_secret(endpoint) != old_secret
    assert not endpoint.is_enabled and "Disabled by" in endpoint.disabled_reason
    # Disabled: no test event, no resend.
    owner_client.post(f"{BASE}{endpoint.pk}/test/")
    with school_context(school):
        assert not WebhookDelivery.objects.exists()
    assert owner_client.post(f"{BASE}{endpoint.pk}/enabled/", {"enabled": "1"}).status_code == 302
    assert owner_client.post(f"{BASE}{endpoint.pk}/delete/").status_code == 302
    with school_context(school):
        assert not WebhookEndpoint.objects.exists()
        actions = list(
            AuditLog.objects.filter(action__startswith="webhook.")
            .order_by("id")
            .values_list("action", flat=True)
        )
        updated = AuditLog.objects.get(action="webhook.endpoint_updated")
    assert actions == [
        "webhook.endpoint_created",
        "webhook.endpoint_updated",
        "webhook.secret_rotated",
        "webhook.endpoint_disabled",
        "webhook.endpoint_enabled",
        "webhook.endpoint_deleted",
    ]
    assert set(updated.data["changed"]) == {"url", "description", "events"}
    # No secret ever lands in the audit log.
    with school_context(school):
        assert "whsec_" not in str(list(AuditLog.objects.values_list("data", flat=True)))


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://93.184.215.14/x", "https://"),
        ("https:///x", "needs a host name"),
        ("http://user:secret@93.184.215.14/", "user names and passwords"),
        ("https://93.184.215.14/" + "a" * 2100, "at most 2000 characters"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://10.0.0.1/", "private address"),
        ("", "Enter the address"),
    ],
)
def test_bad_urls_get_a_form_error_and_nothing_is_saved(
    school_a: Any, owner_client: Any, url: str, words: str
) -> None:
    response = owner_client.post(BASE + "new/", {"url": url, "event_types": ["course.published"]})
    assert response.status_code == 200
    assert words in response.content.decode().replace("&#x27;", "'")
    with school_context(school_a.school):
        assert not WebhookEndpoint.objects.exists()
        assert not AuditLog.objects.filter(action__startswith="webhook.").exists()


def test_bad_edits_change_nothing(school_a: Any, owner_client: Any) -> None:
    endpoint = make_endpoint(school_a.school, school_a.owner)
    for data in (
        {"url": "http://127.0.0.1/", "event_types": ["video.ready"]},
        {"url": PUBLIC_URL, "event_types": []},
        {"url": PUBLIC_URL, "event_types": ["course.exploded"]},
        {"url": PUBLIC_URL, "description": "two\nlines", "event_types": ["video.ready"]},
    ):
        response = owner_client.post(f"{BASE}{endpoint.pk}/edit/", data)
        assert response.status_code == 200
        assert b"field-error" in response.content or b"alert-error" in response.content
    with school_context(school_a.school):
        endpoint.refresh_from_db()
    assert endpoint.url == PUBLIC_URL and endpoint.event_types == list(EVENT_TYPES)


def test_service_refuses_unknown_events_and_the_endpoint_cap(school_a: Any) -> None:
    from django.core.exceptions import ValidationError

    from courseplatform.webhooks.models import MAX_ENDPOINTS_PER_SCHOOL

    school, owner = school_a.school, school_a.owner
    with pytest.raises(ValidationError, match="Unknown events"):
        make_endpoint(school, owner, event_types=["course.exploded"])
    for _ in range(MAX_ENDPOINTS_PER_SCHOOL):
        make_endpoint(school, owner)
    with pytest.raises(ValidationError, match="at most 20"):
        make_endpoint(school, owner)


def test_only_the_owner_manages_webhooks(
    school_a: Any, make_user: Callable[..., Any], client_for: Callable[..., Any]
) -> None:
    school = school_a.school
    endpoint = make_endpoint(school, school_a.owner)
    anonymous = client_for(host_of(school))
    assert anonymous.get(BASE).status_code == 302
    for role in ("instructor", "student"):
        user = make_user(school, f"{role}@alpha.test", role=role)
        client = client_for(host_of(school))
        with school_context(school):
            client.force_login(user)
        for path in (BASE, f"{BASE}new/", f"{BASE}{endpoint.pk}/"):
            assert client.get(path).status_code == 403, (role, path)
        assert client.post(f"{BASE}{endpoint.pk}/rotate-secret/").status_code == 403
        with school_context(school):
            with pytest.raises(Exception, match="owner"):
                services.rotate_secret(school=school, actor=user, endpoint=endpoint)


def test_school_b_cannot_see_change_or_resend_school_a_endpoints(
    school_a: Any, school_b: Any, client_for: Callable[..., Any]
) -> None:
    from django.http import Http404

    endpoint = make_endpoint(school_a.school, school_a.owner)
    with school_context(school_a.school):
        [delivery] = services.queue_event(
            Event(school_id=school_a.school.pk, type="course.published", data={"id": 1})
        )
    b_client = client_for(host_of(school_b.school))
    with school_context(school_b.school):
        b_client.force_login(school_b.owner)
    e, d = endpoint.pk, delivery.pk
    for path in (f"{BASE}{e}/", f"{BASE}{e}/edit/", f"{BASE}{e}/deliveries/{d}/"):
        assert b_client.get(path).status_code == 404, path
    for path in (
        f"{BASE}{e}/rotate-secret/",
        f"{BASE}{e}/enabled/",
        f"{BASE}{e}/delete/",
        f"{BASE}{e}/test/",
        f"{BASE}{e}/deliveries/{d}/resend/",
        f"{BASE}{e}/edit/",
    ):
        assert b_client.post(path, {"enabled": "0", "url": PUBLIC_URL}).status_code == 404, path
    assert PUBLIC_URL not in b_client.get(BASE).content.decode()
    # The services say the same, and RLS hides the rows even from an unscoped query.
    with school_context(school_b.school):
        with pytest.raises(Http404):
            services.delete_endpoint(
                school=school_b.school, actor=school_b.owner, endpoint=endpoint
            )
        assert not WebhookEndpoint.objects.filter(pk=e).exists()
        assert not WebhookDelivery.objects.filter(pk=d).exists()
    with school_context(school_a.school):
        endpoint.refresh_from_db()
        assert endpoint.is_enabled
        assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1


def test_a_school_events_never_go_to_another_school_endpoints(school_a: Any, school_b: Any) -> None:
    mine = make_endpoint(school_a.school, school_a.owner)
    theirs = make_endpoint(school_b.school, school_b.owner, url=PUBLIC_URL + "/b")
    with school_context(school_a.school):
        deliveries = services.queue_event(
            Event(school_id=school_a.school.pk, type="enrollment.created", data={"id": 1})
        )
    assert [d.endpoint_id for d in deliveries] == [mine.pk]
    with school_context(school_b.school):
        assert not WebhookDelivery.objects.filter(endpoint=theirs).exists()


def test_delivery_log_and_detail_pages_with_resend_and_test_event(
    school_a: Any, owner_client: Any
) -> None:
    school = school_a.school
    endpoint = make_endpoint(school, school_a.owner)
    with school_context(school):
        [delivery] = services.queue_event(
            Event(school_id=school.pk, type="code.redeemed", data={"code_id": 3})
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            attempts=1,
            status="failed",
            response_status=500,
            response_body="<b>oops</b>",
            latency_ms=42,
            error="The endpoint answered 500.",
            request_headers={"webhook-id": delivery.event_id},
        )
    log = owner_client.get(f"{BASE}{endpoint.pk}/").content.decode()
    assert "code.redeemed" in log and "42 ms" in log and "Failed" in log
    detail = owner_client.get(f"{BASE}{endpoint.pk}/deliveries/{delivery.pk}/").content.decode()
    assert "&lt;b&gt;oops&lt;/b&gt;" in detail and "&quot;code_id&quot;: 3" in detail
    assert delivery.event_id in detail
    assert (
        owner_client.post(f"{BASE}{endpoint.pk}/deliveries/{delivery.pk}/resend/").status_code
        == 302
    )
    assert owner_client.post(f"{BASE}{endpoint.pk}/test/").status_code == 302
    with school_context(school):
        kinds = list(WebhookDelivery.objects.order_by("id").values_list("event_type", "event_id"))
    assert kinds[1] == ("code.redeemed", delivery.event_id)
    assert kinds[2][0] == "webhook.test"


def test_settings_page_links_to_webhooks_for_the_owner(school_a: Any, owner_client: Any) -> None:
    assert b'href="/manage/settings/webhooks/"' in owner_client.get("/manage/settings/").content


def test_endpoint_page_queries_do_not_grow_with_the_log(school_a: Any, owner_client: Any) -> None:
    school = school_a.school
    endpoint = make_endpoint(school, school_a.owner)

    def add(count: int) -> None:
        with school_context(school):
            for _ in range(count):
                services.queue_event(
                    Event(school_id=school.pk, type="video.ready", data={"id": "x"})
                )

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(path).status_code == 200
        return len(captured)

    add(2)
    queries(BASE)  # the first request also caches the signed-in user (accounts)
    small = (queries(f"{BASE}{endpoint.pk}/"), queries(BASE))
    add(30)
    make_endpoint(school, school_a.owner, url=PUBLIC_URL + "/2")
    assert (queries(f"{BASE}{endpoint.pk}/"), queries(BASE)) == small


def test_an_event_of_a_school_without_endpoints_costs_one_query(
    school_a: Any, django_assert_num_queries: Any
) -> None:
    school = school_a.school
    event = Event(school_id=school.pk, type="enrollment.created", data={"id": 1})
    with school_context(school), django_assert_num_queries(1):
        assert services.queue_event(event) == []
