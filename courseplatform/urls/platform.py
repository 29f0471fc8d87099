"""URLs of the bare platform domain: marketing, school signup, operator console."""

from django.contrib import admin
from django.urls import include, path

from courseplatform.accounts import views_language
from courseplatform.onboarding import views as onboarding_views

admin.site.site_header = "Courseplatform operator console"
admin.site.site_title = "Courseplatform operator console"

urlpatterns = [
    path("", onboarding_views.platform_home, name="platform_home"),
    path("signup/", onboarding_views.school_signup, name="school_signup"),
    path("signup/check-subdomain/", onboarding_views.check_subdomain, name="check_subdomain"),
    path("find-school/", onboarding_views.find_school, name="find_school"),
    path("language/", views_language.set_language, name="set_language"),
    path("jsi18n/<str:language>/", views_language.javascript_catalog, name="javascript_catalog"),
    path("console/", include("courseplatform.console.urls")),
    path("admin/", admin.site.urls),
]

# Error pages in the visitor's language even when the error came before LanguageMiddleware.
handler403 = "courseplatform.tenancy.errors.permission_denied"
handler404 = "courseplatform.tenancy.errors.page_not_found"
handler500 = "courseplatform.tenancy.errors.server_error"
