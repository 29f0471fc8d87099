"""Bulk student import under /manage/students/import/ (included by urls/school.py)."""

from django.urls import path

from . import views

app_name = "roster"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("sample.csv", views.sample_csv, name="sample"),
    path("<int:import_id>/", views.preview, name="preview"),
    path("<int:import_id>/apply/", views.apply, name="apply"),
    path("<int:import_id>/discard/", views.discard, name="discard"),
    path("<int:import_id>/progress/", views.progress, name="progress"),
    path("<int:import_id>/report.csv", views.report_csv, name="report"),
]
