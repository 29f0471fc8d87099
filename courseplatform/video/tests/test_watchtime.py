"""Watch time from the player's position beats: counted, bounded, rate-limited, per
school (video/watchtime.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from courseplatform.courses.models import LessonProgress
from courseplatform.ops import ratelimit
from courseplatform.tenancy.rls import school_context
from courseplatform.video import watchtime
from courseplatform.video.models import WatchTime

from .playback_support import World

pytestmark = pytest.mark.django_db


def _seconds(world: World, school: Any = None) -> list[tuple[int, int, int]]:
    with school_context(school or world.school):
        return list(WatchTime.objects.values_list("lesson_id", "seconds", "beats"))


def _age_last_beat(world: World, seconds: int) -> None:
    """Pretend the student's previous beat for the lesson was ``seconds`` ago."""
    with school_context(world.school):
        LessonProgress.objects.filter(student=world.student, lesson=world.locked).update(
            updated_at=timezone.now() - timedelta(seconds=seconds)
        )


def test_beats_add_watched_seconds_bounded_by_elapsed_time(world: World) -> None:
    client = world.client(world.student)
    url = f"/video/lessons/{world.locked.pk}/position"
    # A first beat counts at most FIRST_BEAT_SECONDS.
    assert client.post(url, {"position": "1", "watched": "10"}).status_code == 200
    assert _seconds(world) == [(world.locked.pk, 10, 1)]
    _age_last_beat(world, 10)
    assert client.post(url, {"position": "2", "watched": "10"}).status_code == 200
    assert _seconds(world) == [(world.locked.pk, 20, 2)]
    # Claiming more than the time since the previous beat (+2 s slack) is cut down...
    _age_last_beat(world, 5)
    client.post(url, {"position": "3", "watched": "50"})
    assert _seconds(world)[0][1] == 27
    # ...and never more than MAX_BEAT_SECONDS, however long ago the last beat was.
    _age_last_beat(world, 3600)
    client.post(url, {"position": "1", "watched": "5000"})
    assert _seconds(world)[0][1] == 27 + watchtime.MAX_BEAT_SECONDS
    # A beat without `watched` (older players) or with 0 saves the position only.
    client.post(url, {"position": "2"})
    client.post(url, {"position": "3", "watched": "0"})
    assert _seconds(world)[0][2] == 4


def test_bad_watched_is_refused_and_nothing_saved(world: World) -> None:
    client = world.client(world.student)
    url = f"/video/lessons/{world.locked.pk}/position"
    for bad in ("abc", "-1", "nan", "inf"):
        response = client.post(url, {"position": "1", "watched": bad})
        assert response.status_code == 400, bad
        assert "watched" in response.json()["error"]
    with school_context(world.school):
        assert not LessonProgress.objects.filter(lesson=world.locked).exists()
    assert _seconds(world) == []


def test_beats_over_the_rate_limit_save_the_position_but_count_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = world.client(world.student)
    url = f"/video/lessons/{world.locked.pk}/position"
    # Two beats a minute: the third is over budget. (A budget rather than pre-filled
    # counters, so a minute boundary between the hits and the request cannot matter.)
    monkeypatch.setattr(watchtime, "WATCH_BEATS_PER_MINUTE", "2/3600")
    for position in ("1", "2"):
        client.post(url, {"position": position, "watched": "1"})
    assert _seconds(world) == [(world.locked.pk, 2, 2)]
    response = client.post(url, {"position": "3", "watched": "1"})
    assert response.status_code == 200 and response.json()["position"] == 3
    assert _seconds(world) == [(world.locked.pk, 2, 2)]
    assert ratelimit.Limit.parse(watchtime.WATCH_BEATS_PER_MINUTE).count == 2


def test_only_enrolled_students_of_the_school_add_watch_time(world: World) -> None:
    url = f"/video/lessons/{world.locked.pk}/position"
    assert world.client(world.outsider).post(url, {"position": 1, "watched": 5}).status_code == 403
    assert world.client(world.owner).post(url, {"position": 1, "watched": 5}).status_code == 403
    other = f"/video/lessons/{world.other_lesson.pk}/position"
    assert world.client(world.student).post(other, {"position": 1, "watched": 5}).status_code == 404
    assert _seconds(world) == [] and _seconds(world, world.other_school) == []
    # School B's rows are invisible from A (row-level security), and the other way round.
    world.client(world.student).post(url, {"position": 1, "watched": 5})
    assert len(_seconds(world)) == 1
    assert _seconds(world, world.other_school) == []


def test_allowed_seconds_and_parse_watched() -> None:
    now = timezone.now()
    assert watchtime.allowed_seconds(9.9, previous_beat=None, now=now) == 9
    assert watchtime.allowed_seconds(30, previous_beat=None, now=now) == 15
    assert watchtime.allowed_seconds(30, previous_beat=now + timedelta(seconds=9), now=now) == 2
    assert watchtime.parse_watched(None) == 0 and watchtime.parse_watched("") == 0
    assert watchtime.parse_watched("12.5") == 12.5
    with pytest.raises(ValueError, match="number of seconds"):
        watchtime.parse_watched("1e999")
