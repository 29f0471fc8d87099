"""Which school and which role a block runs as: nested contexts, a school context
inside a bypass, an aborted transaction, and a bypass without the platform connection."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, Error, connection, connections, transaction

from courseplatform.sites.models import Page
from courseplatform.tenancy import rls


def _school_setting() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('app.school_id', true)")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_school_context_inside_a_bypass_runs_on_the_runtime_connection(
    school_a: Any, school_b: Any
) -> None:
    alpha, bravo = school_a.school, school_b.school
    assert (rls.current_school_id(), rls.bypass_active()) == (None, False)
    with rls.platform_bypass(actor=None, reason="test: nested contexts"):
        assert rls.bypass_active()
        assert connections["default"].alias == rls.PLATFORM_ALIAS
        with rls.school_context(bravo.pk):  # an id works as well as an instance
            assert (rls.current_school_id(), rls.bypass_active()) == (bravo.pk, False)
            assert connections["default"].alias == "default"
            assert set(Page.objects.values_list("school_id", flat=True)) == {bravo.pk}
            with rls.school_context(alpha):
                assert rls.current_school_id() == alpha.pk
                assert set(Page.objects.values_list("school_id", flat=True)) == {alpha.pk}
            assert rls.current_school_id() == bravo.pk
        # Back in the bypass: every school's rows again, on the platform connection.
        assert rls.bypass_active()
        assert connections["default"].alias == rls.PLATFORM_ALIAS
        assert set(Page.objects.values_list("school_id", flat=True)) >= {alpha.pk, bravo.pk}
    assert (rls.current_school_id(), rls.bypass_active()) == (None, False)
    assert connections["default"].alias == "default"
    assert _school_setting() in ("", None)


@pytest.mark.django_db(transaction=True)
def test_school_context_in_an_aborted_transaction_reads_nothing(school_a: Any) -> None:
    school = school_a.school
    with pytest.raises(Error), transaction.atomic():
        with connection.cursor() as cursor:
            with pytest.raises(DatabaseError):
                cursor.execute("SELECT 1 / 0")
        # The transaction is aborted: the school cannot be sent, so nothing is read.
        with rls.school_context(school):
            list(Page.objects.all())
    # Afterwards the connection takes contexts as usual.
    assert rls.current_school_id() is None
    assert _school_setting() in ("", None)
    with rls.school_context(school):
        assert _school_setting() == str(school.pk)
        assert set(Page.objects.values_list("school_id", flat=True)) == {school.pk}


@pytest.mark.django_db
def test_bypass_without_the_platform_connection_is_refused_on_postgresql(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    monkeypatch.delitem(settings.DATABASES, rls.PLATFORM_ALIAS)
    entered = False
    with pytest.raises(ImproperlyConfigured, match="DATABASE_PLATFORM_URL"):
        with rls.platform_bypass(actor=None, reason="test: no platform role"):
            entered = True
    assert not entered and not rls.bypass_active()
