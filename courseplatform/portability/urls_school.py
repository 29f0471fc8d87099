"""The owner's whole-school export and closure pages, under /manage/settings/."""

from django.urls import path

from . import views_school

urlpatterns = [
    path("close/", views_school.close_school, name="portability_close_school"),
    path("close/cancel/", views_school.cancel_closure, name="portability_cancel_closure"),
]
