"""The analytics date range: ``?start=YYYY-MM-DD&end=YYYY-MM-DD`` (both days included).

A plain GET form, so it works without JavaScript and every view is a shareable URL.
No parameters → the last ``DEFAULT_DAYS`` days up to today. Bad input is refused with
a message saying what to fix (the page answers 400 and shows no figures): a date that
is not a date, a start after the end, a range longer than ``MAX_DAYS``, or a start
before ``EARLIEST``. Days are the school's days: midnight to midnight in its
``time_zone`` (a 23- or 25-hour day at a daylight-saving change), and "today" is the
school's today. Charts show one point per day up to ``DAILY_UP_TO_DAYS`` days, per week
(Monday) above.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from django.http import QueryDict
from django.utils import formats, timezone
from django.utils.translation import gettext as _

DEFAULT_DAYS = 30
MAX_DAYS = 366
DAILY_UP_TO_DAYS = 92
EARLIEST = date(2000, 1, 1)
PRESETS = (7, 30, 90, 365)


class RangeError(ValueError):
    """The range given is unusable; ``str(error)`` says why, for the person."""


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date  # included
    zone: tzinfo = field(default=UTC, compare=False)  # whose midnights bound the days

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def weekly(self) -> bool:
        return self.days > DAILY_UP_TO_DAYS

    @property
    def since(self) -> datetime:
        """The range's first instant: midnight of its first day in ``zone``."""
        return _midnight(self.start, self.zone)

    @property
    def until(self) -> datetime:
        """The first instant after the range (exclusive upper bound)."""
        return _midnight(self.end + timedelta(days=1), self.zone)

    def buckets(self) -> list[date]:
        """Every day of the range, or every Monday starting a week that overlaps it."""
        if not self.weekly:
            return [self.start + timedelta(days=i) for i in range(self.days)]
        first = self.start - timedelta(days=self.start.weekday())
        weeks = (self.end - first).days // 7 + 1
        return [first + timedelta(weeks=i) for i in range(weeks)]

    def bucket_of(self, day: date) -> date:
        return day - timedelta(days=day.weekday()) if self.weekly else day

    def query(self) -> str:
        return f"start={self.start.isoformat()}&end={self.end.isoformat()}"


def _midnight(day: date, zone: tzinfo) -> datetime:
    # In UTC, so comparisons and SQL parameters carry the instant, not a wall time.
    # zoneinfo resolves a midnight that a daylight-saving jump skips (fold 0) to the
    # instant the day really starts.
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def today(zone: tzinfo = UTC, *, now: datetime | None = None) -> date:
    """Today's date in ``zone`` (``now``: the current time, for tests)."""
    return (now or timezone.now()).astimezone(zone).date()


def last_days(
    days: int, *, until: date | None = None, zone: tzinfo = UTC, now: datetime | None = None
) -> DateRange:
    end = until or today(zone, now=now)
    return DateRange(end - timedelta(days=days - 1), end, zone)


def _parse_day(raw: str, name: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        message = (
            _("The start date %(value)s is not a date: use YYYY-MM-DD, e.g. 2026-12-01.")
            if name == "start"
            else _("The end date %(value)s is not a date: use YYYY-MM-DD, e.g. 2026-12-01.")
        )
        raise RangeError(message % {"value": repr(raw[:40])}) from None


def parse_range(
    params: QueryDict | dict[str, str], *, zone: tzinfo = UTC, now: datetime | None = None
) -> DateRange:
    """The range in ``params`` (``start``/``end``; one alone is completed with the
    default length), or the default, in days of ``zone`` (the school's time zone).
    Raises ``RangeError``."""
    raw_start = (params.get("start") or "").strip()
    raw_end = (params.get("end") or "").strip()
    if not raw_start and not raw_end:
        return last_days(DEFAULT_DAYS, zone=zone, now=now)
    end = _parse_day(raw_end, "end") if raw_end else None
    start = _parse_day(raw_start, "start") if raw_start else None
    if start is None:
        assert end is not None
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    if end is None:
        end = min(start + timedelta(days=DEFAULT_DAYS - 1), max(start, today(zone, now=now)))
    if start > end:
        raise RangeError(
            _("The start date (%(start)s) is after the end date (%(end)s): swap them.")
            % {"start": start.isoformat(), "end": end.isoformat()}
        )
    if start < EARLIEST:
        raise RangeError(
            _("The start date must be on or after %(earliest)s.")
            % {"earliest": EARLIEST.isoformat()}
        )
    span = (end - start).days + 1
    if span > MAX_DAYS:
        raise RangeError(
            _("That range is %(span)s days long; choose at most %(max)s days (about a year).")
            % {"span": formats.number_format(span, force_grouping=True), "max": MAX_DAYS}
        )
    return DateRange(start, end, zone)
