"""Course archives in the management area: export a course (options, live progress,
signed download) and import an archive as a new course (upload, live progress).
Thin views over ``course_archive.services`` and ``course_archive.selectors``."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from courseplatform.accounts import permissions
from courseplatform.accounts.decorators import manager_required
from courseplatform.accounts.models import User
from courseplatform.courses import selectors as course_selectors
from courseplatform.ops import files
from courseplatform.ops.forms import submit
from courseplatform.tenancy.models import School

from .course_archive import links, selectors, services
from .course_archive.forms import ExportForm, ImportForm
from .course_archive.importer import ImportRefused
from .course_archive.zipcheck import ArchiveRejected
from .models import CourseExport


def _school(request: HttpRequest) -> School:
    return request.school  # type: ignore[attr-defined,no-any-return]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _can_see(user: User, school: School, export: CourseExport) -> bool:
    if export.course is None:
        return permissions.is_school_owner(user, school)
    return permissions.can_manage_course(user, export.course)


@manager_required
@require_http_methods(["GET", "POST"])
def course_export(request: HttpRequest, course_id: int) -> HttpResponse:
    school, user = _school(request), _user(request)
    course = course_selectors.get_course_for_manager(school=school, user=user, course_id=course_id)
    form = ExportForm(request.POST) if request.method == "POST" else ExportForm()
    if request.method == "POST":
        export = submit(
            form,
            lambda data: services.request_export(
                school=school,
                actor=user,
                course=course,
                include_sources=data["include_sources"],
                include_renditions=data["include_renditions"],
            ),
        )
        if export is not None:
            messages.success(request, _("The archive is being built; it appears below when ready."))
            return redirect("course_archive:export", course_id=course.pk)
    return render(
        request,
        "portability/course_archive/export.html",
        {
            "nav_active": "courses",
            "course": course,
            "form": form,
            "exports": selectors.course_exports(school=school, course=course),
        },
        status=400 if form.errors else 200,
    )


@manager_required
@require_GET
def export_progress(request: HttpRequest, export_id: int) -> HttpResponse:
    """One export's row (htmx polls it every 2 s until the archive is ready or failed)."""
    school, user = _school(request), _user(request)
    export = selectors.get_export(school=school, export_id=export_id)
    if not _can_see(user, school, export):
        raise Http404("No such export.")
    return render(request, "portability/course_archive/_export_row.html", {"export": export})


@manager_required
@require_GET
def export_download(request: HttpRequest, token: str) -> HttpResponse:
    """The signed link: valid for its school's host, its course's managers, a while."""
    school, user = _school(request), _user(request)
    try:
        export_uuid = links.read_token(token, school=school)
    except links.LinkInvalid as exc:
        raise Http404("This download link is not valid or has expired.") from exc
    export = selectors.downloadable_export(school=school, export_uuid=export_uuid)
    if not _can_see(user, school, export):
        raise Http404("This download link is not valid or has expired.")
    slug = export.course.slug if export.course else "course"
    url = files.signed_file_url(
        school=school,
        key=export.archive_key,
        filename=f"{slug}-{export.created_at:%Y%m%d-%H%M}.zip",
        content_type="application/zip",
        ttl=300,
    )
    return HttpResponseRedirect(url)


class _CappedArchive(FileUploadHandler):
    """Stops reading an archive upload past COURSE_ARCHIVE_MAX_UPLOAD_BYTES: the rest of
    the body is drained and dropped instead of filling a temporary file."""

    def __init__(self, request: HttpRequest) -> None:
        super().__init__(request)
        self.too_large = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > settings.COURSE_ARCHIVE_MAX_UPLOAD_BYTES:
            self.too_large = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


# The handler must be in place before anything reads the body, CSRF's check included
# (Django's documented pattern: exempt here, protect the inner view).
@csrf_exempt
@manager_required
@require_http_methods(["GET", "POST"])
def course_import(request: HttpRequest) -> HttpResponse:
    capped = _CappedArchive(request)
    request.upload_handlers.insert(0, capped)
    return _course_import(request, capped)


@csrf_protect
def _course_import(request: HttpRequest, capped: _CappedArchive) -> HttpResponse:
    school, user = _school(request), _user(request)
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    job = None
    if request.method == "POST" and capped.too_large:
        form.is_valid()
        limit = settings.COURSE_ARCHIVE_MAX_UPLOAD_BYTES / 1024**2
        form.errors["archive"] = form.error_class(
            [f"The archive is larger than the limit of {limit:,.0f} MB."]
        )
    elif request.method == "POST":
        try:
            job = submit(
                form,
                lambda data: services.request_import(
                    school=school, actor=user, upload=data["archive"]
                ),
            )
        except ArchiveRejected as exc:
            for problem in exc.problems:
                form.add_error("archive", problem)
        except ImportRefused as exc:
            form.add_error("archive", str(exc))
        if job is not None:
            messages.success(
                request,
                _("“%(course)s” is being imported; follow its progress below.")
                % {"course": job.course_title},
            )
            return redirect("course_archive:import")
    return render(
        request,
        "portability/course_archive/import.html",
        {
            "nav_active": "courses",
            "form": form,
            "imports": selectors.recent_imports(school=school),
        },
        status=400 if form.errors else 200,
    )


@manager_required
@require_GET
def import_progress(request: HttpRequest, import_id: int) -> HttpResponse:
    school = _school(request)
    job = selectors.get_import(school=school, import_id=import_id)
    return render(request, "portability/course_archive/_import_row.html", {"job": job})
