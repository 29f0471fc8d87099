from django.apps import AppConfig


class QuizzesConfig(AppConfig):
    name = "courseplatform.quizzes"
    label = "quizzes"
    verbose_name = "Quizzes"

    def ready(self) -> None:
        from courseplatform.courses.lesson_kinds import (
            KindHooks,
            register_kind,
            register_roster_links,
        )
        from courseplatform.courses.models import Lesson

        from . import panels

        # The lesson page and the lesson editor of a quiz lesson show the quiz; it is
        # completed by passing, never by the student's own tick.
        register_kind(
            Lesson.Kind.QUIZ,
            KindHooks(
                lesson_page=panels.lesson_page_panel,
                editor=panels.editor_panel,
                completes_by_hand=False,
            ),
        )
        register_roster_links(self.label, panels.roster_links)
