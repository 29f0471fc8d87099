from typing import cast

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "courseplatform.certificates"
    label = "certificates"
    verbose_name = "Certificates"

    def ready(self) -> None:
        from courseplatform.courses.extensions import (
            CourseManageLink,
            MyCourseExtra,
            register_course_manage_link,
            register_my_course_extra,
        )
        from courseplatform.ops.events import subscribe

        from . import checks  # noqa: F401  (registers the deploy check)
        from .selectors import my_certificate_annotations
        from .services import on_course_completed

        # courses announces "course.completed" (ops.events, after commit); it cannot
        # import this app, which sits above it.
        subscribe(self.label, on_course_completed)
        # My courses is a courses page: this app hands it subqueries on the enrolment
        # query (no statement of their own) and the template that shows the certificate.
        register_my_course_extra(
            MyCourseExtra(
                name=self.label,
                annotations=my_certificate_annotations,
                template="certificates/_my_course_certificate.html",
            )
        )
        register_course_manage_link(
            CourseManageLink(
                name=self.label,
                label=cast(str, _("Certificate")),
                url_name="certificates:settings",
                owner_only=True,
            )
        )
