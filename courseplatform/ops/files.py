"""School files: upload validation by content, storage under the school's prefix,
and short-lived signed download URLs.

Validation trusts the bytes, never the browser: the declared name picks the
expected type, and the file's leading bytes must match it. An ``.exe`` renamed
``.png`` fails both the image decoder and the signature check.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core import signing
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from courseplatform.tenancy.models import School
from courseplatform.tenancy.storage import school_storage_key

DOWNLOAD_SALT = "courseplatform.ops.files.download"
DOWNLOAD_TTL_SECONDS = 300
MAX_IMAGE_PIXELS = 40_000_000  # a 40 MP photo; beyond that it is a decompression bomb


class UploadRejected(ValueError):
    """The file cannot be accepted; the message says why, for the uploader."""


@dataclass(frozen=True)
class CheckedFile:
    content_type: str
    extension: str
    size: int


IMAGE_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}

# extension -> (content type, accepted leading byte signatures; None = UTF-8 text)
ATTACHMENT_TYPES: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "zip": ("application/zip", (b"PK\x03\x04", b"PK\x05\x06")),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    "pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        (b"PK\x03\x04",),
    ),
    "epub": ("application/epub+zip", (b"PK\x03\x04",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "mp3": ("audio/mpeg", (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")),
    "txt": ("text/plain; charset=utf-8", None),
    "md": ("text/markdown; charset=utf-8", None),
    "csv": ("text/csv; charset=utf-8", None),
}
EXECUTABLE_SIGNATURES = (b"MZ", b"\x7fELF", b"#!", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _head(upload: IO[bytes], length: int = 65536) -> bytes:
    upload.seek(0)
    data = upload.read(length)
    upload.seek(0)
    return data


def _check_size(size: int | None, max_bytes: int) -> int:
    if not size:
        raise UploadRejected(_("The file is empty."))
    if size > max_bytes:
        raise UploadRejected(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {
                "size": number_format(size / 1048576, 1),
                "limit": number_format(max_bytes / 1048576, 0),
            }
        )
    return size


def check_image(upload: Any, *, max_bytes: int) -> CheckedFile:
    size = _check_size(upload.size, max_bytes)
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise UploadRejected(_("The image is too large in pixels."))
            fmt = image.format or ""
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise UploadRejected(
            _("This file is not an image we can read (use JPEG, PNG, WebP or GIF).")
        ) from exc
    finally:
        upload.seek(0)
    if fmt not in IMAGE_FORMATS:
        raise UploadRejected(_("Use a JPEG, PNG, WebP or GIF image."))
    content_type, extension = IMAGE_FORMATS[fmt]
    return CheckedFile(content_type, extension, size)


def check_attachment(upload: Any, *, max_bytes: int) -> CheckedFile:
    size = _check_size(upload.size, max_bytes)
    extension = _extension(upload.name or "")
    if extension not in ATTACHMENT_TYPES:
        allowed = ", ".join(sorted(ATTACHMENT_TYPES))
        raise UploadRejected(
            _("Files of type .%(extension)s are not allowed. Allowed: %(allowed)s.")
            % {"extension": extension or "?", "allowed": allowed}
        )
    head = _head(upload)
    if head.startswith(EXECUTABLE_SIGNATURES):
        raise UploadRejected(_("Programs and scripts cannot be uploaded."))
    content_type, signatures = ATTACHMENT_TYPES[extension]
    if signatures is None:
        if b"\x00" in head:
            raise UploadRejected(
                _("This .%(extension)s file is not plain text.") % {"extension": extension}
            )
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # Only a multi-byte character cut by the 64 KB read window is forgiven.
            if exc.start < len(head) - 3:
                raise UploadRejected(
                    _("This .%(extension)s file is not UTF-8 text.") % {"extension": extension}
                ) from exc
    elif not head.startswith(signatures):
        raise UploadRejected(
            _("The content of this file does not match its .%(extension)s extension.")
            % {"extension": extension}
        )
    return CheckedFile(content_type, extension, size)


def store_school_file(*, school: School, folder: str, upload: Any, extension: str) -> str:
    """Save ``upload`` under ``schools/<id>/<folder>/`` with a random name; return its key."""
    key = school_storage_key(school.pk, folder, f"{uuid.uuid4().hex}.{extension}")
    upload.seek(0)
    return default_storage.save(key, File(upload))


def delete_school_file(*, school: School, key: str) -> None:
    if key and key.startswith(school_storage_key(school.pk)):
        default_storage.delete(key)


# --- signed downloads -----------------------------------------------------------------

# Set while a response is rendered (``expiring_urls_watched``): every short-lived URL
# minted meanwhile (``signed_file_url``, video segment and poster URLs) notes itself, so
# a shared page that holds one is cached only as long as its URLs live
# (``ops/edgecache.py``). A page without one can be kept until its content changes.
_minted: ContextVar[list[bool] | None] = ContextVar("expiring_urls_minted", default=None)


def note_expiring_url() -> None:
    """A URL that stops working after a while is being handed out."""
    seen = _minted.get()
    if seen is not None:
        seen[0] = True


@contextmanager
def expiring_urls_watched() -> Iterator[list[bool]]:
    """``with expiring_urls_watched() as minted:`` … ``minted[0]`` is True when the
    block handed out a URL that expires."""
    seen = [False]
    token = _minted.set(seen)
    try:
        yield seen
    finally:
        _minted.reset(token)


def signed_file_url(
    *,
    school: School,
    key: str,
    filename: str,
    content_type: str,
    inline: bool = False,
    ttl: int = DOWNLOAD_TTL_SECONDS,
) -> str:
    """A URL that serves ``key`` for ``ttl`` seconds; callers check access first."""
    if not key.startswith(school_storage_key(school.pk)):
        raise ValueError("key outside the school's prefix")
    note_expiring_url()
    disposition = "inline" if inline else "attachment"
    if hasattr(default_storage, "bucket_name"):
        safe = filename.replace('"', "")
        return str(
            default_storage.url(  # type: ignore[call-arg]
                key,
                parameters={
                    "ResponseContentDisposition": f'{disposition}; filename="{safe}"',
                    "ResponseContentType": content_type,
                },
                expire=ttl,
            )
        )
    token = signing.dumps(
        {"s": school.pk, "k": key, "f": filename, "t": content_type, "i": inline},
        salt=DOWNLOAD_SALT,
        compress=True,
    )
    return reverse("school_file", kwargs={"token": token})


def serve_signed_file(request: HttpRequest, token: str) -> HttpResponseBase:
    """Local-storage counterpart of a presigned URL (S3 storage never gets here)."""
    school = getattr(request, "school", None)
    try:
        data = signing.loads(token, salt=DOWNLOAD_SALT, max_age=DOWNLOAD_TTL_SECONDS)
    except signing.BadSignature as exc:
        raise Http404("This download link has expired.") from exc
    if school is None or data.get("s") != school.pk:
        raise Http404("No such file.")
    key = str(data["k"])
    if not key.startswith(school_storage_key(school.pk)) or not default_storage.exists(key):
        raise Http404("No such file.")
    if hasattr(default_storage, "bucket_name"):
        return HttpResponseRedirect(
            signed_file_url(school=school, key=key, filename=data["f"], content_type=data["t"])
        )
    response = FileResponse(
        default_storage.open(key, "rb"),
        as_attachment=not data.get("i"),
        filename=str(data["f"]),
        content_type=str(data["t"]),
    )
    response["Cache-Control"] = "private, max-age=60"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def max_attachment_bytes(school: School) -> int:
    plan_limit = school.plan.max_upload_bytes
    return min(plan_limit or settings.MAX_ATTACHMENT_BYTES, settings.MAX_ATTACHMENT_BYTES)
