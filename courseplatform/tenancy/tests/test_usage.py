"""The plan-usage registry: providers per meter, summed; a meter without one fails loudly."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from courseplatform.tenancy import usage
from courseplatform.tenancy.usage import Meter, Usage


@pytest.fixture
def empty_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(usage, "_providers", {meter: {} for meter in Meter})
    monkeypatch.setattr(usage, "_queries", {meter: {} for meter in Meter})


def _school(**limits: Any) -> Any:
    plan = SimpleNamespace(
        max_courses=None,
        max_students=None,
        max_storage_bytes=None,
        max_video_minutes=None,
        max_pages=None,
    )
    for name, value in limits.items():
        setattr(plan, name, value)
    return SimpleNamespace(plan=plan)


def _fixed(figure: float) -> usage.UsageProvider:
    return lambda school, exclude: figure


def test_measure_sums_the_providers_of_a_meter(empty_registry: None) -> None:
    usage.register_usage(Meter.STORAGE_BYTES, "files", lambda school, exclude: 1000)
    usage.register_usage(Meter.STORAGE_BYTES, "videos", lambda school, exclude: 24)
    usage.register_usage(Meter.COURSES, "courses", lambda school, exclude: 7)
    school = _school()
    assert usage.storage_used_bytes(school=school) == 1024
    assert usage.measure(Meter.COURSES, school=school) == 7


def test_measure_hands_the_excluded_row_to_every_provider(empty_registry: None) -> None:
    seen: list[object] = []

    def provider(school: Any, exclude: object) -> float:
        seen.append(exclude)
        return 0

    usage.register_usage(Meter.STORAGE_BYTES, "videos", provider)
    replaced = object()
    usage.storage_used_bytes(school=_school(), exclude=replaced)
    assert seen == [replaced]


def test_registering_a_name_again_replaces_its_provider(empty_registry: None) -> None:
    usage.register_usage(Meter.STUDENTS, "accounts", lambda school, exclude: 3)
    usage.register_usage(Meter.STUDENTS, "accounts", lambda school, exclude: 5)
    assert list(usage.usage_providers(Meter.STUDENTS)) == ["accounts"]
    assert usage.measure(Meter.STUDENTS, school=_school()) == 5


def test_measure_without_a_provider_fails_instead_of_reporting_zero(
    empty_registry: None,
) -> None:
    with pytest.raises(LookupError, match="video_minutes"):
        usage.measure(Meter.VIDEO_MINUTES, school=_school())


def test_plan_usage_sets_each_figure_against_its_plan_limit(empty_registry: None) -> None:
    figures = {
        Meter.COURSES: 3,
        Meter.STUDENTS: 10,
        Meter.STORAGE_BYTES: 2048,
        Meter.VIDEO_MINUTES: 12.6,
        Meter.PAGES: 4,
        Meter.CUSTOM_DOMAINS: 1,
    }
    for meter in Meter:
        usage.register_usage(meter, "test", _fixed(figures[meter]))
    rows = usage.plan_usage(
        _school(max_courses=3, max_students=40, max_storage_bytes=4096, max_pages=5)
    )
    by_label = {row.label: row for row in rows}
    assert [row.label for row in rows] == [
        "Courses",
        "Students",
        "Storage",
        "Video minutes",
        "Site pages",
    ]
    assert (by_label["Courses"].used, by_label["Courses"].limit) == (3, 3)
    assert by_label["Courses"].at_limit and by_label["Courses"].percent == 100
    assert by_label["Students"].percent == 25 and not by_label["Students"].at_limit
    assert by_label["Storage"].unit == "bytes" and by_label["Storage"].percent == 50
    assert by_label["Video minutes"].used == 13 and by_label["Video minutes"].limit is None
    assert by_label["Video minutes"].percent == 0 and not by_label["Video minutes"].at_limit
    assert (by_label["Site pages"].used, by_label["Site pages"].percent) == (4, 80)


def test_usage_percent_is_capped_at_one_hundred() -> None:
    assert Usage("Storage", 5000, 1000, unit="bytes").percent == 100
    assert Usage("Courses", 0, 0).percent == 0
