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

_providers: dict[Meter, dict[str, UsageProvider]] = {meter: {} for meter in Meter}


def register_usage(meter: Meter, name: str, provider: UsageProvider) -> None:
    """Add ``provider`` to ``meter`` under ``name`` (the app label); registering a name
    again replaces its provider, so a repeated ``ready()`` cannot count twice."""
    _providers[meter][name] = provider


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

    label: str
    used: int
    limit: int | None
    unit: str = ""

    @property
    def percent(self) -> int:
        if not self.limit:
            return 0
        return min(100, round(100 * self.used / self.limit))

    @property
    def at_limit(self) -> bool:
        return self.limit is not None and self.used >= self.limit


def plan_usage(school: School) -> list[Usage]:
    """Every metered figure against the plan's limit, for the dashboard and settings."""
    plan = school.plan
    return [
        Usage("Courses", round(measure(Meter.COURSES, school=school)), plan.max_courses),
        Usage("Students", round(measure(Meter.STUDENTS, school=school)), plan.max_students),
        Usage("Storage", storage_used_bytes(school=school), plan.max_storage_bytes, unit="bytes"),
        Usage(
            "Video minutes",
            round(measure(Meter.VIDEO_MINUTES, school=school)),
            plan.max_video_minutes,
        ),
        Usage("Site pages", round(measure(Meter.PAGES, school=school)), plan.max_pages),
    ]
