"""Writes on accounts: registration, verification, password reset, login links, roles."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.functional import Promise
from django.utils.http import urlsafe_base64_encode
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from courseplatform.ops.events import emit_event
from courseplatform.ops.services import record_audit
from courseplatform.ops.text import header_text, validate_single_line
from courseplatform.tenancy.languages import validate_language
from courseplatform.tenancy.models import School
from courseplatform.tenancy.selectors import school_url

from . import permissions
from .language import recipient_language
from .models import LoginLink, User, normalize_email
from .selectors import count_students
from .tokens import email_verification_token

LOGIN_LINK_SALT = "courseplatform.accounts.login-link"


class AccountError(Exception):
    """A request about an account that cannot be honoured; the message is safe to show."""


def reserve_student_place(*, school: School) -> None:
    """Refuse a new student account once the plan's student limit is reached.

    Call it inside the transaction that creates the account: it locks the school's row,
    so two sign-ups cannot both take the last place. Counts with the selector that feeds
    the dashboard's "Students" figure.
    """
    # Only the school row is locked: the runtime role may read plans, not lock them.
    locked = School.objects.select_for_update(of=("self",)).select_related("plan").get(pk=school.pk)
    limit = locked.plan.max_students
    if limit is not None and count_students(school=school) >= limit:
        message = ngettext(
            "%(school)s has reached the limit of its %(plan)s plan (%(limit)d student): "
            "no new student accounts can be created until the school upgrades.",
            "%(school)s has reached the limit of its %(plan)s plan (%(limit)d students): "
            "no new student accounts can be created until the school upgrades.",
            limit,
        ) % {"school": locked.name, "plan": locked.plan.name, "limit": limit}
        raise ValidationError({NON_FIELD_ERRORS: ValidationError(message, code="student_limit")})


def announce_student_created(*, school: School, student: User, source: str) -> None:
    """Emit ``student.created`` (on commit) for a new student account; ``source`` says
    how it came to be: ``signup`` or ``invitation``."""
    emit_event(
        school=school,
        type="student.created",
        data={
            "id": student.pk,
            "email": student.email,
            "full_name": student.full_name,
            "source": source,
            "created_at": student.date_joined.isoformat(),
        },
    )


def register_user(
    *,
    school: School,
    email: str,
    password: str,
    full_name: str,
    role: str = User.Role.STUDENT,
    ip: str | None = None,
) -> User:
    """Create an account in ``school``'s pool (raises ValidationError on bad input)."""
    address = normalize_email(email)
    validate_single_line(full_name, field="full_name")
    candidate = User(school=school, email=address, full_name=full_name.strip(), role=role)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    candidate.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            if role == User.Role.STUDENT:
                reserve_student_place(school=school)
            user = User.objects.create_user(
                address, password, school=school, full_name=full_name.strip(), role=role
            )
            record_audit(
                school=school,
                actor=user,
                action="account.signup",
                target=user,
                data={"role": role},
                ip=ip,
            )
            if role == User.Role.STUDENT:
                announce_student_created(school=school, student=user, source="signup")
    except IntegrityError as exc:
        # Shown as a generic message by the views: never confirm that an email exists.
        raise ValidationError(
            _("An account with this email already exists."), code="duplicate_email"
        ) from exc
    return user


def _uid(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


# A school's emails wear its site theme (colours, logo), which belongs to ``sites``, an app
# above this one: sites hands its branding function in at start-up (SitesConfig.ready).
EmailBranding = Callable[..., dict[str, str]]
_email_branding: EmailBranding | None = None


def use_email_branding(provider: EmailBranding) -> None:
    """Brand every school email with ``provider(school, port=...)`` (colours, logo URL)."""
    global _email_branding
    _email_branding = provider


def _send_school_email(
    *,
    school: School,
    user: User,
    subject: str | Promise,
    template: str,
    context: dict[str, Any],
    port: str | None,
) -> None:
    """Send ``accounts/email/<template>.txt`` plus its HTML twin in the school's brand."""
    send_school_email(
        school=school,
        user=user,
        subject=subject,
        template=f"accounts/email/{template}",
        context=context,
        port=port,
    )


def send_school_email(
    *,
    school: School,
    user: User,
    subject: str | Promise,
    template: str,
    context: dict[str, Any],
    port: str | None = None,
) -> None:
    """Send ``<template>.txt`` plus its ``<template>.html`` twin (which may extend
    ``accounts/email/base.html``) to ``user`` in the school's brand. For apps above
    this one that email a school's people (custom domains)."""
    if _email_branding is None:
        raise LookupError("No app provides email branding (sites does, in its ready()).")
    context = {"school": school, "user": user, **context}
    # In the recipient's language, whatever the language of the request or task that
    # sends it: pass the subject lazily (gettext_lazy / format_lazy) so it is too.
    with translation.override(recipient_language(school=school, user=user)):
        html = render_to_string(
            f"{template}.html",
            {**context, "brand": _email_branding(school, port=port)},
        )
        text = render_to_string(f"{template}.txt", context)
        # The school's name may predate the one-line rule: a line break would make the
        # email library refuse the header (and the whole signup fail).
        subject_line = header_text(str(subject))
    send_mail(
        subject=subject_line,
        message=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
        html_message=html,
    )


def _reset_link(school: School, user: User, port: str | None) -> str:
    token = default_token_generator.make_token(user)
    return school_url(school, f"/accounts/password-reset/{_uid(user)}/{token}/", port=port)


def send_verification_email(*, school: School, user: User, port: str | None = None) -> None:
    link = school_url(
        school,
        f"/accounts/verify/{_uid(user)}/{email_verification_token.make_token(user)}/",
        port=port,
    )
    _send_school_email(
        school=school,
        user=user,
        subject=format_lazy(gettext_lazy("Confirm your email for {school}"), school=school.name),
        template="verify",
        context={"link": link},
        port=port,
    )


def verify_email(*, school: School, user: User, token: str) -> bool:
    if user.school_id != school.pk or not email_verification_token.check_token(user, token):
        return False
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
        record_audit(school=school, actor=user, action="account.email_verified", target=user)
    return True


def request_password_reset(
    *, school: School, email: str, port: str | None = None, ip: str | None = None
) -> None:
    """Email a reset link if the address has an account here; silent otherwise,
    so the response never tells whether an email is registered."""
    user = User.objects.filter(school=school, email=normalize_email(email), is_active=True).first()
    if user is None:
        return
    _send_school_email(
        school=school,
        user=user,
        subject=format_lazy(gettext_lazy("Reset your password for {school}"), school=school.name),
        template="password_reset",
        context={"link": _reset_link(school, user, port)},
        port=port,
    )
    record_audit(
        school=school, actor=None, action="account.password_reset_requested", target=user, ip=ip
    )


def reset_password(*, school: School, user: User, token: str, password: str) -> None:
    if user.school_id != school.pk or not default_token_generator.check_token(user, token):
        raise AccountError(_("This reset link is invalid or has expired. Request a new one."))
    validate_password(password, user=user)
    user.set_password(password)
    # Following the link proves the user reads that mailbox.
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
    user.save(update_fields=["password", "email_verified_at"])
    record_audit(school=school, actor=user, action="account.password_reset", target=user)


def change_role(*, school: School, actor: User, user: User, role: str) -> User:
    permissions.require_school_owner(
        school, actor, user, message=_("Only the school owner can change roles.")
    )
    if role not in User.Role.values:
        raise AccountError(_("Unknown role."))
    if user.pk == actor.pk and role != User.Role.OWNER:
        raise AccountError(_("An owner cannot demote themselves; transfer ownership first."))
    previous = user.role
    with transaction.atomic():
        user.role = role
        user.save(update_fields=["role"])
        record_audit(
            school=school,
            actor=actor,
            action="account.role_changed",
            target=user,
            data={"from": previous, "to": role},
        )
    return user


# --- one-time login links ---------------------------------------------------------


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def issue_login_link(
    *, school: School, user: User, port: str | None = None, subdomain: bool = False
) -> str:
    """A signed URL on ``school``'s host (its primary custom domain if it has one, or
    with ``subdomain=True`` its platform subdomain) that logs ``user`` in once, within 60 s."""
    if user.school_id != school.pk:
        raise AccountError(_("No such user in this school."))
    nonce = secrets.token_urlsafe(32)
    LoginLink.objects.create(
        school=school,
        user=user,
        nonce_digest=_digest(nonce),
        expires_at=timezone.now() + timedelta(seconds=settings.LOGIN_LINK_MAX_AGE),
    )
    token = signing.dumps(
        {"s": school.pk, "u": user.pk, "n": nonce}, salt=LOGIN_LINK_SALT, compress=True
    )
    return school_url(school, f"/accounts/login-link/{token}/", port=port, subdomain=subdomain)


def consume_login_link(*, school: School, token: str) -> User:
    """Return the user of a valid, unused link and mark it used; refuse anything else."""
    try:
        payload = signing.loads(token, salt=LOGIN_LINK_SALT, max_age=settings.LOGIN_LINK_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise AccountError(_("This sign-in link has expired. Please log in.")) from exc
    except signing.BadSignature as exc:
        raise AccountError(_("This sign-in link is not valid.")) from exc
    if (
        not isinstance(payload, dict)
        or payload.get("s") != school.pk
        or not isinstance(payload.get("u"), int)
    ):
        raise AccountError(_("This sign-in link is not valid."))
    now = timezone.now()
    with transaction.atomic():
        consumed = LoginLink.objects.filter(
            school=school,
            user_id=payload["u"],
            nonce_digest=_digest(str(payload.get("n", ""))),
            used_at__isnull=True,
            expires_at__gt=now,
        ).update(used_at=now)
        if consumed != 1:
            raise AccountError(_("This sign-in link has already been used or has expired."))
        user = User.objects.get(school=school, pk=payload["u"])
        if not user.is_active:
            raise AccountError(_("This account is disabled."))
        record_audit(school=school, actor=user, action="account.login_link_used", target=user)
    return user


SIGNUP_NOT_POSSIBLE = gettext_lazy(
    "We could not create an account with these details. If you already have an account "
    "here, log in or reset your password."
)


def notify_existing_account(*, school: School, email: str, port: str | None = None) -> None:
    """Someone tried to sign up with a registered address: tell the owner of that
    mailbox, not the person at the keyboard."""
    user = User.objects.filter(school=school, email=normalize_email(email)).first()
    if user is None:
        return
    _send_school_email(
        school=school,
        user=user,
        subject=format_lazy(
            gettext_lazy("Someone tried to create an account at {school}"), school=school.name
        ),
        template="account_exists",
        port=port,
        context={
            "login": school_url(school, "/accounts/login/", port=port),
            "reset": school_url(school, "/accounts/password-reset/", port=port),
        },
    )


def send_invitation(
    *, school: School, user: User, course_title: str = "", port: str | None = None
) -> None:
    """Email a new account (created by an instructor) a link to choose its password."""
    _send_school_email(
        school=school,
        user=user,
        subject=format_lazy(gettext_lazy("You have been invited to {school}"), school=school.name),
        template="invitation",
        port=port,
        context={"link": _reset_link(school, user, port), "course_title": course_title},
    )


def invitation_details(*, email: str, full_name: str = "") -> tuple[str, str]:
    """The normalised address and display name of an account about to be invited;
    ``ValidationError`` for an invalid address or a name on several lines."""
    from django.core.validators import validate_email

    address = normalize_email(email)
    try:
        validate_email(address)
    except ValidationError as exc:
        raise ValidationError({"email": _("Enter a valid email address.")}) from exc
    validate_single_line(full_name, field="full_name")
    return address, (full_name or "").strip()[:120] or address.split("@")[0]


def create_invited_student(*, school: School, actor: User, address: str, name: str) -> User:
    """A new student account without a password (inside the caller's transaction): the
    plan's student limit checked, audited, ``student.created`` announced. The caller
    sends the invitation (``send_invitation``) once it has committed."""
    reserve_student_place(school=school)
    student = User.objects.create_user(
        address, None, school=school, full_name=name, role=User.Role.STUDENT
    )
    record_audit(school=school, actor=actor, action="account.invited", target=student)
    announce_student_created(school=school, student=student, source="invitation")
    return student


def delete_student_account(*, school: School, actor: User, student: User) -> None:
    """Delete a student's account; its enrolments and progress go with it (owner only).

    Call ``courses.services.remove_student``, which announces each enrolment it ends
    (``enrollment.deleted``) and then calls this."""
    permissions.require_school_owner(
        school, actor, student, message=_("Only the school owner can remove students.")
    )
    if student.role != User.Role.STUDENT:
        raise AccountError(_("Only student accounts can be removed here; change the role first."))
    with transaction.atomic():
        record_audit(
            school=school,
            actor=actor,
            action="account.removed",
            target=student,
            data={"email": student.email},
        )
        student.delete()


def set_user_language(*, school: School | None, user: User, language: str) -> User:
    """The person's own language ("" = their school's); the switcher saves it."""
    if user.school_id != (school.pk if school else None):
        raise PermissionError("That account belongs to another school.")
    validate_language(language)
    user.language = language
    user.save(update_fields=["language"])
    return user
