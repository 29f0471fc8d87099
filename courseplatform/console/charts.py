"""The console's weekly charts, as ``ops.charts.Chart`` for the shared chart bundle
(``templates/partials/chart.html``, ``frontend/src/js/charts.js``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from courseplatform.ops.charts import Chart, Series

from . import selectors

GIB = 1024**3


@dataclass(frozen=True)
class WeeklyChart:
    """A chart with its description and its figures as table rows (under the chart,
    for screen readers and copying)."""

    chart: Chart
    description: str

    @property
    def rows(self) -> list[list[Any]]:
        columns = [series.data for series in self.chart.series]
        return [
            [label, *(column[i] for column in columns)] for i, label in enumerate(self.chart.labels)
        ]


def weekly_charts() -> list[WeeklyChart]:
    """Signups, active schools, churn, storage added and transcode hours per week of
    the last ``selectors.WEEKS`` weeks (weeks start on Monday, UTC)."""
    starts = selectors.week_starts()
    labels = [start.isoformat() for start in starts]
    suspended, reactivated = selectors.churn_per_week(starts)
    storage = [round(value / GIB, 3) for value in selectors.storage_added_per_week(starts)]
    return [
        WeeklyChart(
            Chart(
                id="chart-signups",
                type="bar",
                title="Signups",
                labels=labels,
                series=[Series("New schools", selectors.signups_per_week(starts))],
            ),
            "New schools per week.",
        ),
        WeeklyChart(
            Chart(
                id="chart-active",
                type="line",
                title="Active schools",
                labels=labels,
                series=[Series("Active schools", selectors.active_schools_per_week(starts))],
            ),
            "Schools with an audit entry, a new enrolment or student progress in the week.",
        ),
        WeeklyChart(
            Chart(
                id="chart-churn",
                type="bar",
                title="Churn",
                labels=labels,
                series=[Series("Suspended", suspended), Series("Reactivated", reactivated)],
            ),
            "Schools suspended and reactivated per week.",
        ),
        WeeklyChart(
            Chart(
                id="chart-storage",
                type="bar",
                title="Storage added",
                labels=labels,
                series=[Series("GiB added", storage)],
                y_label="GiB",
            ),
            "GiB of video and attachments added per week (files still stored).",
        ),
        WeeklyChart(
            Chart(
                id="chart-transcode",
                type="line",
                title="Transcode hours",
                labels=labels,
                series=[Series("Hours", selectors.transcode_hours_per_week(starts))],
                y_label="hours",
            ),
            "Wall-clock transcoder hours of the videos finished in the week.",
        ),
    ]
