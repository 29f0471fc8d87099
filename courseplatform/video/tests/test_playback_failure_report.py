"""``POST /video/lessons/<id>/playback-failure``: when the player gives up it reports
once, and the server writes one structured log line with the video and the kind of
failure. Only a viewer of the lesson on its own school's host may report, with a
CSRF token, a bounded number of times; bad input is refused and logs nothing."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client, override_settings

from courseplatform.video.views_playback import NO_STORE
from tests.fixtures.schools import host_of

from .playback_support import World

pytestmark = pytest.mark.django_db

LOGGER = "courseplatform.video.views_playback"
VALID = {"kind": "decrypt", "detail": "fragDecryptError", "http_status": "0", "failures": "3"}


def report_url(lesson: Any) -> str:
    return f"/video/lessons/{lesson.pk}/playback-failure"


def failure_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    events = [r.msg for r in caplog.records if r.name == LOGGER and isinstance(r.msg, dict)]
    return [e for e in events if e["event"] == "video.playback_failed"]


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger=LOGGER)
    return caplog


def test_report_playback_failure_writes_one_log_line(
    world: World, logs: pytest.LogCaptureFixture
) -> None:
    response = world.client(world.student).post(report_url(world.locked), VALID)
    assert response.status_code == 204
    assert response["Cache-Control"] == NO_STORE
    (line,) = failure_lines(logs)
    assert line["request_id"] and line["level"] == "warning"
    assert line["user_id"] == world.student.pk  # bound per request by the middleware
    assert {k: v for k, v in line.items() if k not in {"request_id", "timestamp"}} == {
        "event": "video.playback_failed",
        "level": "warning",
        "logger": LOGGER,
        "user_id": world.student.pk,
        "school_id": world.school.pk,
        "lesson_id": world.locked.pk,
        "asset_id": world.asset.pk,
        "video": str(world.asset.uuid),
        "kind": "decrypt",
        "detail": "fragDecryptError",
        "http_status": 0,
        "failures": 3,
        "viewer": f"u{world.student.pk}",
    }
    (record,) = [r for r in logs.records if r.name == LOGGER]
    assert record.levelno == logging.WARNING


def test_report_playback_failure_optional_fields_default_to_zero(
    world: World, logs: pytest.LogCaptureFixture
) -> None:
    response = world.client().post(report_url(world.preview), {"kind": "network"})
    assert response.status_code == 204  # a free preview: anonymous viewers report too
    (line,) = failure_lines(logs)
    assert line["kind"] == "network" and line["viewer"] == "anon"
    assert (line["detail"], line["http_status"], line["failures"]) == ("", 0, 0)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kind", "", "kind must be one of"),
        ("kind", "explode", "kind must be one of"),
        ("detail", "frag Decrypt", "detail must be an error name"),
        ("detail", "<img src=x onerror=alert(1)>", "detail must be an error name"),
        ("detail", "x" * 65, "detail must be an error name"),
        ("detail", "1abc", "detail must be an error name"),
        ("http_status", "600", "http_status must be a number"),
        ("http_status", "-1", "http_status must be a number"),
        ("http_status", "4e2", "http_status must be a number"),
        ("failures", "1.5", "failures must be a whole number"),
        ("failures", "9" * 20, "failures must be a whole number"),
    ],
)
def test_report_playback_failure_refuses_bad_input_and_logs_nothing(
    world: World, logs: pytest.LogCaptureFixture, field: str, value: str, message: str
) -> None:
    response = world.client(world.student).post(report_url(world.locked), {**VALID, field: value})
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert failure_lines(logs) == []


def test_report_playback_failure_is_school_scoped(
    world: World, logs: pytest.LogCaptureFixture
) -> None:
    # Another school's lesson id, asked on this school's host, by its student and owner.
    for user in (world.student, world.owner):
        response = world.client(user).post(report_url(world.other_lesson), VALID)
        assert response.status_code == 404
    unknown = world.client(world.student).post("/video/lessons/999999999/playback-failure", VALID)
    assert unknown.status_code == 404
    # Same school, not enrolled in the locked lesson; anonymous on it: refused.
    assert world.client(world.outsider).post(report_url(world.locked), VALID).status_code == 403
    assert world.client().post(report_url(world.locked), VALID).status_code == 403
    assert failure_lines(logs) == []


def test_report_playback_failure_needs_post_and_a_csrf_token(
    world: World, logs: pytest.LogCaptureFixture
) -> None:
    client = world.client(world.student, enforce_csrf_checks=True)
    assert client.get(report_url(world.locked)).status_code == 405
    assert client.post(report_url(world.locked), VALID).status_code == 403  # no token
    assert failure_lines(logs) == []
    client.get(f"/courses/{world.course.slug}/lessons/{world.locked.pk}/")  # sets the cookie
    token = client.cookies["csrftoken"].value
    response = client.post(report_url(world.locked), VALID, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 204
    assert len(failure_lines(logs)) == 1


@override_settings(RATE_LIMIT_VIDEO_REPORT="2/600", RATE_LIMIT_VIDEO_REPORT_IP="3/3600")
def test_report_playback_failure_is_rate_limited_per_viewer_and_per_address(
    world: World, logs: pytest.LogCaptureFixture
) -> None:
    student = world.client(world.student)
    statuses = [student.post(report_url(world.locked), VALID).status_code for _ in range(3)]
    assert statuses == [204, 204, 429]
    limited = student.post(report_url(world.locked), VALID)
    assert limited.status_code == 429 and 0 < int(limited["Retry-After"]) <= 600
    # Another viewer from the same address has their own budget, up to the address's.
    owner = world.client(world.owner)
    assert owner.post(report_url(world.locked), VALID).status_code == 204
    assert owner.post(report_url(world.locked), VALID).status_code == 429  # 3 from this IP
    # Another address is not affected.
    elsewhere = Client(HTTP_HOST=host_of(world.school), REMOTE_ADDR="10.9.8.7")
    assert elsewhere.post(report_url(world.preview), VALID).status_code == 204
    assert len(failure_lines(logs)) == 4
