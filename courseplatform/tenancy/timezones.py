"""A school's time zone: an IANA name (``Europe/Paris``) checked against zoneinfo.

Drip schedules count days and dates in it. A stored name that zoneinfo no longer
knows (a tz database update removed it) falls back to UTC rather than breaking pages.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.core.exceptions import ValidationError

DEFAULT_TIME_ZONE = "UTC"
UTC = ZoneInfo("UTC")


@lru_cache(maxsize=1)
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone name zoneinfo knows, sorted (the settings form's choices)."""
    return tuple(sorted(available_timezones()))


def validate_time_zone(value: str) -> None:
    """Refuse anything but a zone name zoneinfo can load (no paths, no blanks)."""
    if not isinstance(value, str) or value not in time_zone_names():
        raise ValidationError(
            "Unknown time zone %(value)s: choose an IANA name such as Europe/London.",
            code="time_zone",
            params={"value": repr(value)[:80]},
        )


@lru_cache(maxsize=512)
def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def school_zone(school: Any) -> ZoneInfo:
    """The school's zone (UTC when unset or unknown)."""
    return zone_named(getattr(school, "time_zone", "") or DEFAULT_TIME_ZONE)
