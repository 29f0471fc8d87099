"""Announcements and email preferences on a school's host (included by urls/school.py)."""

from django.urls import path

from . import views

app_name = "notices"

urlpatterns = [
    path(
        "manage/courses/<int:course_id>/announcements/", views.manage_announcements, name="manage"
    ),
    path(
        "manage/courses/<int:course_id>/announcements/<int:announcement_id>/progress/",
        views.announcement_progress,
        name="progress",
    ),
    path("courses/<slug:slug>/announcements/", views.course_block, name="course_block"),
    path("my/announcements/", views.my_block, name="my_block"),
    path("my/course-emails/", views.course_emails, name="course_emails"),
    path("email/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
