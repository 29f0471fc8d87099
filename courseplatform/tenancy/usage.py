"""Plan usage: what a school uses of each metered plan limit.

``tenancy`` owns the plans and their limits but knows no feature app, so the figures
come from the apps that hold the data: each registers a provider per meter in its
``AppConfig.ready`` (courses: courses and attachment bytes; accounts: students; video:
video bytes and minutes; sites: pages). A meter's figure is the sum of its providers. The dashboard,
the plan checks and the upload quota all read the figures here, so they always agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Expression, FloatField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce
from django.utils.translation import gettext as _

from .models import School


class Meter(StrEnum):
    COURSES = "courses"
    STUDENTS = "students"
    STORAGE_BYTES = "storage_bytes"
    VIDEO_MINUTES = "video_minutes"
    PAGES = "pages"
    CUSTOM_DOMAINS = "custom_domains"


# provider(school, exclude) -> figure. ``exclude`` is a row being replaced (a video whose
# file changes): the provider that holds rows of that kind leaves it out, others ignore it.
UsageProvider = Callable[[School, object], float]
# query(school) -> a query of one row and one column holding the same figure (no row
# counts as 0), see ``figure_query``. ``measure_many`` (the dashboard's ``plan_usage``)
# reads the figures of every provider that has one in a single statement.
UsageQuery = Callable[[School], QuerySet[Any]]

_providers: dict[Meter, dict[str, UsageProvider]] = {meter: {} for meter in Meter}
_queries: dict[Meter, dict[str, UsageQuery]] = {meter: {} for meter in Meter}


def register_usage(
    meter: Meter, name: str, provider: UsageProvider, *, query: UsageQuery | None = None
) -> None:
    """Add ``provider`` to ``meter`` under ``name`` (the app label); registering a name
    again replaces its provider, so a repeated ``ready()`` cannot count twice.
    ``query`` is the same figure as SQL (without ``exclude``), for ``plan_usage``."""
    _providers[meter][name] = provider
    if query is None:
        _queries[meter].pop(name, None)
    else:
        _queries[meter][name] = query


def figure_query(rows: QuerySet[Any], figure: Aggregate | Expression) -> QuerySet[Any]:
    """``figure`` (an aggregate) over ``rows`` (one school's rows) as a usage query:
    ``SELECT <figure> FROM … WHERE school_id = … GROUP BY school_id``."""
    return rows.order_by().values("school_id").annotate(figure=figure).values("figure")


def usage_providers(meter: Meter) -> dict[str, UsageProvider]:
    return dict(_providers[meter])


def measure(meter: Meter, *, school: School, exclude: object = None) -> float:
    providers = _providers[meter]
    if not providers:
        # A silent zero would let every plan limit pass: fail loudly instead.
        raise LookupError(f"No app registered a usage provider for {meter.value!r}.")
    return sum(provider(school, exclude) for provider in providers.values())


def storage_used_bytes(*, school: School, exclude: object = None) -> int:
    """Bytes a school stores against its plan's storage quota."""
    return int(measure(Meter.STORAGE_BYTES, school=school, exclude=exclude))


@dataclass(frozen=True)
class Usage:
    """One number against one plan limit (limit None = unlimited)."""

    label: str  # in the request's language
    used: int
    limit: int | None
    unit: str = ""
    meter: str = ""  # the API's stable name of the figure ("video_minutes")

    @property
    def percent(self) -> int:
        if not self.limit:
            return 0
        return min(100, round(100 * self.used / self.limit))

    @property
    def at_limit(self) -> bool:
        return self.limit is not None and self.used >= self.limit


# The meters the dashboard and the settings page show, in their order.
_SHOWN = (Meter.COURSES, Meter.STUDENTS, Meter.STORAGE_BYTES, Meter.VIDEO_MINUTES, Meter.PAGES)


def measure_many(meters: tuple[Meter, ...], *, school: School) -> dict[Meter, float]:
    """Several meters at once: every provider with a query in one statement together,
    any other one called on its own (``measure`` for each meter gives the same figures)."""
    columns: list[str] = []
    params: list[Any] = []
    owners: list[Meter] = []
    figures = dict.fromkeys(meters, 0.0)
    for meter in meters:
        if not _providers[meter]:
            raise LookupError(f"No app registered a usage provider for {meter.value!r}.")
        for name, provider in _providers[meter].items():
            query = _queries[meter].get(name)
            if query is None:
                figures[meter] += provider(school, None)
                continue
            sql, query_params = query(school).query.sql_with_params()
            columns.append(f"COALESCE(({sql}), 0)")
            params.extend(query_params)
            owners.append(meter)
    if columns:
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(columns), params)
            row = cursor.fetchone()
        for meter, value in zip(owners, row, strict=True):
            figures[meter] += float(value)
    return figures


def plan_usage(school: School) -> list[Usage]:
    """Every metered figure against the plan's limit, for the dashboard and settings."""
    plan = school.plan
    figures = measure_many(_SHOWN, school=school)
    return [
        Usage(_("Courses"), round(figures[Meter.COURSES]), plan.max_courses, meter="courses"),
        Usage(_("Students"), round(figures[Meter.STUDENTS]), plan.max_students, meter="students"),
        Usage(
            _("Storage"),
            int(figures[Meter.STORAGE_BYTES]),
            plan.max_storage_bytes,
            unit="bytes",
            meter="storage",
        ),
        Usage(
            _("Video minutes"),
            round(figures[Meter.VIDEO_MINUTES]),
            plan.max_video_minutes,
            meter="video_minutes",
        ),
        Usage(_("Site pages"), round(figures[Meter.PAGES]), plan.max_pages, meter="site_pages"),
    ]


def annotate_usage(schools: QuerySet[School], meters: tuple[Meter, ...]) -> QuerySet[School]:
    """``schools`` with each meter's figure as ``usage_<meter>`` (a float), computed in
    the same statement as the list (one correlated aggregate per provider, evaluated
    only for the rows fetched): the operator console's list costs no query per school.
    Every provider of the meters must have a query (``register_usage(query=...)``);
    inside ``platform_bypass`` for more than the current school."""
    annotations: dict[str, Expression] = {}
    for meter in meters:
        parts: list[Expression] = []
        for name in _providers[meter]:
            query = _queries[meter].get(name)
            if query is None:
                raise LookupError(f"{meter.value!r} provider {name!r} has no usage query.")
            # The query filters ``school=<school>``: given the outer row, it correlates.
            correlated = query(OuterRef("pk"))  # type: ignore[arg-type]
            figure = Cast(Subquery(correlated), FloatField())
            parts.append(Coalesce(figure, Value(0.0), output_field=FloatField()))
        if not parts:
            raise LookupError(f"No app registered a usage provider for {meter.value!r}.")
        total = parts[0]
        for part in parts[1:]:
            total = total + part  # type: ignore[assignment,operator]
        annotations[f"usage_{meter.value}"] = total
    return schools.annotate(**annotations)
