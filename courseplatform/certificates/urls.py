"""Certificate URLs on a school's host (included by courseplatform/urls/school.py)."""

from django.urls import path, register_converter

from . import views


class CodeConverter:
    """A certificate id: 22 URL-safe characters (so ``verify`` is never one)."""

    regex = "[A-Za-z0-9_-]{22}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CodeConverter, "certcode")

app_name = "certificates"

urlpatterns = [
    path("certificates/verify/", views.verify_upload, name="verify"),
    path("certificates/<certcode:code>/", views.public_certificate, name="public"),
    path("my/certificates/<certcode:code>.pdf", views.download, name="download"),
    path("manage/courses/<int:course_id>/certificate/", views.settings_page, name="settings"),
    path(
        "manage/courses/<int:course_id>/certificate/signature/",
        views.signature,
        name="signature",
    ),
    path("manage/courses/<int:course_id>/certificate/issue/", views.issue_all, name="issue_all"),
    path(
        "manage/courses/<int:course_id>/certificate/<int:certificate_id>/revoke/",
        views.revoke,
        name="revoke",
    ),
]
