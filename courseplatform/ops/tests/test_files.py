"""School files: uploads are judged by their bytes, stored under the school's prefix,
and downloaded only through short-lived links of the same school."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.test import RequestFactory
from PIL import Image

from courseplatform.ops.files import (
    CheckedFile,
    UploadRejected,
    check_attachment,
    check_image,
    delete_school_file,
    serve_signed_file,
    signed_file_url,
    store_school_file,
)
from courseplatform.video.tests.transcode_media import local_media_fixture  # noqa: F401

LIMIT = 1024 * 1024
TEXT = "Pinsel \u2013 Gr\u00f6\u00dfe 8\n".encode()
LATIN1 = "Gr\u00f6\u00dfe und mehr".encode("latin-1")
PNG_MISMATCH = "The content of this file does not match its .pdf extension."


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def _image_bytes(fmt: str, size: tuple[int, int] = (4, 3)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` (what a bomb looks like)."""
    data = bytearray(_image_bytes("PNG", (1, 1)))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17]))
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)


# --- attachments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("notes.pdf", b"%PDF-1.7\n...", CheckedFile("application/pdf", "pdf", 12)),
        ("NOTES.PDF", b"%PDF-1.7\n...", CheckedFile("application/pdf", "pdf", 12)),
        ("list.txt", TEXT, CheckedFile("text/plain; charset=utf-8", "txt", len(TEXT))),
        ("a.zip", b"PK\x05\x06" + bytes(18), CheckedFile("application/zip", "zip", 22)),
    ],
)  # fmt: skip
def test_check_attachment_accepts_matching_content(
    name: str, data: bytes, expected: CheckedFile
) -> None:
    assert check_attachment(_upload(name, data), max_bytes=LIMIT) == expected


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.pdf", b"", "The file is empty."),
        ("setup.exe", b"MZ\x90\x00", "Files of type .exe are not allowed. Allowed: csv, docx"),
        ("README", b"hello", "Files of type .? are not allowed."),
        ("notes.pdf", b"\x7fELF\x02\x01\x01" + bytes(20), "Programs and scripts cannot"),
        ("run.txt", b"#!/bin/sh\nrm -rf ~\n", "Programs and scripts cannot be uploaded."),
        ("data.csv", b"a,b\n1,\x00\n", "This .csv file is not plain text."),
        ("old.txt", LATIN1, "This .txt file is not UTF-8 text."),
        ("slides.pdf", _image_bytes("PNG"), PNG_MISMATCH),
        ("report.docx", b"%PDF-1.4", "The content of this file does not match its .docx"),
    ],
)  # fmt: skip
def test_check_attachment_rejects_with_a_reason(name: str, data: bytes, message: str) -> None:
    with pytest.raises(UploadRejected) as raised:
        check_attachment(_upload(name, data), max_bytes=LIMIT)
    assert str(raised.value).startswith(message)


def test_check_attachment_over_the_limit_says_both_sizes() -> None:
    upload = _upload("big.pdf", b"%PDF-" + bytes(3 * LIMIT))
    with pytest.raises(UploadRejected, match=r"^The file is 3\.0 MB; the limit is 1 MB\.$"):
        check_attachment(upload, max_bytes=LIMIT)


def test_check_attachment_forgives_a_character_cut_by_the_read_window() -> None:
    """Only the first 64 KB are read: a multi-byte character straddling that edge is not
    a sign of a non-UTF-8 file, but a bad byte well inside it is."""
    cut = b"a" * 65535 + "é".encode()  # the é's second byte falls outside the window
    assert check_attachment(_upload("long.txt", cut), max_bytes=LIMIT).extension == "txt"
    bad_inside = b"a" * 1000 + b"\xe9" + b"a" * 70000
    with pytest.raises(UploadRejected, match="not UTF-8 text"):
        check_attachment(_upload("long.txt", bad_inside), max_bytes=LIMIT)


def test_check_attachment_leaves_the_upload_rewound() -> None:
    upload = _upload("notes.pdf", b"%PDF-1.7\nrest")
    check_attachment(upload, max_bytes=LIMIT)
    assert upload.read() == b"%PDF-1.7\nrest"


# --- images -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "content_type", "extension"),
    [("PNG", "image/png", "png"), ("JPEG", "image/jpeg", "jpg"), ("GIF", "image/gif", "gif"),
     ("WEBP", "image/webp", "webp")],
)  # fmt: skip
def test_check_image_reads_the_real_format(fmt: str, content_type: str, extension: str) -> None:
    data = _image_bytes(fmt)
    checked = check_image(_upload("whatever.bin", data), max_bytes=LIMIT)
    assert checked == CheckedFile(content_type, extension, len(data))


def test_check_image_refuses_formats_browsers_do_not_show() -> None:
    with pytest.raises(UploadRejected, match=r"^Use a JPEG, PNG, WebP or GIF image\.$"):
        check_image(_upload("photo.png", _image_bytes("BMP")), max_bytes=LIMIT)


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00 this is a program renamed .png",
        _image_bytes("PNG")[:40],  # truncated: the header survives, the pixels do not
        _png_claiming(20_000, 10_000),  # 200 MP: Pillow's own bomb guard
    ],
)
def test_check_image_refuses_what_is_not_a_readable_image(data: bytes) -> None:
    with pytest.raises(UploadRejected, match="not an image we can read"):
        check_image(_upload("photo.png", data), max_bytes=LIMIT)


def test_check_image_refuses_more_pixels_than_a_40_megapixel_photo() -> None:
    with pytest.raises(UploadRejected, match="too large in pixels"):
        check_image(_upload("photo.png", _png_claiming(10_000, 5_000)), max_bytes=LIMIT)


def test_check_image_empty_and_oversized() -> None:
    with pytest.raises(UploadRejected, match="empty"):
        check_image(_upload("photo.png", b""), max_bytes=LIMIT)
    with pytest.raises(UploadRejected, match="the limit is 0 MB"):
        check_image(_upload("photo.png", _image_bytes("PNG")), max_bytes=10)


# --- storage and signed downloads --------------------------------------------------------


@pytest.fixture
def two_schools(make_school: Callable[..., Any], settings: Any) -> tuple[Any, Any]:
    # Download links live on the school sites (the host middleware picks this urlconf).
    settings.ROOT_URLCONF = "courseplatform.urls.school"
    return make_school("filea").school, make_school("fileb").school


def _stored(school: Any, data: bytes = b"%PDF-1.7 supplies") -> str:
    return store_school_file(
        school=school, folder="attachments", upload=_upload("x.pdf", data), extension="pdf"
    )


def _get(school: Any) -> Any:
    request = RequestFactory().get("/")
    request.school = school  # type: ignore[attr-defined]
    return request


@pytest.mark.django_db
def test_store_school_file_uses_a_random_name_under_the_school(
    two_schools: tuple[Any, Any], local_media: Path
) -> None:
    school, _ = two_schools
    first, second = _stored(school), _stored(school)
    assert first != second
    for key in (first, second):
        assert key.startswith(f"schools/{school.pk}/attachments/") and key.endswith(".pdf")
        assert (local_media / key).read_bytes() == b"%PDF-1.7 supplies"


@pytest.mark.django_db
def test_delete_school_file_never_deletes_another_schools_file(
    two_schools: tuple[Any, Any], local_media: Path
) -> None:
    school, other = two_schools
    theirs = _stored(other)
    delete_school_file(school=school, key=theirs)
    delete_school_file(school=school, key="")
    assert default_storage.exists(theirs)
    delete_school_file(school=other, key=theirs)
    assert not default_storage.exists(theirs)


@pytest.mark.django_db
def test_signed_file_url_refuses_a_key_outside_the_school(
    two_schools: tuple[Any, Any], local_media: Path
) -> None:
    school, other = two_schools
    with pytest.raises(ValueError, match="outside the school's prefix"):
        signed_file_url(
            school=school, key=_stored(other), filename="x.pdf", content_type="application/pdf"
        )


@pytest.mark.django_db
def test_signed_download_serves_inline_or_attachment_privately(
    two_schools: tuple[Any, Any], local_media: Path
) -> None:
    school, _ = two_schools
    key = _stored(school)
    url = signed_file_url(
        school=school, key=key, filename='a "b".pdf', content_type="application/pdf", inline=True
    )
    token = url.rstrip("/").rsplit("/", 1)[-1]
    response = serve_signed_file(_get(school), token)
    assert b"".join(response.streaming_content) == b"%PDF-1.7 supplies"  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert response["Cache-Control"] == "private, max-age=60"
    assert response["X-Content-Type-Options"] == "nosniff"
    attachment = signed_file_url(
        school=school, key=key, filename="a.pdf", content_type="application/pdf"
    )
    response = serve_signed_file(_get(school), attachment.rstrip("/").rsplit("/", 1)[-1])
    assert response["Content-Disposition"].startswith("attachment")


@pytest.mark.django_db
def test_signed_download_refuses_other_schools_tampering_and_missing_files(
    two_schools: tuple[Any, Any], local_media: Path
) -> None:
    school, other = two_schools
    key = _stored(school)
    url = signed_file_url(school=school, key=key, filename="a.pdf", content_type="application/pdf")
    token = url.rstrip("/").rsplit("/", 1)[-1]
    with pytest.raises(Http404):
        serve_signed_file(_get(other), token)  # a link of school A, asked on school B
    with pytest.raises(Http404):
        serve_signed_file(_get(None), token)
    with pytest.raises(Http404, match="expired"):
        serve_signed_file(_get(school), token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    default_storage.delete(key)
    with pytest.raises(Http404, match="No such file"):
        serve_signed_file(_get(school), token)
