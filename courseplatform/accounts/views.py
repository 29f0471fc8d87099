"""Account pages on a school's host: signup, login, logout, verification, reset."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.encoding import force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from courseplatform.ops import ratelimit
from courseplatform.ops.net import client_ip
from courseplatform.ops.services import record_audit

from . import impersonation, permissions, services
from .decorators import manager_required
from .forms import LoginForm, PasswordResetRequestForm, SetPasswordForm, SignupForm
from .models import User, normalize_email
from .selectors import get_school_user, list_school_people

GENERIC_LOGIN_ERROR = gettext_lazy("The email or password is incorrect.")


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _landing_for(user: User) -> str:
    return (
        "/manage/"
        if user.school_id and permissions.can_manage_school(user, user.school_id)
        else "/"
    )


def login_view(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    if request.user.is_authenticated:
        return redirect(_safe_next(request, _landing_for(request.user)))  # type: ignore[arg-type]
    # Bound on every POST, also an empty one (an empty QueryDict is falsy, and an unbound
    # form cannot carry the error below).
    form = LoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        ip = client_ip(request)
        address = normalize_email(request.POST.get("email", ""))
        account_key = f"{school.pk}:{address}"
        for scope, ident, spec in (
            ("login-ip", ip, settings.RATE_LIMIT_LOGIN_IP),
            ("login-account", account_key, settings.RATE_LIMIT_LOGIN_ACCOUNT),
        ):
            status = ratelimit.check(scope, ident, spec)
            if status.limited:
                record_audit(
                    school=school,
                    actor=None,
                    action="account.login_throttled",
                    data={"email": address, "scope": scope},
                    ip=ip,
                )
                return ratelimit.too_many_requests(
                    request,
                    status.retry_after,
                    _("Too many sign-in attempts. Please wait before trying again."),
                )
        if form.is_valid():
            user = authenticate(
                request, email=form.cleaned_data["email"], password=form.cleaned_data["password"]
            )
            if user is not None:
                ratelimit.reset("login-account", account_key, settings.RATE_LIMIT_LOGIN_ACCOUNT)
                login(request, user)
                return redirect(_safe_next(request, _landing_for(user)))  # type: ignore[arg-type]
        ratelimit.hit("login-ip", ip, settings.RATE_LIMIT_LOGIN_IP)
        ratelimit.hit("login-account", account_key, settings.RATE_LIMIT_LOGIN_ACCOUNT)
        record_audit(
            school=school, actor=None, action="account.login_failed", data={"email": address}, ip=ip
        )
        form.add_error(None, GENERIC_LOGIN_ERROR)
    return render(request, "accounts/login.html", {"form": form, "next": _safe_next(request, "")})


def signup_view(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    if request.user.is_authenticated:
        return redirect(_landing_for(request.user))  # type: ignore[arg-type]
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        ip = client_ip(request)
        status = ratelimit.hit(
            "signup-ip", f"{school.pk}:{ip}", settings.RATE_LIMIT_STUDENT_SIGNUP_IP
        )
        if status.limited:
            return ratelimit.too_many_requests(
                request,
                status.retry_after,
                _("Too many sign-ups from your network. Try again later."),
            )
        if form.is_valid():
            try:
                user = services.register_user(
                    school=school,
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password"],
                    full_name=form.cleaned_data["full_name"],
                    ip=ip,
                )
            except ValidationError as exc:
                if getattr(exc, "code", None) == "duplicate_email":
                    services.notify_existing_account(
                        school=school,
                        email=form.cleaned_data["email"],
                        port=request.host_port,  # type: ignore[attr-defined]
                    )
                    form.add_error(None, services.SIGNUP_NOT_POSSIBLE)
                else:
                    for field, errors in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
            else:
                services.send_verification_email(
                    school=school,
                    user=user,
                    port=request.host_port,  # type: ignore[attr-defined]
                )
                login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
                messages.success(
                    request,
                    _("Welcome to %(school)s! We sent a link to confirm your email.")
                    % {"school": school.name},
                )
                return redirect(_safe_next(request, "/"))
    return render(request, "accounts/signup.html", {"form": form, "next": _safe_next(request, "")})


@login_required
def session_view(request: HttpRequest) -> HttpResponse:
    """Who is signed in here, on the smallest page there is: the session, the user (from
    the user cache) and a template of a few lines, through the full middleware chain.
    `make bench` measures it as the ceiling of a signed-in page on this stack (README
    "Benchmarks"); it also tells a person or a script whether a session still works."""
    return render(request, "accounts/session.html")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("/")


def _user_from_uid(request: HttpRequest, uidb64: str) -> User | None:
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    return User.objects.filter(school=request.school, pk=pk).first()  # type: ignore[attr-defined]


def verify_email_view(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user = _user_from_uid(request, uidb64)
    ok = user is not None and services.verify_email(
        school=request.school,  # type: ignore[attr-defined]
        user=user,
        token=token,
    )
    if ok:
        messages.success(request, _("Your email address is confirmed."))
        return redirect("/")
    return render(
        request,
        "accounts/link_invalid.html",
        {
            "title": _("This confirmation link is not valid"),
            "detail": _("It may have expired or been used already. Log in to request a new one."),
        },
        status=400,
    )


def password_reset_request_view(request: HttpRequest) -> HttpResponse:
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST":
        ip = client_ip(request)
        status = ratelimit.hit("reset-ip", ip, settings.RATE_LIMIT_RESET_IP)
        if status.limited:
            return ratelimit.too_many_requests(
                request, status.retry_after, _("Too many reset requests. Try again later.")
            )
        if form.is_valid():
            services.request_password_reset(
                school=request.school,  # type: ignore[attr-defined]
                email=form.cleaned_data["email"],
                port=request.host_port,  # type: ignore[attr-defined]
                ip=ip,
            )
            # Same answer whether or not the address has an account.
            return render(
                request, "accounts/password_reset_sent.html", {"email": form.cleaned_data["email"]}
            )
    return render(request, "accounts/password_reset_request.html", {"form": form})


def password_reset_confirm_view(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user = _user_from_uid(request, uidb64)
    from django.contrib.auth.tokens import default_token_generator

    if user is None or not default_token_generator.check_token(user, token):
        return render(
            request,
            "accounts/link_invalid.html",
            {
                "title": _("This reset link is not valid"),
                "detail": _(
                    "It may have expired or been used already. "
                    "Request a new one from the login page."
                ),
            },
            status=400,
        )
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reset_password(
                school=request.school,  # type: ignore[attr-defined]
                user=user,
                token=token,
                password=form.cleaned_data["password"],
            )
        except ValidationError as exc:
            form.add_error("password", exc)
        except services.AccountError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Your password has been changed. You can log in now."))
            return redirect("accounts:login")
    return render(request, "accounts/password_reset_confirm.html", {"form": form})


def login_link_view(request: HttpRequest, token: str) -> HttpResponse:
    """Consume a one-time login link (from the platform's school signup)."""
    try:
        user = services.consume_login_link(school=request.school, token=token)  # type: ignore[attr-defined]
    except services.AccountError as exc:
        return render(
            request,
            "accounts/link_invalid.html",
            {"title": _("This sign-in link cannot be used"), "detail": str(exc)},
            status=400,
        )
    logout(request)
    login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    # A hop between the school's two hosts (its subdomain and its custom domain) names
    # the management page to continue on: a path on this host, nothing else.
    next_path = request.GET.get("next", "")
    if next_path.startswith("/manage/") and url_has_allowed_host_and_scheme(
        next_path, allowed_hosts=None, require_https=False
    ):
        messages.success(
            request, _("You are signed in on %(host)s.") % {"host": request.get_host()}
        )
        return HttpResponseRedirect(next_path)
    messages.success(
        request,
        _("Welcome to %(school)s! Your school is live.") % {"school": request.school.name},  # type: ignore[attr-defined]
    )
    return HttpResponseRedirect("/manage/")


@manager_required
def manage_people(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    people = list_school_people(school=school)
    return render(
        request,
        "accounts/manage/people.html",
        {
            "people": people,
            "nav_active": "students",
            "is_owner": permissions.is_school_owner(request.user, school),
            "roles": User.Role.choices,
        },
    )


@manager_required
@require_POST
def change_person_role(request: HttpRequest, user_id: int) -> HttpResponse:
    """Owner changes someone's role from the People page."""
    school = request.school  # type: ignore[attr-defined]
    try:
        person = get_school_user(school=school, user_id=user_id)
    except User.DoesNotExist as exc:
        raise Http404("No such person.") from exc
    try:
        services.change_role(
            school=school,
            actor=request.user,  # type: ignore[arg-type]
            user=person,
            role=request.POST.get("role", ""),
        )
    except services.AccountError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("%(person)s is now %(role)s.")
            % {"person": person.full_name or person.email, "role": person.get_role_display()},
        )
    return redirect("manage_people")


def impersonate_view(request: HttpRequest, token: str) -> HttpResponse:
    """Consume a staff member's one-time link from the console (accounts/impersonation.py)."""
    try:
        impersonation.consume_link(request=request, school=request.school, token=token)  # type: ignore[attr-defined]
    except impersonation.ImpersonationError as exc:
        return render(
            request,
            "accounts/link_invalid.html",
            {"title": _("This link cannot be used"), "detail": str(exc)},
            status=400,
        )
    return HttpResponseRedirect("/manage/")


@require_POST
def end_impersonation_view(request: HttpRequest) -> HttpResponse:
    """The banner's End button: audit, sign out, back to the school's home page."""
    if request.session.get(impersonation.SESSION_KEY):
        impersonation.end(request=request, reason="ended")
    return HttpResponseRedirect("/")
