"""Quiz authoring under /manage/courses/quizzes/ (included by courseplatform/urls/school.py)."""

from django.urls import path

from . import views_manage

app_name = "quizzes_manage"

urlpatterns = [
    path("lessons/<int:lesson_id>/settings/", views_manage.quiz_settings, name="settings"),
    path("lessons/<int:lesson_id>/questions/new/", views_manage.question_add, name="question_add"),
    path("lessons/<int:lesson_id>/stats/", views_manage.stats, name="stats"),
    path("questions/<int:question_id>/", views_manage.question_edit, name="question"),
    path("questions/<int:question_id>/move/", views_manage.question_move, name="question_move"),
    path(
        "questions/<int:question_id>/delete/", views_manage.question_delete, name="question_delete"
    ),
    path(
        "courses/<int:course_id>/students/<int:student_id>/",
        views_manage.student_attempts,
        name="student_attempts",
    ),
]
