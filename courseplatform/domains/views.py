"""The Domains page of the management area (owner only): add a domain, see the DNS
records to create, "Check now" (htmx swaps the domain's card), primary, remove."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from courseplatform.accounts import permissions
from courseplatform.accounts.decorators import manager_required
from courseplatform.ops import ratelimit
from courseplatform.ops.net import client_ip
from courseplatform.tenancy.models import School

from . import automated, services
from .forms import AddDomainForm
from .hostnames import display_hostname
from .models import CustomDomain
from .selectors import live_domains, plan_allows_domains
from .verification import apex_supported, cname_target, expected_records


def _owner_school(request: HttpRequest) -> School:
    school: School = request.school  # type: ignore[attr-defined]
    if not permissions.is_school_owner(request.user, school):
        raise PermissionDenied(services.NOT_OWNER)
    return school


def domain_card(school: School, domain: CustomDomain) -> dict[str, Any]:
    """What the page shows for one domain."""
    return {
        "domain": domain,
        "display": display_hostname(domain.hostname),
        "records": expected_records(
            school=school, hostname=domain.hostname, token=domain.verification_token
        ),
        "check": domain.last_check or {},
        "serves": domain.serves_traffic() and plan_allows_domains(school),
        # Automated mode: Cloudflare's statuses and the records it asks for.
        "cloudflare": domain.cloudflare_state if automated.is_enabled() else None,
    }


def _page(
    request: HttpRequest, school: School, form: AddDomainForm, status: int = 200
) -> HttpResponse:
    domains = list(live_domains(school))
    limit = school.plan.max_custom_domains
    return render(
        request,
        "domains/manage/domains.html",
        {
            "nav_active": "domains",
            "form": form,
            "cards": [domain_card(school, d) for d in domains],
            "on_plan": plan_allows_domains(school),
            "limit": limit,
            "at_limit": limit is not None and len(domains) >= limit,
            "target": cname_target(school),
            "apex_supported": apex_supported(),
        },
        status=status,
    )


@manager_required
def domains_page(request: HttpRequest) -> HttpResponse:
    school = _owner_school(request)
    return _page(request, school, AddDomainForm())


@manager_required
@require_POST
def add_domain(request: HttpRequest) -> HttpResponse:
    school = _owner_school(request)
    form = AddDomainForm(request.POST)
    if form.is_valid():
        try:
            domain = services.add_domain(
                school=school,
                actor=request.user,
                hostname=form.cleaned_data["hostname"],
                ip=client_ip(request),
            )
        except ValidationError as error:
            form.add_error("hostname", error)
        except services.DomainError as error:
            form.add_error("hostname", str(error))
        else:
            messages.success(
                request,
                gettext("%(name)s added. Create the DNS records below, then press “Check now”.")
                % {"name": domain.hostname},
            )
            return redirect(f"/manage/domains/#domain-{domain.pk}")
    return _page(request, school, form, status=400)


@manager_required
@require_POST
def check_domain(request: HttpRequest, domain_id: int) -> HttpResponse:
    school = _owner_school(request)
    htmx = request.headers.get("HX-Request") == "true"
    domain = services.owner_domain(school=school, actor=request.user, domain_id=domain_id)
    throttled = ratelimit.hit("domain-check", str(school.pk), settings.RATE_LIMIT_DOMAIN_CHECK)
    if throttled.limited:
        message = gettext(
            "That was a lot of checks in a short time. DNS changes take a few minutes to "
            "appear; try again in %(minutes)s min (we also keep checking by ourselves)."
        ) % {"minutes": (throttled.retry_after + 59) // 60}
        if htmx:
            # htmx swaps only 2xx answers: the card, with the notice, so the press shows.
            card = domain_card(school, domain)
            response = render(request, "domains/manage/_domain.html", {**card, "notice": message})
            response["Retry-After"] = str(throttled.retry_after)
            return response
        return ratelimit.too_many_requests(request, throttled.retry_after, message)
    try:
        domain = services.check_domain_now(
            school=school, actor=request.user, domain_id=domain_id, ip=client_ip(request)
        )
    except services.DomainError as error:
        messages.error(request, str(error))
        return redirect("domains_manage")
    if htmx:
        return render(request, "domains/manage/_domain.html", domain_card(school, domain))
    return redirect(f"/manage/domains/#domain-{domain.pk}")


@manager_required
@require_POST
def make_primary(request: HttpRequest, domain_id: int) -> HttpResponse:
    school = _owner_school(request)
    primary = request.POST.get("primary") != "0"
    try:
        domain = services.set_primary(
            school=school,
            actor=request.user,
            domain_id=domain_id,
            primary=primary,
            ip=client_ip(request),
        )
    except services.DomainError as error:
        messages.error(request, str(error))
    else:
        if primary:
            messages.success(
                request,
                gettext("%(name)s is now your school's main address.") % {"name": domain.hostname},
            )
        else:
            messages.success(
                request,
                gettext("%(name)s is no longer your main address.") % {"name": domain.hostname},
            )
    return redirect("domains_manage")


@manager_required
@require_POST
def remove_domain(request: HttpRequest, domain_id: int) -> HttpResponse:
    school = _owner_school(request)
    domain = services.owner_domain(school=school, actor=request.user, domain_id=domain_id)
    services.remove_domain(
        school=school, actor=request.user, domain_id=domain.pk, ip=client_ip(request)
    )
    messages.success(
        request,
        gettext(
            "%(name)s removed: it no longer serves your school. You can delete its DNS records."
        )
        % {"name": domain.hostname},
    )
    return redirect("domains_manage")
