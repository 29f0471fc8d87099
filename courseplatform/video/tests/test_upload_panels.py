"""What the instructor's video panels show: durations, time left, upload progress and
the poster link, from the template helpers in video_upload."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from courseplatform.video.models import VideoAsset
from courseplatform.video.templatetags.video_upload import (
    poster_url,
    upload_percent,
    video_bytes,
    video_duration,
    video_eta,
)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(None, ""), (0, "0:00"), (59.4, "0:59"), (59.6, "1:00"), (75.4, "1:15"),
     (3599.5, "1:00:00"), (3725, "1:02:05"), (36000, "10:00:00")],
)  # fmt: skip
def test_video_duration_reads_like_a_player(seconds: float | None, shown: str) -> None:
    assert video_duration(seconds) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(None, ""), (0, "about 1 s left"), (40, "about 40 s left"), (59, "about 59 s left"),
     (60, "about 1 min left"), (200, "about 3 min left"), (3599, "about 60 min left"),
     (3600, "about 1 h 0 min left"), (5400, "about 1 h 30 min left")],
)  # fmt: skip
def test_video_eta_in_words(seconds: int | None, shown: str) -> None:
    assert video_eta(seconds) == shown


@pytest.mark.parametrize(
    ("declared", "uploaded", "percent"),
    [(0, 0, 0), (0, 500, 0), (1000, 0, 0), (1000, 333, 33), (1000, 1000, 100), (1000, 1500, 100)],
)
def test_upload_percent_is_bounded(declared: int, uploaded: int, percent: int) -> None:
    asset = VideoAsset(declared_size=declared, uploaded_bytes=uploaded)
    assert upload_percent(asset) == percent


def test_video_bytes_prefers_what_is_stored() -> None:
    assert video_bytes(VideoAsset(declared_size=900, source_bytes=0, output_bytes=0)) == 900
    stored = VideoAsset(declared_size=900, source_bytes=700, output_bytes=300)
    assert video_bytes(stored) == 1000


@pytest.mark.django_db
def test_poster_url_only_for_a_ready_video_of_this_school(
    make_school: Callable[..., Any], settings: Any
) -> None:
    settings.ROOT_URLCONF = "courseplatform.urls.school"  # links live on the school sites
    school = make_school("postera").school
    other = make_school("posterb").school
    own_key = f"schools/{school.pk}/videos/x/poster.jpg"
    ready = VideoAsset(school=school, status=VideoAsset.Status.READY, poster_key=own_key)
    url = poster_url(school, ready)
    assert url.startswith("/files/") and url.endswith("/")
    assert poster_url(school, None) == ""
    for status in (VideoAsset.Status.PROCESSING, VideoAsset.Status.FAILED):
        assert (
            poster_url(school, VideoAsset(school=school, status=status, poster_key=own_key)) == ""
        )
    assert poster_url(school, VideoAsset(school=school, status=VideoAsset.Status.READY)) == ""
    # A key outside the school's prefix never becomes a link.
    foreign = f"schools/{other.pk}/videos/x/poster.jpg"
    assert poster_url(school, VideoAsset(status=VideoAsset.Status.READY, poster_key=foreign)) == ""
