"""Public site URLs of a school's host (the home page ``/`` is ``school_home``)."""

from django.urls import path

from . import views

app_name = "sites"

urlpatterns = [
    path("p/<slug:slug>/", views.page_view, name="page"),
    path("site-media/<str:name>", views.site_media, name="media"),
]
