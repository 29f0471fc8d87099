from typing import cast

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PortabilityConfig(AppConfig):
    name = "courseplatform.portability"
    label = "portability"
    verbose_name = "Taking data in and out (course archives, whole-school export, school closure)"

    def ready(self) -> None:
        from courseplatform.courses.extensions import (
            CourseListAction,
            CourseManageLink,
            register_course_list_action,
            register_course_manage_link,
        )

        # The course pages are in courses, below this app: it hands them its buttons.
        register_course_manage_link(
            CourseManageLink(
                name="course_archive",
                label=cast(str, pgettext_lazy("verb", "Export")),
                url_name="course_archive:export",
            )
        )
        register_course_list_action(
            CourseListAction(
                name="course_archive",
                label=cast(str, _("Import a course")),
                url_name="course_archive:import",
            )
        )
