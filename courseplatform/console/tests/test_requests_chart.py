"""Requests per week in the console: counted per web process in memory, added to one
cache key per week at most every REQUEST_COUNT_FLUSH_SECONDS (no database write),
charted next to the other weekly figures with a CSV of every chart."""

from __future__ import annotations

import csv
import datetime
import io
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connections
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from courseplatform.accounts.models import User
from courseplatform.console import charts, selectors
from courseplatform.ops import requestcount
from courseplatform.tenancy.rls import PLATFORM_ALIAS
from tests.fixtures.schools import host_of

PASSWORD = "a-long-test-passphrase-42"
pytestmark = pytest.mark.django_db(transaction=True)


def this_week() -> float:
    return requestcount.weekly(selectors.week_starts()[-1:])[0]


@pytest.fixture
def rarely_flushed(settings: Any) -> Iterator[None]:
    """Counts reach the cache only when a test calls ``flush()``."""
    settings.REQUEST_COUNT_FLUSH_SECONDS = 3600
    requestcount.flush()  # also pushes the deadline an hour away
    yield
    requestcount.flush()


def _staff_client() -> Client:
    staff = User.objects.create_superuser("ops@platform.test", PASSWORD)
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    return client


def test_weeks_start_on_monday_utc() -> None:
    def at(text: str) -> float:
        return datetime.datetime.fromisoformat(text).timestamp()

    sunday_night = requestcount.week_number(at("2026-12-06T23:59:59+00:00"))
    monday = requestcount.week_number(at("2026-12-07T00:00:00+00:00"))
    assert requestcount.week_start(sunday_night) == datetime.date(2026, 11, 30)
    assert requestcount.week_start(monday) == datetime.date(2026, 12, 7)
    # The same weeks the console's other series use.
    assert selectors.week_starts(today=datetime.date(2026, 12, 6))[-1] == datetime.date(
        2026, 11, 30
    )
    # Auckland's Monday morning is still Sunday in UTC: UTC decides.
    assert requestcount.week_start(
        requestcount.week_number(at("2026-12-07T09:00:00+13:00"))
    ) == datetime.date(2026, 11, 30)


@pytest.mark.usefixtures("rarely_flushed")
def test_requests_are_counted_in_memory_and_flushed_without_sql(
    make_school: Callable[..., Any],
) -> None:
    school = make_school("alpha").school
    before = this_week()
    visitor = Client(HTTP_HOST=host_of(school))
    assert visitor.get("/").status_code == 200
    assert Client(HTTP_HOST="localhost").get("/").status_code == 200
    assert Client(HTTP_HOST="localhost").get("/no-such-page/").status_code == 404
    # Probes and scrapes are the infrastructure looking at us: not counted.
    assert Client().get("/healthz").status_code == 200
    assert Client().get("/readyz").status_code == 200
    Client(HTTP_HOST="localhost").get("/metrics")
    assert this_week() == before  # still in the process, not written anywhere
    with (
        CaptureQueriesContext(connections["default"]) as runtime,
        CaptureQueriesContext(connections[PLATFORM_ALIAS]) as platform,
    ):
        requestcount.flush()
    assert runtime.captured_queries == platform.captured_queries == []
    assert this_week() == before + 3
    requestcount.flush()  # nothing new: nothing added twice
    assert this_week() == before + 3


def test_a_request_past_the_deadline_flushes_by_itself(settings: Any) -> None:
    settings.REQUEST_COUNT_FLUSH_SECONDS = 0  # every request is past the deadline
    requestcount.flush()
    before = this_week()
    for _ in range(3):
        assert Client(HTTP_HOST="localhost").get("/").status_code == 200
    assert this_week() == before + 3


def test_a_failed_flush_keeps_the_counts(settings: Any, caplog: pytest.LogCaptureFixture) -> None:
    settings.REQUEST_COUNT_FLUSH_SECONDS = 0
    requestcount.flush()
    before = this_week()
    caplog.set_level(logging.WARNING)
    # A cache nobody listens on (a closed loopback port): every write is refused.
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    with override_settings(CACHES=unreachable):
        requestcount.count_request()
        requestcount.count_request()
    events = [r.msg["event"] for r in caplog.records if isinstance(r.msg, dict)]
    assert events.count("requests.flush_failed") == 2
    assert this_week() == before
    requestcount.flush()  # the cache is back: both arrive once
    assert this_week() == before + 2


@pytest.mark.usefixtures("rarely_flushed")
def test_the_overview_charts_requests_per_week_with_a_csv() -> None:
    client = _staff_client()
    before = this_week()
    for _ in range(4):
        Client(HTTP_HOST="localhost").get("/")
    requestcount.flush()
    response = client.get("/console/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-chart="chart-requests-data"' in html
    assert 'href="/console/charts/requests.csv"' in html
    weekly = {w.chart.id: w for w in response.context["charts"]}
    requests = weekly["chart-requests"].chart.spec
    assert requests["series"][0]["data"][-1] == before + 4
    assert len(requests["labels"]) == selectors.WEEKS

    csv_response = client.get("/console/charts/requests.csv")
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    assert rows[0] == ["week", "Requests"]
    assert len(rows) == 1 + selectors.WEEKS
    assert rows[-1][0] == selectors.week_starts()[-1].isoformat()
    # The console's own requests since the flush are not in yet; the four are.
    assert float(rows[-1][1]) == before + 4


def test_every_overview_chart_has_a_csv_matching_its_table() -> None:
    client = _staff_client()
    response = client.get("/console/")
    names = [w.name for w in response.context["charts"]]
    assert names == list(charts.BUILDERS)
    for weekly in response.context["charts"]:
        if weekly.name == "requests":
            continue  # moves with every request; checked above
        body = client.get(f"/console/charts/{weekly.name}.csv")
        assert body.status_code == 200, weekly.name
        assert f'filename="platform-{weekly.name}-' in body["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(body.content.decode("utf-8-sig"))))
        assert rows[0] == weekly.header
        assert rows[1:] == [[str(cell) for cell in row] for row in weekly.rows]
    for unknown in ("nope", "chart-signups", "REQUESTS"):
        assert client.get(f"/console/charts/{unknown}.csv").status_code == 404
