"""Staff open a school's management area as its owner from the console: a one-time,
host-bound, short-lived link; a banner with an End button on every page of that
session; the time limit; audited in the school's log and the platform's; never staff."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import IntegrityError
from django.test import Client
from django.utils import timezone

from courseplatform.accounts import impersonation
from courseplatform.accounts.models import User
from courseplatform.accounts.services import issue_login_link
from courseplatform.ops.models import AuditLog
from courseplatform.tenancy.rls import school_context
from tests.fixtures.schools import host_of

PASSWORD = "a-long-test-passphrase-42"
pytestmark = pytest.mark.django_db(transaction=True)


def _staff() -> tuple[Client, User]:
    staff = User.objects.create_superuser("ops@platform.test", PASSWORD)
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    return client, staff


def _start(console: Client, slug: str) -> str:
    """POST the console's button; the path of the one-time link on the school's host."""
    response = console.post(f"/console/schools/{slug}/impersonate/")
    assert response.status_code == 302, response.status_code
    link = urlsplit(response["Location"])
    assert link.hostname == f"{slug}.localhost"
    assert link.path.startswith("/accounts/impersonate/")
    return link.path


def test_staff_open_a_school_as_its_owner_with_a_banner_and_audit(
    school_a: Any, school_b: Any, settings: Any
) -> None:
    settings.IMPERSONATION_MINUTES = 15
    console, staff = _staff()
    path = _start(console, "alpha")
    browser = Client(HTTP_HOST=host_of(school_a.school))
    landed = browser.get(path)
    assert landed.status_code == 302 and landed["Location"] == "/manage/"
    for page in ("/manage/", "/manage/courses/", "/"):
        html = browser.get(page).content.decode()
        assert "data-impersonation-banner" in html, page
        assert "ops@platform.test" in html and "/accounts/impersonation/end/" in html
    assert browser.get("/manage/").context["user"].pk == school_a.owner.pk
    with school_context(school_a.school):
        started = AuditLog.objects.get(
            school=school_a.school, action="school.impersonation_started"
        )
    assert started.data["staff"] == "ops@platform.test" and started.data["minutes"] == 15
    platform = AuditLog.objects.get(school=None, action="platform.impersonation_started")
    assert platform.data["school"] == "alpha" and platform.actor_id == staff.pk
    # School B saw nothing of it.
    with school_context(school_b.school):
        assert not AuditLog.objects.filter(action__startswith="school.impersonation").exists()

    ended = browser.post("/accounts/impersonation/end/")
    assert ended.status_code == 302
    html = browser.get("/manage/", follow=True).content.decode()
    assert "data-impersonation-banner" not in html
    assert browser.get("/manage/").status_code == 302  # signed out: the login page
    with school_context(school_a.school):
        end = AuditLog.objects.get(school=school_a.school, action="school.impersonation_ended")
    assert end.data == {"staff": "ops@platform.test", "reason": "ended"}


def test_the_link_is_single_use_host_bound_and_its_own_kind(school_a: Any, school_b: Any) -> None:
    console, _ = _staff()
    path = _start(console, "alpha")
    # On another school's host: refused, and the link is not spent.
    other = Client(HTTP_HOST=host_of(school_b.school))
    assert other.get(path).status_code == 400
    assert other.get("/manage/").status_code == 302
    owner_browser = Client(HTTP_HOST=host_of(school_a.school))
    assert owner_browser.get(path).status_code == 302
    replay = Client(HTTP_HOST=host_of(school_a.school))
    refused = replay.get(path)
    assert refused.status_code == 400 and b"already been used" in refused.content
    assert replay.get("/manage/").status_code == 302
    # An ordinary login link is not an impersonation link, nor the other way round.
    with school_context(school_a.school):
        login_link = urlsplit(issue_login_link(school=school_a.school, user=school_a.owner)).path
    token = login_link.split("/")[-2]
    assert replay.get(f"/accounts/impersonate/{token}/").status_code == 400
    imp_token = path.split("/")[-2]
    assert replay.get(f"/accounts/login-link/{imp_token}/").status_code == 400
    for forged in ("x", imp_token[:-2] + "zz"):
        assert replay.get(f"/accounts/impersonate/{forged}/").status_code == 400


def test_the_session_ends_when_its_time_is_up(school_a: Any) -> None:
    console, _ = _staff()
    browser = Client(HTTP_HOST=host_of(school_a.school))
    browser.get(_start(console, "alpha"))
    assert browser.get("/manage/").status_code == 200
    session = browser.session
    marked = session[impersonation.SESSION_KEY]
    marked["until"] = (timezone.now() - timedelta(seconds=1)).isoformat()
    session[impersonation.SESSION_KEY] = marked
    session.save()
    assert browser.get("/manage/").status_code == 302  # signed out
    with school_context(school_a.school):
        end = AuditLog.objects.get(school=school_a.school, action="school.impersonation_ended")
    assert end.data["reason"] == "expired"


def test_only_staff_start_it_and_never_as_staff_or_a_suspended_school(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    # Anonymous and school accounts never reach the console (its decorator).
    assert (
        Client(HTTP_HOST="localhost").post("/console/schools/alpha/impersonate/").status_code == 302
    )
    owner = Client(HTTP_HOST=host_of(school_a.school))
    with school_context(school_a.school):
        owner.force_login(school_a.owner)
    assert owner.post("/console/schools/alpha/impersonate/").status_code == 404  # no console here
    console, _ = _staff()
    assert console.get("/console/schools/alpha/impersonate/").status_code == 405
    # A school's account can never be staff (a database constraint), so a staff account
    # is never the owner acted as; the service checks it again anyway.
    with school_context(school_a.school), pytest.raises(IntegrityError):
        User.objects.filter(pk=school_a.owner.pk).update(is_staff=True)
    console.post("/console/schools/alpha/suspend/", {"reason": "Unpaid"})
    refused = console.post("/console/schools/alpha/impersonate/", follow=True)
    assert b"suspended" in refused.content
    assert not AuditLog.objects.filter(action="platform.impersonation_started").exists()
    with pytest.raises(impersonation.ImpersonationError):
        impersonation.issue_link(school=school_a.school, staff=school_a.owner, ip=None)
