"""Transcode job outcomes off the main path: a school that is gone, the reason shown
for an unexpected error, and a retry for an asset this run no longer owns."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError
from django.utils import timezone

from courseplatform.tenancy.rls import school_context
from courseplatform.video import pipeline, services, tasks
from courseplatform.video.models import VideoAsset

pytestmark = pytest.mark.django_db


def test_a_job_for_a_school_that_is_gone_does_nothing() -> None:
    assert tasks.run_transcode_job(school_id=2_000_000_000, asset_id=1) == "gone"


def test_failure_reasons_name_the_kind_of_error_without_internals() -> None:
    assert tasks._reason(pipeline.TransientError("storage busy")) == "storage busy"
    assert tasks._reason(OperationalError("password=secret")) == (
        "a temporary storage problem (OperationalError)"
    )
    assert tasks._reason(KeyError("password=secret")) == "an unexpected error (KeyError)"


def test_a_retry_for_an_asset_this_run_no_longer_owns_is_cancelled(school_a: Any) -> None:
    school = school_a.school
    with school_context(school):
        asset = services.create_asset(
            school=school, actor=school_a.owner, filename="a.mp4", size=10
        )
        outcome = tasks._retry_or_fail(
            school=school, asset=asset, token=timezone.now(), exc=KeyError("x")
        )
        assert outcome == "cancelled"
        asset.refresh_from_db()
        assert (asset.status, asset.attempts, asset.error_message) == (
            VideoAsset.Status.UPLOADING,
            0,
            "",
        )
