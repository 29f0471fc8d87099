"""A school with something in every table a school can fill, and objects in storage.

Built through the services wherever one exists (courses, codes and redemptions,
quizzes and attempts, certificates, announcements, API tokens, webhooks, login links,
analytics rollups); rows no service makes in a test (a custom domain, watch time,
a drip unlock notice, video renditions, the admin log, a user's groups) are written
directly. Used by the purge and export tests to prove they cover everything.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connections

from courseplatform.access.services import create_batch, redeem_code
from courseplatform.accounts.models import User
from courseplatform.accounts.services import issue_login_link
from courseplatform.analytics.rollups import refresh_school
from courseplatform.analytics.tasks import refresh_school_analytics
from courseplatform.api.services import create_token, store_idempotent_answer
from courseplatform.certificates import services as certificates
from courseplatform.courses import services as courses
from courseplatform.courses.models import Course, Lesson
from courseplatform.courses.tests.test_student_views import build_course
from courseplatform.domains.models import CustomDomain
from courseplatform.notices.models import UnlockNotice
from courseplatform.notices.services import create_announcement, set_course_emails
from courseplatform.quizzes import services as quizzes
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context
from courseplatform.tenancy.storage import school_storage_key
from courseplatform.video.models import Rendition, VideoAsset, WatchTime
from courseplatform.webhooks.models import WebhookEndpoint
from courseplatform.webhooks.services import create_endpoint, queue_event
from tests.fixtures.schools import PASSWORD


def scalar(conn: psycopg.Connection[Any], query: str, params: list[Any] | None = None) -> Any:
    row = conn.execute(query, params).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0]


def admin_connection() -> psycopg.Connection[Any]:
    """A superuser connection to the test database: sees every row, whatever RLS says."""
    admin = os.environ.get("DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    database = connections["default"].settings_dict["NAME"]
    return psycopg.connect(admin.rsplit("/", 1)[0] + "/" + database, autocommit=True)


@dataclass
class FullSchool:
    school: School
    owner: User
    students: list[User]
    course: Course
    quiz_course: Course
    quiz_lesson: Lesson
    codes: list[str] = field(default_factory=list)
    video: VideoAsset | None = None


def build_full_school(make_school: Callable[..., Any], slug: str) -> FullSchool:
    created = make_school(slug)
    school, owner = created.school, created.owner
    with school_context(school):
        instructor = User.objects.create_user(
            f"teacher@{slug}.test",
            PASSWORD,
            school=school,
            full_name="Ina Instructor",
            role=User.Role.INSTRUCTOR,
        )
        students = [
            User.objects.create_user(
                f"student{n}@{slug}.test", PASSWORD, school=school, full_name=f"Student {n}"
            )
            for n in range(3)
        ]
    built = build_course(school, owner, title=f"{slug} painting", attachments=True, cover=True)
    course = built.course
    with school_context(school):
        courses.set_course_instructor(
            school=school, actor=owner, course=course, user=instructor, teaching=True
        )
        certificates.update_settings(
            school=school,
            actor=owner,
            course=course,
            enabled=True,
            title="Certificate of completion",
            signer_name="The Owner",
        )
        batch = create_batch(
            school=school, actor=owner, name="Spring", course_ids=[course.pk], code_count=3
        )
        codes = list(batch.codes)
        redeem_code(school=school, student=students[0], raw_code=codes[0])
        for student in students[1:]:
            courses.enroll_student(
                school=school, actor=owner, course=course, student=student, source="manual"
            )
        # Student 0 finishes the course: progress rows and a certificate.
        for lesson in built.lessons:
            courses.set_lesson_completed(school=school, student=students[0], lesson=lesson)
        courses.set_lesson_completed(school=school, student=students[1], lesson=built.lessons[0])

        quiz_course = courses.create_course(
            school=school, actor=owner, title=f"{slug} quiz course", subtitle="", description_md=""
        )
        section = courses.add_section(school=school, actor=owner, course=quiz_course, title="Quiz")
        quiz_lesson = courses.add_lesson(
            school=school, actor=owner, section=section, title="Check yourself"
        )
        courses.update_lesson(
            school=school,
            actor=owner,
            lesson=quiz_lesson,
            title=quiz_lesson.title,
            kind=Lesson.Kind.QUIZ,
            body_md="",
            is_preview=False,
            duration_minutes=5,
        )
        quizzes.ensure_quiz(school=school, actor=owner, lesson=quiz_lesson)
        question = quizzes.save_question(
            school=school,
            actor=owner,
            lesson=quiz_lesson,
            kind="single",
            prompt_md="Which colour is primary?",
            options=[quizzes.OptionInput("Blue", True), quizzes.OptionInput("Mauve", False)],
        )
        courses.set_course_status(school=school, actor=owner, course=quiz_course, publish=True)
        courses.enroll_student(
            school=school, actor=owner, course=quiz_course, student=students[0], source="manual"
        )
        attempt = quizzes.start_attempt(school=school, student=students[0], lesson=quiz_lesson)
        correct = question.options.get(is_correct=True)
        quizzes.submit_attempt(
            school=school,
            student=students[0],
            lesson=quiz_lesson,
            attempt_id=attempt.pk,
            answers={str(question.pk): [str(correct.pk)]},
        )

        create_announcement(
            school=school, actor=owner, course=course, title="Welcome", body_md="Hello **all**"
        )
        set_course_emails(school=school, user=students[2], subscribed=False)
        UnlockNotice.objects.create(
            school=school,
            section=list(course.sections.order_by("position"))[-1],
            student=students[1],
        )
        token = create_token(school=school, actor=owner, name="CRM", scope="write")
        # A task queued for the school (its row carries the school id first).
        refresh_school_analytics.enqueue(school.pk)
        store_idempotent_answer(
            token=token.token,
            key="k1",
            fingerprint="f" * 64,
            status_code=201,
            content_type="application/json",
            body=b"{}",
        )
        endpoint = create_endpoint(
            school=school,
            actor=owner,
            url=f"https://93.184.215.14/{slug}/hooks",
            event_types=["enrollment.created"],
        )
        assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
        issue_login_link(school=school, user=students[1])
        CustomDomain.objects.create(school=school, hostname=f"learn.{slug}.example")
        WatchTime.objects.create(
            school=school,
            lesson=built.lessons[1],
            course=course,
            day=date(2026, 12, 1),
            seconds=120,
            beats=4,
        )
        video = _video_with_renditions(school, owner)
        _archives_and_imports(school, owner, course)
        Lesson.objects.filter(pk=built.lessons[1].pk).update(video=video)
        refresh_school(school=school)
    _events(school, course, students)
    _admin_rows(school, students[0])
    return FullSchool(
        school=school,
        owner=owner,
        students=students,
        course=course,
        quiz_course=quiz_course,
        quiz_lesson=quiz_lesson,
        codes=codes,
        video=video,
    )


def _archives_and_imports(school: School, owner: User, course: Course) -> None:
    """A bulk student import with a row, and a course export and import (jobs rows; the
    export's zip is stored under the school's prefix)."""
    from courseplatform.portability.models import CourseExport, CourseImport
    from courseplatform.roster.models import StudentImport, StudentImportRow

    student_import = StudentImport.objects.create(
        school=school, created_by=owner, filename="class.csv", file_format="csv", total_rows=1
    )
    StudentImportRow.objects.create(
        school=school,
        student_import=student_import,
        line=2,
        name="New Person",
        email=f"new@{school.slug}.test",
        action=StudentImportRow.Action.INVITE,
    )
    key = school_storage_key(school.pk, "exports", "course.zip")
    default_storage.save(key, ContentFile(b"PK\x05\x06" + b"\x00" * 18))
    CourseExport.objects.create(
        school=school,
        course=course,
        course_title=course.title,
        requested_by=owner,
        archive_key=key,
        size=22,
    )
    CourseImport.objects.create(
        school=school, filename="course.zip", course_title="Imported", requested_by=owner
    )
    from courseplatform.portability.models import SchoolExport

    school_key = school_storage_key(school.pk, "school-exports", "whole.zip")
    default_storage.save(school_key, ContentFile(b"PK\x05\x06" + b"\x00" * 18))
    SchoolExport.objects.create(
        school=school, requested_by=owner, archive_key=school_key, status="ready", size=22
    )


def _events(school: School, course: Course, students: list[User]) -> None:
    # A webhook delivery row: what an enrolment queues for a subscribed endpoint.
    from courseplatform.ops.events import Event

    with school_context(school):
        queue_event(
            Event(
                school_id=school.pk,
                type="enrollment.created",
                data={"course": course.pk, "student": students[0].pk},
            )
        )


def _video_with_renditions(school: School, owner: User) -> VideoAsset:
    """A ready video: its source, HLS playlists, segments and poster in storage."""
    asset = VideoAsset.objects.create(
        school=school,
        title="Intro",
        original_filename="intro.mp4",
        status=VideoAsset.Status.READY,
        created_by=owner,
        duration_seconds=4.0,
        width=1280,
        height=720,
        has_audio=True,
    )
    base = school_storage_key(school.pk, "videos", str(asset.uuid))
    default_storage.save(f"{base}/source/intro.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42"))
    default_storage.save(f"{base}/hls/master.m3u8", ContentFile(b"#EXTM3U\n"))
    default_storage.save(f"{base}/hls/poster.jpg", ContentFile(b"\xff\xd8\xff\xe0poster"))
    for name, height in (("360p", 360), ("720p", 720)):
        default_storage.save(f"{base}/hls/{name}/index.m3u8", ContentFile(b"#EXTM3U\n"))
        default_storage.save(f"{base}/hls/{name}/seg_00000.m4s", ContentFile(b"segment" * 50))
        Rendition.objects.create(
            school=school,
            asset=asset,
            name=name,
            width=height * 16 // 9,
            height=height,
            bandwidth=800_000,
            average_bandwidth=600_000,
            codecs="avc1.64001f,mp4a.40.2",
            frame_rate=30.0,
            playlist_key=f"{base}/hls/{name}/index.m3u8",
            segment_count=1,
        )
    VideoAsset.objects.filter(pk=asset.pk).update(
        source_key=f"{base}/source/intro.mp4",
        hls_prefix=f"{base}/hls/",
        poster_key=f"{base}/hls/poster.jpg",
    )
    asset.refresh_from_db()
    return asset


def _admin_rows(school: School, user: User) -> None:
    """Rows keyed only through a user: the admin log, groups and permissions."""
    with admin_connection() as conn:
        group_id = scalar(
            conn, "INSERT INTO auth_group (name) VALUES (%s) RETURNING id", [f"group-{school.slug}"]
        )
        permission_id = scalar(conn, "SELECT min(id) FROM auth_permission")
        conn.execute(
            "INSERT INTO accounts_user_groups (user_id, group_id) VALUES (%s, %s)",
            [user.pk, group_id],
        )
        conn.execute(
            "INSERT INTO accounts_user_user_permissions (user_id, permission_id) VALUES (%s, %s)",
            [user.pk, permission_id],
        )
        conn.execute(
            "INSERT INTO django_admin_log (action_time, object_id, object_repr, action_flag, "
            "change_message, content_type_id, user_id) VALUES (now(), '1', 'x', 1, '', NULL, %s)",
            [user.pk],
        )
