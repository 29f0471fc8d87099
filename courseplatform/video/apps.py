from typing import Any

from django.apps import AppConfig


class VideoConfig(AppConfig):
    name = "courseplatform.video"
    label = "video"
    verbose_name = "Video"

    def ready(self) -> None:
        from courseplatform.tenancy.models import School
        from courseplatform.tenancy.usage import Meter, register_usage

        from .models import VideoAsset
        from .selectors import (
            school_video_bytes,
            school_video_bytes_query,
            school_video_minutes,
            school_video_minutes_query,
        )

        def only_videos(exclude: Any) -> VideoAsset | None:
            return exclude if isinstance(exclude, VideoAsset) else None

        def video_bytes(school: School, exclude: Any) -> float:
            return school_video_bytes(school=school, exclude=only_videos(exclude))

        def video_minutes(school: School, exclude: Any) -> float:
            return school_video_minutes(school=school, exclude=only_videos(exclude))

        register_usage(Meter.STORAGE_BYTES, self.label, video_bytes, query=school_video_bytes_query)
        register_usage(
            Meter.VIDEO_MINUTES, self.label, video_minutes, query=school_video_minutes_query
        )
