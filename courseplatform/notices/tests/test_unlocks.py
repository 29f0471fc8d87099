"""Drip unlock emails (exactly once per student and section, opt-outs honoured, time
travel by passing ``now``), the periodic command, and the unsubscribe links (forged,
replayed, other school's)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from courseplatform.courses import drip
from courseplatform.courses.models import Enrollment, Section
from courseplatform.courses.tests.test_student_views import client_as, text
from courseplatform.notices import services, tasks
from courseplatform.notices.models import EmailPreference, UnlockNotice
from courseplatform.notices.tests.conftest import BOUNCING, Cohort, make_cohort
from courseplatform.notices.unsubscribe import make_token
from courseplatform.ops.models import AuditLog
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context

NEW_YORK = ZoneInfo("America/New_York")


def _second_section(cohort: Cohort) -> Section:
    with school_context(cohort.school):
        return Section.objects.get(pk=cohort.built.lessons[1].section_id)


def _schedule(cohort: Cohort, **kwargs: Any) -> Section:
    section = _second_section(cohort)
    with school_context(cohort.school):
        return drip.set_section_release(
            school=cohort.school, actor=cohort.owner, section=section, **kwargs
        )


def _enrolled_at(cohort: Cohort, when: datetime) -> None:
    with school_context(cohort.school):
        Enrollment.objects.filter(course=cohort.built.course).update(created_at=when)


def _markers(cohort: Cohort) -> dict[str, str]:
    with school_context(cohort.school):
        return {
            n.student.email: n.status
            for n in UnlockNotice.objects.select_related("student").order_by("id")
        }


@pytest.mark.django_db
def test_days_unlock_email_is_sent_once_even_when_run_twice(
    cohort_a: Cohort, refusing_mail: None
) -> None:
    school = cohort_a.school
    with school_context(school):
        School.objects.filter(pk=school.pk).update(time_zone="America/New_York")
        school.refresh_from_db()
    section = _schedule(cohort_a, release="days", days=2)
    enrolled = datetime(2027, 3, 12, 20, 0, tzinfo=NEW_YORK).astimezone(ZoneInfo("UTC"))
    _enrolled_at(cohort_a, enrolled)
    cat = cohort_a.students[2]
    with school_context(school):
        EmailPreference.objects.create(school=school, user=cat, unsubscribed_at=timezone.now())
    opens = drip.opens_at(section, enrolled_at=enrolled, zone=NEW_YORK)
    assert opens is not None

    # A minute before it opens: nothing due.
    before = tasks.run_unlock_notices(school_id=school.pk, now=opens - timedelta(minutes=1))
    assert before == {"sent": 0, "failed": 0, "skipped": 0} and mail.outbox == []

    # Once open: the two reachable students get one email each; the refused address is
    # marked failed (never retried), the unsubscribed one skipped.
    after = tasks.run_unlock_notices(school_id=school.pk, now=opens + timedelta(hours=1))
    assert after == {"sent": 2, "failed": 1, "skipped": 1}
    assert sorted(m.to[0] for m in mail.outbox) == ["ann@alpha.test", "dan@alpha.test"]
    assert "Part 2" in mail.outbox[0].subject and "/email/unsubscribe/" in mail.outbox[0].body
    assert _markers(cohort_a) == {
        "ann@alpha.test": "sent",
        f"bad{BOUNCING}": "failed",
        "cat@alpha.test": "skipped",
        "dan@alpha.test": "sent",
    }

    # The command runs again (and again, a day later): nothing is sent twice.
    again = tasks.run_unlock_notices(school_id=school.pk, now=opens + timedelta(hours=2))
    later = tasks.run_unlock_notices(school_id=school.pk, now=opens + timedelta(days=1))
    assert again == later == {"sent": 0, "failed": 0, "skipped": 0}
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_date_unlock_mails_only_students_enrolled_before_and_within_the_window(
    cohort_a: Cohort, settings: Any
) -> None:
    school = cohort_a.school
    _schedule(cohort_a, release="date", on_date=date(2027, 5, 1))
    opens = drip.start_of_day(date(2027, 5, 1), ZoneInfo("UTC"))
    ann, bad, cat, dan = cohort_a.students
    with school_context(school):
        Enrollment.objects.filter(student__in=[ann, bad]).update(
            created_at=opens - timedelta(days=3)
        )
        # Enrolled after it opened: it was never locked for them, nothing to announce.
        Enrollment.objects.filter(student__in=[cat, dan]).update(
            created_at=opens + timedelta(hours=1)
        )
    # Long after the window (DRIP_EMAIL_WINDOW_HOURS): old openings are never mailed.
    settings.DRIP_EMAIL_WINDOW_HOURS = 48
    stale = tasks.run_unlock_notices(school_id=school.pk, now=opens + timedelta(days=3))
    assert stale["sent"] == 0
    done = tasks.run_unlock_notices(school_id=school.pk, now=opens + timedelta(hours=3))
    assert done == {"sent": 2, "failed": 0, "skipped": 0}
    assert sorted(m.to[0] for m in mail.outbox) == sorted([ann.email, bad.email])


@pytest.mark.django_db
def test_unlock_task_of_one_school_never_mails_another(cohort_a: Cohort, school_b: Any) -> None:
    _schedule(cohort_a, release="days", days=1)
    _enrolled_at(cohort_a, timezone.now() - timedelta(days=1, hours=1))
    cohort_b = make_cohort(school_b.school, school_b.owner, ["bob@bravo.test"])
    outcome = tasks.run_unlock_notices(school_id=cohort_b.school.pk)
    assert outcome == {"sent": 0, "failed": 0, "skipped": 0} and mail.outbox == []
    with school_context(cohort_b.school):
        assert not UnlockNotice.objects.exists()
    sent = tasks.run_unlock_notices(school_id=cohort_a.school.pk)
    assert sent["sent"] == 4
    assert all(m.to[0].endswith(("@alpha.test", BOUNCING)) for m in mail.outbox)


@pytest.mark.django_db(transaction=True)
def test_periodic_command_enqueues_only_schools_with_due_unlocks(
    make_school: Any, capsys: Any
) -> None:
    alpha, bravo = make_school("alpha"), make_school("bravo")
    cohort = make_cohort(alpha.school, alpha.owner, ["ann@alpha.test"])
    make_cohort(bravo.school, bravo.owner, ["bob@bravo.test"])
    _schedule(cohort, release="days", days=1)
    _enrolled_at(cohort, timezone.now() - timedelta(days=1, hours=1))
    enqueued: list[int] = []
    original = tasks.send_unlock_notices

    class Spy:
        @staticmethod
        def enqueue(school_id: int) -> None:
            enqueued.append(school_id)

    tasks.send_unlock_notices = Spy  # type: ignore[assignment]
    try:
        call_command("send_unlock_emails")
        call_command("send_unlock_emails", "--quiet")
    finally:
        tasks.send_unlock_notices = original
    assert enqueued == [alpha.school.pk, alpha.school.pk]
    assert "queued for 1 school(s)" in capsys.readouterr().out
    # The worker's run sends once; the command finds nothing due afterwards.
    assert tasks.run_unlock_notices(school_id=alpha.school.pk)["sent"] == 1
    assert tasks.run_unlock_notices(school_id=alpha.school.pk)["sent"] == 0
    from courseplatform.notices.periodic import schools_due

    assert schools_due(now=timezone.now()) == []


# --- unsubscribe links ---------------------------------------------------------------------


@pytest.mark.django_db
def test_unsubscribe_link_works_once_and_replays_and_forgeries_get_clear_errors(
    cohort_a: Cohort, school_b: Any
) -> None:
    school = cohort_a.school
    ann = cohort_a.students[0]
    token = make_token(school=school, user_id=ann.pk, version=0)
    client = client_as(None, school)
    url = f"/email/unsubscribe/{token}/"
    # GET only asks (mail scanners follow links); POST unsubscribes.
    assert "Stop course emails" in text(client.get(url))
    with school_context(school):
        assert not EmailPreference.objects.exists()
    response = client.post(url)
    assert response.status_code == 200 and "You are unsubscribed" in text(response)
    with school_context(school):
        pref = EmailPreference.objects.get(user=ann)
        assert pref.unsubscribed_at is not None
        assert AuditLog.objects.filter(action="email.unsubscribed").count() == 1
    # Replayed: a clear error, nothing changed.
    replay = client.post(url)
    assert replay.status_code == 400 and "already been used" in text(replay)
    # Forged / mangled.
    forged = client.post(f"/email/unsubscribe/{token[:-3]}abc/")
    assert forged.status_code == 400 and "not valid" in text(forged)
    assert client.get("/email/unsubscribe/x/").status_code == 400
    # Another school's link (valid signature, other school id) on this host.
    other = make_token(school=school_b.school, user_id=ann.pk, version=0)
    assert client.post(f"/email/unsubscribe/{other}/").status_code == 400
    # A's link on B's host.
    b_client = client_as(None, school_b.school)
    assert b_client.post(url).status_code == 400
    with school_context(school):
        pref.refresh_from_db()
        assert pref.token_version == 1


@pytest.mark.django_db
def test_student_switches_course_emails_back_on_and_old_links_stop_working(
    cohort_a: Cohort,
) -> None:
    school = cohort_a.school
    ann = cohort_a.students[0]
    client = client_as(ann, school)
    client.post("/my/course-emails/", {"subscribed": "0"})
    assert "Email me again" in text(client.get("/my/announcements/"))
    old_link = make_token(school=school, user_id=ann.pk, version=1)
    client.post("/my/course-emails/", {"subscribed": "1"})
    assert "Stop course emails" in text(client.get("/my/announcements/"))
    response = client_as(None, school).post(f"/email/unsubscribe/{old_link}/")
    assert response.status_code == 400 and "newer email" in text(response)
    with school_context(school):
        assert EmailPreference.objects.get(user=ann).unsubscribed_at is None
        actions = list(
            AuditLog.objects.filter(action__startswith="email.").values_list("action", flat=True)
        )
    assert sorted(actions) == ["email.resubscribed", "email.unsubscribed"]
    with school_context(school):
        user = services.unsubscribe(
            school=school,
            token=make_token(
                school=school,
                user_id=ann.pk,
                version=EmailPreference.objects.get(user=ann).token_version,
            ),
        )
    assert user == ann


@pytest.mark.django_db(transaction=True)
def test_the_platform_scan_agrees_with_each_schools_own_rule_across_zones_and_dst(
    make_school: Any, settings: Any, django_assert_num_queries: Any
) -> None:
    """The every-minute scan is one SQL query for the whole platform; it must name
    exactly the schools whose own (Python) rule finds someone to tell, in every time
    zone and across DST changes (New York 14 March 2027, Auckland 4 April 2027)."""
    from courseplatform.notices.periodic import schools_due
    from courseplatform.notices.selectors import due_unlocks

    settings.DRIP_EMAIL_WINDOW_HOURS = 5
    zones = {"alpha": "America/New_York", "bravo": "Pacific/Auckland", "charlie": "UTC"}
    start = datetime(2027, 3, 12, 0, 0, tzinfo=ZoneInfo("UTC"))
    schools = []
    for n, (slug, zone) in enumerate(zones.items()):
        made = make_school(slug)
        cohort = make_cohort(made.school, made.owner, [f"s{i}@{slug}.test" for i in range(3)])
        with school_context(made.school):
            School.objects.filter(pk=made.school.pk).update(time_zone=zone)
            made.school.refresh_from_db()
        if slug == "charlie":
            _schedule(cohort, release="date", on_date=date(2027, 3, 14))
        else:
            _schedule(cohort, release="days", days=n + 1)
        with school_context(made.school):
            for i, student in enumerate(cohort.students):
                Enrollment.objects.filter(student=student).update(
                    created_at=start + timedelta(hours=7 * i + 3 * n)
                )
            # One student was already told: never a reason to name the school.
            UnlockNotice.objects.create(
                school=made.school, section=_second_section(cohort), student=cohort.students[0]
            )
        schools.append(made.school)

    window = timedelta(hours=settings.DRIP_EMAIL_WINDOW_HOURS)
    named_any = set()
    for step in range(0, 24 * 28):  # every hour for four weeks
        now = start + timedelta(hours=step)
        expected = []
        for school in schools:
            with school_context(school):
                if due_unlocks(school=school, now=now, window=window):
                    expected.append(school.pk)
        # One query on the platform connection, whatever the number of schools.
        with django_assert_num_queries(1, connection=connections["platform"]):
            named = schools_due(now=now)
        assert named == expected, now
        named_any.update(named)
    assert named_any == {school.pk for school in schools}  # the test saw each one due


@pytest.mark.django_db
def test_unlock_emails_are_written_in_each_students_language(cohort_a: Cohort) -> None:
    """One run mails three students three languages: each one's own (User.language),
    else the school's; subject, text and HTML alike, whatever language the task runs in."""
    school = cohort_a.school
    ann, bad, cat, _dan = cohort_a.students
    with school_context(school):
        School.objects.filter(pk=school.pk).update(language="es")
        User = type(ann)
        User.objects.filter(pk=ann.pk).update(language="de")
        User.objects.filter(pk=cat.pk).update(language="ar")
        User.objects.filter(pk=bad.pk).update(is_active=False)
    section = _schedule(cohort_a, release="days", days=1)
    enrolled = timezone.now() - timedelta(days=1, hours=1)
    _enrolled_at(cohort_a, enrolled)

    outcome = tasks.run_unlock_notices(school_id=school.pk)

    assert outcome["sent"] == 3
    by_address = {m.to[0]: m for m in mail.outbox}
    german, arabic, spanish = (
        by_address["ann@alpha.test"],
        by_address["cat@alpha.test"],
        by_address["dan@alpha.test"],
    )
    assert german.subject == f"Jetzt freigeschaltet in Cohort: „{section.title}“"
    assert "Neue Inhalte in Cohort sind freigeschaltet:" in german.body
    assert "Kurs fortsetzen" in german.alternatives[0][0]  # type: ignore[attr-defined]
    assert arabic.subject == f"متاح الآن في Cohort: «{section.title}»"
    assert "محتوى جديد متاح الآن في" in arabic.body
    assert spanish.subject == f"Ya disponible en Cohort: “{section.title}”"
    assert "Continuar el curso" in spanish.alternatives[0][0]  # type: ignore[attr-defined]
    assert not any("Now open" in m.subject or "New content" in m.body for m in mail.outbox)
