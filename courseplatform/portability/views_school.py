"""The owner's pages for taking the school away: whole-school export and closure.

Thin: parse, call ``closure`` / ``school_export``, render. Every page is the owner's
only (``owner_required``: visitors go to sign in, instructors and students get 403),
and stays reachable while the school is closing (``tenancy.middleware.OPEN_WHILE_CLOSING``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from courseplatform.accounts.decorators import owner_required
from courseplatform.ops import files
from courseplatform.ops.net import client_ip

from . import closure
from .forms_school import CloseSchoolForm, SchoolExportForm
from .models import SchoolExport
from .school_export import links as export_links
from .school_export import services as export_services


@owner_required
def close_school(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    if school.is_closing:
        return render(
            request,
            "portability/school/closing.html",
            {"nav_active": "settings", "grace_days": closure.grace_days()},
        )
    form = CloseSchoolForm(request.POST if request.method == "POST" else None, slug=school.slug)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                closure.request_closure(
                    school=school,
                    actor=request.user,
                    confirm_slug=form.cleaned_data["confirm_slug"],
                    password=form.cleaned_data["password"],
                    ip=client_ip(request),
                )
            except closure.ClosureError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("%(school)s is closing.") % {"school": school.name})
                return redirect("portability_close_school")
        status = 400
    return render(
        request,
        "portability/school/close.html",
        {"form": form, "nav_active": "settings", "grace_days": closure.grace_days()},
        status=status,
    )


@owner_required
@require_POST
def cancel_closure(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    try:
        closure.cancel_closure(school=school, actor=request.user, ip=client_ip(request))
    except closure.ClosureError as exc:
        messages.error(request, str(exc))
        return redirect("portability_close_school")
    messages.success(request, _("%(school)s is open again.") % {"school": school.name})
    return redirect("manage_settings")


# --- whole-school export -----------------------------------------------------------------


@owner_required
def school_export(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    form = SchoolExportForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                export_services.request_export(
                    school=school,
                    actor=request.user,  # type: ignore[arg-type]
                    codes=form.cleaned_data["codes"],
                    passphrase=form.cleaned_data.get("passphrase") or "",
                    include_videos=bool(form.cleaned_data.get("include_videos")),
                    ip=client_ip(request),
                )
            except export_services.ExportError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, _("Your export is being built; we email you when it is ready.")
                )
                return redirect("portability_school_export")
        status = 400
    exports = export_services.recent_exports(school=school)
    return render(
        request,
        "portability/school/export.html",
        {
            "form": form,
            "exports": [(e, _links(e)) for e in exports],
            "nav_active": "settings",
            "ttl_hours": round(settings.SCHOOL_EXPORT_TTL_HOURS),  # a count for the plural
        },
        status=status,
    )


def _links(export: SchoolExport) -> str:
    if export.status != SchoolExport.Status.READY:
        return ""
    return export_links.download_path(export)


@owner_required
def school_export_progress(request: HttpRequest, export_uuid: str) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    export = export_services.get_export(school=school, export_uuid=export_uuid)
    if export is None:
        raise Http404("No such export.")
    return render(
        request,
        "portability/school/_export_row.html",
        {"export": export, "download": _links(export)},
    )


@owner_required
def school_export_download(request: HttpRequest, token: str) -> HttpResponse:
    """The signed link (emailed): this school's host, its owner, until the export expires."""
    school = request.school  # type: ignore[attr-defined]
    try:
        export_uuid = export_links.read_token(token, school=school)
    except export_links.LinkInvalid as exc:
        raise Http404("This download link is not valid or has expired.") from exc
    export = export_services.downloadable(school=school, export_uuid=export_uuid)
    if export is None:
        raise Http404("This download link is not valid or has expired.")
    filename = f"{school.slug}-export-{export.created_at:%Y%m%d-%H%M}.zip"
    if hasattr(default_storage, "bucket_name"):
        return HttpResponseRedirect(  # type: ignore[return-value]
            files.signed_file_url(
                school=school,
                key=export.archive_key,
                filename=filename,
                content_type="application/zip",
                ttl=300,
            )
        )
    # Local storage: streamed from here (the closing school serves no /files/ links).
    response = FileResponse(
        default_storage.open(export.archive_key, "rb"),
        as_attachment=True,
        filename=filename,
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response  # type: ignore[return-value]
