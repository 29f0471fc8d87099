"""Per-viewer HLS playback: playlist rewriting, segment URLs, the player's context
and the saved position.

Playlists in storage are templates (see the storage layout contract in
``models.py``): the media playlist's key line reads ``URI="key"`` and its
init/segment URIs are bare file names; the master playlist references
``<rendition>/index.m3u8``. On every fetch the playback views render them for
one viewer:

* master: each ``<rendition>/index.m3u8`` becomes the media playlist endpoint
  of the lesson with a token bound to the viewer;
* media: ``URI="key"`` becomes the key endpoint with a token bound to the asset
  and the viewer, and every init/segment name a signed, short-lived URL.

Segment URLs (:class:`SegmentUrls`) come in three kinds, chosen by settings:
``VIDEO_CDN_BASE_URL`` set → ``<cdn>/<storage key>?verify=…`` (Cloudflare checks
the token at the edge in front of R2); local storage → the app's
``/video/s/<storage key>?verify=…`` view, which checks the very same token;
S3 storage without a CDN → presigned GET URLs.

Templates are parsed once per process and version of the asset, and a
playlist is rendered by filling the parsed slots, so re-signing 1,200 segments
costs a couple of milliseconds (``bench/scenarios/playback.py``).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse

from courseplatform.accounts.models import User
from courseplatform.courses import services as course_services
from courseplatform.courses.models import Lesson, LessonProgress
from courseplatform.courses.selectors import LessonState, is_enrolled
from courseplatform.ops import files
from courseplatform.tenancy.models import School

from . import signing, watchtime
from .models import Rendition, VideoAsset

SCHOOL_URLCONF = "courseplatform.urls.school"
PLAYLIST_CONTENT_TYPE = "application/vnd.apple.mpegurl"
COMPLETE_AT_FRACTION = 0.9  # a lesson counts as watched at 90 % of the video
KEY_PLACEHOLDER = "key"

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_RENDITION_REF = re.compile(r"([A-Za-z0-9_-]{1,20})/index\.m3u8")
_URI_ATTR = re.compile(r'URI="([^"]*)"')


class PlaylistError(ValueError):
    """A playlist in storage does not follow the storage layout contract."""


# --- paths -------------------------------------------------------------------------------


def hls_prefix(asset: VideoAsset) -> str:
    return asset.hls_prefix or f"{asset.storage_prefix}hls/"


def viewer_tag(user: Any) -> str:
    """Who a token is bound to: the user id, or ``anon`` for anonymous preview viewers."""
    return f"u{user.pk}" if getattr(user, "is_authenticated", False) else "anon"


def endpoint(name: str, **kwargs: Any) -> str:
    """Path of one of the video app's endpoints on a school host."""
    return reverse(f"video:{name}", kwargs=kwargs, urlconf=SCHOOL_URLCONF)


@lru_cache(maxsize=1)
def local_segment_prefix() -> str:
    """``/video/s/``: the local segment view's path before the storage key."""
    return endpoint("segment", key="k")[:-1]


def quote_key(key: str) -> str:
    return quote(key, safe="/")


def media_message(path: str, viewer: str) -> str:
    return f"{path}|{viewer}"


def key_message(path: str, asset: VideoAsset, viewer: str) -> str:
    return f"{path}|{asset.uuid}|{viewer}"


def segment_message(key: str) -> str:
    """What the local segment view verifies: its own URL path, as it was signed."""
    return local_segment_prefix() + quote_key(key)


def is_school_video_key(school_id: int, key: str) -> bool:
    """A key the segment view may serve: a file under ``schools/<id>/videos/<uuid>/``."""
    prefix = f"schools/{school_id}/videos/"
    if not key.startswith(prefix) or "\\" in key or "\x00" in key:
        return False
    parts = key[len(prefix) :].split("/")
    return len(parts) >= 2 and all(part not in {"", ".", ".."} for part in parts)


# --- segment URLs ------------------------------------------------------------------------


class SegmentUrls:
    """Short-lived URLs for storage keys (segments, init sections, the poster)."""

    def __init__(self, *, issued: int | None = None) -> None:
        files.note_expiring_url()  # a shared page holding these is cached only while they live
        self.signer = signing.get_signer()
        self.issued = int(time.time()) if issued is None else issued
        cdn = settings.VIDEO_CDN_BASE_URL
        if cdn:
            parts = urlsplit(cdn)
            self.mode = "cdn"
            self.origin = f"{parts.scheme}://{parts.netloc}"
            self.path_prefix = parts.path.rstrip("/") + "/"
        elif hasattr(default_storage, "bucket_name"):
            self.mode = "s3"
            self.origin = ""
            self.path_prefix = ""
        else:
            self.mode = "local"
            self.origin = ""
            self.path_prefix = local_segment_prefix()

    def urls(self, keys: list[str]) -> list[str]:
        if self.mode == "s3":
            ttl = self.signer.ttl
            return [
                str(default_storage.url(key, expire=ttl))  # type: ignore[call-arg]
                for key in keys
            ]
        prefix = self.path_prefix
        return self.signer.sign_paths(
            [prefix + quote_key(k) for k in keys], issued=self.issued, url_prefix=self.origin
        )

    def urls_in(self, directory: str, names: list[str]) -> list[str]:
        """URLs of files in one directory; ``names`` are template names already checked
        to hold only unreserved characters, so only the directory needs quoting."""
        if self.mode == "s3":
            return self.urls([directory + name for name in names])
        base = self.path_prefix + quote_key(directory)
        return self.signer.sign_paths(
            [base + name for name in names], issued=self.issued, url_prefix=self.origin
        )

    def url(self, key: str) -> str:
        return self.urls([key])[0]


# --- templates ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A playlist split into literal text and slots to fill per viewer."""

    parts: tuple[str, ...]
    slots: tuple[tuple[int, str], ...]  # (index in parts, resource name)
    key_slots: tuple[int, ...] = ()

    @property
    def names(self) -> list[str]:
        return [name for _, name in self.slots]


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name) or ".." in name:
        raise PlaylistError(f"unexpected URI {name!r} in a playlist template")
    return name


class _Builder:
    """Collects literal text and slots; adjacent literals are merged."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.slots: list[tuple[int, str]] = []
        self.key_slots: list[int] = []
        self._literal = False

    def text(self, value: str) -> None:
        if self._literal:
            self.parts[-1] += value
        else:
            self.parts.append(value)
            self._literal = True

    def slot(self, name: str) -> None:
        self.slots.append((len(self.parts), name))
        self.parts.append("")
        self._literal = False

    def key_slot(self) -> None:
        self.key_slots.append(len(self.parts))
        self.parts.append("")
        self._literal = False

    def build(self) -> Template:
        if not self.parts or not self.parts[0].startswith("#EXTM3U"):
            raise PlaylistError("not an HLS playlist")
        return Template(tuple(self.parts), tuple(self.slots), tuple(self.key_slots))


def parse_media_template(text: str) -> Template:
    out = _Builder()
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line.startswith("#"):
            out.slot(_check_name(line.strip()))
            out.text("\n")
            continue
        match = _URI_ATTR.search(line)
        if match is None:
            out.text(line + "\n")
            continue
        out.text(line[: match.start(1)])
        if line.startswith("#EXT-X-KEY:"):
            if match[1] != KEY_PLACEHOLDER:
                raise PlaylistError(f'the key line must read URI="{KEY_PLACEHOLDER}"')
            out.key_slot()
        elif line.startswith("#EXT-X-MAP:"):
            out.slot(_check_name(match[1]))
        else:
            raise PlaylistError(f"unexpected URI attribute in {line[:60]!r}")
        out.text(line[match.end(1) :] + "\n")
    return out.build()


def parse_master_template(text: str) -> Template:
    """Slots are rendition names (``720p`` for ``720p/index.m3u8``)."""
    out = _Builder()
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _URI_ATTR.search(line) if line.startswith("#") else None
        if line.startswith("#") and match is None:
            out.text(line + "\n")
            continue
        uri = match[1] if match else line.strip()
        ref = _RENDITION_REF.fullmatch(uri)
        if ref is None:
            raise PlaylistError(f"unexpected URI {uri!r} in the master playlist")
        out.text(line[: match.start(1)] if match else "")
        out.slot(ref[1])
        out.text((line[match.end(1) :] if match else "") + "\n")
    return out.build()


def master_from_renditions(renditions: list[Rendition]) -> Template:
    """A master template built from the Rendition rows (when master.m3u8 is missing)."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for r in renditions:
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={r.bandwidth},AVERAGE-BANDWIDTH={r.average_bandwidth},"
            f'RESOLUTION={r.width}x{r.height},CODECS="{r.codecs}",FRAME-RATE={r.frame_rate:.3f}'
        )
        lines.append(f"{r.name}/index.m3u8")
    return parse_master_template("\n".join(lines) + "\n")


def fill(template: Template, urls: list[str], key_url: str = "") -> str:
    out = list(template.parts)
    for (index, _name), url in zip(template.slots, urls, strict=True):
        out[index] = url
    for index in template.key_slots:
        out[index] = key_url
    return "".join(out)


class _TemplateCache:
    """Parsed templates per (storage key, asset version), per process, bounded."""

    def __init__(self, size: int = 128) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], Template] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, version: str, parse: Any) -> Template:
        cache_key = (key, version)
        with self._lock:
            found = self._items.get(cache_key)
            if found is not None:
                self._items.move_to_end(cache_key)
                return found
        with default_storage.open(key, "rb") as fh:
            template = parse(fh.read().decode("utf-8"))
        with self._lock:
            self._items[cache_key] = template
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return template

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


templates = _TemplateCache()


def _version(asset: VideoAsset) -> str:
    return f"{asset.pk}:{asset.updated_at.timestamp() if asset.updated_at else 0}"


def master_template(asset: VideoAsset) -> Template:
    key = f"{hls_prefix(asset)}master.m3u8"
    try:
        return templates.get(key, _version(asset), parse_master_template)
    except FileNotFoundError:
        renditions = list(Rendition.objects.filter(school_id=asset.school_id, asset=asset))
        if not renditions:
            raise
        return master_from_renditions(renditions)


def media_template(asset: VideoAsset, rendition: Rendition) -> Template:
    return templates.get(rendition.playlist_key, _version(asset), parse_media_template)


# --- rendering ---------------------------------------------------------------------------


def render_master(*, asset: VideoAsset, lesson_id: int, viewer: str) -> str:
    template = master_template(asset)
    signer = signing.get_signer()
    issued = int(time.time())
    urls = []
    for name in template.names:
        path = endpoint("media", lesson_id=lesson_id, rendition=name)
        token = signer.token(media_message(path, viewer), issued=issued)
        urls.append(f"{path}{signing.SEPARATOR}{token}")
    return fill(template, urls)


def render_media(
    *,
    asset: VideoAsset,
    rendition: Rendition,
    lesson_id: int,
    viewer: str,
    segment_urls: SegmentUrls | None = None,
) -> str:
    template = media_template(asset, rendition)
    segment_urls = segment_urls or SegmentUrls()
    directory = rendition.playlist_key.rsplit("/", 1)[0] + "/"
    urls = segment_urls.urls_in(directory, template.names)
    key_url = ""
    if template.key_slots:
        path = endpoint("key", lesson_id=lesson_id)
        token = segment_urls.signer.token(
            key_message(path, asset, viewer), issued=segment_urls.issued
        )
        key_url = f"{path}{signing.SEPARATOR}{token}"
    return fill(template, urls, key_url)


def poster_url(asset: VideoAsset) -> str:
    return SegmentUrls().url(asset.poster_key) if asset.poster_key else ""


# --- the player --------------------------------------------------------------------------


def player_context(
    *,
    request: Any,
    lesson: Lesson,
    enrolled: bool | None = None,
    state: LessonState | None = None,
) -> dict[str, Any] | None:
    """What ``video/partials/player.html`` needs, or None when there is nothing to play.

    The lesson page has already checked that the user may view the lesson; every
    URL handed out here re-checks access when it is fetched. A page that already knows
    whether the viewer is enrolled and their progress in the lesson passes ``enrolled``
    and ``state`` (None: no progress yet); without ``enrolled`` both are looked up.
    """
    asset = lesson.video
    if asset is None or asset.status != VideoAsset.Status.READY:
        return None
    user = request.user
    if enrolled is None:
        enrolled = bool(
            getattr(user, "is_authenticated", False)
            and user.school_id == lesson.school_id
            and is_enrolled(student=user, course_id=lesson.course_id)
        )
        progress = (
            LessonProgress.objects.filter(
                school_id=lesson.school_id, student=user, lesson=lesson
            ).first()
            if enrolled
            else None
        )
        if progress is not None:
            state = LessonState(progress.completed_at is not None, progress.last_position_seconds)
    if not enrolled:
        state = None
    resume = state.position_seconds if state else 0
    duration = asset.duration_seconds or 0
    if duration and resume >= max(duration - 5, duration * 0.95):  # finished: start over
        resume = 0
    return {
        "asset": asset,
        "lesson": lesson,
        "master_url": endpoint("master", lesson_id=lesson.pk),
        "position_url": endpoint("position", lesson_id=lesson.pk) if enrolled else "",
        "report_url": endpoint("report", lesson_id=lesson.pk),
        "poster_url": poster_url(asset),
        "resume_seconds": resume,
        "duration_seconds": duration,
        "completed": bool(state and state.completed),
        "aspect_ratio": f"{asset.width or 16} / {asset.height or 9}",
    }


# --- progress ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PositionSaved:
    progress: LessonProgress
    completed_now: bool
    watched_counted: int = 0


def save_position(
    *,
    school: School,
    student: User,
    lesson: Lesson,
    position_seconds: float,
    watched_seconds: float = 0,
) -> PositionSaved:
    """Remember where an enrolled student is in a lesson's video; at 90 % of the
    video the lesson is marked complete (once). Others are refused. ``watched_seconds``
    (played since the previous beat) is added to the lesson's watch time, bounded by
    ``watchtime``."""
    if lesson.school_id != school.pk or student.school_id != school.pk:
        raise PermissionDenied("Not found.")
    if not is_enrolled(student=student, course_id=lesson.course_id):
        raise PermissionDenied("Enrol in this course to track your progress.")
    if not math.isfinite(position_seconds) or position_seconds < 0:
        raise ValueError("position must be a non-negative number of seconds")
    asset = lesson.video
    duration = (asset.duration_seconds or 0) if asset is not None else 0
    if duration:
        position_seconds = min(position_seconds, duration)
    position = int(position_seconds)
    with transaction.atomic():
        progress, created = LessonProgress.objects.select_for_update().get_or_create(
            school=school, student=student, lesson=lesson, defaults={"course_id": lesson.course_id}
        )
        counted = 0
        if watched_seconds > 0:
            counted = watchtime.record(
                school=school,
                student_id=student.pk,
                lesson=lesson,
                watched=watched_seconds,
                previous_beat=None if created else progress.updated_at,
            )
        progress.last_position_seconds = position
        progress.save(update_fields=["last_position_seconds", "updated_at"])
        completed_now = False
        if (
            progress.completed_at is None
            and duration
            and position_seconds >= COMPLETE_AT_FRACTION * duration
        ):
            progress = course_services.set_lesson_completed(
                school=school, student=student, lesson=lesson
            )
            completed_now = True
    return PositionSaved(progress, completed_now, counted)
