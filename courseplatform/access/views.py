"""Access-code pages: batches in the management area (``/manage/codes/``) and the
student's redemption form on the school site (``/redeem/``).

Thin views: reads go through ``selectors``, writes through ``services``.

Redeeming while logged out: the form (or a ``/redeem/?code=…`` link) keeps the code
in the session (encrypted, like the database copy) and sends the visitor to sign up
(or log in) with ``next=/redeem/``. Back on ``/redeem/`` after signing in:

* a code the visitor *submitted* with the form is redeemed straight away on that
  GET (they already asked for it; the session is theirs, so no other site can
  plant a submitted code in it), with the same rate limits as a POST;
* a code that only came from a link is shown pre-filled with a "Redeem" button.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.formats import number_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from courseplatform.accounts.decorators import manager_required
from courseplatform.accounts.models import User
from courseplatform.courses.models import Course
from courseplatform.courses.selectors import courses_for_manager
from courseplatform.ops import ratelimit
from courseplatform.ops.csvexport import csv_response
from courseplatform.ops.net import client_ip
from courseplatform.ops.services import record_audit

from . import codes, selectors, services
from .forms import NewBatchForm, RedeemForm
from .models import AccessCode, AccessCodeBatch

REDEEM_PATH = "/redeem/"
SIGNUP_URL = f"/accounts/signup/?next={REDEEM_PATH}"
LOGIN_URL = f"/accounts/login/?next={REDEEM_PATH}"
PENDING_KEY = "access_pending_code"
PENDING_MAX_AGE = 24 * 3600
NEW_BATCH_KEY = "access_new_batch"
BATCHES_PER_PAGE = 50
CODES_PER_PAGE = 100
REDEMPTIONS_SHOWN = 50
MAX_DB_ID = 2**63 - 1
THROTTLED = _("Too many attempts to redeem a code. Please wait before trying again.")


def _id(value: int) -> int:
    # A path id too big for a bigint would be a database error, not a "not found".
    if value > MAX_DB_ID:
        raise Http404("Not found.")
    return value


def _course_names(courses: list[Course]) -> str:
    """“A”, “B” and “C” in the reader's language (its quotes, commas and "and")."""
    titles = [gettext("“%(title)s”") % {"title": c.title} for c in courses]
    if len(titles) <= 1:
        return "".join(titles)
    return gettext("%(items)s and %(last)s") % {
        "items": pgettext("list separator", ", ").join(titles[:-1]),
        "last": titles[-1],
    }


# --- management: batches -------------------------------------------------------------------


def _batch_rows(batches: Any) -> list[tuple[AccessCodeBatch, selectors.BatchStats]]:
    return [(batch, selectors.batch_stats(batch)) for batch in batches]


@manager_required
@require_http_methods(["GET", "POST"])
def batch_list(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    user: User = request.user  # type: ignore[assignment]
    courses = list(courses_for_manager(school=school, user=user).order_by("title", "id"))
    form = NewBatchForm(request.POST or None, courses=courses)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            new = services.create_batch(
                school=school,
                actor=user,
                name=data["name"],
                course_ids=data["courses"],
                code_count=data["code_count"],
                uses_per_code=data["uses_per_code"],
                expires_at=data["expires_at"],
                note=data["note"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            request.session[NEW_BATCH_KEY] = new.batch.pk
            count = len(new.codes)
            messages.success(
                request,
                ngettext(
                    "Batch “%(name)s” created with %(count)s code.",
                    "Batch “%(name)s” created with %(count)s codes.",
                    count,
                )
                % {"name": new.batch.name, "count": number_format(count, force_grouping=True)},
            )
            return redirect("access:batch", batch_id=new.batch.pk)
    page = Paginator(
        selectors.batches_for_manager(school=school, user=user), BATCHES_PER_PAGE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "access/manage/batch_list.html",
        {
            "nav_active": "codes",
            "form": form,
            "courses": courses,
            "page": page,
            "rows": _batch_rows(page.object_list),
            "open_form": request.method == "POST" or not page.paginator.count,
        },
    )


def _code_status(code: AccessCode, batch: AccessCodeBatch, now_expired: bool) -> str:
    if code.revoked_at is not None or batch.revoked_at is not None:
        return "revoked"
    if code.uses_count >= code.max_uses:
        return "used"
    if now_expired:
        return "expired"
    return "active"


@manager_required
@require_GET
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    user: User = request.user  # type: ignore[assignment]
    batch = selectors.get_batch_for_manager(school=school, user=user, batch_id=_id(batch_id))
    stats = selectors.batch_stats(batch)

    # Right after creation the whole batch is shown once, prominently, to copy or print.
    new_codes: list[str] | None = None
    all_rows: dict[int, AccessCode] = {}
    if request.session.get(NEW_BATCH_KEY) == batch.pk:
        del request.session[NEW_BATCH_KEY]
        exported = services.export_batch_codes(school=school, actor=user, batch=batch)
        all_rows = {row.pk: row for row in exported}
        new_codes = [row.plaintext for row in exported]  # type: ignore[attr-defined]

    page = Paginator(
        selectors.codes_of_batch(school=school, batch=batch).values_list("pk", flat=True),
        CODES_PER_PAGE,
    ).get_page(request.GET.get("page"))
    ids = list(page.object_list)
    if all_rows:
        code_rows = [all_rows[i] for i in ids if i in all_rows]
    else:
        code_rows = services.export_batch_codes(
            school=school, actor=user, batch=batch, code_ids=ids
        )
    table = [(row, _code_status(row, batch, stats.expired)) for row in code_rows]

    redemptions = selectors.redemptions_of_batch(school=school, batch=batch)
    return render(
        request,
        "access/manage/batch_detail.html",
        {
            "nav_active": "codes",
            "batch": batch,
            "stats": stats,
            "courses": list(batch.courses.all()),
            "new_codes": new_codes,
            "new_codes_text": "\n".join(new_codes or []),
            "page": page,
            "table": table,
            "redemptions": list(redemptions[:REDEMPTIONS_SHOWN]),
            "redemption_count": redemptions.count(),
            "back_here": request.get_full_path(),
        },
    )


@manager_required
@require_GET
def batch_export(request: HttpRequest, batch_id: int) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    user: User = request.user  # type: ignore[assignment]
    batch = selectors.get_batch_for_manager(school=school, user=user, batch_id=_id(batch_id))
    rows = services.export_batch_codes(school=school, actor=user, batch=batch)
    redeemed_by: dict[int, list[str]] = defaultdict(list)
    for redemption in selectors.redemptions_of_batch(school=school, batch=batch).order_by(
        "created_at", "id"
    ):
        redeemed_by[redemption.code_id].append(redemption.student.email)
    revoked_batch = batch.revoked_at is not None
    return csv_response(
        f"access-codes-{slugify(batch.name) or 'batch'}-{batch.pk}.csv",
        ["code", "uses", "max_uses", "revoked", "redeemed_by"],
        (
            [
                row.plaintext,  # type: ignore[attr-defined]
                row.uses_count,
                row.max_uses,
                "yes" if (revoked_batch or row.revoked_at is not None) else "no",
                " ".join(redeemed_by.get(row.pk, [])),
            ]
            for row in rows
        ),
    )


@manager_required
@require_POST
def batch_revoke(request: HttpRequest, batch_id: int) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    user: User = request.user  # type: ignore[assignment]
    batch = selectors.get_batch_for_manager(school=school, user=user, batch_id=_id(batch_id))
    services.revoke_batch(school=school, actor=user, batch=batch)
    messages.success(
        request,
        gettext("Batch “%(name)s” is revoked: none of its codes can be redeemed any more.")
        % {"name": batch.name},
    )
    return redirect("access:batch", batch_id=batch.pk)


def _back(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target.startswith("/manage/codes/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@manager_required
@require_GET
def code_detail(request: HttpRequest, code_id: int) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    user: User = request.user  # type: ignore[assignment]
    code = selectors.get_code_for_manager(school=school, user=user, code_id=_id(code_id))
    batch = selectors.get_batch(school=school, batch_id=code.batch_id)
    stats = selectors.batch_stats(batch)
    revealed = services.export_batch_codes(
        school=school, actor=user, batch=batch, code_ids=[code.pk]
    )
    return render(
        request,
        "access/manage/code_detail.html",
        {
            "nav_active": "codes",
            "code": code,
            "batch": batch,
            "plaintext": revealed[0].plaintext if revealed else "",  # type: ignore[attr-defined]
            "status": _code_status(code, batch, stats.expired),
            "redemptions": list(selectors.redemptions_of_code(school=school, code=code)),
        },
    )


@manager_required
@require_POST
def code_revoke(request: HttpRequest, code_id: int) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    user: User = request.user  # type: ignore[assignment]
    code = selectors.get_code_for_manager(school=school, user=user, code_id=_id(code_id))
    services.revoke_code(school=school, actor=user, code=code)
    messages.success(request, gettext("The code is revoked: it can no longer be redeemed."))
    return redirect(_back(request, reverse("access:code", kwargs={"code_id": code.pk})))


# --- the school site: redeeming a code -----------------------------------------------------


def _keep_pending(request: HttpRequest, normalized: str, *, submitted: bool) -> None:
    request.session[PENDING_KEY] = {
        "code": codes.encrypt_code(normalized),
        "submitted": submitted,
        "at": int(time.time()),
    }


def _take_pending(request: HttpRequest) -> tuple[str, bool] | None:
    """The code kept before signing in (formatted) and whether it was submitted."""
    kept = request.session.pop(PENDING_KEY, None)
    if not isinstance(kept, dict) or int(kept.get("at", 0)) < time.time() - PENDING_MAX_AGE:
        return None
    try:
        return codes.format_code(codes.decrypt_code(str(kept["code"]))), bool(kept["submitted"])
    except (KeyError, ValueError):  # e.g. encrypted with a key that has since been dropped
        return None


def _render_redeem(request: HttpRequest, form: RedeemForm, **extra: Any) -> HttpResponse:
    context = {"form": form, "signup_url": SIGNUP_URL, "login_url": LOGIN_URL, **extra}
    return render(request, "access/redeem.html", context)


def _after_redeem_url(courses: list[Course]) -> str:
    for course in courses:
        if course.is_published:
            return f"/courses/{course.slug}/"
    # Only drafts (a batch made ahead of the launch): the student's own course list.
    for name in ("courses:my_courses", "my_courses"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return "/"


def _attempt(request: HttpRequest, form: RedeemForm, raw: str) -> HttpResponse:
    """Rate-limit, redeem, and answer: redirect on success, the form with the reason if not."""
    school = request.school  # type: ignore[attr-defined]
    user: User = request.user  # type: ignore[assignment]
    ip = client_ip(request)
    limits = (
        ("redeem-ip", ip, settings.RATE_LIMIT_REDEEM_IP),
        ("redeem-account", f"{school.pk}:{user.pk}", settings.RATE_LIMIT_REDEEM_ACCOUNT),
    )
    for scope, ident, spec in limits:
        status = ratelimit.check(scope, ident, spec)
        if status.limited:
            record_audit(
                school=school,
                actor=user,
                action="codes.redeem_throttled",
                data={"scope": scope},
                ip=ip,
            )
            return ratelimit.too_many_requests(request, status.retry_after, str(THROTTLED))
    try:
        result = services.redeem_code(school=school, student=user, raw_code=raw, ip=ip)
    except services.RedeemError as exc:
        # Only wrong codes count: guessing is what the limits are for. "Fully used",
        # "expired" and "revoked" are answers about a real code, and a class sharing
        # one school address must not lock itself out with them.
        if exc.is_guess:
            for scope, ident, spec in limits:
                ratelimit.hit(scope, ident, spec)
        form.add_error("code", str(exc))
        return _render_redeem(request, form, reason=exc.reason)
    names = _course_names(result.courses)
    if result.already_enrolled:
        messages.info(
            request,
            gettext("You already have access to %(courses)s, so your code was not used.")
            % {"courses": names}
            if names
            else gettext("You have already redeemed this code."),
        )
    elif names:
        messages.success(
            request,
            gettext("Code accepted! You're now enrolled in %(courses)s.") % {"courses": names},
        )
    else:
        messages.success(request, gettext("Code accepted!"))
    return redirect(_after_redeem_url(result.newly_enrolled or result.courses))


def _redeem_signed_out(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = RedeemForm(request.POST)
        submitted = True
    elif request.GET.get("code", "").strip():
        form = RedeemForm({"code": request.GET["code"]})
        submitted = False
    else:
        return _render_redeem(request, RedeemForm())
    raw = form.raw_code()
    try:
        normalized = codes.normalize_code(raw)
    except codes.CodeFormatError:
        # The shape is checked at once; whether the code exists waits for an account.
        form.add_error("code", str(services.MESSAGES["format"]))
        return _render_redeem(request, form, reason="format")
    _keep_pending(request, normalized, submitted=submitted)
    messages.info(
        request,
        gettext(
            "Create an account or log in to redeem your code. "
            "We'll keep your code until you're back."
        ),
    )
    return redirect(SIGNUP_URL)


@require_http_methods(["GET", "POST"])
def redeem(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return _redeem_signed_out(request)
    if request.method == "POST":
        request.session.pop(PENDING_KEY, None)  # what was just typed wins
        form = RedeemForm(request.POST)
        return _attempt(request, form, form.raw_code())
    pending = _take_pending(request)
    if pending is not None:
        code, submitted = pending
        if submitted:
            return _attempt(request, RedeemForm({"code": code}), code)
        return _render_redeem(request, RedeemForm(initial={"code": code}), kept=True)
    initial = request.GET.get("code", "").strip()[: codes.MAX_INPUT_CHARS]
    return _render_redeem(request, RedeemForm(initial={"code": initial} if initial else None))
