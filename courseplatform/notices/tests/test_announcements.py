"""Announcements: posting (sanitised Markdown, bad input), batched sending in the task
worker with one refused address, unsubscribed students skipped, the rate between
batches, the progress block, the students' blocks, and two schools."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from courseplatform.courses.tests.test_student_views import client_as, new_user, text
from courseplatform.notices import services, tasks
from courseplatform.notices.models import Announcement, AnnouncementDelivery, EmailPreference
from courseplatform.notices.selectors import delivery_progress
from courseplatform.notices.tests.conftest import BOUNCING, Cohort, make_cohort
from courseplatform.ops.models import AuditLog
from courseplatform.tenancy.rls import school_context

pytestmark = pytest.mark.django_db

HOSTILE = (
    "**Live Q&A** on Thursday.\n\n"
    "<script>alert('x')</script>\n\n"
    '<b onmouseover="alert(1)">hover</b>\n\n'
    '[click](javascript:alert(1)) and <a href="https://example.com" onclick="steal()">ok</a>\n'
    '<iframe src="https://evil.example"></iframe><style>body{display:none}</style>'
)


def _post(cohort: Cohort, *, title: str = "Live Q&A", body: str = "See you **Thursday**.") -> Any:
    with school_context(cohort.school):
        return services.create_announcement(
            school=cohort.school,
            actor=cohort.owner,
            course=cohort.built.course,
            title=title,
            body_md=body,
        )


def _run(cohort: Cohort, announcement: Announcement) -> dict[str, int]:
    return tasks.run_announcement_batch(school_id=cohort.school.pk, announcement_id=announcement.pk)


def _statuses(cohort: Cohort, announcement: Announcement) -> dict[str, str]:
    with school_context(cohort.school):
        return {
            d.student.email: d.status
            for d in AnnouncementDelivery.objects.filter(announcement=announcement).select_related(
                "student"
            )
        }


def test_posting_sanitises_markdown_and_queues_one_delivery_per_student(
    cohort_a: Cohort, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        announcement = _post(cohort_a, body=HOSTILE)
    assert len(callbacks) == 1  # the first batch is enqueued after commit
    html = announcement.body_html
    assert "<strong>Live Q&amp;A</strong>" in html
    for hostile in ("<script", "onmouseover", 'href="javascript', "onclick", "<iframe", "<style"):
        assert hostile not in html
    assert set(_statuses(cohort_a, announcement).values()) == {"pending"}
    assert len(_statuses(cohort_a, announcement)) == 4
    with school_context(cohort_a.school):
        assert AuditLog.objects.filter(action="course.announcement_posted").count() == 1


@pytest.mark.parametrize(
    ("title", "body", "field"),
    [
        ("", "Body", "title"),
        ("x" * 201, "Body", "title"),
        ("Two\nlines", "Body", "title"),
        ("Title", "   ", "body_md"),
        ("Title", "x" * 20_001, "body_md"),
        ("Title", "![tracker](https://evil.example/pixel.png)", "body_md"),
    ],
)
def test_bad_announcements_are_refused_and_change_nothing(
    cohort_a: Cohort, title: str, body: str, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        _post(cohort_a, title=title, body=body)
    assert field in caught.value.message_dict
    with school_context(cohort_a.school):
        assert not Announcement.objects.exists()
        assert not AnnouncementDelivery.objects.exists()


def test_a_student_cannot_post(cohort_a: Cohort) -> None:
    with school_context(cohort_a.school), pytest.raises(PermissionDenied):
        services.create_announcement(
            school=cohort_a.school,
            actor=cohort_a.students[0],
            course=cohort_a.built.course,
            title="Hi",
            body_md="Hello",
        )


def test_one_refused_address_never_stops_the_rest_and_unsubscribed_are_skipped(
    cohort_a: Cohort, refusing_mail: None, settings: Any
) -> None:
    settings.ANNOUNCEMENT_EMAIL_BATCH_SIZE = 10
    cat = cohort_a.students[2]
    with school_context(cohort_a.school):
        EmailPreference.objects.create(
            school=cohort_a.school, user=cat, unsubscribed_at=timezone.now(), token_version=1
        )
    announcement = _post(cohort_a)
    outcome = _run(cohort_a, announcement)
    assert outcome == {"sent": 2, "failed": 1, "skipped": 1, "waiting": 0}
    assert sorted(m.to[0] for m in mail.outbox) == ["ann@alpha.test", "dan@alpha.test"]
    statuses = _statuses(cohort_a, announcement)
    assert statuses[f"bad{BOUNCING}"] == "failed"
    assert statuses["cat@alpha.test"] == "skipped"
    with school_context(cohort_a.school):
        failed = AnnouncementDelivery.objects.get(status="failed")
        progress = delivery_progress(announcement=announcement)
    assert "SMTPRecipientsRefused" in failed.error
    assert (progress.total, progress.sent, progress.failed, progress.skipped) == (4, 2, 1, 1)
    assert progress.done and progress.percent == 100
    # Every email carries the school's unsubscribe link and the sanitised body.
    message = mail.outbox[0]
    assert "/email/unsubscribe/" in message.body
    assert "Thursday" in message.alternatives[0][0]  # type: ignore[attr-defined]
    # Running again sends nothing twice.
    assert _run(cohort_a, announcement)["sent"] == 0 and len(mail.outbox) == 2


def test_batches_follow_the_size_and_the_rate(
    cohort_a: Cohort, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ANNOUNCEMENT_EMAIL_BATCH_SIZE = 3
    settings.ANNOUNCEMENT_EMAILS_PER_MINUTE = 6  # 3 per batch → a batch every 30 s
    announcement = _post(cohort_a)
    enqueued: list[Any] = []
    original = tasks.enqueue_announcement_batch

    def spy(**kwargs: Any) -> None:
        enqueued.append(kwargs)
        original(**kwargs)

    tasks.enqueue_announcement_batch = spy  # type: ignore[assignment]
    try:
        first = _run(cohort_a, announcement)
    finally:
        tasks.enqueue_announcement_batch = original  # type: ignore[assignment]
    assert first["sent"] + first["failed"] + first["skipped"] == 3 and first["waiting"] == 1
    assert tasks.batch_delay_seconds() == 30
    (follow_up,) = enqueued
    delay = follow_up["run_after"] - timezone.now()
    assert timedelta(seconds=25) < delay <= timedelta(seconds=30)
    assert _run(cohort_a, announcement)["waiting"] == 0
    assert len(mail.outbox) == 4


def test_progress_block_polls_while_sending_and_stops_when_done(cohort_a: Cohort) -> None:
    announcement = _post(cohort_a)
    client = client_as(cohort_a.owner, cohort_a.school)
    url = f"/manage/courses/{cohort_a.built.course.pk}/announcements/{announcement.pk}/progress/"
    waiting = text(client.get(url))
    assert 'hx-trigger="every 2s"' in waiting and "Sending" in waiting
    _run(cohort_a, announcement)
    done = text(client.get(url))
    assert "hx-trigger" not in done and "data-sent>4<" in done.replace(" ", "")
    page = text(client.get(f"/manage/courses/{cohort_a.built.course.pk}/announcements/"))
    assert "Live Q&amp;A" in page and "data-progress" in page


def test_manage_page_posts_and_shows_errors(cohort_a: Cohort) -> None:
    client = client_as(cohort_a.owner, cohort_a.school)
    url = f"/manage/courses/{cohort_a.built.course.pk}/announcements/"
    response = client.post(url, {"title": "", "body_md": ""})
    assert response.status_code == 400 and "This field is required" in text(response)
    response = client.post(url, {"title": "Week 2", "body_md": "Hello <script>x</script>"})
    assert response.status_code == 302
    with school_context(cohort_a.school):
        assert Announcement.objects.get().title == "Week 2"
    student = client_as(cohort_a.students[0], cohort_a.school)
    assert student.get(url).status_code == 403


def test_students_see_announcements_on_the_course_page_and_my_courses(cohort_a: Cohort) -> None:
    _post(cohort_a, body="Bring <script>alert(1)</script> **paint**")
    slug = cohort_a.built.course.slug
    student = client_as(cohort_a.students[0], cohort_a.school)
    course_page = text(student.get(f"/courses/{slug}/"))
    assert f'hx-get="/courses/{slug}/announcements/"' in course_page
    block = text(student.get(f"/courses/{slug}/announcements/"))
    assert "Live Q&amp;A" in block and "<strong>paint</strong>" in block and "<script" not in block
    my = text(student.get("/my/"))
    assert 'hx-get="/my/announcements/"' in my
    my_block = text(student.get("/my/announcements/"))
    assert "Live Q&amp;A" in my_block and "Stop course emails" in my_block
    # Not enrolled, or not signed in: nothing.
    outsider = client_as(new_user(cohort_a.school, "zed@alpha.test"), cohort_a.school)
    assert text(outsider.get(f"/courses/{slug}/announcements/")).strip() == ""
    assert text(client_as(None, cohort_a.school).get(f"/courses/{slug}/announcements/")) == ""
    assert "Live Q" not in text(outsider.get("/my/announcements/"))


def test_two_schools_never_see_or_touch_each_other(
    cohort_a: Cohort, school_b: Any, django_capture_on_commit_callbacks: Any
) -> None:
    announcement = _post(cohort_a)
    cohort_b = make_cohort(
        school_b.school, school_b.owner, ["ann@bravo.test"], title=cohort_a.built.course.title
    )
    owner_b = client_as(cohort_b.owner, cohort_b.school)
    a_course = cohort_a.built.course.pk
    # A's course and announcement ids on B's host: 404 like ids that never existed.
    assert owner_b.get(f"/manage/courses/{a_course}/announcements/").status_code == 404
    assert (
        owner_b.post(
            f"/manage/courses/{a_course}/announcements/", {"title": "x", "body_md": "y"}
        ).status_code
        == 404
    )
    b_course = cohort_b.built.course.pk
    assert (
        owner_b.get(
            f"/manage/courses/{b_course}/announcements/{announcement.pk}/progress/"
        ).status_code
        == 404
    )
    assert (
        owner_b.get(
            f"/manage/courses/{a_course}/announcements/{announcement.pk}/progress/"
        ).status_code
        == 404
    )
    # B's student with the same course slug sees none of A's announcements.
    student_b = client_as(cohort_b.students[0], cohort_b.school)
    slug = cohort_b.built.course.slug
    assert "Live Q" not in text(student_b.get(f"/courses/{slug}/announcements/"))
    assert "Live Q" not in text(student_b.get("/my/announcements/"))
    # B's task for A's announcement id finds nothing and sends nothing.
    assert tasks.run_announcement_batch(
        school_id=cohort_b.school.pk, announcement_id=announcement.pk
    ) == {"sent": 0, "failed": 0, "skipped": 0, "waiting": 0}
    assert mail.outbox == []
    with school_context(cohort_b.school):
        assert not Announcement.objects.exists()
        assert not AnnouncementDelivery.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_batch_left_sending_by_a_dead_worker_is_resumed_and_each_email_goes_once(
    make_school: Any, settings: Any, capsys: Any
) -> None:
    from django.core.management import call_command

    from courseplatform.notices.periodic import resume_stalled_announcements, stalled_announcements

    settings.ANNOUNCEMENT_EMAIL_BATCH_SIZE = 2
    alpha, bravo = make_school("alpha"), make_school("bravo")
    cohort = make_cohort(alpha.school, alpha.owner, [f"s{i}@alpha.test" for i in range(4)])
    other = make_cohort(bravo.school, bravo.owner, ["bob@bravo.test"])
    stuck, done = _post(cohort), _post(other)
    assert _run(other, done)["waiting"] == 0
    # The worker took a batch and died before sending any of it.
    with school_context(cohort.school):
        claimed = tasks._claim(stuck, 2)
    assert len(claimed) == 2 and len(mail.outbox) == 1  # bravo's one email

    now = timezone.now()
    assert stalled_announcements(now=now) == []  # a batch claimed just now is working
    later = now + timedelta(minutes=settings.STALLED_BATCH_MINUTES + 1)
    enqueued: list[dict[str, Any]] = []
    original = tasks.enqueue_announcement_batch
    tasks.enqueue_announcement_batch = lambda **kw: enqueued.append(kw)  # type: ignore[assignment]
    try:
        assert resume_stalled_announcements(now=later) == [(cohort.school.pk, stuck.pk)]
    finally:
        tasks.enqueue_announcement_batch = original  # type: ignore[assignment]
    assert enqueued == [{"school_id": cohort.school.pk, "announcement_id": stuck.pk}]
    assert set(_statuses(cohort, stuck).values()) == {AnnouncementDelivery.Status.PENDING}

    while _run(cohort, stuck)["waiting"]:
        pass
    assert sorted(m.to[0] for m in mail.outbox if m.to[0].endswith("@alpha.test")) == [
        f"s{i}@alpha.test" for i in range(4)
    ]
    assert set(_statuses(cohort, stuck).values()) == {AnnouncementDelivery.Status.SENT}
    assert _statuses(other, done) == {"bob@bravo.test": AnnouncementDelivery.Status.SENT}
    # Nothing left to resume anywhere; the periodic command is quiet when idle.
    assert stalled_announcements(now=later) == []
    call_command("resume_announcements", "--quiet")
    assert capsys.readouterr().out == ""


def test_announcement_emails_are_written_in_each_students_language(cohort_a: Cohort) -> None:
    """The school writes in Portuguese; one student reads Arabic: the course and title
    stay as written, everything around them is in the reader's language."""
    school = cohort_a.school
    ann, bad, cat, dan = cohort_a.students
    with school_context(school):
        type(school).objects.filter(pk=school.pk).update(language="pt-br")
        type(ann).objects.filter(pk=ann.pk).update(language="ar")
        type(ann).objects.filter(pk__in=[bad.pk, cat.pk]).update(is_active=False)
    announcement = _post(cohort_a)
    assert _run(cohort_a, announcement)["sent"] == 2
    by_address = {m.to[0]: m for m in mail.outbox}
    arabic, portuguese = by_address[ann.email], by_address[dan.email]
    assert arabic.body.startswith("إعلان في Cohort")
    assert "إلغاء الاشتراك في رسائل الدورات" in arabic.alternatives[0][0]  # type: ignore[attr-defined]
    assert portuguese.body.startswith("Aviso em Cohort")
    assert "Abrir o curso" in portuguese.alternatives[0][0]  # type: ignore[attr-defined]
    assert "Announcement in" not in f"{arabic.body} {portuguese.body}"
