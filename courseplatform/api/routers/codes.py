"""Access-code batches, their codes and redemptions, through ``access`` services."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from courseplatform.access import selectors, services
from courseplatform.access.models import MAX_BATCH_SIZE, MAX_USES_PER_CODE, AccessCodeBatch
from courseplatform.ops.csvexport import csv_response

from ..guard import read_auth, write_auth
from ..pagination import paginate
from ..problems import ApiProblem
from ..schemas import In
from .common import ERRORS, ListParams, actor, school

router = Router(tags=["access codes"])


class BatchOut(Schema):
    id: int
    name: str
    course_ids: list[int]
    code_count: int
    uses_per_code: int
    uses: int
    remaining: int
    expires_at: datetime | None
    revoked_at: datetime | None
    note: str
    created_at: datetime


class NewBatchOut(BatchOut):
    codes: list[str] = Field(description="The codes, shown once here (export them any time).")


class BatchList(Schema):
    data: list[BatchOut]
    next: str | None


class BatchIn(In):
    name: str = Field(min_length=1, max_length=120)
    course_ids: list[int] = Field(min_length=1, max_length=100)
    code_count: int = Field(ge=1, le=MAX_BATCH_SIZE)
    uses_per_code: int = Field(default=1, ge=1, le=MAX_USES_PER_CODE)
    expires_at: datetime | None = None
    note: str = Field(default="", max_length=2000)


class CodeOut(Schema):
    id: int
    code: str
    uses: int
    max_uses: int
    revoked_at: datetime | None


class CodeList(Schema):
    data: list[CodeOut]
    next: str | None


class RedemptionOut(Schema):
    id: int
    code_id: int
    batch_id: int
    student_id: int
    created_at: datetime


class RedemptionList(Schema):
    data: list[RedemptionOut]
    next: str | None


def _batch_out(batch: AccessCodeBatch) -> dict[str, object]:
    stats = selectors.batch_stats(batch)
    return {
        "id": batch.pk,
        "name": batch.name,
        "course_ids": sorted(c.pk for c in batch.courses.all()),
        "code_count": batch.code_count,
        "uses_per_code": batch.uses_per_code,
        "uses": stats.used,
        "remaining": stats.remaining,
        "expires_at": batch.expires_at,
        "revoked_at": batch.revoked_at,
        "note": batch.note,
        "created_at": batch.created_at,
    }


def _batch(request: HttpRequest, batch_id: int) -> AccessCodeBatch:
    return selectors.get_batch_for_manager(
        school=school(request), user=actor(request), batch_id=batch_id
    )


@router.get("/code-batches", response={200: BatchList, **ERRORS}, auth=read_auth)
def list_batches(
    request: HttpRequest, params: Query[ListParams], created_since: datetime | None = None
) -> dict[str, object]:
    queryset = selectors.batches_for_manager(school=school(request), user=actor(request))
    if created_since is not None:
        queryset = queryset.filter(created_at__gte=created_since)
    rows, next_url = paginate(
        request, queryset, resource="code-batches", cursor=params.cursor, limit=params.limit
    )
    return {"data": [_batch_out(b) for b in rows], "next": next_url}


@router.post("/code-batches", response={201: NewBatchOut, **ERRORS}, auth=write_auth)
def create_batch(request: HttpRequest, payload: BatchIn) -> Status[dict[str, object]]:
    """Create a batch of codes granting the given courses; the codes are in the answer
    (send an Idempotency-Key: a retry then returns the same codes, not a new batch)."""
    new = services.create_batch(
        school=school(request),
        actor=actor(request),
        name=payload.name,
        course_ids=payload.course_ids,
        code_count=payload.code_count,
        uses_per_code=payload.uses_per_code,
        expires_at=payload.expires_at,
        note=payload.note,
    )
    batch = _batch(request, new.batch.pk)
    return Status(201, {**_batch_out(batch), "codes": new.codes})


@router.get("/code-batches/{batch_id}", response={200: BatchOut, **ERRORS}, auth=read_auth)
def get_batch(request: HttpRequest, batch_id: int) -> dict[str, object]:
    return _batch_out(_batch(request, batch_id))


@router.post("/code-batches/{batch_id}/revoke", response={200: BatchOut, **ERRORS}, auth=write_auth)
def revoke_batch(request: HttpRequest, batch_id: int) -> dict[str, object]:
    """Revoke every code of the batch (redemptions made stay)."""
    services.revoke_batch(
        school=school(request), actor=actor(request), batch=_batch(request, batch_id)
    )
    return _batch_out(_batch(request, batch_id))


@router.get(
    "/code-batches/{batch_id}/codes",
    response={200: CodeList, **ERRORS},
    auth=read_auth,
    openapi_extra={
        "responses": {
            200: {
                "description": "JSON page, or the whole batch as CSV with format=csv",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    },
)
def export_codes(
    request: HttpRequest,
    batch_id: int,
    params: Query[ListParams],
    format: Literal["json", "csv"] = "json",
) -> HttpResponse | dict[str, object]:
    """The batch's codes in plaintext (audited): a JSON page, or every code as CSV."""
    batch = _batch(request, batch_id)
    if format == "csv":
        rows = services.export_batch_codes(
            school=school(request), actor=actor(request), batch=batch
        )
        return csv_response(
            f"codes-{batch.pk}.csv",
            ["code", "uses", "max_uses", "revoked"],
            [
                [r.plaintext, r.uses_count, r.max_uses, "yes" if r.revoked_at else ""]  # type: ignore[attr-defined]
                for r in rows
            ],
        )
    page, next_url = paginate(
        request,
        selectors.codes_of_batch(school=school(request), batch=batch),
        resource=f"codes-{batch.pk}",
        cursor=params.cursor,
        limit=params.limit,
    )
    rows = services.export_batch_codes(
        school=school(request), actor=actor(request), batch=batch, code_ids=[c.pk for c in page]
    )
    return {
        "data": [
            {
                "id": r.pk,
                "code": r.plaintext,  # type: ignore[attr-defined]
                "uses": r.uses_count,
                "max_uses": r.max_uses,
                "revoked_at": r.revoked_at,
            }
            for r in rows
        ],
        "next": next_url,
    }


@router.post(
    "/code-batches/{batch_id}/codes/{code_id}/revoke",
    response={200: CodeOut, **ERRORS},
    auth=write_auth,
)
def revoke_code(request: HttpRequest, batch_id: int, code_id: int) -> dict[str, object]:
    """Revoke one code of the batch."""
    code = selectors.get_code_for_manager(
        school=school(request), user=actor(request), code_id=code_id
    )
    if code.batch_id != batch_id:
        raise ApiProblem(404, "Not found.", kind="not-found")
    services.revoke_code(school=school(request), actor=actor(request), code=code)
    row = services.export_batch_codes(
        school=school(request), actor=actor(request), batch=code.batch, code_ids=[code.pk]
    )[0]
    return {
        "id": row.pk,
        "code": row.plaintext,  # type: ignore[attr-defined]
        "uses": row.uses_count,
        "max_uses": row.max_uses,
        "revoked_at": row.revoked_at,
    }


@router.get("/redemptions", response={200: RedemptionList, **ERRORS}, auth=read_auth)
def list_redemptions(
    request: HttpRequest,
    params: Query[ListParams],
    batch_id: int | None = None,
    created_since: datetime | None = None,
) -> dict[str, object]:
    """Who redeemed which code when, for the batches this token's owner manages."""
    batches = selectors.batches_for_manager(school=school(request), user=actor(request))
    queryset = selectors.redemptions_for_school(school=school(request)).filter(
        code__batch__in=batches.values("pk")
    )
    if batch_id is not None:
        queryset = queryset.filter(code__batch_id=batch_id)
    if created_since is not None:
        queryset = queryset.filter(created_at__gte=created_since)
    rows, next_url = paginate(
        request, queryset, resource="redemptions", cursor=params.cursor, limit=params.limit
    )
    return {
        "data": [
            {
                "id": r.pk,
                "code_id": r.code_id,
                "batch_id": r.code.batch_id,
                "student_id": r.student_id,
                "created_at": r.created_at,
            }
            for r in rows
        ],
        "next": next_url,
    }
