from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courseplatform.courses"
    label = "courses"
    verbose_name = "Courses"

    def ready(self) -> None:
        from courseplatform.tenancy.usage import Meter, register_usage

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
