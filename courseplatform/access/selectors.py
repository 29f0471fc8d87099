"""Reads of access codes for the management area."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from courseplatform.accounts import permissions
from courseplatform.accounts.models import User
from courseplatform.courses.models import Course
from courseplatform.tenancy.models import School

from .models import AccessCode, AccessCodeBatch, Redemption


@dataclass(frozen=True)
class BatchStats:
    issued: int  # codes x uses per code
    used: int
    remaining: int
    expired: bool
    revoked: bool


def batch_stats(batch: AccessCodeBatch) -> BatchStats:
    used = int(getattr(batch, "uses_total", 0) or 0)
    issued = batch.code_count * batch.uses_per_code
    expired = batch.expires_at is not None and batch.expires_at <= timezone.now()
    revoked = batch.revoked_at is not None
    # Uses left on codes that are not revoked (a revoked, partly used code has none left).
    uses_left = getattr(batch, "uses_left", None)
    if uses_left is None:
        revoked_codes = int(getattr(batch, "revoked_codes", 0) or 0)
        uses_left = issued - used - revoked_codes * batch.uses_per_code
    remaining = 0 if (expired or revoked) else max(0, int(uses_left))
    return BatchStats(issued, used, remaining, expired, revoked)


def batches_for_school(*, school: School) -> QuerySet[AccessCodeBatch]:
    """Batches with totals and courses: a fixed number of queries."""
    return (
        AccessCodeBatch.objects.filter(school=school)
        .annotate(
            uses_total=Sum("codes__uses_count"),
            revoked_codes=Count(
                "codes", filter=Q(codes__revoked_at__isnull=False, codes__uses_count=0)
            ),
            uses_left=Sum(
                F("codes__max_uses") - F("codes__uses_count"),
                filter=Q(codes__revoked_at__isnull=True),
                default=0,
            ),
        )
        .prefetch_related(Prefetch("courses", queryset=Course.objects.only("id", "title")))
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )


def get_batch(*, school: School, batch_id: int) -> AccessCodeBatch:
    batch = batches_for_school(school=school).filter(pk=batch_id).first()
    if batch is None:
        raise Http404("No such batch.")
    return batch


def get_code(*, school: School, code_id: int) -> AccessCode:
    code = AccessCode.objects.select_related("batch").filter(school=school, pk=code_id).first()
    if code is None:
        raise Http404("No such code.")
    return code


def batches_for_manager(*, school: School, user: User) -> QuerySet[AccessCodeBatch]:
    """The batches ``user`` manages: all for the owner; for an instructor, those whose
    courses are all courses they teach."""
    return permissions.manageable_batches(user, batches_for_school(school=school))


def get_batch_for_manager(*, school: School, user: User, batch_id: int) -> AccessCodeBatch:
    """404 for a missing or another school's batch, 403 for one ``user`` may not manage."""
    batch = get_batch(school=school, batch_id=batch_id)
    permissions.require_batch_manager(school, user, batch)
    return batch


def get_code_for_manager(*, school: School, user: User, code_id: int) -> AccessCode:
    """404 for a missing or another school's code, 403 when ``user`` may not manage its batch."""
    code = get_code(school=school, code_id=code_id)
    permissions.require_batch_manager(school, user, code.batch)
    return code


def codes_of_batch(*, school: School, batch: AccessCodeBatch) -> QuerySet[AccessCode]:
    """The batch's codes (no plaintext), in creation order, for paging."""
    return AccessCode.objects.filter(school=school, batch=batch).order_by("id")


def redemptions_of_batch(*, school: School, batch: AccessCodeBatch) -> QuerySet[Redemption]:
    return (
        Redemption.objects.filter(school=school, code__batch=batch)
        .select_related("student", "code")
        .order_by("-created_at")
    )


def redemptions_of_code(*, school: School, code: AccessCode) -> QuerySet[Redemption]:
    return (
        Redemption.objects.filter(school=school, code=code)
        .select_related("student")
        .order_by("-created_at")
    )


def redemptions_for_school(*, school: School) -> QuerySet[Redemption]:
    """Every redemption of the school with its code's batch and the student."""
    return Redemption.objects.filter(school=school).select_related("student", "code")
