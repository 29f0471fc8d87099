"""``/metrics``: who may read it, where it exists, and that its series name routes (never
paths or slugs) and move with real requests, real tasks and the services that count."""

from __future__ import annotations

import ipaddress
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from courseplatform.access.services import RedeemError, create_batch, redeem_code
from courseplatform.courses.services import create_course
from courseplatform.ops.routes import route_name
from courseplatform.webhooks.tasks import deliver_webhook
from tests.fixtures.schools import host_of
from tests.fixtures.tasks import write_marker

from .metrics_support import TOKEN, scrape

LATENCY = "courseplatform_http_request_duration_seconds_count"
QUERIES = "courseplatform_http_request_db_queries_count"
CACHE = "courseplatform_cache_lookups_total"


@pytest.fixture(autouse=True)
def metrics_token(settings: Any) -> None:
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_CIDRS = []


# --- who and where ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_neither_token_nor_networks_configured_refuses_everyone(settings: Any) -> None:
    settings.METRICS_TOKEN = ""
    response = Client(HTTP_HOST="localhost").get("/metrics", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code == 403
    assert b"courseplatform_" not in response.content
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", TOKEN],
    ids=["anonymous", "wrong-token", "wrong-scheme", "longer-token", "no-scheme"],
)
def test_anonymous_and_wrong_tokens_are_refused(authorization: str) -> None:
    extra: dict[str, Any] = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = Client(HTTP_HOST="localhost").get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"courseplatform_" not in response.content


@pytest.mark.django_db
def test_the_token_opens_it_on_the_platform_host_and_on_an_ip_address() -> None:
    for host in ("localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000"):
        assert "courseplatform_http_requests_in_flight" in scrape(host).names(), host


@pytest.mark.django_db
def test_school_hosts_and_unknown_hosts_have_no_metrics(make_school: Any) -> None:
    school = make_school("alpha").school
    for host in (host_of(school), "nobody.localhost", "example.com"):
        response = Client(HTTP_HOST=host).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 404, host
        assert b"courseplatform_" not in response.content


@pytest.mark.django_db
def test_allowed_networks_admit_by_client_address(settings: Any) -> None:
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_CIDRS = [ipaddress.ip_network("10.1.0.0/16")]
    inside = Client(HTTP_HOST="localhost", REMOTE_ADDR="10.1.2.3").get("/metrics")
    assert inside.status_code == 200
    outside = Client(HTTP_HOST="localhost", REMOTE_ADDR="10.2.0.1").get("/metrics")
    assert outside.status_code == 403
    # Behind one trusted proxy the forwarded client address is the one checked.
    settings.TRUSTED_PROXY_COUNT = 1
    relayed = Client(HTTP_HOST="localhost", REMOTE_ADDR="10.1.0.9").get(
        "/metrics", HTTP_X_FORWARDED_FOR="203.0.113.7"
    )
    assert relayed.status_code == 403
    # With a token configured as well, either opens it; a miss is then 401.
    settings.METRICS_TOKEN = TOKEN
    assert Client(HTTP_HOST="localhost", REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200
    assert Client(HTTP_HOST="localhost", REMOTE_ADDR="10.9.9.9").get("/metrics").status_code == 401


# --- what moves -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_requests_are_counted_by_route_name_method_and_status_class(make_school: Any) -> None:
    school = make_school("alpha").school
    visitor = Client(HTTP_HOST=host_of(school))
    before = scrape()
    for _ in range(3):
        assert visitor.get("/").status_code == 200
    assert visitor.get("/courses/no-such-course/").status_code == 404
    assert visitor.get("/no/such/page/").status_code == 404
    assert visitor.post("/").status_code in (403, 405)
    assert Client().generic("BREW", "/healthz").status_code == 200
    after = scrape()

    def moved(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    assert moved(LATENCY, route="school_home", method="GET", status="2xx") == 3
    assert moved(LATENCY, route="courses:course", method="GET", status="4xx") == 1
    assert moved(LATENCY, route="unresolved", method="GET", status="4xx") == 1
    assert moved(LATENCY, route="school_home", method="POST") == 1
    assert moved(LATENCY, route="healthz", method="other", status="2xx") == 1
    assert moved(QUERIES, route="school_home") == 4  # the POST too
    # The landing page's first visit was rendered (a miss in Redis, then stored in the
    # process), the next two came from this process's copy, before host resolution; the
    # missing course was rendered too (not stored: a 404). The four requests that got as
    # far as the host gate looked the school up in PostgreSQL at most once.
    assert moved(CACHE, cache="page_process", result="miss") == 1
    assert moved(CACHE, cache="page_process", result="hit") == 2
    assert moved(CACHE, cache="page", result="miss") == 2
    assert moved(CACHE, cache="page", result="hit") == 0
    host_lookups = moved(CACHE, cache="host", result="hit") + moved(
        CACHE, cache="host", result="miss"
    )
    assert host_lookups == 4 and moved(CACHE, cache="host", result="miss") <= 1
    # Bounded labels: no slug, path or school anywhere in the output.
    assert school.slug not in after.text and "no-such" not in after.text
    routes = after.label_values(LATENCY, "route")
    assert all("/" not in route or "<" in route for route in routes), routes
    assert after.value("courseplatform_http_requests_in_flight") == 1  # the scrape itself
    buckets = after.value(
        "courseplatform_http_request_duration_seconds_bucket", route="school_home", le="+Inf"
    )
    assert buckets == after.value(LATENCY, route="school_home")


@pytest.mark.django_db
def test_schools_are_counted_by_plan_and_status(make_school: Any) -> None:
    before = scrape().value("courseplatform_schools", plan="free", status="active")
    make_school("alpha")
    make_school("bravo")
    make_school("charlie", plan="premium")
    after = scrape()
    assert after.value("courseplatform_schools", plan="free", status="active") == before + 2
    assert after.value("courseplatform_schools", plan="premium", status="active") >= 1
    assert after.value("courseplatform_scrape_collector_up", collector="schools") == 1


@pytest.fixture
def _keep_signal_handlers() -> Iterator[None]:
    # The worker installs its own SIGINT/SIGTERM handlers; pytest's must come back.
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_keep_signal_handlers")
def test_queue_depth_age_and_a_real_task_run(tmp_path: Any) -> None:
    task = "tests.fixtures.tasks.write_marker"
    before = scrape()
    write_marker.enqueue(str(tmp_path / "one.txt"), "1")
    write_marker.enqueue(str(tmp_path / "two.txt"), "2")
    queued = scrape()
    assert queued.value("courseplatform_task_queue_depth", queue="default") == 2
    assert queued.value("courseplatform_task_queue_oldest_age_seconds", queue="default") >= 0
    assert queued.label_values("courseplatform_task_queue_depth", "queue") >= {
        "default",
        "video",
        "webhooks",
    }
    assert queued.value("courseplatform_scrape_collector_up", collector="task_queue") == 1

    call_command(
        "db_worker", queue_name="*", batch=True, startup_delay=False, reload=False, verbosity=0
    )
    done = scrape()
    assert (tmp_path / "two.txt").read_text() == "2"
    assert done.value("courseplatform_task_queue_depth", queue="default") == 0
    assert done.value("courseplatform_task_queue_oldest_age_seconds", queue="default") == 0
    ran = done.value(
        "courseplatform_tasks_total", task=task, queue="default", status="SUCCESSFUL"
    ) - before.value("courseplatform_tasks_total", task=task, queue="default", status="SUCCESSFUL")
    assert ran == 2
    timed = done.value("courseplatform_task_duration_seconds_count", task=task) - before.value(
        "courseplatform_task_duration_seconds_count", task=task
    )
    assert timed == 2


@pytest.mark.django_db(transaction=True)
def test_a_failing_scrape_time_query_leaves_the_rest_served(monkeypatch: Any) -> None:
    from courseplatform.ops import prometheus

    def broken() -> list[Any]:
        raise RuntimeError("the task table is unreachable")

    monkeypatch.setattr(prometheus, "_queue_families", broken)
    result = scrape()
    assert result.value("courseplatform_scrape_collector_up", collector="task_queue") == 0
    assert result.value("courseplatform_scrape_collector_up", collector="schools") == 1
    assert "courseplatform_task_queue_depth" not in result.names()


@pytest.mark.django_db
def test_redemptions_are_counted_by_outcome(make_school: Any, make_user: Any) -> None:
    new = make_school("alpha")
    school, owner = new.school, new.owner
    student = make_user(school, "student@alpha.test")
    from courseplatform.tenancy.rls import school_context

    with school_context(school):
        course = create_course(school=school, actor=owner, title="Basics")
        batch = create_batch(
            school=school, actor=owner, name="Spring", course_ids=[course.pk], code_count=1
        )
    before = scrape()
    with school_context(school):
        for attempt in ("not a code", "AAAA-BBBB-CCCC-DDDD"):
            with pytest.raises(RedeemError):
                redeem_code(school=school, student=student, raw_code=attempt)
        redeem_code(school=school, student=student, raw_code=batch.codes[0])
        redeem_code(school=school, student=student, raw_code=batch.codes[0])
    after = scrape()
    name = "courseplatform_code_redemptions_total"
    moved = {
        outcome: after.value(name, outcome=outcome) - before.value(name, outcome=outcome)
        for outcome in ("format", "invalid", "redeemed", "already_enrolled")
    }
    assert moved == {"format": 1, "invalid": 1, "redeemed": 1, "already_enrolled": 1}


@pytest.mark.django_db
def test_webhook_deliveries_are_counted_by_outcome(make_school: Any) -> None:
    school = make_school("alpha").school
    name = "courseplatform_webhook_deliveries_total"
    before = scrape().value(name, outcome="gone")
    assert deliver_webhook.call(school.pk, 987654321) == "gone"
    assert scrape().value(name, outcome="gone") == before + 1


def test_route_names_for_requests_no_url_pattern_answered() -> None:
    from django.test import RequestFactory

    factory = RequestFactory()
    assert route_name(factory.get("/static/dist/app.css")) == "static"
    assert route_name(factory.get("/internal/tls-ask")) == "tls_ask"
    assert route_name(factory.get("/anything/else")) == "unresolved"
