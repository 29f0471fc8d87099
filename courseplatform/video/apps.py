from django.apps import AppConfig


class VideoConfig(AppConfig):
    name = "courseplatform.video"
    label = "video"
    verbose_name = "Video"
