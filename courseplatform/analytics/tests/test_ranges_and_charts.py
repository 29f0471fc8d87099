"""The date-range parser and the chart spec (no database)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from courseplatform.analytics.ranges import (
    DEFAULT_DAYS,
    MAX_DAYS,
    DateRange,
    RangeError,
    parse_range,
    today,
)
from courseplatform.ops.charts import Chart, Series


def test_default_and_one_sided_ranges() -> None:
    rng = parse_range({})
    assert rng.end == today() and rng.days == DEFAULT_DAYS
    start_only = parse_range({"start": "2025-01-10"})
    assert (start_only.start, start_only.days) == (date(2025, 1, 10), DEFAULT_DAYS)
    end_only = parse_range({"end": "2025-01-10"})
    assert (end_only.end, end_only.days) == (date(2025, 1, 10), DEFAULT_DAYS)
    # A start in the future with no end: just that day onwards up to itself.
    future = today() + timedelta(days=3)
    assert parse_range({"start": future.isoformat()}).days == 1
    assert parse_range({"start": " 2025-01-10 ", "end": "2025-01-10"}).days == 1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "10/01/2025"}, "is not a date"),
        ({"start": "2025-01-10", "end": "x" * 500}, "is not a date"),
        ({"start": "2025-02-01", "end": "2025-01-01"}, "after the end date"),
        ({"start": "2024-01-01", "end": "2025-01-02"}, f"at most {MAX_DAYS} days"),
        ({"start": "0001-01-01", "end": "0001-01-02"}, "on or after"),
    ],
)
def test_bad_ranges(params: dict[str, str], message: str) -> None:
    with pytest.raises(RangeError, match=message):
        parse_range(params)


def test_daily_and_weekly_buckets() -> None:
    daily = DateRange(date(2026, 11, 30), date(2026, 12, 2))
    assert not daily.weekly
    assert daily.buckets() == [date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)]
    assert daily.query() == "start=2026-11-30&end=2026-12-02"
    weekly = DateRange(date(2026, 1, 1), date(2026, 6, 30))  # Thursday .. Tuesday
    buckets = weekly.buckets()
    assert weekly.weekly and buckets[0] == date(2025, 12, 29) and buckets[-1] == date(2026, 6, 29)
    assert all(day.weekday() == 0 for day in buckets)
    assert weekly.bucket_of(date(2026, 3, 5)) == date(2026, 3, 2)


def test_chart_spec_and_its_checks() -> None:
    chart = Chart(
        id="chart-x",
        type="bar",
        title="X",
        labels=["a", "b"],
        series=[Series("One", [1, None])],
        percent=True,
        extra={"note": "n"},
    )
    assert chart.data_id == "chart-x-data" and chart.height_class == "h-64"
    assert chart.spec["series"] == [{"label": "One", "data": [1, None]}]
    assert chart.spec["percent"] is True and chart.spec["note"] == "n"
    assert not chart.is_empty
    assert Chart(id="e", type="line", title="", labels=[], series=[]).is_empty
    for bad in (
        {"id": "Bad id"},
        {"type": "pie3d"},
        {"height": "huge"},
        {"series": [Series("Two", [1])]},
    ):
        kwargs = {"id": "c", "type": "bar", "title": "", "labels": ["a", "b"], "series": []}
        with pytest.raises(ValueError):
            Chart(**(kwargs | bad))  # type: ignore[arg-type]
