"""The analytics page's six figures, each one table: the chart draws it, the CSV is it.

``build_report`` runs the selectors once (a fixed number of queries) and turns each
figure into a :class:`Table` (header + rows, what the CSV download contains) and a
chart spec for ``templates/partials/chart.html``. Keeping one table per figure means
the chart and its CSV can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from courseplatform.ops.charts import Chart, Series

from . import selectors
from .ranges import DateRange
from .selectors import Scope

FIGURES = ("enrolments", "activity", "completion", "funnel", "watch-time", "redemptions")


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[Any]]


@dataclass
class Report:
    scope: Scope
    rng: DateRange
    course_id: int | None
    activity: selectors.Activity
    tables: dict[str, Table] = field(default_factory=dict)
    charts: dict[str, Chart] = field(default_factory=dict)
    as_of: datetime | None = None  # of the rollup figures (completion, funnel)
    funnel_enrolled: int = 0

    @property
    def new_enrolments(self) -> int:
        return sum(row[1] for row in self.tables["enrolments"].rows)

    @property
    def course_title(self) -> str:
        return self.scope.courses.get(self.course_id, "") if self.course_id else ""


def _pct(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def build_report(*, scope: Scope, rng: DateRange, course_id: int | None) -> Report:
    activity = selectors.activity(scope=scope)
    report = Report(scope=scope, rng=rng, course_id=course_id, activity=activity)
    period = "Week starting" if rng.weekly else "Day"

    enrolments = selectors.enrolments_over_time(scope=scope, rng=rng)
    report.tables["enrolments"] = Table(
        [period, "New enrolments"], [[day.isoformat(), n] for day, n in enrolments]
    )
    report.charts["enrolments"] = Chart(
        id="chart-enrolments",
        type="line" if len(enrolments) > 1 else "bar",
        title=_("New enrolments per week") if rng.weekly else _("New enrolments per day"),
        labels=[day.isoformat() for day, _n in enrolments],
        series=[Series(_("New enrolments"), [n for _day, n in enrolments])],
    )

    report.tables["activity"] = Table(
        ["Course", "Enrolled", "Active in 7 days", "Active in 30 days"],
        [[c.title, c.enrolled, c.active_7, c.active_30] for c in activity.courses],
    )
    report.charts["activity"] = Chart(
        id="chart-activity",
        type="bar",
        title=_("Active students per course"),
        labels=[c.title for c in activity.courses],
        series=[
            Series(_("Active in 7 days"), [c.active_7 for c in activity.courses]),
            Series(_("Active in 30 days"), [c.active_30 for c in activity.courses]),
        ],
        horizontal=True,
    )

    completion, as_of = selectors.completion(scope=scope)
    report.as_of = as_of
    report.tables["completion"] = Table(
        ["Course", "Lessons", "Enrolled", "Completed", "Completion %"],
        [[c.title, c.lessons, c.enrolled, c.completed, c.rate] for c in completion],
    )
    report.charts["completion"] = Chart(
        id="chart-completion",
        type="bar",
        title=_("Students who completed each course, percent of enrolled"),
        labels=[c.title for c in completion],
        series=[Series(_("Completed"), [c.rate for c in completion])],
        horizontal=True,
        percent=True,
    )

    steps: list[selectors.FunnelStep] = []
    if course_id is not None:
        steps, report.funnel_enrolled, funnel_as_of = selectors.funnel(
            scope=scope, course_id=course_id, rng=rng
        )
        if funnel_as_of and (report.as_of is None or funnel_as_of < report.as_of):
            report.as_of = funnel_as_of
    enrolled = report.funnel_enrolled
    funnel_rows = []
    previous = enrolled
    for number, step in enumerate(steps, start=1):
        funnel_rows.append(
            [
                number,
                step.title,
                step.started,
                step.completed,
                _pct(step.completed, enrolled),
                max(0, previous - step.completed),
            ]
        )
        previous = step.completed
    report.tables["funnel"] = Table(
        ["#", "Lesson", "Opened", "Completed", "Completed % of enrolled", "Drop-off"],
        funnel_rows,
    )
    labels = [f"{n}. {step.title}" for n, step in enumerate(steps, start=1)]
    report.charts["funnel"] = Chart(
        id="chart-funnel",
        type="bar",
        title=_("Students who opened and completed each lesson of %(course)s")
        % {"course": report.course_title},
        labels=labels,
        series=[
            Series(_("Opened"), [s.started for s in steps]),
            Series(_("Completed"), [s.completed for s in steps]),
        ],
        horizontal=True,
        height="lg",
    )

    report.tables["watch-time"] = Table(
        ["#", "Lesson", "Seconds watched", "Minutes watched"],
        [
            [n, s.title, s.watched_seconds, round(s.watched_seconds / 60, 1)]
            for n, s in enumerate(steps, start=1)
        ],
    )
    report.charts["watch_time"] = Chart(
        id="chart-watch-time",
        type="bar",
        title=_("Minutes of video watched per lesson of %(course)s")
        % {"course": report.course_title},
        labels=labels,
        series=[Series(_("Minutes watched"), [round(s.watched_seconds / 60, 1) for s in steps])],
        horizontal=True,
        height="lg",
    )

    batches = selectors.redemptions(scope=scope, rng=rng)
    report.tables["redemptions"] = Table(
        ["Batch", "Codes", "Uses issued", "Uses redeemed", "Redemption %", "Redeemed in range"],
        [[b.name, b.codes, b.issued, b.used, b.rate, b.in_range] for b in batches],
    )
    report.charts["redemptions"] = Chart(
        id="chart-redemptions",
        type="bar",
        title=_("Redemption rate per code batch, percent of uses issued"),
        labels=[b.name for b in batches],
        series=[Series(_("Redeemed"), [b.rate for b in batches])],
        horizontal=True,
        percent=True,
    )
    return report
