"""URLs of one school's host (<slug>.PLATFORM_DOMAIN)."""

from django.urls import include, path

from courseplatform.accounts import views as account_views
from courseplatform.accounts import views_language
from courseplatform.api import views as api_views
from courseplatform.dashboard import views as dashboard_views
from courseplatform.dashboard import views_audit
from courseplatform.domains import views_hop
from courseplatform.ops import files
from courseplatform.sites import views as site_views
from courseplatform.sites import views_theme

urlpatterns = [
    path("", site_views.school_home, name="school_home"),
    # Early: segment requests are the most frequent of all, keep their resolution short.
    path("video/", include("courseplatform.video.urls")),
    path("", include("courseplatform.courses.urls")),
    path("", include("courseplatform.quizzes.urls")),
    path("", include("courseplatform.notices.urls")),
    path("", include("courseplatform.access.urls")),
    path("", include("courseplatform.sites.urls")),
    path("", include("courseplatform.certificates.urls")),
    path("accounts/", include("courseplatform.accounts.urls")),
    path("manage/", dashboard_views.dashboard, name="manage_dashboard"),
    path("manage/courses/quizzes/", include("courseplatform.quizzes.urls_manage")),
    path("manage/courses/", include("courseplatform.portability.urls_course_archive")),
    path("manage/courses/", include("courseplatform.courses.urls_manage")),
    path("manage/analytics/", include("courseplatform.analytics.urls")),
    path("manage/videos/", include("courseplatform.video.urls_manage")),
    path("manage/students/import/", include("courseplatform.roster.urls")),
    path("manage/students/", account_views.manage_people, name="manage_people"),
    path(
        "manage/students/<int:user_id>/role/",
        account_views.change_person_role,
        name="change_person_role",
    ),
    path("manage/settings/", dashboard_views.school_settings, name="manage_settings"),
    path("manage/audit/", views_audit.audit_log_page, name="manage_audit_log"),
    path("manage/audit/export.csv", views_audit.audit_log_csv, name="manage_audit_log_csv"),
    path("manage/settings/webhooks/", include("courseplatform.webhooks.urls")),
    path("manage/settings/", include("courseplatform.portability.urls_school")),
    path("manage/settings/api/", api_views.api_tokens, name="manage_api_tokens"),
    path(
        "manage/settings/api/<int:token_id>/revoke/",
        api_views.revoke_api_token,
        name="revoke_api_token",
    ),
    path("manage/site/", include("courseplatform.sites.urls_manage")),
    path("manage/domains/", include("courseplatform.domains.urls_manage")),
    path("branding/<str:kind>", views_theme.branding_asset, name="school_branding"),
    path("files/<str:token>/", files.serve_signed_file, name="school_file"),
    path("language/", views_language.set_language, name="set_language"),
    path("jsi18n/<str:language>/", views_language.javascript_catalog, name="javascript_catalog"),
    path("api/v1/", include("courseplatform.api.urls")),
    # Between the platform subdomain and the primary custom domain (domains/views_hop.py).
    path("manage/switch-host/", views_hop.switch_host, name="switch_host"),
]

# Error pages in the visitor's language even when the error came before LanguageMiddleware.
handler403 = "courseplatform.tenancy.errors.permission_denied"
handler404 = "courseplatform.tenancy.errors.page_not_found"
handler500 = "courseplatform.tenancy.errors.server_error"
