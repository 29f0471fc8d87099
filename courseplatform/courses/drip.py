"""Drip schedules: when a section opens for an enrolled student, and the one write.

A section opens

* ``immediately`` (the default),
* ``days``: at the start of the Nth day after the day the student enrolled, or
* ``date``: at the start of a given day,

days and dates counted in the school's time zone (``School.time_zone``). "The start
of a day" is local midnight turned into an instant by zoneinfo, so a schedule keeps
to the calendar across DST changes (a day may last 23 or 25 hours). Because both
rules open at a local midnight, "has it opened?" for a days rule is a plain
comparison of the enrolment time with one instant (``days_cutoff``), which the lesson
page puts into the statement that records the visit (no extra round trip).

Owners and a course's instructors always see everything; free-preview lessons stay
open to all. Everything here takes ``now``, so tests travel in time without sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext, ngettext, pgettext

from courseplatform.accounts import permissions
from courseplatform.accounts.models import User
from courseplatform.ops.services import record_audit
from courseplatform.tenancy.models import School

from .models import Section

MAX_RELEASE_DAYS = 3650
# "Opens on 12 March (in 3 days)" for this many days ahead, the date alone after.
COUNTDOWN_DAYS = 14


class DripError(ValidationError):
    """A schedule that cannot be saved; the message is for the author."""


def start_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``zone`` (local midnight, DST-aware), in UTC:
    aware datetimes sharing a tzinfo compare and subtract by wall clock, not by instant."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def opens_at(section: Section, *, enrolled_at: datetime | None, zone: ZoneInfo) -> datetime | None:
    """When ``section`` opens for a student enrolled at ``enrolled_at``.

    None: open from the start (immediately, or a days rule of 0). For a days rule
    without an enrolment (a visitor) there is no instant: callers use ``None`` with
    ``is_scheduled`` to say "N days after you enrol".
    """
    if section.release == Section.Release.DATE and section.release_date is not None:
        return start_of_day(section.release_date, zone)
    if section.release == Section.Release.DAYS and section.release_days:
        if enrolled_at is None:
            return None
        return start_of_day(
            local_date(enrolled_at, zone) + timedelta(days=section.release_days), zone
        )
    return None


def days_cutoff(days: int, *, now: datetime, zone: ZoneInfo) -> datetime:
    """A days-``days`` section is open at ``now`` for exactly the enrolments made
    before this instant (the start of the day after ``today - days``)."""
    return start_of_day(local_date(now, zone) - timedelta(days=days - 1), zone)


@dataclass(frozen=True)
class Release:
    """One section's state for one viewer."""

    locked: bool
    opens: datetime | None
    label: str  # "" when open

    @property
    def is_open(self) -> bool:
        return not self.locked


OPEN = Release(False, None, "")


def when_label(opens: datetime, *, now: datetime, zone: ZoneInfo) -> str:
    """ "Opens today at 09:00", "Opens tomorrow (13 March)", "Opens on 12 March (in 3
    days)", "Opens on 2 January 2028"."""
    local = opens.astimezone(zone)
    days = (local.date() - local_date(now, zone)).days
    same_year = local.year == now.astimezone(zone).year
    day = date_format(local.date(), _day_month() if same_year else _day_month_year())
    if days <= 0:
        return gettext("Opens today at %(time)s") % {"time": time_format(local, "H:i")}
    if days == 1:
        return gettext("Opens tomorrow (%(day)s)") % {"day": day}
    if days <= COUNTDOWN_DAYS:
        return ngettext(
            "Opens on %(day)s (in %(count)d day)", "Opens on %(day)s (in %(count)d days)", days
        ) % {"day": day, "count": days}
    return gettext("Opens on %(day)s") % {"day": day}


# Date patterns (Django's date format letters) translated per language: "12 March" in
# English, "12. März" in German, "12 de marzo" in Spanish.
def _day_month() -> str:
    return pgettext("date format: day and month (Django date letters)", "j F")


def _day_month_year() -> str:
    return pgettext("date format: day, month and year (Django date letters)", "j F Y")


def section_release(
    section: Section,
    *,
    enrolled_at: datetime | None,
    now: datetime,
    zone: ZoneInfo,
    is_manager: bool = False,
) -> Release:
    """Whether ``section`` is locked for this viewer at ``now``, and the words for it.

    ``enrolled_at`` None means "not enrolled": a days rule then reads "Opens N days
    after you enrol" (locked, but there is nothing to count from).
    """
    if is_manager or section.release == Section.Release.IMMEDIATELY:
        return OPEN
    if section.release == Section.Release.DAYS and section.release_days and enrolled_at is None:
        days = section.release_days
        label = ngettext(
            "Opens %(count)d day after you enrol", "Opens %(count)d days after you enrol", days
        ) % {"count": days}
        return Release(True, None, label)
    opens = opens_at(section, enrolled_at=enrolled_at, zone=zone)
    if opens is None or opens <= now:
        return OPEN
    return Release(True, opens, when_label(opens, now=now, zone=zone))


def schedule_label(section: Section, *, zone: ZoneInfo) -> str:
    """The rule in words for the author's outline: "Opens 7 days after enrolment"."""
    if section.release == Section.Release.DAYS and section.release_days is not None:
        days = section.release_days
        return ngettext(
            "Opens %(count)d day after enrolment", "Opens %(count)d days after enrolment", days
        ) % {"count": days}
    if section.release == Section.Release.DATE and section.release_date is not None:
        day = date_format(section.release_date, _day_month_year())
        return gettext("Opens on %(day)s (%(zone)s)") % {"day": day, "zone": zone.key}
    return ""


# --- the write ----------------------------------------------------------------------------


def parse_release(*, release: str, days: Any = None, on_date: Any = None) -> tuple[str, Any, Any]:
    """Check an author's choice; (release, release_days, release_date) or DripError."""
    if release == Section.Release.IMMEDIATELY:
        return release, None, None
    if release == Section.Release.DAYS:
        try:
            count = int(str(days).strip())
        except (TypeError, ValueError):
            raise DripError(
                gettext("Enter the number of days as a whole number, e.g. 7.")
            ) from None
        if count < 0:
            raise DripError(gettext("The number of days cannot be negative."))
        if count > MAX_RELEASE_DAYS:
            raise DripError(gettext("At most %(count)d days.") % {"count": MAX_RELEASE_DAYS})
        return release, count, None
    if release == Section.Release.DATE:
        if isinstance(on_date, date):
            return release, None, on_date
        try:
            parsed = date.fromisoformat(str(on_date or "").strip())
        except ValueError:
            raise DripError(gettext("Enter the date as YYYY-MM-DD, e.g. 2027-03-12.")) from None
        if not 2000 <= parsed.year <= 2200:
            raise DripError(gettext("Enter a date between the years 2000 and 2200."))
        return release, None, parsed
    raise DripError(
        gettext("Choose when the section opens: immediately, after days, or on a date.")
    )


def set_section_release(
    *,
    school: School,
    actor: User,
    section: Section,
    release: str,
    days: Any = None,
    on_date: Any = None,
) -> Section:
    """Change when ``section`` opens (course managers only; audited)."""
    permissions.require_in_school(school, section)
    permissions.require_course_manager(school, actor, section.course)
    mode, count, day = parse_release(release=release, days=days, on_date=on_date)
    with transaction.atomic():
        section.release, section.release_days, section.release_date = mode, count, day
        # save() (not update()): the post_save signal bumps the content generation.
        section.save(update_fields=["release", "release_days", "release_date"])
        record_audit(
            school=school,
            actor=actor,
            action="course.section_release_changed",
            target=section,
            data={"release": mode, "days": count, "date": day.isoformat() if day else None},
        )
    return section
