"""Course archive pages, under /manage/courses/ on a school's host (urls/school.py)."""

from django.urls import path

from . import views_course_archive as views

app_name = "course_archive"

urlpatterns = [
    path("<int:course_id>/export/", views.course_export, name="export"),
    path("import/", views.course_import, name="import"),
    path("archives/exports/<int:export_id>/", views.export_progress, name="export_progress"),
    path("archives/imports/<int:import_id>/", views.import_progress, name="import_progress"),
    path("archives/download/<str:token>/", views.export_download, name="download"),
]
