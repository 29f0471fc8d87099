from django.urls import path

from . import views

urlpatterns = [
    path("", views.analytics_page, name="manage_analytics"),
    path("refresh/", views.refresh, name="analytics_refresh"),
    path("<slug:figure>.csv", views.analytics_csv, name="analytics_csv"),
]
