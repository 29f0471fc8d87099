"""Videos through the API: status, list and delete."""

from __future__ import annotations

import pytest

from courseplatform.accounts.models import User
from courseplatform.video.models import VideoAsset
from courseplatform.video.services import create_asset

from .conftest import is_problem

pytestmark = pytest.mark.django_db


def test_list_get_and_delete_a_video(alpha, api_for, in_school):
    with in_school(alpha):
        owner = User.objects.get(school=alpha, role="owner")
        asset = create_asset(school=alpha, actor=owner, filename="clip.mp4", size=1234)
        VideoAsset.objects.filter(pk=asset.pk).update(
            status=VideoAsset.Status.FAILED, error_message="Not a video."
        )
    reader = api_for(alpha, scope="read")
    listed = reader.get("/videos").json()["data"]
    assert [(v["id"], v["status"]) for v in listed] == [(asset.pk, "failed")]
    assert reader.get("/videos?status=ready").json()["data"] == []
    one = reader.get(f"/videos/{asset.pk}").json()
    assert one["error_message"] == "Not a video." and one["declared_size"] == 1234
    is_problem(reader.delete(f"/videos/{asset.pk}"), 403)
    assert api_for(alpha).delete(f"/videos/{asset.pk}").status_code == 204
    is_problem(reader.get(f"/videos/{asset.pk}"), 404)
    with in_school(alpha):
        assert not VideoAsset.objects.filter(school=alpha).exists()
