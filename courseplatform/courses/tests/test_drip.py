"""Drip schedules: the release rules across time zones and DST changes (time travel
by passing ``now``, never by sleeping), the author's form and its bad input, and the
student's pages: locked outline, refused direct links, nothing recorded, managers and
"preview as student"."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from courseplatform.courses import drip
from courseplatform.courses.models import Enrollment, Section
from courseplatform.courses.tests.test_student_views import (
    Built,
    build_course,
    client_as,
    enroll,
    new_user,
    text,
)
from courseplatform.ops.models import AuditLog
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context
from courseplatform.tenancy.selectors import forget_school
from tests.fixtures.queries import assert_statements, page_statements

NEW_YORK = ZoneInfo("America/New_York")  # DST starts 14 March 2027, ends 7 November 2027
LONDON = ZoneInfo("Europe/London")  # DST ends 31 October 2027
TOKYO = ZoneInfo("Asia/Tokyo")  # no DST
AUCKLAND = ZoneInfo("Pacific/Auckland")  # DST ends 4 April 2027 (southern hemisphere)


def _section(release: str, *, days: int | None = None, on: date | None = None) -> Section:
    return Section(title="Week", release=release, release_days=days, release_date=on)


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- the rules (no database) --------------------------------------------------------------


def test_opens_at_days_counts_calendar_days_across_the_spring_dst_change() -> None:
    # Enrolled on Friday 12 March 2027, 15:00 in New York (20:00 UTC, EST = UTC-5).
    enrolled = _utc(2027, 3, 12, 20, 0)
    two = drip.opens_at(_section("days", days=2), enrolled_at=enrolled, zone=NEW_YORK)
    three = drip.opens_at(_section("days", days=3), enrolled_at=enrolled, zone=NEW_YORK)
    # Sunday 14 March starts at 00:00 EST; Monday 15 March at 00:00 EDT (UTC-4).
    assert two == _utc(2027, 3, 14, 5, 0)
    assert three == _utc(2027, 3, 15, 4, 0)
    assert three is not None and two is not None and three - two == timedelta(hours=23)


def test_opens_at_days_across_the_autumn_dst_change_has_a_25_hour_day() -> None:
    enrolled = _utc(2027, 10, 30, 9, 0)  # Saturday 30 October, 10:00 BST
    one = drip.opens_at(_section("days", days=1), enrolled_at=enrolled, zone=LONDON)
    two = drip.opens_at(_section("days", days=2), enrolled_at=enrolled, zone=LONDON)
    assert one == _utc(2027, 10, 30, 23, 0)  # Sunday 00:00 BST
    assert two == _utc(2027, 11, 1, 0, 0)  # Monday 00:00 GMT
    assert two is not None and one is not None and two - one == timedelta(hours=25)


def test_the_same_enrolment_instant_is_a_different_day_in_another_zone() -> None:
    # 23:30 UTC on 1 March is already 2 March in Tokyo and still 1 March in New York.
    enrolled = _utc(2027, 3, 1, 23, 30)
    section = _section("days", days=1)
    assert drip.opens_at(section, enrolled_at=enrolled, zone=TOKYO) == _utc(2027, 3, 2, 15, 0)
    assert drip.opens_at(section, enrolled_at=enrolled, zone=NEW_YORK) == _utc(2027, 3, 2, 5, 0)
    assert drip.opens_at(section, enrolled_at=enrolled, zone=ZoneInfo("UTC")) == _utc(
        2027, 3, 2, 0, 0
    )


def test_opens_at_date_is_local_midnight_in_the_school_zone() -> None:
    section = _section("date", on=date(2027, 3, 12))
    assert drip.opens_at(section, enrolled_at=None, zone=TOKYO) == _utc(2027, 3, 11, 15, 0)
    assert drip.opens_at(section, enrolled_at=None, zone=NEW_YORK) == _utc(2027, 3, 12, 5, 0)
    # The day after DST starts in New York, and the day DST ends in Auckland.
    assert drip.opens_at(
        _section("date", on=date(2027, 3, 15)), enrolled_at=None, zone=NEW_YORK
    ) == _utc(2027, 3, 15, 4, 0)
    assert drip.opens_at(
        _section("date", on=date(2027, 4, 5)), enrolled_at=None, zone=AUCKLAND
    ) == _utc(2027, 4, 4, 12, 0)  # NZST = UTC+12 after the change


def test_section_release_locks_until_the_instant_and_then_opens() -> None:
    section = _section("date", on=date(2027, 3, 14))
    opens = _utc(2027, 3, 14, 5, 0)
    enrolled = _utc(2027, 1, 1)
    before = drip.section_release(
        section, enrolled_at=enrolled, now=opens - timedelta(seconds=1), zone=NEW_YORK
    )
    at = drip.section_release(section, enrolled_at=enrolled, now=opens, zone=NEW_YORK)
    assert before.locked and before.opens == opens
    assert before.label == "Opens today at 00:00" or before.label.startswith("Opens")
    assert at.is_open and at.label == ""
    # Managers always see everything; "immediately" is always open.
    assert drip.section_release(
        section, enrolled_at=enrolled, now=opens - timedelta(days=9), zone=NEW_YORK, is_manager=True
    ).is_open
    assert drip.section_release(
        _section("immediately"), enrolled_at=None, now=opens, zone=NEW_YORK
    ).is_open


def test_labels_say_when_it_opens() -> None:
    now = _utc(2027, 3, 9, 12, 0)
    zone = ZoneInfo("UTC")
    assert drip.when_label(_utc(2027, 3, 9, 18, 0), now=now, zone=zone) == "Opens today at 18:00"
    assert drip.when_label(_utc(2027, 3, 10), now=now, zone=zone) == "Opens tomorrow (10 March)"
    assert drip.when_label(_utc(2027, 3, 12), now=now, zone=zone) == "Opens on 12 March (in 3 days)"
    assert drip.when_label(_utc(2027, 6, 1), now=now, zone=zone) == "Opens on 1 June"
    assert drip.when_label(_utc(2028, 1, 2), now=now, zone=zone) == "Opens on 2 January 2028"
    visitor = drip.section_release(_section("days", days=7), enrolled_at=None, now=now, zone=zone)
    assert visitor.locked and visitor.label == "Opens 7 days after you enrol"
    assert drip.section_release(
        _section("days", days=1), enrolled_at=None, now=now, zone=zone
    ).label == ("Opens 1 day after you enrol")


@pytest.mark.parametrize("zone", [NEW_YORK, LONDON, TOKYO, AUCKLAND])
def test_days_cutoff_agrees_with_opens_at_around_dst_changes(zone: ZoneInfo) -> None:
    """The lesson page decides "open?" in SQL with days_cutoff; it must say exactly
    what opens_at says, for every hour around both DST changes of 2027."""
    starts = [_utc(2027, 3, 10), _utc(2027, 3, 26), _utc(2027, 10, 28), _utc(2027, 4, 1)]
    for start in starts:
        for hours in range(0, 24 * 6, 1):
            enrolled = start + timedelta(hours=hours, minutes=17)
            for days in (1, 2, 3):
                opens = drip.opens_at(_section("days", days=days), enrolled_at=enrolled, zone=zone)
                assert opens is not None
                for now in (opens - timedelta(minutes=1), opens, opens + timedelta(hours=5)):
                    cutoff = drip.days_cutoff(days, now=now, zone=zone)
                    assert (enrolled < cutoff) == (opens <= now), (zone, enrolled, days, now)


@pytest.mark.parametrize(
    ("release", "days", "on_date", "message"),
    [
        ("days", "-1", None, "cannot be negative"),
        ("days", "seven", None, "whole number"),
        ("days", "", None, "whole number"),
        ("days", "99999", None, "At most"),
        ("date", None, "12/03/2027", "YYYY-MM-DD"),
        ("date", None, "2027-02-30", "YYYY-MM-DD"),
        ("date", None, "", "YYYY-MM-DD"),
        ("date", None, "1066-10-14", "between the years"),
        ("weekly", None, None, "Choose when"),
    ],
)
def test_parse_release_refuses_bad_input(
    release: str, days: Any, on_date: Any, message: str
) -> None:
    with pytest.raises(drip.DripError, match=message):
        drip.parse_release(release=release, days=days, on_date=on_date)


def test_parse_release_accepts_good_input() -> None:
    assert drip.parse_release(release="days", days=" 7 ") == ("days", 7, None)
    assert drip.parse_release(release="date", on_date="2027-03-12") == (
        "date",
        None,
        date(2027, 3, 12),
    )
    assert drip.parse_release(release="immediately", days="-5") == ("immediately", None, None)


# --- pages ---------------------------------------------------------------------------------


def _set_zone(school: School, name: str) -> None:
    with school_context(school):
        School.objects.filter(pk=school.pk).update(time_zone=name)
    school.time_zone = name
    forget_school(school.slug)


def _schedule(school: School, owner: Any, built: Built, index: int, **kwargs: Any) -> Section:
    with school_context(school):
        section = Section.objects.get(pk=built.lessons[index].section_id)
        return drip.set_section_release(school=school, actor=owner, section=section, **kwargs)


def _enrolled_ago(school: School, student: Any, built: Built, delta: timedelta) -> None:
    """Time travel for the pages: the student enrolled ``delta`` ago."""
    with school_context(school):
        Enrollment.objects.filter(student=student, course=built.course).update(
            created_at=timezone.now() - delta
        )


@pytest.fixture
def dripped(school_a: Any) -> tuple[Built, Any]:
    """Two sections of two lessons; section 2 (lessons 3 and 4) is scheduled per test."""
    school, owner = school_a.school, school_a.owner
    built = build_course(school, owner, title="Cohort", sections=2, per_section=2)
    student = new_user(school, "sam@alpha.test")
    enroll(school, owner, built.course, student)
    return built, student


@pytest.mark.django_db
def test_days_section_locked_lesson_url_is_refused_with_when_and_nothing_recorded(
    school_a: Any, dripped: tuple[Built, Any]
) -> None:
    built, student = dripped
    school = school_a.school
    _schedule(school, school_a.owner, built, 2, release="days", days=3)
    _enrolled_ago(school, student, built, timedelta(days=1))
    client = client_as(student, school)

    response = client.get(built.lesson_url(built.lessons[2]))
    assert response.status_code == 403
    page = text(response)
    assert "Not open yet" in page and "Opens" in page and "(in 2 days)" in page
    with school_context(school):
        enrolment = Enrollment.objects.get(student=student, course=built.course)
    assert enrolment.last_lesson_id is None and enrolment.last_activity_at is None
    # Completing it or downloading from it is refused as well, changing nothing.
    assert client.post(built.lesson_url(built.lessons[2], "complete/")).status_code == 403

    # The outline says when it opens; lessons of the open section stay open.
    course_page = text(client.get(built.url()))
    assert "(in 2 days)" in course_page and "data-opens" in course_page
    assert client.get(built.lesson_url(built.lessons[1])).status_code == 200

    # Three days after enrolling (calendar days, school time) it is open and recorded.
    _enrolled_ago(school, student, built, timedelta(days=3))
    assert client.get(built.lesson_url(built.lessons[2])).status_code == 200
    with school_context(school):
        enrolment.refresh_from_db()
    assert enrolment.last_lesson_id == built.lessons[2].pk


@pytest.mark.django_db
def test_date_section_opens_on_the_date_in_the_school_zone(
    school_a: Any, dripped: tuple[Built, Any]
) -> None:
    built, student = dripped
    school = school_a.school
    _set_zone(school, "Pacific/Kiritimati")  # UTC+14: "today" there is tomorrow in UTC
    later = timezone.now().astimezone(ZoneInfo("Pacific/Kiritimati")).date() + timedelta(days=1)
    _schedule(school, school_a.owner, built, 2, release="date", on_date=later.isoformat())
    client = client_as(student, school)
    response = client.get(built.lesson_url(built.lessons[2]))
    assert response.status_code == 403 and "Opens tomorrow" in text(response)

    # A date that has begun in the school's zone is open (Honolulu, UTC-10: its today).
    _set_zone(school, "Pacific/Honolulu")
    today = timezone.now().astimezone(ZoneInfo("Pacific/Honolulu")).date()
    _schedule(school, school_a.owner, built, 2, release="date", on_date=today.isoformat())
    assert client.get(built.lesson_url(built.lessons[2])).status_code == 200


@pytest.mark.django_db
def test_owner_and_instructor_see_everything_and_preview_shows_the_schedule(
    school_a: Any, dripped: tuple[Built, Any]
) -> None:
    built, _ = dripped
    school, owner = school_a.school, school_a.owner
    _schedule(school, owner, built, 2, release="days", days=5)
    client = client_as(owner, school)
    assert client.get(built.lesson_url(built.lessons[3])).status_code == 200
    own_view = text(client.get(built.url()))
    assert "data-opens" not in own_view
    preview = text(client.get(built.url("?preview=student")))
    assert "data-student-preview" in preview and "(in 5 days)" in preview
    # Students cannot switch the preview on for themselves: the parameter is ignored.
    visitor = text(client_as(None, school).get(built.url("?preview=student")))
    assert "data-student-preview" not in visitor and "Opens 5 days after you enrol" in visitor


@pytest.mark.django_db
def test_lesson_page_statements_stay_pinned_with_a_drip_schedule(
    school_a: Any, dripped: tuple[Built, Any]
) -> None:
    built, student = dripped
    school = school_a.school
    _schedule(school, school_a.owner, built, 2, release="days", days=2)
    client = client_as(student, school)
    # Open lesson, locked lesson (refused inside the visit's statement): 2 each, as pinned.
    assert_statements(page_statements(client, built.lesson_url(built.lessons[0])), 2)
    assert_statements(page_statements(client, built.lesson_url(built.lessons[2]), status=403), 1)


@pytest.mark.django_db
def test_author_sets_the_schedule_with_clear_errors_and_audit(
    school_a: Any, school_b: Any, dripped: tuple[Built, Any]
) -> None:
    built, _ = dripped
    school, owner = school_a.school, school_a.owner
    section_id = built.lessons[2].section_id
    url = f"/manage/courses/sections/{section_id}/release/"
    client = client_as(owner, school)

    for data, message in [
        ({"release": "days", "days": "-3"}, "cannot be negative"),
        ({"release": "date", "on_date": "2027-13-01"}, "YYYY-MM-DD"),
        ({"release": "sometimes"}, "Select a valid choice"),
    ]:
        response = client.post(url, data, HTTP_HX_REQUEST="true")
        assert message in text(response)
        with school_context(school):
            assert Section.objects.get(pk=section_id).release == "immediately"

    response = client.post(url, {"release": "days", "days": "7"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Opens 7 days after enrolment" in text(response)
    with school_context(school):
        section = Section.objects.get(pk=section_id)
        assert (section.release, section.release_days) == ("days", 7)
        assert AuditLog.objects.filter(action="course.section_release_changed").count() == 1

    # School B's owner cannot see or change A's section: 404 as for a missing id.
    other = client_as(school_b.owner, school_b.school, host="bravo.localhost")
    assert other.post(url, {"release": "immediately"}).status_code == 404
    # ... nor through A's host with B's session (logged out there: login redirect).
    assert client_as(school_b.owner, school_b.school, host="alpha.localhost").post(
        url, {"release": "immediately"}
    ).status_code in (302, 403, 404)
    with school_context(school):
        assert Section.objects.get(pk=section_id).release == "days"
    # A student is never an author.
    student = new_user(school, "pat@alpha.test")
    assert client_as(student, school).post(url, {"release": "immediately"}).status_code == 403


@pytest.mark.django_db
def test_school_time_zone_setting_is_validated_and_audited(school_a: Any) -> None:
    school, owner = school_a.school, school_a.owner
    client = client_as(owner, school)
    page = text(client.get("/manage/settings/"))
    assert 'name="time_zone"' in page and "Europe/London" in page
    for bad in ("Mars/Olympus_Mons", "../../etc/passwd", "", "UTC; DROP TABLE"):
        response = client.post("/manage/settings/", {"name": school.name, "time_zone": bad})
        assert response.status_code == 200
        assert "time zone" in text(response).lower()
        with school_context(school):
            assert School.objects.get(pk=school.pk).time_zone == "UTC"
    response = client.post("/manage/settings/", {"name": school.name, "time_zone": "Asia/Tokyo"})
    assert response.status_code == 302
    with school_context(school):
        assert School.objects.get(pk=school.pk).time_zone == "Asia/Tokyo"
        entry = AuditLog.objects.filter(action="school.settings_changed").latest("id")
    assert entry.data["time_zone"] == "Asia/Tokyo"


def test_an_unknown_stored_zone_falls_back_to_utc() -> None:
    from courseplatform.tenancy.timezones import school_zone

    assert school_zone(School(time_zone="Atlantis/Capital")).key == "UTC"
    assert school_zone(School(time_zone="Asia/Tokyo")).key == "Asia/Tokyo"


@pytest.mark.django_db
def test_can_view_lesson_follows_the_schedule_for_video_and_downloads(
    school_a: Any, dripped: tuple[Built, Any]
) -> None:
    """The per-lesson check shared by video playback and attachment downloads."""
    from courseplatform.courses import selectors
    from courseplatform.courses.models import Lesson

    built, student = dripped
    school = school_a.school
    _schedule(school, school_a.owner, built, 2, release="days", days=2)
    with school_context(school):
        lesson = Lesson.objects.get(pk=built.lessons[2].pk)
        course = built.course
        assert not selectors.can_view_lesson(user=student, course=course, lesson=lesson)
        assert selectors.can_view_lesson(user=school_a.owner, course=course, lesson=lesson)
        assert selectors.can_view_lesson(user=student, course=course, lesson=built.lessons[1])
        enrolled = timezone.now() - timedelta(days=1)
        assert not selectors.section_is_open(
            school_id=school.pk, section_id=lesson.section_id, enrolled_at=enrolled
        )
        assert selectors.section_is_open(
            school_id=school.pk,
            section_id=lesson.section_id,
            enrolled_at=enrolled,
            now=timezone.now() + timedelta(days=2),
        )
        assert not selectors.section_is_open(
            school_id=school.pk, section_id=10**9, enrolled_at=enrolled
        )
    _enrolled_ago(school, student, built, timedelta(days=2))
    with school_context(school):
        assert selectors.can_view_lesson(user=student, course=course, lesson=lesson)


@pytest.mark.django_db
def test_attachment_of_a_locked_section_is_refused_with_when(
    school_a: Any, dripped: tuple[Built, Any]
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from courseplatform.courses import services

    built, student = dripped
    school, owner = school_a.school, school_a.owner
    _schedule(school, owner, built, 2, release="date", on_date="2100-01-01")
    with school_context(school):
        attachment = services.add_attachment(
            school=school,
            actor=owner,
            lesson=built.lessons[2],
            upload=SimpleUploadedFile("notes.pdf", b"%PDF-1.4\n", content_type="application/pdf"),
        )
    url = built.url(f"attachments/{attachment.pk}/")
    response = client_as(student, school).get(url)
    assert response.status_code == 403 and "Opens on 1 January 2100" in text(response)
    assert client_as(owner, school).get(url).status_code == 302
