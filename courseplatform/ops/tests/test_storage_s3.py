"""Tenant files on a real S3 server (SeaweedFS, from the ``s3_server`` fixture).

No database: these only need Django settings, which pytest-django loads.
"""

from __future__ import annotations

import secrets
import urllib.error
import urllib.request

import pytest
from django.core.files.base import ContentFile

from courseplatform.tenancy.storage import school_storage_key

# Bypass any HTTP(S)_PROXY from the environment: the server is on loopback.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _fetch(url: str) -> bytes:
    with _opener.open(url, timeout=10) as response:
        assert response.status == 200
        return response.read()


def _school_id() -> int:
    # The bucket lives for the whole session: fresh ids keep tests apart.
    return 1_000_000 + secrets.randbelow(10**9)


# --- school_storage_key ----------------------------------------------------------


def test_school_storage_key_joins_parts_under_the_school_prefix():
    assert school_storage_key(7, "courses", "12", "cover.png") == "schools/7/courses/12/cover.png"
    assert school_storage_key(7, "videos/intro.mp4") == "schools/7/videos/intro.mp4"
    assert school_storage_key(7) == "schools/7/"


@pytest.mark.parametrize(
    "part",
    [
        "..",
        "../8/secret.txt",
        "a/../../8",
        "a/..",
        "x..y",
        "/etc/passwd",
        "/",
        "",
        "a//b",
        "a/",
        "./a",
        "a\\..\\b",
        "a\x00b",
    ],
)
def test_school_storage_key_rejects_escaping_parts(part):
    with pytest.raises(ValueError):
        school_storage_key(7, "ok", part)


@pytest.mark.parametrize("school_id", [0, -1])
def test_school_storage_key_rejects_non_positive_ids(school_id):
    with pytest.raises(ValueError):
        school_storage_key(school_id, "a.txt")


@pytest.mark.parametrize("school_id", [True, "7", 7.0, None])
def test_school_storage_key_rejects_non_int_ids(school_id):
    with pytest.raises(TypeError):
        school_storage_key(school_id, "a.txt")


# --- S3 round trip -----------------------------------------------------------------


def test_file_round_trip_under_school_prefix(s3_storage):
    school_id = _school_id()
    payload = secrets.token_bytes(64 * 1024) + b"\x00end"
    key = school_storage_key(school_id, "courses", "3", "notes.bin")

    name = s3_storage.save(key, ContentFile(payload))
    assert name == key  # nothing there yet, so no alternative name
    assert s3_storage.exists(name)
    with s3_storage.open(name, "rb") as fh:
        assert fh.read() == payload
    assert s3_storage.size(name) == len(payload)

    url = s3_storage.url(name)
    assert "X-Amz-Signature=" in url
    assert f"/schools/{school_id}/courses/3/notes.bin" in url
    assert _fetch(url) == payload

    s3_storage.delete(name)
    assert not s3_storage.exists(name)


def test_saving_twice_keeps_both_files(s3_storage):
    key = school_storage_key(_school_id(), "logo.png")
    first = s3_storage.save(key, ContentFile(b"one"))
    second = s3_storage.save(key, ContentFile(b"two"))
    assert first == key
    assert second != first
    assert second.startswith(key.rsplit("/", 1)[0] + "/")
    with s3_storage.open(first) as fh:
        assert fh.read() == b"one"
    with s3_storage.open(second) as fh:
        assert fh.read() == b"two"


def test_presigned_url_is_required(s3_storage):
    name = s3_storage.save(school_storage_key(_school_id(), "private.txt"), ContentFile(b"x"))
    unsigned = s3_storage.url(name).split("?", 1)[0]
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        _fetch(unsigned)
    assert excinfo.value.code == 403


def test_listing_a_school_prefix_shows_only_that_school(s3_storage, s3_server):
    school = _school_id()
    # The id that shares the decimal prefix ("12" vs "123") and an unrelated one.
    neighbour = int(f"{school}3")
    other = school + 1
    mine = {
        school_storage_key(school, "a.txt"),
        school_storage_key(school, "courses", "1", "b.txt"),
    }
    theirs = {
        school_storage_key(neighbour, "a.txt"),
        school_storage_key(other, "a.txt"),
        school_storage_key(other, "courses", "1", "b.txt"),
    }
    for key in mine | theirs:
        assert s3_storage.save(key, ContentFile(key.encode())) == key

    prefix = school_storage_key(school)
    directories, files = s3_storage.listdir(prefix)
    assert sorted(files) == ["a.txt"]
    assert sorted(directories) == ["courses"]

    client = s3_server.client()
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=s3_server.bucket, Prefix=prefix)
    listed = {obj["Key"] for page in pages for obj in page.get("Contents", [])}
    assert listed == mine
    assert not listed & theirs
