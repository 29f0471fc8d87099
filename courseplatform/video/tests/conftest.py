"""Fixtures shared by the video tests: the tiny encrypted HLS ladder and S3 as the
default storage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from .playback_support import HlsOutput, make_hls


@pytest.fixture(scope="session")
def hls() -> HlsOutput:
    return make_hls(4.0)


@pytest.fixture
def s3_default_storage(s3_server: Any) -> Iterator[Any]:
    from django.core.files.storage import default_storage

    options = {
        "bucket_name": s3_server.bucket,
        "endpoint_url": s3_server.endpoint_url,
        "region_name": s3_server.region,
        "access_key": s3_server.access_key,
        "secret_key": s3_server.secret_key,
        "security_token": None,
        "session_profile": None,
        "default_acl": None,
        "querystring_auth": True,
        "file_overwrite": False,
        "addressing_style": "path",
        "signature_version": "s3v4",
    }
    storages = {
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages, VIDEO_CDN_BASE_URL=""):
        assert hasattr(default_storage, "bucket_name")
        yield default_storage
