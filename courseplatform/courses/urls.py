"""Course pages on a school's host: the public side and the course roster."""

from django.urls import path

from . import views
from .views_manage import people

app_name = "courses"

urlpatterns = [
    path("courses/", views.catalogue, name="catalogue"),
    path("courses/<slug:slug>/", views.course_detail, name="course"),
    path("courses/<slug:slug>/lessons/<int:lesson_id>/", views.lesson_detail, name="lesson"),
    path(
        "courses/<slug:slug>/lessons/<int:lesson_id>/complete/",
        views.lesson_complete,
        name="lesson_complete",
    ),
    path(
        "courses/<slug:slug>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment",
    ),
    path("covers/<int:course_id>/<str:name>", views.course_cover, name="cover"),
    path("my/", views.my_courses, name="my_courses"),
    path("manage/courses/<int:course_id>/students/", people.roster, name="roster"),
    path(
        "manage/courses/<int:course_id>/students/add/",
        people.roster_add,
        name="roster_add",
    ),
    path(
        "manage/courses/<int:course_id>/students/<int:enrollment_id>/remove/",
        people.roster_remove,
        name="roster_remove",
    ),
    path(
        "manage/courses/<int:course_id>/students.csv",
        people.roster_csv,
        name="roster_csv",
    ),
]
