"""Watch time: how many seconds of a lesson's video students actually played.

The player adds ``watched`` (seconds played since its last beat, wall-clock time while
the video was playing) to the position beat it sends every 10 s and on pause, end and
leaving the page (``/video/lessons/<id>/position``). What a beat may add is bounded
here, so a forged or replayed beat cannot inflate the figures:

* never more than ``MAX_BEAT_SECONDS``;
* never more than the time since this student's previous beat for the lesson (the
  progress row's ``updated_at``) plus ``SLACK_SECONDS``; a first beat, with no previous
  one, at most ``FIRST_BEAT_SECONDS``;
* at most ``WATCH_BEATS_PER_MINUTE`` beats a minute per student count at all (rate limit
  in Redis); the position is still saved for the others.

Counted seconds go to ``WatchTime`` (one row per lesson and day, the day of the
school's time zone) with a single ``INSERT … ON CONFLICT DO UPDATE`` (a sum, not a
read-modify-write), so concurrent beats of many students on one lesson never lose an
increment.
"""

from __future__ import annotations

import math
from datetime import datetime

from django.db import connection
from django.utils import timezone

from courseplatform.courses.models import Lesson
from courseplatform.ops import ratelimit
from courseplatform.tenancy.models import School
from courseplatform.tenancy.timezones import school_zone

MAX_BEAT_SECONDS = 60
FIRST_BEAT_SECONDS = 15
SLACK_SECONDS = 2
# The player beats every 10 s plus on pause/end/leave: 20 a minute is generous.
WATCH_BEATS_PER_MINUTE = "20/60"

# One statement, a sum on the server: concurrent beats never lose an increment.
_UPSERT = """
    INSERT INTO video_watchtime (school_id, lesson_id, course_id, day, seconds, beats)
    VALUES (%s, %s, %s, %s, %s, 1)
    ON CONFLICT (lesson_id, day) DO UPDATE
       SET seconds = video_watchtime.seconds + EXCLUDED.seconds,
           beats = video_watchtime.beats + 1
"""


def parse_watched(raw: str | None) -> float:
    """The ``watched`` form field: "" or missing → 0; otherwise a finite number ≥ 0.
    Raises ValueError with the message the player (and a test) sees."""
    if raw is None or raw == "":
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("watched must be a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError("watched must be a non-negative number of seconds")
    return value


def allowed_seconds(watched: float, *, previous_beat: datetime | None, now: datetime) -> int:
    """Whole seconds of ``watched`` that one beat may count (see the module docstring)."""
    if previous_beat is None:
        ceiling = float(FIRST_BEAT_SECONDS)
    else:
        ceiling = max(0.0, (now - previous_beat).total_seconds()) + SLACK_SECONDS
    return int(min(watched, ceiling, MAX_BEAT_SECONDS))


def record(
    *,
    school: School,
    student_id: int,
    lesson: Lesson,
    watched: float,
    previous_beat: datetime | None,
    now: datetime | None = None,
) -> int:
    """Count a beat's watched seconds for ``lesson`` today; returns the seconds counted."""
    now = now or timezone.now()
    seconds = allowed_seconds(watched, previous_beat=previous_beat, now=now)
    if seconds <= 0:
        return 0
    if ratelimit.hit("video-watch", f"{school.pk}:{student_id}", WATCH_BEATS_PER_MINUTE).limited:
        return 0
    with connection.cursor() as cursor:
        # The school's day, so analytics' date ranges (its days) count it on that day.
        day = now.astimezone(school_zone(school)).date()
        cursor.execute(_UPSERT, [school.pk, lesson.pk, lesson.course_id, day, seconds])
    return seconds
