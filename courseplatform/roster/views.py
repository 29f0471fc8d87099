"""The bulk import pages (owners and instructors): upload, preview with per-row
checks, apply (queued), live progress (htmx), result report CSV. Thin views over
``services`` and ``selectors``."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from courseplatform.accounts import permissions
from courseplatform.accounts.decorators import manager_required
from courseplatform.accounts.models import User
from courseplatform.ops.csvexport import csv_response
from courseplatform.ops.forms import submit
from courseplatform.tenancy.models import School

from . import selectors, services
from .forms import UploadForm
from .models import StudentImport

REPORT_COLUMNS = ("row", "name", "email", "courses", "planned", "problems", "status", "result")


def _school(request: HttpRequest) -> School:
    return request.school  # type: ignore[attr-defined,no-any-return]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _limits() -> dict[str, float]:
    return {
        "max_mb": settings.ROSTER_IMPORT_MAX_BYTES / 1024 / 1024,
        "max_rows": settings.ROSTER_IMPORT_MAX_ROWS,
    }


class CappedUpload(FileUploadHandler):
    """Stops reading an upload once it passes ``limit`` bytes: the rest of the request
    body is drained and discarded instead of being written to a temporary file."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.too_large = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            self.too_large = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def _too_large_message() -> str:
    limit = settings.ROSTER_IMPORT_MAX_BYTES / 1024 / 1024
    return gettext(
        "The file is larger than the limit of %(limit)s MB. Split it into smaller files."
    ) % {"limit": number_format(limit, decimal_pos=1, force_grouping=True)}


# The upload handler must be in place before anything reads the body, CSRF's check
# included (Django's documented pattern: exempt here, protect the inner view).
@csrf_exempt
@manager_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    capped = CappedUpload(request, settings.ROSTER_IMPORT_MAX_BYTES)
    request.upload_handlers.insert(0, capped)
    return _upload(request, capped)


@csrf_protect
def _upload(request: HttpRequest, capped: CappedUpload) -> HttpResponse:
    school, user = _school(request), _user(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if capped.too_large:
            form.is_valid()
            form.errors["file"] = form.error_class([_too_large_message()])
        else:
            created = submit(
                form,
                lambda data: services.create_import(
                    school=school,
                    actor=user,
                    upload=data["file"],
                    port=request.host_port,  # type: ignore[attr-defined]
                ),
            )
            if created is not None:
                return redirect("roster:preview", import_id=created.pk)
    return render(
        request,
        "roster/upload.html",
        {
            "form": form,
            "imports": selectors.recent_imports(school=school),
            "nav_active": "students",
            **_limits(),
        },
        status=400 if form.errors else 200,
    )


@manager_required
@require_GET
def sample_csv(request: HttpRequest) -> HttpResponse:
    return csv_response(
        "students-sample.csv",
        ("name", "email", "courses"),
        [
            ("Ada Lovelace", "ada@example.com", "intro-to-drawing"),
            ("Alan Turing", "alan@example.com", "intro-to-drawing; advanced-shading"),
            ("Grace Hopper", "grace@example.com", ""),
        ],
    )


def _can_apply(request: HttpRequest, student_import: StudentImport) -> bool:
    return student_import.created_by_id == request.user.pk or permissions.is_school_owner(
        request.user, _school(request)
    )


@manager_required
@require_GET
def preview(request: HttpRequest, import_id: int) -> HttpResponse:
    school = _school(request)
    student_import = selectors.get_import(school=school, import_id=import_id)
    show = request.GET.get("show", "all")
    if show not in selectors.ROW_FILTERS:
        show = "all"
    page = selectors.import_rows(
        school=school, student_import=student_import, show=show, page=request.GET.get("page", 1)
    )
    return render(
        request,
        "roster/preview.html",
        {
            "imp": student_import,
            "page": page,
            "show": show,
            "filters": [(key, label) for key, (label, _) in selectors.ROW_FILTERS.items()],
            "progress": selectors.progress(school=school, student_import=student_import),
            "can_apply": _can_apply(request, student_import),
            "nav_active": "students",
        },
    )


@manager_required
@require_POST
def apply(request: HttpRequest, import_id: int) -> HttpResponse:
    school = _school(request)
    student_import = selectors.get_import(school=school, import_id=import_id)
    try:
        services.apply_import(school=school, actor=_user(request), student_import=student_import)
    except services.RosterError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, gettext("The import is running: you can leave this page meanwhile.")
        )
    return redirect("roster:preview", import_id=student_import.pk)


@manager_required
@require_POST
def discard(request: HttpRequest, import_id: int) -> HttpResponse:
    school = _school(request)
    student_import = selectors.get_import(school=school, import_id=import_id)
    try:
        services.discard_import(school=school, actor=_user(request), student_import=student_import)
    except services.RosterError as exc:
        messages.error(request, str(exc))
        return redirect("roster:preview", import_id=student_import.pk)
    messages.success(
        request,
        gettext("“%(name)s” was discarded; nothing changed.") % {"name": student_import.filename},
    )
    return redirect("roster:upload")


@manager_required
@require_GET
def progress(request: HttpRequest, import_id: int) -> HttpResponse:
    """The progress block (htmx polls it every 2 s while rows are being applied)."""
    school = _school(request)
    student_import = selectors.get_import(school=school, import_id=import_id)
    return render(
        request,
        "roster/_progress.html",
        {
            "imp": student_import,
            "progress": selectors.progress(school=school, student_import=student_import),
            # Polled by htmx: the page header's status badge is swapped too (out of band).
            "oob": request.headers.get("HX-Request") == "true",
        },
    )


@manager_required
@require_GET
def report_csv(request: HttpRequest, import_id: int) -> HttpResponse:
    """Every row with its checks and outcome; cells are made safe for spreadsheets
    (ops.csvexport: a cell starting like a formula gets a leading quote)."""
    school = _school(request)
    student_import = selectors.get_import(school=school, import_id=import_id)
    rows = selectors.all_rows(school=school, student_import=student_import)
    stem = student_import.filename.rsplit(".", 1)[0] or "import"
    safe_stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)[:60]
    return csv_response(
        f"{safe_stem}-import-{student_import.pk}-report.csv",
        REPORT_COLUMNS,
        (
            (
                row.line,
                row.name,
                row.email,
                " ".join(row.courses),
                row.get_action_display(),
                " ".join(issue["message"] for issue in row.issues),
                row.get_status_display(),
                row.result,
            )
            for row in rows
        ),
    )
