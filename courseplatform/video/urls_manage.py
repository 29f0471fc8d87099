"""Instructor video area under /manage/videos/ (included by courseplatform/urls/school.py)."""

from django.urls import path

from . import views_upload as views

app_name = "video_manage"

urlpatterns = [
    path("", views.library, name="library"),
    path("<int:asset_id>/status/", views.status, name="status"),
    path("<int:asset_id>/delete/", views.delete, name="delete"),
    path("lessons/<int:lesson_id>/status/", views.lesson_status, name="lesson_status"),
    # Local storage: tus 1.0 (core, creation, termination).
    path("tus/", views.tus_collection, name="tus"),
    path("tus/<uuid:upload_id>/", views.tus_upload, name="tus_upload"),
    # S3/R2: presigned multipart upload straight to the bucket.
    path("s3/", views.s3_create, name="s3_create"),
    path("s3/<uuid:upload_id>/", views.s3_abort, name="s3_abort"),
    path("s3/<uuid:upload_id>/parts/", views.s3_parts, name="s3_parts"),
    path("s3/<uuid:upload_id>/parts/<int:part_number>/", views.s3_sign_part, name="s3_sign_part"),
    path("s3/<uuid:upload_id>/complete/", views.s3_complete, name="s3_complete"),
]
