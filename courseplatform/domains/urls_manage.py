from django.urls import path

from . import views

urlpatterns = [
    path("", views.domains_page, name="domains_manage"),
    path("add/", views.add_domain, name="domains_add"),
    path("<int:domain_id>/check/", views.check_domain, name="domains_check"),
    path("<int:domain_id>/primary/", views.make_primary, name="domains_primary"),
    path("<int:domain_id>/remove/", views.remove_domain, name="domains_remove"),
]
