"""Video assets and their HLS renditions.

Storage layout (every key under the school's prefix):

    schools/<school_id>/videos/<asset uuid>/source/<original name>
    schools/<school_id>/videos/<asset uuid>/hls/master.m3u8
    schools/<school_id>/videos/<asset uuid>/hls/<height>p/index.m3u8
    schools/<school_id>/videos/<asset uuid>/hls/<height>p/init.mp4
    schools/<school_id>/videos/<asset uuid>/hls/<height>p/seg_00001.m4s ...
    schools/<school_id>/videos/<asset uuid>/poster.jpg

Playlists in storage are templates: every key line reads
``#EXT-X-KEY:METHOD=AES-128,URI="key",IV=0x...`` (one before each segment, each
with that segment's own IV; older videos have one for all) and segment/init URIs
are relative file names. The playback layer rewrites them per viewer with signed,
short-lived URLs; storage never serves anything without a valid token.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from courseplatform.tenancy.models import TenantModel


class VideoAsset(TenantModel):
    class Status(models.TextChoices):
        UPLOADING = "uploading", "Uploading"
        QUEUED = "queued", "Waiting to process"
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=200, blank=True)
    original_filename = models.CharField(max_length=255)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.UPLOADING)
    error_message = models.TextField(blank=True, help_text="Why it failed, for the instructor.")

    # Upload
    source_key = models.CharField(max_length=500, blank=True)
    declared_size = models.BigIntegerField(default=0)
    uploaded_bytes = models.BigIntegerField(default=0)
    multipart_upload_id = models.CharField(max_length=300, blank=True)

    # Probe
    duration_seconds = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    rotation = models.IntegerField(default=0)
    frame_rate = models.FloatField(null=True, blank=True)
    has_audio = models.BooleanField(default=False)
    probe = models.JSONField(default=dict, blank=True)

    # Transcode job
    progress_percent = models.PositiveSmallIntegerField(default=0)
    eta_seconds = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # Output
    hls_prefix = models.CharField(max_length=500, blank=True)
    poster_key = models.CharField(max_length=500, blank=True)
    encryption_key_ciphertext = models.TextField(blank=True, help_text="Fernet-encrypted AES key.")
    source_bytes = models.BigIntegerField(default=0)
    output_bytes = models.BigIntegerField(default=0)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return self.title or self.original_filename

    @property
    def storage_prefix(self) -> str:
        return f"schools/{self.school_id}/videos/{self.uuid}/"

    @property
    def bytes_stored(self) -> int:
        return self.source_bytes + self.output_bytes


class Rendition(TenantModel):
    """One rung of the ladder, as written to the master playlist."""

    asset = models.ForeignKey(VideoAsset, on_delete=models.CASCADE, related_name="renditions")
    name = models.CharField(max_length=20, help_text="e.g. 720p")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bandwidth = models.PositiveIntegerField(help_text="Peak bits per second (BANDWIDTH).")
    average_bandwidth = models.PositiveIntegerField()
    codecs = models.CharField(max_length=100)
    frame_rate = models.FloatField()
    playlist_key = models.CharField(max_length=500)
    segment_count = models.PositiveIntegerField(default=0)
    bytes = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["-height"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "name"], name="rendition_unique_per_asset")
        ]


class WatchTime(TenantModel):
    """Seconds of video watched, per lesson and day (a day of the school's time zone at
    the time of writing; rows written before 2026-12-06 used UTC days). A rollup
    written by the player's progress beats (``playback.save_position`` with
    ``watched``), one row per lesson and day, so instructor analytics sums a few rows
    per lesson instead of reading events."""

    lesson = models.ForeignKey("courses.Lesson", on_delete=models.CASCADE, related_name="+")
    # Repeated from the lesson so per-course sums need no join (and RLS checks one column).
    course = models.ForeignKey("courses.Course", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    seconds = models.PositiveBigIntegerField(default=0)
    # Beats that counted, so an average per beat or a plausibility check stays possible.
    beats = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lesson", "day"], name="watch_time_lesson_day_unique")
        ]
        indexes = [models.Index(fields=["school", "course", "day"])]
