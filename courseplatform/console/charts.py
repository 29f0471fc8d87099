"""The console's weekly charts as specs for the shared chart bundle
(``frontend/src/js/charts.js``: a ``<canvas data-chart>`` and its JSON spec)."""

from __future__ import annotations

from typing import Any

from . import selectors

GIB = 1024**3


def _spec(
    kind: str, labels: list[str], series: list[tuple[str, list[float]]], **extra: Any
) -> dict[str, Any]:
    return {
        "type": kind,
        "labels": labels,
        "series": [{"label": label, "data": data} for label, data in series],
        **extra,
    }


def _with_rows(chart: dict[str, Any]) -> dict[str, Any]:
    # The same figures as a table under the chart (screen readers, copying).
    spec = chart["spec"]
    columns = [series["data"] for series in spec["series"]]
    rows = [[label, *(column[i] for column in columns)] for i, label in enumerate(spec["labels"])]
    return {**chart, "data_id": f"{chart['id']}-data", "rows": rows}


def weekly_charts() -> list[dict[str, Any]]:
    """Each chart: id, title, description, spec, data_id (of its JSON element) and
    rows (the same figures as a table); weeks start on Monday, UTC."""
    return [_with_rows(chart) for chart in _charts()]


def _charts() -> list[dict[str, Any]]:
    starts = selectors.week_starts()
    labels = [start.isoformat() for start in starts]
    suspended, reactivated = selectors.churn_per_week(starts)
    storage = [round(value / GIB, 3) for value in selectors.storage_added_per_week(starts)]
    return [
        {
            "id": "chart-signups",
            "title": "Signups",
            "description": "New schools per week.",
            "spec": _spec("bar", labels, [("New schools", selectors.signups_per_week(starts))]),
        },
        {
            "id": "chart-active",
            "title": "Active schools",
            "description": (
                "Schools with an audit entry, a new enrolment or student progress in the week."
            ),
            "spec": _spec(
                "line", labels, [("Active schools", selectors.active_schools_per_week(starts))]
            ),
        },
        {
            "id": "chart-churn",
            "title": "Churn",
            "description": "Schools suspended and reactivated per week.",
            "spec": _spec("bar", labels, [("Suspended", suspended), ("Reactivated", reactivated)]),
        },
        {
            "id": "chart-storage",
            "title": "Storage added",
            "description": "GiB of video and attachments added per week (files still stored).",
            "spec": _spec("bar", labels, [("GiB added", storage)], y_label="GiB"),
        },
        {
            "id": "chart-transcode",
            "title": "Transcode hours",
            "description": "Wall-clock transcoder hours of the videos finished in the week.",
            "spec": _spec(
                "line",
                labels,
                [("Hours", selectors.transcode_hours_per_week(starts))],
                y_label="hours",
            ),
        },
    ]
