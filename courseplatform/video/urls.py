"""Video playback on a school host (mounted at ``/video/``)."""

from django.urls import path

from . import views_playback

app_name = "video"

urlpatterns = [
    path("lessons/<int:lesson_id>/master.m3u8", views_playback.master_playlist, name="master"),
    path(
        "lessons/<int:lesson_id>/<slug:rendition>/index.m3u8",
        views_playback.media_playlist,
        name="media",
    ),
    path("lessons/<int:lesson_id>/key", views_playback.key, name="key"),
    path("lessons/<int:lesson_id>/position", views_playback.save_position, name="position"),
    path(
        "lessons/<int:lesson_id>/playback-failure",
        views_playback.report_playback_failure,
        name="report",
    ),
    path("s/<path:key>", views_playback.segment, name="segment"),
]
