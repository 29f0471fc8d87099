"""One JSON log line per request (and per task) with the ids that tie them together:
request id (a sane inbound ``X-Request-ID`` or a new one, echoed back), school, user,
route name, status, duration and SQL statement count."""

from __future__ import annotations

import json
import logging
import re
import signal
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from django.core.management import call_command
from django.test import Client

from courseplatform.ops.taskqueue import carried_context
from courseplatform.tenancy.rls import school_context
from courseplatform.webhooks.tasks import deliver_webhook
from tests.fixtures.schools import host_of
from tests.fixtures.tasks import queue_marker, write_marker

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


def lines(caplog: pytest.LogCaptureFixture, logger: str, event: str) -> list[dict[str, Any]]:
    found = [r.msg for r in caplog.records if r.name == logger and isinstance(r.msg, dict)]
    return [line for line in found if line["event"] == event]


def request_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return lines(caplog, "courseplatform.request", "request")


@pytest.mark.django_db
def test_a_signed_in_request_logs_one_line_with_every_id(
    make_school: Any, make_user: Any, logs: pytest.LogCaptureFixture
) -> None:
    school = make_school("alpha").school
    student = make_user(school, "student@alpha.test")
    client = Client(HTTP_HOST=host_of(school))
    with school_context(school):
        client.force_login(student)
    logs.clear()
    response = client.get("/courses/", HTTP_X_REQUEST_ID="edge-7f3a.2")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "edge-7f3a.2"
    (line,) = request_lines(logs)
    assert {k: v for k, v in line.items() if k not in {"duration_ms", "queries", "timestamp"}} == {
        "event": "request",
        "level": "info",
        "logger": "courseplatform.request",
        "request_id": "edge-7f3a.2",
        "school_id": school.pk,
        "user_id": student.pk,
        "method": "GET",
        "route": "courses:catalogue",
        "status": 200,
    }
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    assert isinstance(line["queries"], int) and line["queries"] >= 1
    json.dumps(line)  # one JSON line as rendered


@pytest.mark.django_db
@pytest.mark.parametrize(
    "inbound",
    ["", "has spaces in it", "x" * 65, "semi;colon", "new\nline"],
    ids=["missing", "spaces", "too-long", "punctuation", "newline"],
)
def test_an_unusable_inbound_request_id_is_replaced(
    inbound: str, logs: pytest.LogCaptureFixture
) -> None:
    extra: dict[str, Any] = {"HTTP_X_REQUEST_ID": inbound} if inbound else {}
    response = Client(HTTP_HOST="localhost").get("/", **extra)
    assert response.status_code == 200
    generated = response["X-Request-ID"]
    assert GENERATED_ID.match(generated)
    (line,) = request_lines(logs)
    assert line["request_id"] == generated and line["route"] == "platform_home"
    assert "school_id" not in line and "user_id" not in line  # the platform host, anonymous


@pytest.mark.django_db
@pytest.mark.parametrize("probe", ["healthz", "readyz"])
def test_healthy_probes_log_one_line_with_the_same_fields(
    probe: str, logs: pytest.LogCaptureFixture
) -> None:
    # By IP, as a load balancer probes: no school, nobody signed in.
    response = Client(HTTP_HOST="10.0.0.5").get(f"/{probe}", HTTP_X_REQUEST_ID=f"lb-{probe}")
    assert response.status_code == 200 and response["X-Request-ID"] == f"lb-{probe}"
    (line,) = request_lines(logs)
    assert set(line) == {
        "event", "level", "logger", "timestamp", "request_id",
        "method", "route", "status", "duration_ms", "queries",
    }  # fmt: skip
    assert (line["request_id"], line["route"], line["status"]) == (f"lb-{probe}", probe, 200)
    assert line["method"] == "GET" and line["duration_ms"] > 0
    # /healthz touches nothing; /readyz asks the database once.
    assert line["queries"] == (0 if probe == "healthz" else 1)


@pytest.mark.django_db
def test_probes_on_a_school_host_log_its_school_and_errors_are_logged(
    make_school: Any, logs: pytest.LogCaptureFixture
) -> None:
    school = make_school("alpha").school
    assert Client(HTTP_HOST=host_of(school)).get("/healthz").status_code == 200
    assert Client(HTTP_HOST="localhost").get("/nothing-here/").status_code == 404
    probe, missing = request_lines(logs)
    # Probes answer before host resolution: the school is not looked up for them.
    assert (probe["route"], probe["status"]) == ("healthz", 200) and "school_id" not in probe
    assert (missing["route"], missing["status"]) == ("unresolved", 404)


@pytest.mark.django_db
def test_ids_do_not_leak_into_the_next_request(
    make_school: Any, logs: pytest.LogCaptureFixture
) -> None:
    school = make_school("alpha").school
    Client(HTTP_HOST=host_of(school)).get("/")
    Client(HTTP_HOST="localhost").get("/")
    school_line, platform_line = request_lines(logs)
    assert school_line["school_id"] == school.pk
    assert "school_id" not in platform_line
    assert school_line["request_id"] != platform_line["request_id"]
    assert structlog.contextvars.get_contextvars() == {}


@pytest.fixture
def _keep_signal_handlers() -> Iterator[None]:
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def _work() -> None:
    call_command(
        "db_worker", queue_name="*", batch=True, startup_delay=False, reload=False, verbosity=0
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_keep_signal_handlers")
def test_tasks_log_their_ids_status_duration_and_queries(
    make_school: Any, logs: pytest.LogCaptureFixture, tmp_path: Any
) -> None:
    school = make_school("alpha").school
    # Queued outside any request (a periodic command): no ids to carry.
    marker = write_marker.enqueue(str(tmp_path / "m.txt"), "x")
    # Queued inside a request's context (another school's, even): the enqueue line
    # carries the request's ids.
    structlog.contextvars.bind_contextvars(request_id="req-1", school_id=school.pk + 1, user_id=7)
    try:
        delivery = deliver_webhook.enqueue(school.pk, 987654321)
    finally:
        structlog.contextvars.clear_contextvars()
    enqueued = lines(logs, "courseplatform.task", "task.enqueued")
    assert "request_id" not in enqueued[0] and enqueued[0]["task_id"] == str(marker.id)
    assert [
        (e["task_id"], e["request_id"], e["school_id"], e["user_id"]) for e in enqueued[1:]
    ] == [
        (str(delivery.id), "req-1", school.pk + 1, 7),
    ]
    assert enqueued[1]["task"] == "courseplatform.webhooks.tasks.deliver_webhook"
    assert enqueued[1]["queue"] == "webhooks"

    _work()
    ran = {line["task_id"]: line for line in lines(logs, "courseplatform.task", "task")}
    plain, school_task = ran[str(marker.id)], ran[str(delivery.id)]
    assert plain["status"] == school_task["status"] == "SUCCESSFUL"
    assert plain["task"] == "tests.fixtures.tasks.write_marker" and plain["queue"] == "default"
    # Its first parameter is not a school and nothing queued it from a request.
    assert not {"school_id", "request_id", "user_id"} & set(plain)
    # The school the task works on wins over the enqueuing request's.
    assert school_task["school_id"] == school.pk
    assert school_task["queries"] >= 1 and school_task["duration_ms"] > 0
    # The worker runs outside any request, but the run carries its enqueuer's ids.
    assert (school_task["request_id"], school_task["user_id"]) == ("req-1", 7)
    assert structlog.contextvars.get_contextvars() == {}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_keep_signal_handlers")
def test_a_task_queued_by_a_request_logs_its_run_with_that_requests_ids(
    make_school: Any, make_user: Any, logs: pytest.LogCaptureFixture
) -> None:
    from courseplatform.accounts.models import User

    school = make_school("alpha").school
    make_school("bravo")  # another school's ids must not appear anywhere
    with school_context(school):
        owner = User.objects.get(school=school, email="owner@alpha.test")
    client = Client(HTTP_HOST=host_of(school))
    with school_context(school):
        client.force_login(owner)
    logs.clear()
    # The analytics page's "Refresh now" queues the rollup task after its commit.
    response = client.post("/manage/analytics/refresh/", HTTP_X_REQUEST_ID="edge-42.refresh")
    assert response.status_code == 302
    (queued,) = lines(logs, "courseplatform.task", "task.enqueued")
    assert queued["task"] == "courseplatform.analytics.tasks.refresh_school_analytics"
    ids = {"request_id": "edge-42.refresh", "school_id": school.pk, "user_id": owner.pk}
    assert {key: queued[key] for key in ids} == ids
    assert structlog.contextvars.get_contextvars() == {}

    logs.clear()
    _work()  # the real worker, outside any request
    run_ids = {**ids, "task_id": queued["task_id"]}
    # A line the task writes while it runs, and the worker's closing line.
    (during,) = lines(logs, "courseplatform.analytics.tasks", "analytics.refreshed")
    (closing,) = lines(logs, "courseplatform.task", "task")
    for line in (during, closing):
        assert {key: line[key] for key in run_ids} == run_ids
        assert line["task"] == queued["task"] and line["queue"] == "default"
    assert closing["status"] == "SUCCESSFUL"
    assert structlog.contextvars.get_contextvars() == {}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_keep_signal_handlers")
def test_a_task_queued_by_a_running_task_inherits_the_request_id(
    logs: pytest.LogCaptureFixture, tmp_path: Any
) -> None:
    structlog.contextvars.bind_contextvars(request_id="req-chain", user_id=5)
    try:
        first = queue_marker.enqueue(str(tmp_path / "m.txt"), "x")
    finally:
        structlog.contextvars.clear_contextvars()
    _work()  # runs the first task, then the one it queued
    assert (tmp_path / "m.txt").read_text() == "x"
    ran = lines(logs, "courseplatform.task", "task")
    assert [line["task"] for line in ran] == [
        "tests.fixtures.tasks.queue_marker",
        "tests.fixtures.tasks.write_marker",
    ]
    second_id = ran[0]["task_id"] == str(first.id) and ran[1]["task_id"]
    assert second_id and second_id != str(first.id)
    for line in ran:
        assert (line["request_id"], line["user_id"]) == ("req-chain", 5)
        assert "school_id" not in line


@pytest.mark.parametrize(
    "context",
    [
        None,
        "edge-1",
        {"request_id": "bad id; drop table", "school_id": "7", "user_id": 2.5},
        {"request_id": "x" * 65, "school_id": True, "user_id": -3},
        {"request_id": ["edge-1"], "school_id": None, "user_id": 0},
    ],
    ids=["absent", "not-a-mapping", "wrong-types", "out-of-range", "nested"],
)
def test_a_row_with_a_forged_context_binds_nothing(context: Any) -> None:
    row: dict[str, Any] = {"args": [], "kwargs": {}}
    if context is not None:
        row["context"] = context
    assert carried_context(row) == {}
    assert carried_context(None) == {}
    good = {"request_id": "edge-1", "school_id": 3, "user_id": 4, "task_id": "not carried"}
    assert carried_context({"context": good}) == {
        "request_id": "edge-1",
        "school_id": 3,
        "user_id": 4,
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_keep_signal_handlers")
def test_a_failed_task_logs_a_warning(logs: pytest.LogCaptureFixture) -> None:
    result = write_marker.enqueue("/nonexistent-dir/for/sure/m.txt", "x")
    _work()
    (line,) = [
        line
        for line in lines(logs, "courseplatform.task", "task")
        if line["task_id"] == str(result.id)
    ]
    assert line["status"] == "FAILED" and line["level"] == "warning"


@pytest.mark.django_db
def test_a_page_from_the_process_cache_logs_its_route_and_school(
    make_school: Any, logs: pytest.LogCaptureFixture
) -> None:
    school = make_school("alpha").school
    visitor = Client(HTTP_HOST=host_of(school))
    rendered = visitor.get("/")
    from_memory = visitor.get("/")
    assert rendered.status_code == from_memory.status_code == 200
    first, second = request_lines(logs)
    assert first["queries"] >= 1 and second["queries"] == 0  # answered before the host gate
    for line in (first, second):
        assert (line["route"], line["school_id"]) == ("school_home", school.pk)
