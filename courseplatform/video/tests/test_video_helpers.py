"""Small video helpers: the player's template tags, batch path signing without an issue
time, the storage-prefix guard, and the unlimited-minutes plan."""

from __future__ import annotations

import time
from typing import Any

import pytest

from courseplatform.tenancy.rls import school_context
from courseplatform.video import selectors, signing
from courseplatform.video.storage import delete_storage_prefix
from courseplatform.video.templatetags.video_player import clock, video_player_context


def test_video_player_context_needs_a_request_and_a_lesson() -> None:
    assert video_player_context({}, object()) is None
    assert video_player_context({"request": object()}, None) is None


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(754, "12:34"), ("3725", "1:02:05"), (-3, "0:00"), (None, "0:00"), ("soon", "0:00")],
)
def test_clock_shows_minutes_and_hours_and_zero_for_nonsense(seconds: Any, shown: str) -> None:
    assert clock(seconds) == shown


def test_sign_paths_without_an_issue_time_signs_now_and_verifies() -> None:
    signer = signing.Signer(("first-secret",), ttl=60)
    before = int(time.time())
    (url,) = signer.sign_paths(["/v/seg_00001.m4s"], url_prefix="https://cdn.test")
    path, token = url.removeprefix("https://cdn.test").split(signing.SEPARATOR)
    assert path == "/v/seg_00001.m4s"
    issued = int(token.split("-", 1)[0])
    assert before <= issued <= int(time.time())
    assert url == "https://cdn.test" + signer.sign_path(path, issued=issued)
    assert signer.verify(path, token)
    assert not signer.verify("/v/seg_00002.m4s", token)


@pytest.mark.parametrize("prefix", ["media/videos/1/", "schools/1/../2/", "/schools/1/"])
def test_delete_storage_prefix_refuses_anything_outside_a_school(prefix: str) -> None:
    with pytest.raises(ValueError, match="refusing to delete outside a school prefix"):
        delete_storage_prefix(prefix)


@pytest.mark.django_db
def test_remaining_video_minutes_is_none_on_an_unlimited_plan(
    school_a: Any, plan_limits: Any
) -> None:
    plan_limits(school_a.school.plan, max_video_minutes=None)
    with school_context(school_a.school):
        assert selectors.remaining_video_minutes(school=school_a.school) is None
    plan_limits(school_a.school.plan, max_video_minutes=10)
    with school_context(school_a.school):
        assert selectors.remaining_video_minutes(school=school_a.school) == 10.0
