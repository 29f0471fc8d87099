"""Instructor authoring under /manage/courses/ (included by courseplatform/urls/school.py)."""

from django.urls import path

from . import views_manage as views

app_name = "courses_manage"

urlpatterns = [
    path("", views.course_list, name="list"),
    path("new/", views.course_create, name="create"),
    path("preview/", views.markdown_preview, name="preview"),
    path("<int:course_id>/", views.course_edit, name="edit"),
    path("<int:course_id>/cover/", views.course_cover, name="cover"),
    path("<int:course_id>/status/", views.course_status, name="status"),
    path("<int:course_id>/delete/", views.course_delete, name="delete"),
    path("<int:course_id>/instructors/", views.course_instructor, name="instructor"),
    path("<int:course_id>/outline/", views.outline, name="outline"),
    path("<int:course_id>/sections/new/", views.section_add, name="section_add"),
    path("<int:course_id>/reorder-sections/", views.reorder_sections, name="reorder_sections"),
    path("sections/<int:section_id>/rename/", views.section_rename, name="section_rename"),
    path("sections/<int:section_id>/delete/", views.section_delete, name="section_delete"),
    path("sections/<int:section_id>/move/", views.section_move, name="section_move"),
    path("sections/<int:section_id>/lessons/new/", views.lesson_add, name="lesson_add"),
    path(
        "sections/<int:section_id>/reorder-lessons/",
        views.reorder_lessons,
        name="reorder_lessons",
    ),
    path("lessons/<int:lesson_id>/", views.lesson_edit, name="lesson"),
    path("lessons/<int:lesson_id>/move/", views.lesson_move, name="lesson_move"),
    path("lessons/<int:lesson_id>/delete/", views.lesson_delete, name="lesson_delete"),
    path("lessons/<int:lesson_id>/attachments/", views.attachment_add, name="attachment_add"),
    path(
        "attachments/<int:attachment_id>/delete/",
        views.attachment_delete,
        name="attachment_delete",
    ),
]
