"""The school itself: name, plan and usage against the plan's limits."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from courseplatform.tenancy.usage import plan_usage

from ..guard import read_auth
from .common import ERRORS, school

router = Router(tags=["school"])


class UsageOut(Schema):
    meter: str
    used: int
    limit: int | None
    unit: str


class SchoolOut(Schema):
    id: int
    slug: str
    name: str
    plan: str
    usage: list[UsageOut]


@router.get("/school", response={200: SchoolOut, **ERRORS}, auth=read_auth)
def get_school(request: HttpRequest) -> dict[str, object]:
    """The school, its plan and what it uses of each plan limit (the dashboard's figures)."""
    current = school(request)
    return {
        "id": current.pk,
        "slug": current.slug,
        "name": current.name,
        "plan": current.plan.code,
        "usage": [
            {
                "meter": usage.meter,  # the label is in the request's language
                "used": usage.used,
                "limit": usage.limit,
                "unit": usage.unit or "count",
            }
            for usage in plan_usage(current)
        ],
    }
