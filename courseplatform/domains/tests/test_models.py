"""CustomDomain in the database: constraints, row-level security, the host lookup."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from courseplatform.domains.models import (
    HOSTNAME_UNIQUE_CONSTRAINT,
    CustomDomain,
    new_verification_token,
)
from courseplatform.domains.selectors import lookup_hostname
from courseplatform.tenancy.rls import school_context

pytestmark = pytest.mark.django_db

Status = CustomDomain.Status


def _add(school: Any, hostname: str, **fields: Any) -> CustomDomain:
    with school_context(school):
        return CustomDomain.objects.create(school=school, hostname=hostname, **fields)


def test_token_has_128_random_bits() -> None:
    tokens = {new_verification_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(len(token) == 32 and int(token, 16) >= 0 for token in tokens)


def test_a_hostname_is_held_by_one_school_at_a_time(school_a: Any, school_b: Any) -> None:
    _add(school_a.school, "learn.example.com")
    with school_context(school_b.school), pytest.raises(IntegrityError) as refused:
        with transaction.atomic():
            CustomDomain.objects.create(school=school_b.school, hostname="learn.example.com")
    assert HOSTNAME_UNIQUE_CONSTRAINT in str(refused.value)


def test_a_removed_domain_frees_its_hostname(school_a: Any, school_b: Any) -> None:
    first = _add(school_a.school, "learn.example.com")
    with school_context(school_a.school):
        CustomDomain.objects.filter(pk=first.pk).update(status=Status.REMOVED)
    second = _add(school_b.school, "learn.example.com")
    assert second.verification_token != first.verification_token


def test_one_primary_per_school_and_only_when_verified(school_a: Any) -> None:
    school = school_a.school
    _add(school, "one.example.com", status=Status.ACTIVE, is_primary=True)
    with school_context(school):
        with pytest.raises(IntegrityError), transaction.atomic():
            CustomDomain.objects.create(
                school=school, hostname="two.example.com", status=Status.ACTIVE, is_primary=True
            )
        with pytest.raises(IntegrityError), transaction.atomic():
            CustomDomain.objects.create(
                school=school, hostname="three.example.com", is_primary=True
            )


def test_hostnames_are_stored_lowercase_only(school_a: Any) -> None:
    with school_context(school_a.school), pytest.raises(IntegrityError), transaction.atomic():
        CustomDomain.objects.create(school=school_a.school, hostname="Learn.Example.com")


def test_another_school_cannot_read_or_change_the_row(school_a: Any, school_b: Any) -> None:
    domain = _add(school_a.school, "learn.example.com")
    with school_context(school_b.school):
        assert not CustomDomain.objects.filter(pk=domain.pk).exists()
        assert CustomDomain.objects.filter(pk=domain.pk).update(status=Status.ACTIVE) == 0
        assert CustomDomain.objects.filter(pk=domain.pk).delete()[0] == 0
    with school_context(school_a.school):
        assert CustomDomain.objects.get(pk=domain.pk).status == Status.PENDING


def test_lookup_answers_for_one_exact_name_without_a_school(school_a: Any) -> None:
    since = timezone.now() - timedelta(hours=1)
    _add(school_a.school, "learn.example.com", status=Status.FAILING, failing_since=since)
    _add(school_a.school, "old.example.com", status=Status.REMOVED)
    # No school set: tenant rows are invisible, the lookup still answers.
    assert not CustomDomain.objects.exists()
    found = lookup_hostname("learn.example.com")
    assert found is not None
    assert (found.school_id, found.status) == (school_a.school.pk, "failing")
    assert found.failing_since == since and found.is_primary is False
    assert found.serves_traffic()
    assert lookup_hostname("old.example.com") is None
    assert lookup_hostname("example.com") is None
    assert lookup_hostname("%") is None


def test_serves_traffic_until_the_grace_period_ends(settings) -> None:
    settings.CUSTOM_DOMAIN_GRACE_HOURS = 24
    now = timezone.now()
    assert CustomDomain(status=Status.ACTIVE).serves_traffic(now)
    assert not CustomDomain(status=Status.PENDING).serves_traffic(now)
    assert not CustomDomain(status=Status.REMOVED).serves_traffic(now)
    failing = CustomDomain(status=Status.FAILING, failing_since=now - timedelta(hours=23))
    assert failing.serves_traffic(now)
    assert not failing.serves_traffic(now + timedelta(hours=1, seconds=1))
    assert failing.grace_ends_at() == now + timedelta(hours=1)
