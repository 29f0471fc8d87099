"""Reads of the roster app, shared by the pages and the report download.

Fetching by id filters by school: another school's import and a missing one raise the
same ``Http404``, so ids reveal nothing (row-level security refuses them as well).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from courseplatform.tenancy.models import School

from .models import StudentImport, StudentImportRow

ROWS_PER_PAGE = 50
Status = StudentImportRow.Status
Action = StudentImportRow.Action
# The filters of the preview's row list: ?show=<key>.
ROW_FILTERS: dict[str, tuple[StrOrPromise, Q]] = {
    "all": (_("All rows"), Q()),
    "problems": (_("Problems"), Q(action=Action.INVALID) | Q(status=Status.FAILED)),
    "invite": (_("New accounts"), Q(action=Action.INVITE)),
    "enroll": (_("Enrolments"), Q(action=Action.ENROLL)),
    "unchanged": (_("Nothing to do"), Q(action=Action.UNCHANGED)),
}


def get_import(*, school: School, import_id: int) -> StudentImport:
    found = (
        StudentImport.objects.filter(school=school, pk=import_id)
        .exclude(status=StudentImport.Status.DISCARDED)
        .select_related("created_by")
        .first()
    )
    if found is None:
        raise Http404("No such import.")
    return found


def recent_imports(*, school: School, limit: int = 20) -> QuerySet[StudentImport]:
    return (
        StudentImport.objects.filter(school=school)
        .exclude(status=StudentImport.Status.DISCARDED)
        .select_related("created_by")
        .order_by("-created_at", "-id")[:limit]
    )


def import_rows(
    *, school: School, student_import: StudentImport, show: str = "all", page: str | int = 1
) -> Page[StudentImportRow]:
    _, condition = ROW_FILTERS.get(show, ROW_FILTERS["all"])
    rows = (
        StudentImportRow.objects.filter(school=school, student_import=student_import)
        .filter(condition)
        .order_by("line")
    )
    return Paginator(rows, ROWS_PER_PAGE).get_page(page)


def all_rows(*, school: School, student_import: StudentImport) -> QuerySet[StudentImportRow]:
    return StudentImportRow.objects.filter(school=school, student_import=student_import).order_by(
        "line"
    )


@dataclass(frozen=True)
class Progress:
    total: int
    done: int
    failed: int
    waiting: int

    @property
    def finished(self) -> int:
        return self.done + self.failed

    @property
    def percent(self) -> int:
        return 100 if not self.total else round(100 * self.finished / self.total)


def progress(*, school: School, student_import: StudentImport) -> Progress:
    """The rows to apply (new accounts and enrolments) by outcome, in one statement."""
    counts = StudentImportRow.objects.filter(
        school=school,
        student_import=student_import,
        action__in=(Action.INVITE, Action.ENROLL),
    ).aggregate(
        total=Count("pk"),
        done=Count("pk", filter=Q(status=Status.DONE)),
        failed=Count("pk", filter=Q(status=Status.FAILED)),
        waiting=Count("pk", filter=Q(status__in=(Status.PENDING, Status.APPLYING))),
    )
    return Progress(**counts)


def stalled_imports(*, since: datetime) -> list[tuple[int, int]]:
    """(school id, import id) of imports being applied, started before ``since``, with
    rows waiting or applying and none taken since ``since`` (any school: the caller is
    inside ``platform_bypass``)."""
    open_rows = StudentImportRow.objects.filter(
        student_import=OuterRef("pk"),
        status__in=[StudentImportRow.Status.PENDING, StudentImportRow.Status.APPLYING],
    )
    recent = StudentImportRow.objects.filter(student_import=OuterRef("pk"), claimed_at__gte=since)
    return list(
        StudentImport.objects.filter(status=StudentImport.Status.APPLYING, started_at__lt=since)
        .filter(Exists(open_rows))
        .exclude(Exists(recent))
        .order_by("school_id", "pk")
        .values_list("school_id", "pk")
    )
