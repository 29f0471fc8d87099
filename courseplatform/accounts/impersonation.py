"""Staff opening a school's management area as its owner, for a limited time.

From the operator console (platform host, staff only) ``issue_link`` makes a one-time
link on the school's own host: signed with its own salt (an ordinary login link is not
one, nor the other way round), naming the school (another school's host refuses it),
valid ``LOGIN_LINK_MAX_AGE`` seconds and usable once (a ``LoginLink`` row, like login
links). ``consume_link`` signs the owner in with the session marked: who is acting and
until when (``IMPERSONATION_MINUTES``). ``ImpersonationMiddleware`` shows the banner
data on every page of that session and ends it when the time is up; the banner's *End*
button ends it at once. Starting is audited in the school's log and the platform's,
ending in the school's. Staff accounts are never impersonated.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import login, logout
from django.core import signing
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from courseplatform.ops.services import record_audit
from courseplatform.tenancy.models import School
from courseplatform.tenancy.selectors import school_url

from .models import LoginLink, User

SALT = "courseplatform.accounts.impersonation"
SESSION_KEY = "impersonation"


class ImpersonationError(ValueError):
    """Refused; ``str(error)`` is for the person."""


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def owner_of(school: School) -> User | None:
    return (
        User.objects.filter(school=school, role=User.Role.OWNER, is_active=True)
        .order_by("pk")
        .first()
    )


def issue_link(*, school: School, staff: User, ip: str | None, port: str | None = None) -> str:
    """The one-time URL on the school's subdomain that opens its management as its owner.

    Runs in the console (inside ``platform_bypass``): audits the start in the school's
    log and the platform's."""
    if not (staff.is_active and staff.is_staff and staff.school_id is None):
        raise ImpersonationError(_("Only platform staff can open a school as its owner."))
    if not school.is_active:
        raise ImpersonationError(_("This school is suspended: reactivate it first."))
    owner = owner_of(school)
    if owner is None:
        raise ImpersonationError(_("This school has no active owner to act as."))
    if owner.is_staff or owner.is_superuser:
        raise ImpersonationError(_("Staff accounts are never impersonated."))
    nonce = secrets.token_urlsafe(32)
    minutes = settings.IMPERSONATION_MINUTES
    with transaction.atomic():
        LoginLink.objects.create(
            school=school,
            user=owner,
            nonce_digest=_digest(nonce),
            expires_at=timezone.now() + timedelta(seconds=settings.LOGIN_LINK_MAX_AGE),
        )
        data = {"staff": staff.email, "owner_id": owner.pk, "minutes": minutes}
        record_audit(
            school=school, actor=staff, action="school.impersonation_started", data=data, ip=ip
        )
        record_audit(
            school=None,
            actor=staff,
            action="platform.impersonation_started",
            data={**data, "school": school.slug},
            ip=ip,
        )
    token = signing.dumps(
        {"s": school.pk, "u": owner.pk, "n": nonce, "i": staff.pk, "e": staff.email},
        salt=SALT,
        compress=True,
    )
    return school_url(school, f"/accounts/impersonate/{token}/", port=port, subdomain=True)


def consume_link(*, request: HttpRequest, school: School, token: str) -> User:
    """Sign the owner in on this host with the session marked; refuse anything else."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=settings.LOGIN_LINK_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise ImpersonationError(_("This link has expired: start again from the console.")) from exc
    except signing.BadSignature as exc:
        raise ImpersonationError(_("This link is not valid.")) from exc
    if (
        not isinstance(payload, dict)
        or payload.get("s") != school.pk
        or not isinstance(payload.get("u"), int)
        or not isinstance(payload.get("e"), str)
    ):
        raise ImpersonationError(_("This link is not valid."))
    now = timezone.now()
    with transaction.atomic():
        used = LoginLink.objects.filter(
            school=school,
            user_id=payload["u"],
            nonce_digest=_digest(str(payload.get("n", ""))),
            used_at__isnull=True,
            expires_at__gt=now,
        ).update(used_at=now)
        if used != 1:
            raise ImpersonationError(_("This link has already been used or has expired."))
        owner = User.objects.get(school=school, pk=payload["u"])
        if not owner.is_active or owner.is_staff or owner.is_superuser:
            raise ImpersonationError(_("This account cannot be opened."))
    until = now + timedelta(minutes=settings.IMPERSONATION_MINUTES)
    logout(request)
    login(request, owner, backend=settings.AUTHENTICATION_BACKENDS[0])
    request.session[SESSION_KEY] = {"staff": payload["e"], "until": until.isoformat()}
    request.session.set_expiry(settings.IMPERSONATION_MINUTES * 60)
    return owner


def end(*, request: HttpRequest, reason: str) -> None:
    """End an impersonated session (the End button, or its time is up): audit, sign out."""
    marked = request.session.get(SESSION_KEY)
    school = getattr(request, "school", None)
    if marked and school is not None:
        record_audit(
            school=school,
            actor=None,
            action="school.impersonation_ended",
            data={"staff": str(marked.get("staff", ""))[:254], "reason": reason},
        )
    logout(request)


def _until(marked: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(marked.get("until")))
    except (AttributeError, TypeError, ValueError):
        return None


class ImpersonationMiddleware:
    """After authentication: an impersonated session past its time is ended; a live one
    sets ``request.impersonation`` (staff, until) for the banner on every page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        has_cookie = settings.SESSION_COOKIE_NAME in request.COOKIES
        marked = session.get(SESSION_KEY) if session is not None and has_cookie else None
        if marked:
            until = _until(marked)
            if until is None or until <= timezone.now() or not request.user.is_authenticated:
                end(request=request, reason="expired")
            else:
                request.impersonation = {"staff": marked.get("staff"), "until": until}  # type: ignore[attr-defined]
        return self.get_response(request)
