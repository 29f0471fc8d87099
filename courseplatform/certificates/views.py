"""Certificate pages: the owner's settings per course, the student's PDF, and the public
verification page (with its PDF upload) on the school's host."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from courseplatform.accounts import permissions
from courseplatform.accounts.decorators import manager_required
from courseplatform.accounts.models import User
from courseplatform.courses.models import Course
from courseplatform.courses.selectors import get_course_for_manager
from courseplatform.ops import ratelimit
from courseplatform.ops.edgecache import public_page
from courseplatform.ops.files import UploadRejected
from courseplatform.ops.net import client_ip
from courseplatform.sites.selectors import get_cached_theme
from courseplatform.tenancy.models import School
from courseplatform.tenancy.selectors import school_url

from . import bulk, selectors, services
from .forms import RevokeForm, SettingsForm, SignatureForm, VerifyForm
from .models import Certificate, CertificateSettings, PaperSize
from .pdf import Design, pdf_language, render_pdf
from .verify import UnreadableUpload, verify_pdf

ISSUED_SHOWN = 200  # certificates listed on the settings page (newest first)


def _school(request: HttpRequest) -> School:
    return request.school  # type: ignore[attr-defined,no-any-return]


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _owned_course(request: HttpRequest, course_id: int) -> Course:
    """The course (404 for another school's or a missing one), owner only (403)."""
    school, user = _school(request), _user(request)
    course = get_course_for_manager(school=school, user=user, course_id=course_id)
    permissions.require_school_owner(school, user, course, message=str(services.OWNER_ONLY))
    return course


def _settings_url(course: Course) -> str:
    return reverse("certificates:settings", args=[course.pk])


def _render_settings(
    request: HttpRequest,
    course: Course,
    *,
    form: SettingsForm | None = None,
    signature_form: SignatureForm | None = None,
    status: int = 200,
) -> HttpResponse:
    school = _school(request)
    conf = selectors.get_settings(school=school, course=course)
    if form is None:
        form = SettingsForm(
            initial={
                "enabled": conf.enabled if conf else False,
                "title": conf.title if conf else SettingsForm.base_fields["title"].initial,
                "signer_name": conf.signer_name if conf else "",
                "signer_title": conf.signer_title if conf else "",
                "paper_size": conf.paper_size if conf else PaperSize.A4,
            }
        )
    issued = list(selectors.course_certificates(school=school, course=course)[: ISSUED_SHOWN + 1])
    context: dict[str, Any] = {
        "nav_active": "courses",
        "course": course,
        "conf": conf,
        "form": form,
        "signature_form": signature_form or SignatureForm(),
        "revoke_form": RevokeForm(),
        "issued": issued[:ISSUED_SHOWN],
        "more_issued": len(issued) > ISSUED_SHOWN,
        "qualifying": selectors.qualifying_without_certificate(school=school, course=course).count()
        if conf and conf.enabled
        else 0,
        "port": getattr(request, "host_port", None),
    }
    return render(request, "certificates/manage.html", context, status=status)


@manager_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _owned_course(request, course_id)
    if request.method == "GET":
        return _render_settings(request, course)
    form = SettingsForm(request.POST)
    if form.is_valid():
        try:
            services.update_settings(
                school=_school(request),
                actor=_user(request),
                course=course,
                ip=client_ip(request),
                **form.cleaned_data,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Certificate settings saved."))
            return redirect(_settings_url(course))
    return _render_settings(request, course, form=form, status=400)


@manager_required
@require_POST
def signature(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _owned_course(request, course_id)
    if request.POST.get("remove") == "1":
        services.set_signature_image(
            school=_school(request), actor=_user(request), course=course, upload=None
        )
        messages.success(request, _("Signature image removed."))
        return redirect(_settings_url(course))
    form = SignatureForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.set_signature_image(
                school=_school(request),
                actor=_user(request),
                course=course,
                upload=form.cleaned_data["signature"],
                ip=client_ip(request),
            )
        except UploadRejected as exc:
            form.add_error("signature", str(exc))
        else:
            messages.success(request, _("Signature image saved."))
            return redirect(_settings_url(course))
    return _render_settings(request, course, signature_form=form, status=400)


@manager_required
@require_POST
def issue_all(request: HttpRequest, course_id: int) -> HttpResponse:
    course = _owned_course(request, course_id)
    try:
        issued, queued = bulk.issue_to_qualifying(
            school=_school(request), actor=_user(request), course=course
        )
    except services.CertificateError as exc:
        messages.error(request, str(exc))
        return redirect(_settings_url(course))
    if queued:
        messages.success(
            request,
            ngettext(
                "Issuing %(count)s certificate in the background; refresh in a minute.",
                "Issuing %(count)s certificates in the background; refresh in a minute.",
                queued,
            )
            % {"count": queued},
        )
    elif issued:
        messages.success(
            request,
            ngettext("Issued %(count)s certificate.", "Issued %(count)s certificates.", issued)
            % {"count": issued},
        )
    else:
        messages.info(request, _("Everyone who completed the course already has a certificate."))
    return redirect(_settings_url(course))


@manager_required
@require_POST
def revoke(request: HttpRequest, course_id: int, certificate_id: int) -> HttpResponse:
    course = _owned_course(request, course_id)
    school = _school(request)
    certificate = selectors.get_certificate_by_id(school=school, certificate_id=certificate_id)
    if certificate.course_id != course.pk:
        raise PermissionDenied(_("This certificate belongs to another course."))
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect(_settings_url(course))
    try:
        services.revoke_certificate(
            school=school,
            actor=_user(request),
            certificate=certificate,
            reason=form.cleaned_data["reason"],
            ip=client_ip(request),
        )
    except services.CertificateError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Certificate of %(name)s revoked.") % {"name": certificate.student_name},
        )
    return redirect(_settings_url(course))


# --- the student's PDF -------------------------------------------------------------------


@require_GET
@login_required
def download(request: HttpRequest, code: str) -> HttpResponse:
    """The PDF, for its student and the school's owner (``?paper=a4|letter`` overrides
    the course's paper size). Another school's or an unknown id: 404."""
    school, user = _school(request), _user(request)
    certificate = selectors.get_certificate(school=school, code=code)
    if certificate.student_id != user.pk and not permissions.is_school_owner(user, school):
        raise PermissionDenied(_("This is another student's certificate."))
    if certificate.is_revoked:
        raise PermissionDenied(_("This certificate was revoked."))
    conf = CertificateSettings.objects.filter(
        school=school, course_id=certificate.course_id
    ).first()
    paper = request.GET.get("paper") or (conf.paper_size if conf else PaperSize.A4)
    if paper not in PaperSize.values:
        paper = PaperSize.A4
    design = Design(
        theme=get_cached_theme(school),
        signature_key=conf.signature_key if conf else "",
        paper=paper,
        language=pdf_language(school.language, translation.get_language()),
    )
    verify_url = school_url(
        school, services.verify_path(certificate.code), port=getattr(request, "host_port", None)
    )
    pdf = render_pdf(certificate, design=design, verify_url=verify_url)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="certificate-{certificate.code}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- public verification ------------------------------------------------------------------


@require_safe
@public_page
def public_certificate(request: HttpRequest, code: str) -> HttpResponse:
    """The public page of one certificate: student, course, date, school; and whether it
    was revoked. Nothing else (no email, no ids of rows). Shared by every visitor."""
    certificate = selectors.get_certificate(school=_school(request), code=code)
    return render(
        request,
        "certificates/verify.html",
        {"certificate": certificate, "form": VerifyForm(), "shared_page": True},
    )


def _verify_response(request: HttpRequest, context: dict[str, Any], status: int) -> HttpResponse:
    response = render(request, "certificates/verify.html", context, status=status)
    response["Cache-Control"] = "private, no-store"
    return response


# No CSRF: the form is on a page shared by every visitor (no token in it), and a
# verification changes nothing; it is rate-limited per address instead.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def verify_upload(request: HttpRequest) -> HttpResponse:
    """Upload a certificate PDF: is it genuine (signature, school, printed text)?"""
    if request.method == "GET":
        return _verify_response(request, {"form": VerifyForm()}, 200)
    ip = client_ip(request)
    rate = ratelimit.hit("certificate-verify", ip, settings.RATE_LIMIT_CERTIFICATE_VERIFY_IP)
    if rate.limited:
        return ratelimit.too_many_requests(
            request,
            rate.retry_after,
            _("Too many verifications from your address; try again later."),
        )
    form = VerifyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _verify_response(request, {"form": form}, 400)
    try:
        verdict = verify_pdf(school=_school(request), upload=form.cleaned_data["pdf"])
    except UnreadableUpload as exc:
        form.add_error("pdf", str(exc))
        return _verify_response(request, {"form": form}, 400)
    context = {"form": VerifyForm(), "verdict": verdict}
    if verdict.certificate is not None and verdict.outcome != "altered":
        context["certificate"] = verdict.certificate
    return _verify_response(request, context, 200)


__all__ = [
    "Certificate",
    "download",
    "issue_all",
    "public_certificate",
    "revoke",
    "settings_page",
    "signature",
    "verify_upload",
]
