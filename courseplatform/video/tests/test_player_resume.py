"""A student who watched a video to its end starts it over next time."""

from __future__ import annotations

import pytest

from courseplatform.courses.models import LessonProgress
from courseplatform.tenancy.rls import school_context
from courseplatform.video.models import VideoAsset

from .playback_support import World
from .test_playback import _render_player

pytestmark = pytest.mark.django_db


def test_player_starts_over_after_the_video_was_watched_to_the_end(world: World) -> None:
    with school_context(world.school):
        duration = VideoAsset.objects.get(pk=world.asset.pk).duration_seconds
        assert duration
        LessonProgress.objects.create(
            school=world.school, student=world.student, lesson=world.locked,
            course=world.course, last_position_seconds=int(duration),
        )  # fmt: skip
    html = _render_player(world, world.student, world.locked)
    assert 'data-resume="0"' in html
    assert "Resuming at" not in html
