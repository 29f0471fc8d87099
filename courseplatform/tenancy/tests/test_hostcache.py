"""The host -> school cache (tenancy/hostcache.py): no database round trip when warm, in
this process or another, and every change to a school applies on the next request."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from courseplatform.ops.schools import change_plan, set_school_status
from courseplatform.tenancy import hostcache
from courseplatform.tenancy.models import Plan, School
from courseplatform.tenancy.rls import platform_bypass
from courseplatform.tenancy.selectors import get_school_by_slug


def _plan_of(slug: str) -> Plan:
    school = get_school_by_slug(slug)
    assert school is not None
    return school.plan


def _school_lookups(ctx: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if '"tenancy_school"' in q["sql"]]


@pytest.mark.django_db
def test_a_warm_lookup_makes_no_database_round_trip(school_a: Any) -> None:
    assert get_school_by_slug("alpha") == school_a.school  # warms both levels
    with CaptureQueriesContext(connection) as ctx:
        assert get_school_by_slug("alpha") == school_a.school
    assert ctx.captured_queries == []
    # Another process (empty local cache) finds it in Redis, not in PostgreSQL.
    hostcache.clear_process_cache()
    with CaptureQueriesContext(connection) as ctx:
        assert get_school_by_slug("alpha") == school_a.school
    assert ctx.captured_queries == []


@pytest.mark.django_db
def test_an_unknown_host_is_cached_too(school_a: Any) -> None:
    assert get_school_by_slug("nobody") is None
    with CaptureQueriesContext(connection) as ctx:
        assert get_school_by_slug("nobody") is None
    assert _school_lookups(ctx) == []


@pytest.mark.django_db
def test_the_process_cache_is_bounded(school_a: Any, settings: Any) -> None:
    settings.SCHOOL_CACHE_SIZE = 3
    hostcache.clear_process_cache()
    for slug in ("one-x", "two-x", "three-x", "four-x", "alpha"):
        get_school_by_slug(slug)
    assert list(hostcache._entries) == ["three-x", "four-x", "alpha"]


@pytest.mark.django_db(transaction=True)
def test_suspension_plan_change_and_rename_apply_on_the_next_request(school_a: Any) -> None:
    school = school_a.school
    client = Client(HTTP_HOST="alpha.localhost")
    assert client.get("/").status_code == 200  # cached from here on
    with platform_bypass(actor=None, reason="test: suspend"):
        set_school_status(school=school, actor=None, status=School.Status.SUSPENDED)
    assert client.get("/").status_code == 403
    with platform_bypass(actor=None, reason="test: unsuspend"):
        set_school_status(school=school, actor=None, status=School.Status.ACTIVE)
    assert client.get("/").status_code == 200

    assert _plan_of("alpha").code == "free"
    with platform_bypass(actor=None, reason="test: plan"):
        change_plan(school=school, actor=None, plan=Plan.objects.get(code="premium"))
    assert _plan_of("alpha").code == "premium"

    with platform_bypass(actor=None, reason="test: new address"):
        moved = School.objects.get(pk=school.pk)
        moved.slug = "alpha-two"
        moved.save(update_fields=["slug"])
    assert client.get("/").status_code == 404  # the old host at once
    assert Client(HTTP_HOST="alpha-two.localhost").get("/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_plans_limits_apply_to_cached_schools_at_once(school_a: Any) -> None:
    assert _plan_of("alpha").max_courses == 5
    with platform_bypass(actor=None, reason="test: plan limits"):
        free = Plan.objects.get(code="free")
        free.max_courses = 7
        free.save()
    try:
        assert _plan_of("alpha").max_courses == 7
    finally:
        with platform_bypass(actor=None, reason="test: plan limits back"):
            free.max_courses = 5
            free.save()
