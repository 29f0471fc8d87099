"""Taking quizzes on a school's host (included by courseplatform/urls/school.py)."""

from django.urls import path

from . import views

app_name = "quizzes"

urlpatterns = [
    path("courses/<slug:slug>/lessons/<int:lesson_id>/quiz/start/", views.start, name="start"),
    path(
        "courses/<slug:slug>/lessons/<int:lesson_id>/quiz/attempts/<int:attempt_id>/",
        views.submit,
        name="submit",
    ),
]
