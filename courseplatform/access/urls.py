"""Access-code URLs of a school's host: the student's /redeem/ and /manage/codes/."""

from django.urls import path

from . import views

app_name = "access"

urlpatterns = [
    path("redeem/", views.redeem, name="redeem"),
    path("manage/codes/", views.batch_list, name="batches"),
    path("manage/codes/<int:batch_id>/", views.batch_detail, name="batch"),
    path("manage/codes/<int:batch_id>/export.csv", views.batch_export, name="batch_export"),
    path("manage/codes/<int:batch_id>/revoke/", views.batch_revoke, name="batch_revoke"),
    path("manage/codes/codes/<int:code_id>/", views.code_detail, name="code"),
    path("manage/codes/codes/<int:code_id>/revoke/", views.code_revoke, name="code_revoke"),
]
