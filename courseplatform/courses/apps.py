from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoursesConfig(AppConfig):
    name = "courseplatform.courses"
    label = "courses"
    verbose_name = _("Courses")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from courseplatform.tenancy.usage import Meter, register_usage

        from .models import Attachment, Course, Lesson, Section
        from .site_cache import outline_changed

        # The cached course trees and lessons (site_cache.py) are stale after any change
        # to what they hold; the reorder services bump the generation themselves.
        for model in (Course, Section, Lesson, Attachment):
            uid = f"courses.site_cache.{model.__name__}"
            post_save.connect(outline_changed, sender=model, dispatch_uid=f"{uid}.save")
            post_delete.connect(outline_changed, sender=model, dispatch_uid=f"{uid}.delete")

        from .selectors import (
            attachment_bytes,
            attachment_bytes_query,
            count_courses,
            count_courses_query,
        )

        register_usage(
            Meter.COURSES,
            self.label,
            lambda school, exclude: count_courses(school=school),
            query=count_courses_query,
        )
        register_usage(
            Meter.STORAGE_BYTES,
            self.label,
            lambda school, exclude: attachment_bytes(school=school),
            query=attachment_bytes_query,
        )
