"""Reading the audit log: filters, keyset pages and the CSV export.

Two readers share this: a school owner's audit viewer in ``/manage/audit/`` (one school,
under that school's RLS context) and the operator console (every school, inside
``platform_bypass``). Pages are keyset pages on the id (newest first): one statement per
page however long the log is, never a ``COUNT(*)`` over it.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from courseplatform.tenancy.models import School

from .models import AuditLog

PAGE_SIZE = 50
# What an owner sees for an actor their school's context cannot read: platform staff
# (their account belongs to no school) or an account since removed.
HIDDEN_ACTOR = gettext_noop("Platform staff or a removed account")  # translated when shown


class AuditFilterForm(forms.Form):
    """The filters of both viewers (``school`` only in the operator console)."""

    actor = forms.CharField(
        required=False,
        max_length=254,
        label=_("Actor"),
        help_text=_("Email or name, or part of it."),
    )
    action = forms.CharField(required=False, max_length=80, label=_("Action"))
    since = forms.DateField(
        required=False, label=_("From"), widget=forms.DateInput({"type": "date"})
    )
    until = forms.DateField(required=False, label=_("To"), widget=forms.DateInput({"type": "date"}))
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args: Any, with_school: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if with_school:
            self.fields["school"] = forms.CharField(
                required=False,
                max_length=40,
                label=_("School"),
                help_text=_("The school's slug."),
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", gettext("The end date is before the start date."))
        if data.get("before") and data.get("after") is not None:
            raise forms.ValidationError(gettext("Give either an older or a newer page, not both."))
        return data


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditLog]
    has_newer: bool
    has_older: bool

    @property
    def rows(self) -> list[dict[str, Any]]:
        """What the viewers' tables show of each entry."""
        return [
            {"entry": entry, "actor": actor_label(entry), "details": details(entry)}
            for entry in self.entries
        ]

    @property
    def newest_id(self) -> int | None:
        return self.entries[0].pk if self.entries else None

    @property
    def oldest_id(self) -> int | None:
        return self.entries[-1].pk if self.entries else None


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def filtered_entries(*, school: School | None, filters: dict[str, Any]) -> QuerySet[AuditLog]:
    """Entries matching the cleaned ``filters`` of an ``AuditFilterForm``: of ``school``,
    or of every school and the platform when it is None (only inside ``platform_bypass``;
    elsewhere RLS leaves the platform's own entries only)."""
    entries = AuditLog.objects.select_related("actor", "school")
    if school is not None:
        entries = entries.filter(school=school)
    elif filters.get("school"):
        entries = entries.filter(school__slug=filters["school"].strip().lower())
    actor = (filters.get("actor") or "").strip()
    if actor:
        entries = entries.filter(
            Q(actor__email__icontains=actor) | Q(actor__full_name__icontains=actor)
        )
    action = (filters.get("action") or "").strip()
    if action:
        entries = entries.filter(action=action)
    # Whole days in the site's time zone, as bounds on the indexed column (no cast).
    if filters.get("since"):
        entries = entries.filter(created_at__gte=_day_start(filters["since"]))
    if filters.get("until"):
        end = _day_start(filters["until"] + datetime.timedelta(days=1))
        entries = entries.filter(created_at__lt=end)
    return entries


def audit_page(
    entries: QuerySet[AuditLog],
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> AuditPage:
    """One keyset page: the newest ``size`` entries, or those just older than id
    ``before``, or just newer than id ``after``. One statement."""
    if after is not None:
        rows = list(entries.filter(pk__gt=after).order_by("pk")[: size + 1])
        has_newer = len(rows) > size
        return AuditPage(list(reversed(rows[:size])), has_newer=has_newer, has_older=True)
    if before is not None:
        entries = entries.filter(pk__lt=before)
    rows = list(entries.order_by("-pk")[: size + 1])
    return AuditPage(rows[:size], has_newer=before is not None, has_older=len(rows) > size)


# The action suggestions come from this many latest entries: a bounded read (an index
# range), where a DISTINCT over the whole log would grow with it.
ACTION_SAMPLE = 5000


def audit_actions(*, school: School | None) -> list[str]:
    """The action names among the latest entries (the filter's suggestions)."""
    entries = AuditLog.objects.all() if school is None else AuditLog.objects.filter(school=school)
    latest = entries.order_by("-pk").values("pk")[:ACTION_SAMPLE]
    names = (
        AuditLog.objects.filter(pk__in=latest).order_by("action").values_list("action", flat=True)
    )
    return list(names.distinct())


def actor_label(entry: AuditLog) -> str:
    if entry.actor_id is None:
        return gettext("System")
    if entry.actor is None:
        return gettext(HIDDEN_ACTOR)
    return entry.actor.email


def details(entry: AuditLog) -> str:
    """The entry's data as one line of JSON (keys sorted)."""
    return json.dumps(entry.data, sort_keys=True, ensure_ascii=False) if entry.data else ""


CSV_HEADER = ("time (UTC)", "actor", "action", "target type", "target id", "ip", "details")


def csv_rows(entries: QuerySet[AuditLog], *, with_school: bool = False) -> Iterator[Sequence[Any]]:
    """Every entry, newest first, as CSV rows (``CSV_HEADER``, plus the school first
    with ``with_school``). Cells go through ``ops.csvexport`` (formula-safe)."""
    for entry in entries.order_by("-pk").iterator(chunk_size=2000):
        row = [
            entry.created_at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S"),
            actor_label(entry),
            entry.action,
            entry.target_type,
            entry.target_id,
            entry.ip or "",
            details(entry),
        ]
        if with_school:
            row.insert(0, entry.school.slug if entry.school_id and entry.school else "")
        yield row
