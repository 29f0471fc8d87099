"""The owner's whole-school export and closure pages, under /manage/settings/."""

from django.urls import path

from . import views_school

urlpatterns = [
    path("close/", views_school.close_school, name="portability_close_school"),
    path("close/cancel/", views_school.cancel_closure, name="portability_cancel_closure"),
    path("export/", views_school.school_export, name="portability_school_export"),
    path(
        "export/<str:export_uuid>/progress/",
        views_school.school_export_progress,
        name="portability_school_export_progress",
    ),
    path(
        "export/download/<str:token>/",
        views_school.school_export_download,
        name="portability_school_export_download",
    ),
]
