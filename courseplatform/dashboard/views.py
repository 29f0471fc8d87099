"""A school's management home: the dashboard (plan usage, next steps) and its settings."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from courseplatform.accounts import permissions
from courseplatform.accounts.decorators import manager_required
from courseplatform.domains.views_hop import switch_target
from courseplatform.ops.net import client_ip
from courseplatform.ops.services import record_audit
from courseplatform.tenancy.selectors import school_url
from courseplatform.tenancy.usage import plan_usage

from .forms import SchoolSettingsForm


@manager_required
def dashboard(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    return render(
        request,
        "dashboard/dashboard.html",
        {
            "usage": plan_usage(school),
            "site_url": school_url(school, "/", port=request.host_port),  # type: ignore[attr-defined]
            # A primary custom domain: management works on both hosts, one click apart.
            "switch_to": switch_target(request),
            "nav_active": "dashboard",
        },
    )


@manager_required
def school_settings(request: HttpRequest) -> HttpResponse:
    school = request.school  # type: ignore[attr-defined]
    is_owner = permissions.is_school_owner(request.user, school)
    form = SchoolSettingsForm(request.POST or None, instance=school)
    if request.method == "POST":
        if not is_owner:
            messages.error(request, _("Only the school owner can change settings."))
            return redirect("manage_settings")
        if form.is_valid():
            with transaction.atomic():
                # The runtime role may update only these columns of its school
                # (tenancy.grants); a full-row save is refused by the database.
                form.instance.save(update_fields=["name", "language", "time_zone", "updated_at"])
                record_audit(
                    school=school,
                    actor=request.user,
                    action="school.settings_changed",
                    target=school,
                    data={
                        "name": school.name,
                        "language": school.language,
                        "time_zone": school.time_zone,
                    },
                    ip=client_ip(request),
                )
            messages.success(request, _("Settings saved."))
            return redirect("manage_settings")
    return render(
        request,
        "dashboard/settings.html",
        {
            "form": form,
            "is_owner": is_owner,
            "nav_active": "settings",
            "usage": plan_usage(school),
        },
    )
