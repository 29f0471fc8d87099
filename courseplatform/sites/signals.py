"""Keep cached site pages honest: whatever a public page shows (pages, the theme,
courses with their sections, lessons and files, instructors, people's names, videos)
bumps the school's content generation when it changes,
so the next visitor gets a fresh rendering. Connected in ``SitesConfig.ready``."""

from __future__ import annotations

from typing import Any

from .cache_keys import bump_site_version

# Saves that only touch these fields change nothing a page shows (logins, transcode
# progress ticks…), so they leave the cache alone.
_IGNORED_FIELDS: dict[str, frozenset[str]] = {
    "User": frozenset({"last_login", "password", "updated_at"}),
    # Autosaves of a draft (every few seconds while someone edits) show nowhere public.
    "Page": frozenset(
        {"draft_html", "draft_css", "draft_project", "draft_updated_at", "updated_at"}
    ),
    "VideoAsset": frozenset(
        {
            "progress_percent",
            "eta_seconds",
            "heartbeat_at",
            "uploaded_bytes",
            "attempts",
            "updated_at",
            "multipart_upload_id",
            "started_at",
        }
    ),
}


def _bump(school_id: int | None) -> None:
    if not school_id:
        return
    # Now and again after commit (tenancy.generation): a request that read the old rows
    # meanwhile must not keep its rendering cached under the new version.
    bump_site_version(school_id)


def content_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if (
        sender.__name__ == "User"
        and getattr(instance, "role", "") == "student"
        and (kwargs.get("created") or (update_fields is not None and "role" not in update_fields))
    ):
        return  # students appear in no block; a role change (update_fields=None) still counts
    ignored = _IGNORED_FIELDS.get(sender.__name__)
    if ignored and update_fields is not None and set(update_fields) <= ignored:
        return
    _bump(getattr(instance, "school_id", None))


def connect() -> None:
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_delete, post_save

    from courseplatform.courses.models import Attachment, Course, CourseInstructor, Lesson, Section
    from courseplatform.video.models import VideoAsset

    from .models import Page, Theme

    # Everything a public page shows (cached whole for visitors: ops/edgecache.py).
    watched = (Course, CourseInstructor, Section, Lesson, Attachment, VideoAsset, Page, Theme)
    for model in (*watched, get_user_model()):
        uid = f"sites.content_changed.{model.__name__}"
        post_save.connect(content_changed, sender=model, dispatch_uid=f"{uid}.save")
        post_delete.connect(content_changed, sender=model, dispatch_uid=f"{uid}.delete")
