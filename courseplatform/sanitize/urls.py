"""Where page content may point: same-origin paths for images and ``url()``, safe link
targets, and the YouTube/Vimeo embed addresses of the video block."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

SAME_ORIGIN_PREFIXES = ("/site-media/", "/branding/", "/files/", "/static/")
_SAFE_PATH = re.compile(r"/[A-Za-z0-9._~\-/%]*")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")

_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{6,20}")
_VIMEO_ID = re.compile(r"[0-9]{1,12}")


def is_same_origin_path(value: str) -> bool:
    """A path on this host under one of the prefixes page content may point at."""
    if not _SAFE_PATH.fullmatch(value) or not value.startswith(SAME_ORIGIN_PREFIXES):
        return False
    lowered = value.lower()
    return (
        "//" not in value
        and ".." not in value
        and not any(encoded in lowered for encoded in ("%2f", "%5c", "%2e"))
    )


def safe_href(value: str) -> str | None:
    value = value.strip()
    if _CONTROL.search(value) or "\\" in value:
        return None
    if value.startswith(("#", "?")) or (value.startswith("/") and not value.startswith("//")):
        return value
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    if scheme in {"http", "https", "mailto", "tel"}:
        return value
    if not scheme and not value.startswith("//") and re.fullmatch(r"[A-Za-z0-9._~\-/]+", value):
        return value  # a relative path like "about/"
    return None


def safe_image_src(value: str) -> str | None:
    """Images come from this host only (the builder's uploads, branding, static files):
    no ``data:``, no other hosts — the school pages' CSP would refuse them anyway."""
    value = value.strip()
    if _CONTROL.search(value) or "\\" in value or "#" in value:
        return None
    path, _, query = value.partition("?")
    if is_same_origin_path(path) and re.fullmatch(r"[A-Za-z0-9=&._-]{0,200}", query):
        return value
    return None


def normalize_embed_url(value: str) -> str | None:
    """A YouTube or Vimeo link in any usual form → its privacy-friendly embed URL."""
    value = (value or "").strip()
    if not value or _CONTROL.search(value) or len(value) > 500:
        return None
    try:
        parts = urlsplit(value if "://" in value else f"https://{value}")
        if (
            parts.scheme not in {"http", "https"}
            or parts.username
            or parts.password
            or (parts.port)
        ):
            return None
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    path = parts.path
    video_id = ""
    if host in {
        "youtube.com",
        "www.youtube.com",
        "m.youtube.com",
        "youtube-nocookie.com",
        "www.youtube-nocookie.com",
    }:
        if path == "/watch":
            video_id = (parse_qs(parts.query).get("v") or [""])[0]
        elif path.startswith(("/embed/", "/shorts/", "/live/")):
            video_id = path.split("/")[2]
    elif host == "youtu.be":
        video_id = path.lstrip("/").split("/")[0]
    if video_id:
        return (
            f"https://www.youtube-nocookie.com/embed/{video_id}"
            if _YOUTUBE_ID.fullmatch(video_id)
            else None
        )
    if host in {"vimeo.com", "www.vimeo.com"}:
        vimeo_id = path.strip("/").split("/")[0]
    elif host == "player.vimeo.com" and path.startswith("/video/"):
        vimeo_id = path.split("/")[2]
    else:
        return None
    return f"https://player.vimeo.com/video/{vimeo_id}" if _VIMEO_ID.fullmatch(vimeo_id) else None
