"""URLs of one school's host (<slug>.PLATFORM_DOMAIN)."""

from django.urls import include, path

from courseplatform.accounts import views as account_views
from courseplatform.ops import files
from courseplatform.sites import views as site_views
from courseplatform.tenancy import views as tenancy_views

urlpatterns = [
    path("", site_views.school_home, name="school_home"),
    path("accounts/", include("courseplatform.accounts.urls")),
    path("manage/", tenancy_views.dashboard, name="manage_dashboard"),
    path("manage/students/", account_views.manage_people, name="manage_people"),
    path("manage/settings/", tenancy_views.school_settings, name="manage_settings"),
    path("files/<str:token>/", files.serve_signed_file, name="school_file"),
]
