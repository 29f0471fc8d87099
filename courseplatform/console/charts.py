"""The console's weekly charts, as ``ops.charts.Chart`` for the shared chart bundle
(``templates/partials/chart.html``, ``frontend/src/js/charts.js``)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from courseplatform.ops import requestcount
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
    def name(self) -> str:
        """Its name in ``BUILDERS`` and in its CSV's URL."""
        return self.chart.id.removeprefix("chart-")

    @property
    def header(self) -> list[str]:
        return ["week", *(series.label for series in self.chart.series)]

    @property
    def rows(self) -> list[list[Any]]:
        columns = [series.data for series in self.chart.series]
        return [
            [label, *(column[i] for column in columns)] for i, label in enumerate(self.chart.labels)
        ]


Builder = Callable[[list[str], list[datetime.date]], WeeklyChart]


def _signups(labels: list[str], starts: list[datetime.date]) -> WeeklyChart:
    return WeeklyChart(
        Chart(
            id="chart-signups",
            type="bar",
            title=_("Signups"),
            labels=labels,
            series=[Series(_("New schools"), selectors.signups_per_week(starts))],
        ),
        _("New schools per week."),
    )


def _active(labels: list[str], starts: list[datetime.date]) -> WeeklyChart:
    return WeeklyChart(
        Chart(
            id="chart-active",
            type="line",
            title=_("Active schools"),
            labels=labels,
            series=[Series(_("Active schools"), selectors.active_schools_per_week(starts))],
        ),
        _("Schools with an audit entry, a new enrolment or student progress in the week."),
    )


def _churn(labels: list[str], starts: list[datetime.date]) -> WeeklyChart:
    suspended, reactivated = selectors.churn_per_week(starts)
    return WeeklyChart(
        Chart(
            id="chart-churn",
            type="bar",
            title=_("Churn"),
            labels=labels,
            series=[
                Series(pgettext("schools, chart series", "Suspended"), suspended),
                Series(pgettext("schools, chart series", "Reactivated"), reactivated),
            ],
        ),
        _("Schools suspended and reactivated per week."),
    )


def _storage(labels: list[str], starts: list[datetime.date]) -> WeeklyChart:
    storage = [round(value / GIB, 3) for value in selectors.storage_added_per_week(starts)]
    return WeeklyChart(
        Chart(
            id="chart-storage",
            type="bar",
            title=_("Storage added"),
            labels=labels,
            series=[Series(_("GiB added"), storage)],
            y_label=_("GiB"),
        ),
        _("GiB of video and attachments added per week (files still stored)."),
    )


def _transcode(labels: list[str], starts: list[datetime.date]) -> WeeklyChart:
    return WeeklyChart(
        Chart(
            id="chart-transcode",
            type="line",
            title=_("Transcode hours"),
            labels=labels,
            series=[Series(_("Hours"), selectors.transcode_hours_per_week(starts))],
            y_label=_("hours"),
        ),
        _("Wall-clock transcoder hours of the videos finished in the week."),
    )


def _requests(labels: list[str], starts: list[datetime.date]) -> WeeklyChart:
    return WeeklyChart(
        Chart(
            id="chart-requests",
            type="line",
            title=_("Requests"),
            labels=labels,
            series=[Series(_("Requests"), requestcount.weekly(starts))],
            y_label=_("requests"),
        ),
        _(
            "Requests the web servers answered per week, every school and the platform "
            "(probes and metric scrapes left out; each process adds its count every minute)."
        ),
    )


# name (the CSV's URL: /console/charts/<name>.csv) -> builder, in page order.
BUILDERS: dict[str, Builder] = {
    "signups": _signups,
    "active": _active,
    "churn": _churn,
    "storage": _storage,
    "transcode": _transcode,
    "requests": _requests,
}


def _weeks() -> tuple[list[str], list[datetime.date]]:
    starts = selectors.week_starts()
    return [start.isoformat() for start in starts], starts


def weekly_charts() -> list[WeeklyChart]:
    """Signups, active schools, churn, storage added,
    transcode hours and requests per week of the last ``selectors.WEEKS`` weeks (weeks
    start on Monday, UTC)."""
    labels, starts = _weeks()
    return [build(labels, starts) for build in BUILDERS.values()]


def weekly_chart(name: str) -> WeeklyChart:
    """One chart by name (its CSV); raises ``KeyError`` for an unknown name."""
    build = BUILDERS[name]
    return build(*_weeks())
