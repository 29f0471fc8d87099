"""The operator console at ``/console/`` on the platform host."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.overview, name="console_overview"),
    path("charts/<slug:name>.csv", views.chart_csv, name="console_chart_csv"),
    path("schools/", views.school_list, name="console_schools"),
    path("schools/<str:slug>/", views.school_detail, name="console_school"),
    path("schools/<str:slug>/suspend/", views.suspend_school, name="console_suspend"),
    path("schools/<str:slug>/unsuspend/", views.unsuspend_school, name="console_unsuspend"),
    path("schools/<str:slug>/plan/", views.change_plan, name="console_change_plan"),
    path("schools/<str:slug>/impersonate/", views.impersonate, name="console_impersonate"),
    path("audit/", views.audit_log_page, name="console_audit_log"),
    path("audit/export.csv", views.audit_log_csv, name="console_audit_log_csv"),
]
