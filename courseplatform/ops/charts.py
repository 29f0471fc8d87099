"""Chart specs for ``templates/partials/chart.html`` and ``frontend/src/js/charts.js``.

A chart is data, never code: the view builds a :class:`Chart`, the include writes its
spec as a ``<script type="application/json">`` block (``json_script`` escapes it) next
to a ``<canvas data-chart="<id>">``, and the bundled Chart.js draws it. So pages keep
the strict CSP (no inline script) and every figure is also in the HTML for tests and
for the CSV download. README "Charts" describes the contract.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

TYPES = ("line", "bar", "doughnut")
# Tailwind classes for the canvas box (Chart.js fills its parent: maintainAspectRatio off).
HEIGHTS = {"sm": "h-48", "md": "h-64", "lg": "h-80"}
_ID = re.compile(r"^[a-z][a-z0-9-]{0,63}$")

Number = int | float | None


@dataclass(frozen=True)
class Series:
    label: str
    data: Sequence[Number]


@dataclass(frozen=True)
class Chart:
    """One chart. ``id`` names the JSON block (unique on the page, ``[a-z][a-z0-9-]*``);
    ``title`` is the canvas' accessible name."""

    id: str
    type: str
    title: str
    labels: Sequence[Any]
    series: Sequence[Series]
    horizontal: bool = False
    stacked: bool = False
    percent: bool = False
    y_label: str = ""
    x_label: str = ""
    height: str = "md"
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ValueError(f"chart id {self.id!r}: use lowercase letters, digits and dashes")
        if self.type not in TYPES:
            raise ValueError(f"chart type {self.type!r}: one of {', '.join(TYPES)}")
        if self.height not in HEIGHTS:
            raise ValueError(f"chart height {self.height!r}: one of {', '.join(HEIGHTS)}")
        for series in self.series:
            if len(series.data) != len(self.labels):
                raise ValueError(
                    f"chart {self.id}: series {series.label!r} has {len(series.data)} values "
                    f"for {len(self.labels)} labels"
                )

    @property
    def data_id(self) -> str:
        return f"{self.id}-data"

    @property
    def height_class(self) -> str:
        return HEIGHTS[self.height]

    @property
    def is_empty(self) -> bool:
        return not self.labels or all(not any(s.data) for s in self.series)

    @property
    def spec(self) -> dict[str, Any]:
        """What charts.js reads (JSON-serialisable)."""
        return {
            "type": self.type,
            "labels": [str(label) for label in self.labels],
            "series": [{"label": s.label, "data": list(s.data)} for s in self.series],
            "horizontal": self.horizontal,
            "stacked": self.stacked,
            "percent": self.percent,
            "y_label": self.y_label,
            "x_label": self.x_label,
            **self.extra,
        }
