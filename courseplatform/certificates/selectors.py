"""Reads of certificates: by the school first, the same 404 for another school's."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404

from courseplatform.accounts.models import User
from courseplatform.courses.models import Course
from courseplatform.courses.selectors import completed_students_query
from courseplatform.tenancy.models import School

from .models import Certificate, CertificateSettings

# secrets.token_urlsafe(16) gives 22 characters; anything else is no certificate id.
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22}$")


def get_settings(*, school: School, course: Course) -> CertificateSettings | None:
    return CertificateSettings.objects.filter(school=school, course=course).first()


def get_certificate(*, school: School, code: str) -> Certificate:
    """The school's certificate with this id; Http404 for a malformed id, an unknown one
    and another school's alike (RLS hides those too)."""
    if not CODE_PATTERN.match(code or ""):
        raise Http404("No such certificate.")
    certificate = Certificate.objects.filter(school=school, code=code).first()
    if certificate is None:
        raise Http404("No such certificate.")
    return certificate


def get_certificate_by_id(*, school: School, certificate_id: int) -> Certificate:
    certificate = Certificate.objects.filter(school=school, pk=certificate_id).first()
    if certificate is None:
        raise Http404("No such certificate.")
    return certificate


def course_certificates(*, school: School, course: Course) -> QuerySet[Certificate]:
    return Certificate.objects.filter(school=school, course=course).order_by("-issued_at", "-id")


def qualifying_without_certificate(*, school: School, course: Course) -> QuerySet[Any]:
    """Students who completed every lesson of ``course`` and hold no certificate of it."""
    issued = Certificate.objects.filter(school=school, course=course).values("student_id")
    return (
        completed_students_query(school=school, course_id=course.pk)
        .exclude(student_id__in=issued)
        .order_by("pk")
    )


def my_certificate_annotations(school: School, student: User) -> dict[str, Any]:
    """Subqueries for *My courses* (``courses.extensions``): the id of the student's
    certificate of each course and whether it is revoked."""
    mine = Certificate.objects.filter(school=school, student=student, course=OuterRef("course_id"))
    return {
        "certificate_code": Subquery(mine.values("code")[:1]),
        "certificate_revoked_at": Subquery(mine.values("revoked_at")[:1]),
    }
