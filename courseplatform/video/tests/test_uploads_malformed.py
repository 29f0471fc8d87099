"""Malformed tus creation requests: each gets a clear 4xx in plain text and leaves no
video behind."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from courseplatform.tenancy.rls import school_context
from courseplatform.video.models import VideoAsset
from courseplatform.video.tests.transcode_media import local_media_fixture  # noqa: F401

from .upload_support import b64, logged_in

pytestmark = pytest.mark.django_db

HOST = "malformed.localhost"
TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}


@pytest.fixture
def owner(
    make_school: Callable[..., Any], client_for: Callable[..., Client], local_media: Path
) -> Any:
    created = make_school("malformed")
    return created, logged_in(client_for, HOST, created.owner)


def _create(client: Client, length: str, meta: str | None, query: str = "") -> Any:
    headers: dict[str, Any] = {**TUS, "HTTP_UPLOAD_LENGTH": length}
    if meta is not None:
        headers["HTTP_UPLOAD_METADATA"] = meta
    return client.post(f"/manage/videos/tus/{query}", **headers)


@pytest.mark.parametrize(
    ("length", "meta", "status", "message"),
    [
        ("10", f"filename {b64('a.mp4')} extra", 400, "Upload-Metadata is malformed."),
        ("10", f",filename {b64('a.mp4')}", 400, "Upload-Metadata is malformed."),
        ("10", "filename not*base64", 400, "Upload-Metadata is not valid base64."),
        ("10", "filename " + base64.b64encode(b"\xff\xfe.mp4").decode(), 400,
         "Upload-Metadata is not valid base64."),
        ("10", "filename", 400, "The upload has no file name."),
        ("10", f"filename {b64('   ')}", 400, "The upload has no file name."),
        ("10", "", 400, "The upload has no file name."),
        ("10", None, 400, "The upload has no file name."),
        ("-5", f"filename {b64('a.mp4')}", 400, "Upload-Length must be a non-negative integer."),
        ("ten", f"filename {b64('a.mp4')}", 400, "Upload-Length must be a non-negative integer."),
        ("10", f"filename {b64('a.mp4')},lesson {b64('seven')}", 404, ""),
        ("10", f"filename {b64('a.mp4')},lesson {b64('999999')}", 404, ""),
    ],
)  # fmt: skip
def test_tus_creation_refuses_malformed_requests_and_creates_nothing(
    owner: Any, length: str, meta: str | None, status: int, message: str
) -> None:
    created, client = owner
    response = _create(client, length, meta)
    assert response.status_code == status, response.content
    assert response["Tus-Resumable"] == "1.0.0"
    if message:
        assert response.content.decode() == message
    with school_context(created.school):
        assert not VideoAsset.objects.filter(school=created.school).exists()


def test_tus_creation_lesson_in_the_query_must_be_a_lesson_id(owner: Any) -> None:
    created, client = owner
    response = _create(client, "10", f"filename {b64('a.mp4')}", query="?lesson=abc")
    assert response.status_code == 404
    with school_context(created.school):
        assert not VideoAsset.objects.filter(school=created.school).exists()


def test_tus_upload_url_with_an_unknown_id_is_404(owner: Any) -> None:
    _, client = owner
    response = client.head("/manage/videos/tus/6f1c8a4e-0000-4000-8000-000000000000/", **TUS)
    assert response.status_code == 404
