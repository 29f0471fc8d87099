"""Instructor authoring under /manage/courses/ (included by courseplatform/urls/school.py)."""

from django.urls import path

from .views_manage import courses, lessons, outline, people

app_name = "courses_manage"

urlpatterns = [
    path("", courses.course_list, name="list"),
    path("new/", courses.course_create, name="create"),
    path("preview/", courses.markdown_preview, name="preview"),
    path("<int:course_id>/", courses.course_edit, name="edit"),
    path("<int:course_id>/cover/", courses.course_cover, name="cover"),
    path("<int:course_id>/status/", courses.course_status, name="status"),
    path("<int:course_id>/delete/", courses.course_delete, name="delete"),
    path("<int:course_id>/instructors/", people.course_instructor, name="instructor"),
    path("<int:course_id>/outline/", outline.outline, name="outline"),
    path("<int:course_id>/sections/new/", outline.section_add, name="section_add"),
    path("<int:course_id>/reorder-sections/", outline.reorder_sections, name="reorder_sections"),
    path("sections/<int:section_id>/rename/", outline.section_rename, name="section_rename"),
    path("sections/<int:section_id>/release/", outline.section_release, name="section_release"),
    path("sections/<int:section_id>/delete/", outline.section_delete, name="section_delete"),
    path("sections/<int:section_id>/move/", outline.section_move, name="section_move"),
    path("sections/<int:section_id>/lessons/new/", outline.lesson_add, name="lesson_add"),
    path(
        "sections/<int:section_id>/reorder-lessons/",
        outline.reorder_lessons,
        name="reorder_lessons",
    ),
    path("lessons/<int:lesson_id>/", lessons.lesson_edit, name="lesson"),
    path("lessons/<int:lesson_id>/move/", outline.lesson_move, name="lesson_move"),
    path("lessons/<int:lesson_id>/delete/", outline.lesson_delete, name="lesson_delete"),
    path("lessons/<int:lesson_id>/attachments/", lessons.attachment_add, name="attachment_add"),
    path(
        "attachments/<int:attachment_id>/delete/",
        lessons.attachment_delete,
        name="attachment_delete",
    ),
]
