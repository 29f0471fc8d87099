"""``manage.py refresh_analytics``: the periodic job that keeps the rollups fresh."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from courseplatform.analytics.models import CourseStat, LessonStat
from courseplatform.analytics.rollups import schools_due
from courseplatform.analytics.tests.data import seed_known
from courseplatform.tenancy.rls import school_context


@pytest.mark.django_db(transaction=True)
def test_command_refreshes_due_schools_only(school_a: Any, school_b: Any, settings: Any) -> None:
    settings.ANALYTICS_REFRESH_MINUTES = 15
    seed_known(school_a.school, school_a.owner)
    seed_known(school_b.school, school_b.owner, prefix="Bravo")
    out = StringIO()
    call_command("refresh_analytics", stdout=out)
    assert out.getvalue().count("2 courses") == 2
    for school in (school_a.school, school_b.school):
        with school_context(school):
            assert CourseStat.objects.count() == 2
            assert LessonStat.objects.filter(completed__gt=0).count() == 6
    # Fresh: nothing is due.
    idle = StringIO()
    call_command("refresh_analytics", stdout=idle)
    assert "No school's analytics are due." in idle.getvalue()
    quiet = StringIO()
    call_command("refresh_analytics", "--quiet", stdout=quiet)
    assert quiet.getvalue() == ""
    # B's figures age past the limit: only B is due.
    with school_context(school_b.school):
        CourseStat.objects.update(refreshed_at=timezone.now() - timedelta(minutes=20))
    assert schools_due(now=timezone.now(), limit=10) == [school_b.school.pk]
    assert schools_due(now=timezone.now(), limit=0) == []
    # A course newer than the last refresh makes A due at once, before B (never refreshed).
    with school_context(school_a.school):
        CourseStat.objects.filter(course__title="Beta Course").delete()
    assert schools_due(now=timezone.now(), limit=10) == [school_a.school.pk, school_b.school.pk]
    # The budget stops a run before it starts a school.
    assert call_command("refresh_analytics", "--budget", "-1", "--quiet") is None
    assert schools_due(now=timezone.now(), limit=10) == [school_a.school.pk, school_b.school.pk]
