"""`manage.py seed_demo` (what `make demo` runs) on the test PostgreSQL: the demo school
the README promises, built once and left alone (or repaired) on every later run."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from courseplatform.access.models import AccessCode, AccessCodeBatch
from courseplatform.access.services import redeem_code
from courseplatform.accounts.models import User
from courseplatform.accounts.services import register_user
from courseplatform.certificates.models import CertificateSettings
from courseplatform.courses.models import Attachment, Course, Enrollment, Lesson, LessonProgress
from courseplatform.onboarding.management.commands import seed_demo
from courseplatform.quizzes.models import Question
from courseplatform.tenancy.models import Plan, School
from courseplatform.tenancy.rls import school_context
from courseplatform.video import pipeline
from courseplatform.video.models import VideoAsset
from courseplatform.video.tests.transcode_media import local_media_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

# As documented in the README's demo table.
OWNER_EMAIL = "owner@demo.example"
OWNER_PASSWORD = "demo-owner-pass-2026"
STUDENT_EMAIL = "student@demo.example"
STUDENT_PASSWORD = "demo-student-pass-2026"
VIDEO_LESSON = "Watch: a first wash"
_PRINTED_CODE = re.compile(r"^  code:\s+(\S+)\s", re.M)


@pytest.fixture
def short_clip(monkeypatch: pytest.MonkeyPatch) -> None:
    # The real demo clip is 30 s of 1080p; 2 s exercises the same ladder on 2 shared cores.
    monkeypatch.setattr(seed_demo, "VIDEO_SECONDS", 2)


@pytest.fixture
def no_ffmpeg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A machine without ffmpeg (the outside world): the binary is not there."""
    monkeypatch.setattr(pipeline, "ffmpeg_exe", lambda: str(tmp_path / "no-such-ffmpeg"))


def _seed() -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("seed_demo", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _demo() -> School:
    return School.objects.get(slug="demo")


def _printed_code(output: str) -> str:
    match = _PRINTED_CODE.search(output)
    assert match, output
    return match.group(1)


def _snapshot(school: School) -> dict[str, Any]:
    with school_context(school):
        return {
            "users": sorted(User.objects.filter(school=school).values_list("email", flat=True)),
            "courses": list(Course.objects.filter(school=school).values_list("pk", flat=True)),
            "lessons": list(
                Lesson.objects.filter(school=school).order_by("pk").values_list("pk", flat=True)
            ),
            "attachments": Attachment.objects.filter(school=school).count(),
            "enrollments": Enrollment.objects.filter(school=school).count(),
            "progress": LessonProgress.objects.filter(school=school).count(),
            "batches": list(
                AccessCodeBatch.objects.filter(school=school).values_list("name", flat=True)
            ),
            "codes": AccessCode.objects.filter(school=school).count(),
            "videos": list(VideoAsset.objects.filter(school=school).values_list("pk", flat=True)),
            "questions": list(Question.objects.filter(school=school).values_list("pk", flat=True)),
            "certificate": list(
                CertificateSettings.objects.filter(school=school).values_list(
                    "course_id", "enabled", "updated_at"
                )
            ),
        }


def test_seed_demo_creates_the_demo_school_then_leaves_it_alone(
    short_clip: None, local_media: Path
) -> None:
    output, errors = _seed()
    assert errors == ""
    school = _demo()
    assert school.plan.code == Plan.PREMIUM
    assert "Demo school ready:" in output
    assert f"{OWNER_EMAIL} / {OWNER_PASSWORD}" in output
    assert f"{STUDENT_EMAIL} / {STUDENT_PASSWORD}" in output
    assert "Demo video: transcoding the HLS ladder" in output
    with school_context(school):
        owner = User.objects.get(school=school, email=OWNER_EMAIL)
        student = User.objects.get(school=school, email=STUDENT_EMAIL)
        assert owner.role == User.Role.OWNER and owner.check_password(OWNER_PASSWORD)
        assert student.check_password(STUDENT_PASSWORD)
        course = Course.objects.get(school=school)
        assert course.status == Course.Status.PUBLISHED
        lessons = list(
            Lesson.objects.filter(school=school).order_by("section__position", "position")
        )
        assert len(lessons) == 6
        quiz_lesson = lessons[-1]  # last of section 2: a quiz of five questions
        assert quiz_lesson.title == seed_demo.QUIZ_LESSON
        assert quiz_lesson.kind == Lesson.Kind.QUIZ
        assert quiz_lesson.quiz.questions.count() == len(seed_demo.QUIZ_QUESTIONS)
        assert quiz_lesson.quiz.pass_mark == 60
        video_lesson = lessons[2]  # first of section 2, as the README describes
        assert video_lesson.title == VIDEO_LESSON and video_lesson.kind == Lesson.Kind.VIDEO
        assert video_lesson.is_preview
        asset = video_lesson.video
        assert asset is not None and asset.status == VideoAsset.Status.READY
        assert list(asset.renditions.values_list("name", flat=True)) == [
            "1080p", "720p", "480p", "360p",
        ]  # fmt: skip
        assert asset.duration_seconds == pytest.approx(2, abs=0.2)
        assert Attachment.objects.get(school=school).filename == "supplies-list.txt"
        # The course's certificate is on (README "Certificates").
        certificate = CertificateSettings.objects.get(school=school, course=course)
        assert certificate.enabled and certificate.signer_name
        # The student is partway through: lesson 1 done, lesson 2 where they left off.
        enrollment = Enrollment.objects.get(school=school, student=student, course=course)
        assert enrollment.last_lesson_id == lessons[1].pk
        done = LessonProgress.objects.get(school=school, student=student)
        assert done.lesson_id == lessons[0].pk and done.completed_at is not None
    assert f"/courses/{course.slug}/lessons/{video_lesson.pk}/" in output
    assert f"/courses/{course.slug}/lessons/{quiz_lesson.pk}/" in output
    before = _snapshot(school)

    again, errors = _seed()
    assert errors == ""
    assert "Demo video" not in again  # a ready video is not made again
    assert _snapshot(school) == before
    # Nothing redeemed the code in between: the same one is offered again.
    assert _printed_code(again) == _printed_code(output)

    # The printed code really admits a newcomer to the course.
    with school_context(school):
        newcomer = register_user(
            school=school, email="new@demo.example", password="a-long-pass-42!", full_name="New"
        )
        result = redeem_code(school=school, student=newcomer, raw_code=_printed_code(again))
        assert [c.pk for c in result.newly_enrolled] == [course.pk]


def test_seed_demo_without_ffmpeg_seeds_everything_but_the_video(
    no_ffmpeg: None, local_media: Path
) -> None:
    output, errors = _seed()
    assert "Demo video skipped: could not generate the clip" in errors
    school = _demo()
    with school_context(school):
        lesson = Lesson.objects.get(school=school, title=VIDEO_LESSON)
        assert lesson.video is None
        assert not VideoAsset.objects.filter(school=school).exists()
        assert Lesson.objects.filter(school=school).count() == 6  # the quiz included
    assert f"/lessons/{lesson.pk}/" in output  # the lesson is there, waiting for a video
    assert _printed_code(output)


def test_seed_demo_hands_out_a_fresh_batch_when_every_demo_code_is_used(
    no_ffmpeg: None, local_media: Path
) -> None:
    first, _ = _seed()
    school = _demo()
    with school_context(school):
        AccessCode.objects.filter(school=school).update(uses_count=1)
    second, _ = _seed()
    assert _printed_code(second) != _printed_code(first)
    with school_context(school):
        assert sorted(
            AccessCodeBatch.objects.filter(school=school).values_list("name", flat=True)
        ) == [
            "Demo codes",
            "Demo codes (more)",
        ]
        fresh = AccessCode.objects.filter(school=school, uses_count=0)
        assert fresh.count() == 20 and {c.batch.name for c in fresh} == {"Demo codes (more)"}
    third, _ = _seed()
    assert _printed_code(third) == _printed_code(second)  # no third batch while codes remain
    with school_context(school):
        assert AccessCodeBatch.objects.filter(school=school).count() == 2


def test_seed_demo_retries_a_failed_video_on_the_next_run(
    short_clip: None, local_media: Path, plan_limits: Any
) -> None:
    """The plan refuses the clip the first time (no video minutes left): the lesson keeps
    its failed video; the next run transcodes the same asset again."""
    premium = Plan.objects.get(code=Plan.PREMIUM)
    minutes = premium.max_video_minutes
    plan_limits(premium, max_video_minutes=0)
    output, errors = _seed()
    assert "Demo video failed: " in errors and "video minutes left" in errors
    school = _demo()
    with school_context(school):
        lesson = Lesson.objects.get(school=school, title=VIDEO_LESSON)
        failed = lesson.video
        assert failed is not None and failed.status == VideoAsset.Status.FAILED
        assert "video minutes left" in failed.error_message
        assert not failed.renditions.exists()

    plan_limits(premium, max_video_minutes=minutes)
    output, errors = _seed()
    assert errors == ""
    assert "Demo video: transcoding the HLS ladder" in output
    with school_context(school):
        lesson.refresh_from_db()
        assert lesson.video_id == failed.pk  # the same asset, not a second one
        assert lesson.video is not None and lesson.video.status == VideoAsset.Status.READY
        assert lesson.video.error_message == ""
        assert VideoAsset.objects.filter(school=school).count() == 1
