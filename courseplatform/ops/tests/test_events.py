"""Domain events (``ops.events``): each service announces its event once, on commit,
and a write that rolls back announces nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from courseplatform.access.services import create_batch, redeem_code
from courseplatform.accounts.services import register_user
from courseplatform.courses import services as course_services
from courseplatform.courses.models import Enrollment
from courseplatform.ops import events
from courseplatform.tenancy.rls import school_context
from courseplatform.video import pipeline, tasks
from courseplatform.video.models import VideoAsset
from courseplatform.video.tests.transcode_media import (  # noqa: F401  (fixtures)
    CLIPS,
    clip_dir_fixture,
    clip_path_fixture,
    local_media_fixture,
    upload,
)

pytestmark = pytest.mark.django_db

Capture = Callable[..., AbstractContextManager[Any]]


class Rollback(Exception):
    pass


@pytest.fixture
def seen() -> Iterator[list[events.Event]]:
    """Every event handed to subscribers during the test."""
    received: list[events.Event] = []
    events.subscribe("test-recorder", received.append)
    yield received
    events.unsubscribe("test-recorder")


def of_type(seen: list[events.Event], kind: str) -> list[events.Event]:
    return [e for e in seen if e.type == kind]


def rolled_back(action: Callable[[], Any]) -> None:
    with pytest.raises(Rollback), transaction.atomic():
        action()
        raise Rollback


def draft_with_lesson(school: Any, owner: Any, title: str = "Ink Drawing") -> Any:
    course = course_services.create_course(school=school, actor=owner, title=title)
    section = course_services.add_section(school=school, actor=owner, course=course, title="One")
    course_services.add_lesson(school=school, actor=owner, section=section, title="Hello")
    return course


def published(school: Any, owner: Any, title: str = "Ink Drawing") -> Any:
    course = draft_with_lesson(school, owner, title)
    return course_services.set_course_status(
        school=school, actor=owner, course=course, publish=True
    )


def test_emit_event_refuses_an_unknown_type(school_a: Any) -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        events.emit_event(school=school_a.school, type="course.exploded", data={})


def test_a_failing_subscriber_is_logged_and_the_others_still_run(
    school_a: Any,
    seen: list[events.Event],
    django_capture_on_commit_callbacks: Capture,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(event: events.Event) -> None:
        raise RuntimeError("subscriber bug")

    events.subscribe("broken", broken)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            event = events.emit_event(
                school=school_a.school.pk, type="course.published", data={"id": 1}
            )
    finally:
        events.unsubscribe("broken")
    assert seen == [event]
    assert event.id.startswith("evt_") and event.school_id == school_a.school.pk
    assert "subscriber broken failed" in caplog.text


def test_course_published_once_on_commit_not_on_rollback(
    school_a: Any, seen: list[events.Event], django_capture_on_commit_callbacks: Capture
) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        draft = draft_with_lesson(school, owner)
        rolled_back(
            lambda: course_services.set_course_status(
                school=school, actor=owner, course=draft, publish=True
            )
        )
        assert of_type(seen, "course.published") == []
        draft.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            course_services.set_course_status(
                school=school, actor=owner, course=draft, publish=True
            )
        # Publishing again (already published) or unpublishing announces nothing new.
        with django_capture_on_commit_callbacks(execute=True):
            course_services.set_course_status(
                school=school, actor=owner, course=draft, publish=True
            )
            course_services.set_course_status(
                school=school, actor=owner, course=draft, publish=False
            )
    [event] = of_type(seen, "course.published")
    assert event.school_id == school.pk
    assert event.data["id"] == draft.pk and event.data["title"] == "Ink Drawing"
    assert event.data["published_at"]


def test_enrollment_created_and_deleted_once_on_commit_not_on_rollback(
    school_a: Any,
    make_user: Callable[..., Any],
    seen: list[events.Event],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    school, owner = school_a.school, school_a.owner
    student = make_user(school, "ada@alpha.test")
    with school_context(school):
        course = published(school, owner)

        def enrol() -> Any:
            return course_services.enroll_student(
                school=school, actor=owner, course=course, student=student, source="manual"
            )

        rolled_back(enrol)
        assert of_type(seen, "enrollment.created") == []
        with django_capture_on_commit_callbacks(execute=True):
            enrollment, created = enrol()
            assert created
            _, again = enrol()  # idempotent: no second event
            assert not again
        [created_event] = of_type(seen, "enrollment.created")
        assert created_event.data["id"] == enrollment.pk
        assert created_event.data["course"]["id"] == course.pk
        assert created_event.data["student"]["email"] == "ada@alpha.test"
        assert created_event.data["source"] == "manual"

        enrollment_id = enrollment.pk
        rolled_back(
            lambda: course_services.remove_enrollment(
                school=school, actor=owner, enrollment=enrollment
            )
        )
        assert of_type(seen, "enrollment.deleted") == []
        enrollment = Enrollment.objects.get(pk=enrollment_id)
        with django_capture_on_commit_callbacks(execute=True):
            course_services.remove_enrollment(school=school, actor=owner, enrollment=enrollment)
    [deleted_event] = of_type(seen, "enrollment.deleted")
    assert deleted_event.data["id"] == created_event.data["id"]
    assert deleted_event.data["student"]["id"] == student.pk


def test_code_redeemed_once_on_commit_not_on_rollback(
    school_a: Any,
    make_user: Callable[..., Any],
    seen: list[events.Event],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    school, owner = school_a.school, school_a.owner
    student = make_user(school, "lin@alpha.test")
    with school_context(school):
        course = published(school, owner)
        batch = create_batch(
            school=school, actor=owner, name="Fair", course_ids=[course.pk], code_count=2
        )
        first, second = batch.codes
        rolled_back(lambda: redeem_code(school=school, student=student, raw_code=first))
        assert of_type(seen, "code.redeemed") == []
        assert not Enrollment.objects.filter(student=student).exists()
        with django_capture_on_commit_callbacks(execute=True):
            redeem_code(school=school, student=student, raw_code=first)
            # Already enrolled in everything: no use consumed, nothing announced.
            redeem_code(school=school, student=student, raw_code=second)
    [event] = of_type(seen, "code.redeemed")
    assert event.data["batch"] == {"id": batch.batch.pk, "name": "Fair"}
    assert event.data["courses"][0]["id"] == course.pk
    assert event.data["newly_enrolled"] == [course.pk]
    # The plaintext code is a bearer secret: never in an event.
    assert first not in repr(event.data) and first.replace("-", "") not in repr(event.data)
    # Redeeming enrolled the student: that is its own event too.
    assert len(of_type(seen, "enrollment.created")) == 1


def test_student_created_on_signup_and_invitation_once_on_commit_not_on_rollback(
    school_a: Any, seen: list[events.Event], django_capture_on_commit_callbacks: Capture
) -> None:
    school, owner = school_a.school, school_a.owner

    def signup(email: str) -> Any:
        return register_user(
            school=school, email=email, password="a-long-test-passphrase-42", full_name="Bo"
        )

    with school_context(school):
        rolled_back(lambda: signup("bo@alpha.test"))
        assert of_type(seen, "student.created") == []
        with django_capture_on_commit_callbacks(execute=True):
            user = signup("bo@alpha.test")
            # An owner or instructor account is not a student.
            register_user(
                school=school,
                email="teacher@alpha.test",
                password="a-long-test-passphrase-42",
                full_name="Tea",
                role="instructor",
            )
        course = published(school, owner)
        with django_capture_on_commit_callbacks(execute=True):
            course_services.enroll_by_email(
                school=school, actor=owner, course=course, email="new@alpha.test"
            )
    signup_event, invited_event = of_type(seen, "student.created")
    assert signup_event.data["id"] == user.pk
    assert signup_event.data["source"] == "signup"
    assert invited_event.data["email"] == "new@alpha.test"
    assert invited_event.data["source"] == "invitation"


def test_video_failed_once_on_commit_not_on_rollback(
    school_a: Any,
    seen: list[events.Event],
    django_capture_on_commit_callbacks: Capture,
    local_media: Path,
    tmp_path: Path,
) -> None:
    school, owner = school_a.school, school_a.owner
    fake = tmp_path / "holiday.mp4"
    fake.write_bytes(b"this is not a video at all" * 100)
    asset = upload(school, owner, fake)
    with school_context(school):
        rolled_back(lambda: tasks.mark_failed(school=school, asset=asset, message="rolled back"))
    assert of_type(seen, "video.failed") == []
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.run_transcode_job(school_id=school.pk, asset_id=asset.pk) == "failed"
    [event] = of_type(seen, "video.failed")
    assert event.data["id"] == str(asset.uuid)
    assert event.data["filename"] == "holiday.mp4"
    assert event.data["error"]


def test_video_ready_once_on_commit_not_on_rollback(
    school_a: Any,
    seen: list[events.Event],
    django_capture_on_commit_callbacks: Capture,
    clip_path: Callable[[str], Path],
    local_media: Path,
) -> None:
    school, owner = school_a.school, school_a.owner
    asset = upload(school, owner, clip_path(CLIPS["no_audio"].name))
    with school_context(school):
        rolled_back(lambda: pipeline.process_asset(school=school, asset=asset))
        assert of_type(seen, "video.ready") == []
        assert VideoAsset.objects.get(pk=asset.pk).status == VideoAsset.Status.QUEUED
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.run_transcode_job(school_id=school.pk, asset_id=asset.pk) == "ready"
    [event] = of_type(seen, "video.ready")
    assert event.data["id"] == str(asset.uuid)
    assert event.data["renditions"] == ["360p"]
    assert event.data["duration_seconds"] == pytest.approx(3.0, abs=0.2)
