"""Rollups behind instructor analytics (``/manage/analytics/``).

Figures that need every progress row of a course (who finished it, how far students
got through each lesson) are computed per school by ``rollups.refresh_school`` — from
the periodic ``manage.py refresh_analytics`` or the page's "Refresh" button — and
read from these small tables, so the page costs the same at 10 students or 10,000.
Each row carries ``refreshed_at``: the page shows it as "as of". Cheap figures
(enrolments, activity, watch time, redemptions) are read live.

Both tables are school-owned and under row-level security like every tenant table.
"""

from __future__ import annotations

from django.db import models

from courseplatform.tenancy.models import TenantModel


class CourseStat(TenantModel):
    """One course: enrolled students and how many of them completed every lesson."""

    course = models.OneToOneField("courses.Course", on_delete=models.CASCADE, related_name="+")
    lessons = models.PositiveIntegerField(default=0)
    enrolled = models.PositiveIntegerField(default=0)
    completed = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["school", "refreshed_at"])]


class LessonStat(TenantModel):
    """One lesson: enrolled students who opened it (a progress row) and who completed it."""

    lesson = models.OneToOneField("courses.Lesson", on_delete=models.CASCADE, related_name="+")
    course = models.ForeignKey("courses.Course", on_delete=models.CASCADE, related_name="+")
    started = models.PositiveIntegerField(default=0)
    completed = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["school", "course"])]
