"""Closing a school, and purging it once the grace period is over.

* ``request_closure``: the owner types the school's slug and their password; the school
  stops serving students and visitors at once (``tenancy.middleware``: a "closing" page),
  keeps serving its owner (sign in, export, cancel) until ``purge_after``
  (``SCHOOL_DELETION_GRACE_DAYS`` later), and the owner is emailed. Audited.
* ``cancel_closure``: the owner reopens the school before ``purge_after``. Audited.
* ``purge_school``: after ``purge_after`` (the hourly ``purge_closed_schools``), every
  stored object under ``schools/<id>/`` (S3 objects, unfinished multipart uploads, local
  files), every row of the school in every table, and the school row itself go; one
  platform-level ``school.purged`` audit entry remains.

Which database role does what (least privilege, README *Tenant isolation*):

1. Every tenant row is deleted by the **runtime role inside the school's own context**.
   Row-level security then confines each DELETE to that school in the database itself:
   a mistake in this module cannot reach another school's rows, whatever the SQL says.
   The tables come from the database catalog (every table with a ``school_id`` column
   or a key to ``tenancy_school``, and every table keyed to one of those), not from a
   hand-kept list, so a table added later is purged without a change here.
2. Only what the runtime role is denied on purpose runs as the **platform role**
   (``platform_bypass``): the school's audit entries (append-only; the trigger lets the
   platform role delete only the entries of a school whose grace period is over), its
   queued task rows, the ``tenancy_school`` row (nobody else may delete schools) and the
   platform-level audit entry. The bypass is entered with ``audit=False`` because that
   ``school.purged`` entry, written in the same transaction as the school row's
   deletion, is the audit record: exactly one per purge, and only if it happened.
   The schema owner (DDL) is never used.

A purge that stops half-way (a crash, the periodic job's timeout) is simply run again:
the objects are listed and deleted by prefix, the tenant rows go in one transaction
(all or nothing, foreign keys are deferred), and the school row goes last, so the next
run finds the school still due and finishes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks_db.models import DBTaskResult

from courseplatform.accounts import permissions
from courseplatform.accounts.models import User
from courseplatform.accounts.services import send_school_email
from courseplatform.ops import ratelimit
from courseplatform.ops.models import AuditLog
from courseplatform.ops.services import record_audit
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import platform_bypass, school_context
from courseplatform.tenancy.selectors import school_url
from courseplatform.tenancy.storage import school_storage_key
from courseplatform.video.storage import delete_storage_prefix

logger = structlog.get_logger(__name__)

SCHOOL_COLUMN = "school_id"
# Rows the runtime role may not delete (append-only log): the platform step takes them.
PLATFORM_STEP_TABLES = frozenset({AuditLog._meta.db_table})


class ClosureError(Exception):
    """The closure cannot be requested or cancelled; the message says why."""


# --- the owner's side ----------------------------------------------------------------


def _grace() -> timedelta:
    return timedelta(days=settings.SCHOOL_DELETION_GRACE_DAYS)


def request_closure(
    *, school: School, actor: Any, confirm_slug: str, password: str, ip: str | None = None
) -> School:
    """Close ``school``: it stops serving everyone but its owner until the purge."""
    permissions.require_school_owner(
        school, actor, message=_("Only the owner can close the school.")
    )
    account_key = f"close:{school.pk}:{actor.pk}"
    spec = settings.RATE_LIMIT_LOGIN_ACCOUNT
    if ratelimit.check("school-close", account_key, spec).limited:
        raise ClosureError(_("Too many wrong passwords. Please wait a few minutes and try again."))
    if (confirm_slug or "").strip().lower() != school.slug:
        raise ClosureError(
            _("Type the school's address, %(slug)s, to confirm.") % {"slug": school.slug}
        )
    # The instance the request holds may come from the user cache, without a password.
    owner = User.objects.get(pk=actor.pk, school=school)
    if not password or not owner.check_password(password):
        ratelimit.hit("school-close", account_key, spec)
        raise ClosureError(_("That password is not right."))
    ratelimit.reset("school-close", account_key, spec)
    now = timezone.now()
    with transaction.atomic():
        locked = School.objects.select_for_update().get(pk=school.pk)
        if locked.is_closing:
            raise ClosureError(_("This school is already closing."))
        locked.closing_requested_at = now
        locked.purge_after = now + _grace()
        # The runtime role may update only these columns of its own row (tenancy.grants).
        locked.save(update_fields=["closing_requested_at", "purge_after", "updated_at"])
        record_audit(
            school=school,
            actor=actor,
            action="school.closure_requested",
            target=school,
            data={"purge_after": locked.purge_after.isoformat()},
            ip=ip,
        )
        transaction.on_commit(lambda: _email_owners(locked, "closing"))
    school.closing_requested_at = locked.closing_requested_at
    school.purge_after = locked.purge_after
    logger.info(
        "school.closure_requested", school_id=school.pk, purge_after=str(school.purge_after)
    )
    return school


def cancel_closure(*, school: School, actor: Any, ip: str | None = None) -> School:
    """Reopen a closing school before its grace period ends."""
    permissions.require_school_owner(
        school, actor, message=_("Only the owner can cancel the closure.")
    )
    with transaction.atomic():
        locked = School.objects.select_for_update().get(pk=school.pk)
        if not locked.is_closing:
            raise ClosureError(_("This school is not closing."))
        if locked.purge_due:
            raise ClosureError(_("The grace period is over: the school is being deleted."))
        locked.closing_requested_at = None
        locked.purge_after = None
        locked.save(update_fields=["closing_requested_at", "purge_after", "updated_at"])
        record_audit(
            school=school, actor=actor, action="school.closure_cancelled", target=school, ip=ip
        )
        transaction.on_commit(lambda: _email_owners(locked, "reopened"))
    school.closing_requested_at = None
    school.purge_after = None
    return school


def _email_owners(school: School, kind: str) -> None:
    with school_context(school):
        owners = list(
            User.objects.filter(school=school, role=User.Role.OWNER, is_active=True).order_by("pk")
        )
    for owner in owners:
        send_school_email(
            school=school,
            user=owner,
            subject=format_lazy(
                gettext_lazy("{school} is closing")
                if kind == "closing"
                else gettext_lazy("{school} is open again"),
                school=school.name,
            ),
            template=f"portability/school/email/{kind}",
            context={
                "close_url": school_url(school, "/manage/settings/close/"),
                "export_url": school_url(school, "/manage/settings/export/"),
            },
        )


# --- the purge -------------------------------------------------------------------------


@dataclass
class PurgeReport:
    school_id: int
    slug: str
    objects: int = 0
    multipart_uploads: int = 0
    rows: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SchoolTables:
    """Tables holding a school's rows, read from the database catalog."""

    # table -> its column naming the school
    direct: dict[str, str]
    # (table, column, referenced direct table, referenced column): rows keyed only
    # through a school's row (a user's groups, the admin log)
    indirect: list[tuple[str, str, str, str]]


def school_tables() -> SchoolTables:
    """Every table with a school key (a ``school_id`` column, with or without a foreign
    key, or any key to ``tenancy_school``), and every table keyed to one of those."""
    school_table = School._meta.db_table
    columns, relations = _catalog()
    direct: dict[str, str] = {}
    for table in sorted(columns):
        if table == school_table:
            continue
        if SCHOOL_COLUMN in columns[table]:
            direct[table] = SCHOOL_COLUMN
            continue
        for column, ref_table, _ref_column in relations.get(table, []):
            if ref_table == school_table:
                direct[table] = column
    indirect = [
        (table, column, ref_table, ref_column)
        for table in sorted(relations)
        if table in columns and table not in direct and table != school_table
        for column, ref_table, ref_column in sorted(relations[table])
        if ref_table in direct
    ]
    return SchoolTables(direct=direct, indirect=indirect)


def _catalog() -> tuple[dict[str, set[str]], dict[str, list[tuple[str, str, str]]]]:
    """(table -> columns, table -> [(column, referenced table, referenced column)])."""
    columns: dict[str, set[str]] = {}
    relations: dict[str, list[tuple[str, str, str]]] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # pg_catalog shows every table, also those this role may not read.
            # pg_catalog shows every table, also those this role may not read; a table it
            # may not delete from is not one of the application's (a grant is made for
            # every table at migrate, tenancy.grants), and the audit log is the platform's.
            cursor.execute(
                "SELECT c.relname, a.attname FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
                "AND a.attnum > 0 AND NOT a.attisdropped "
                "AND (has_table_privilege(c.oid, 'DELETE') OR c.relname = %s)",
                [AuditLog._meta.db_table],
            )
            for table, column in cursor.fetchall():
                columns.setdefault(table, set()).add(column)
            cursor.execute(
                "SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, "
                "fa.attname FROM pg_constraint c "
                "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
                "JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1] "
                "WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace"
            )
            for table, column, ref_table, ref_column in cursor.fetchall():
                relations.setdefault(table.strip('"'), []).append(
                    (column, ref_table.strip('"'), ref_column)
                )
            return columns, relations
        introspection = connection.introspection
        for table in introspection.table_names(cursor, include_views=False):
            columns[table] = {c.name for c in introspection.get_table_description(cursor, table)}
            relations[table] = [
                (column, found[1], found[0])
                for column, found in introspection.get_relations(cursor, table).items()
            ]
    return columns, relations


def schools_due_for_purge(*, now: datetime | None = None) -> list[int]:
    """Ids of the schools whose grace period is over (runtime role, no school set:
    the one context in which it reads every school's row, for host resolution)."""
    now = now or timezone.now()
    with school_context(None):
        return list(
            School.objects.filter(purge_after__lte=now)
            .order_by("purge_after", "pk")
            .values_list("pk", flat=True)
        )


def _due_school(school_id: int) -> School | None:
    with school_context(None):
        school = School.objects.filter(pk=school_id).first()
    if school is None or not school.purge_due:
        return None
    return school


def purge_school(*, school_id: int) -> PurgeReport | None:
    """Remove every object, every row and the row of a school whose grace period is
    over. None when there is nothing to do (no such school, or not due)."""
    school = _due_school(school_id)
    if school is None:
        return None
    report = PurgeReport(school_id=school.pk, slug=school.slug)
    _purge_objects(report)
    report.rows = _purge_tenant_rows(school)
    # Anything a worker stored meanwhile (an export finishing) goes too, before the
    # school row: a rerun could no longer find the prefix without it.
    _purge_objects(report)
    if not _purge_school_row(school, report):
        return None
    logger.info(
        "school.purged",
        school_id=school.pk,
        objects=report.objects,
        rows=sum(report.rows.values()),
    )
    return report


def _purge_objects(report: PurgeReport) -> None:
    prefix = school_storage_key(report.school_id)
    report.multipart_uploads += _abort_multipart_uploads(prefix)
    report.objects += delete_storage_prefix(prefix)


def _abort_multipart_uploads(prefix: str) -> int:
    from django.core.files.storage import default_storage

    bucket = getattr(default_storage, "bucket", None)
    if bucket is None:
        return 0
    location = str(getattr(default_storage, "location", "") or "").strip("/")
    full_prefix = f"{location}/{prefix}" if location else prefix
    aborted = 0
    for upload in bucket.multipart_uploads.filter(Prefix=full_prefix):
        upload.abort()
        aborted += 1
    return aborted


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _purge_tenant_rows(school: School) -> dict[str, int]:
    """As the runtime role in the school's context: RLS confines every statement."""
    counts: dict[str, int] = {}
    with school_context(school), transaction.atomic():
        locked = School.objects.select_for_update().filter(pk=school.pk).first()
        if locked is None or not locked.purge_due:
            return counts
        tables = school_tables()
        with connection.cursor() as cursor:
            # Rows keyed through a school's row first: they find it by its school key.
            for table, column, ref_table, ref_column in tables.indirect:
                # Names come from the catalog, never from input.
                cursor.execute(
                    f"DELETE FROM {_quote(table)} WHERE {_quote(column)} IN "  # noqa: S608
                    f"(SELECT {_quote(ref_column)} FROM {_quote(ref_table)} "
                    f"WHERE {_quote(tables.direct[ref_table])} = %s)",
                    [school.pk],
                )
                counts[table] = counts.get(table, 0) + max(cursor.rowcount, 0)
            # Foreign keys are checked at commit (deferred), so the order does not matter.
            for table, column in sorted(tables.direct.items()):
                if table in PLATFORM_STEP_TABLES:
                    continue
                cursor.execute(
                    f"DELETE FROM {_quote(table)} WHERE {_quote(column)} = %s",  # noqa: S608
                    [school.pk],
                )
                counts[table] = counts.get(table, 0) + max(cursor.rowcount, 0)
    return {table: count for table, count in counts.items() if count}


def _purge_school_row(school: School, report: PurgeReport) -> bool:
    """As the platform role: the audit entries, task rows and the school row, with the
    one platform-level audit entry, in one transaction."""
    with (
        platform_bypass(actor=None, reason="purge of a closed school", audit=False),
        transaction.atomic(),
    ):
        locked = School.objects.select_for_update().filter(pk=school.pk).first()
        if locked is None or not locked.purge_due:
            return False
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {_quote(AuditLog._meta.db_table)} WHERE school_id = %s",  # noqa: S608
                [school.pk],
            )
            report.rows[AuditLog._meta.db_table] = max(cursor.rowcount, 0)
        tasks = DBTaskResult.objects.filter(
            task_path__startswith="courseplatform.", args_kwargs__args__0=school.pk
        ).exclude(status="RUNNING")
        tasks_deleted = tasks.delete()[0]
        if tasks_deleted:
            report.rows[DBTaskResult._meta.db_table] = tasks_deleted
        # The ORM delete (not raw SQL) so the host cache forgets the school everywhere
        # (tenancy.signals); any row still pointing at it fails the deferred keys and
        # rolls the whole step back, to be finished by the next run.
        locked.delete()
        record_audit(
            school=None,
            actor=None,
            action="school.purged",
            data={
                "school_id": school.pk,
                "slug": school.slug,
                "closing_requested_at": (
                    locked.closing_requested_at.isoformat() if locked.closing_requested_at else None
                ),
                "objects": report.objects,
                "multipart_uploads": report.multipart_uploads,
                "rows": dict(sorted(report.rows.items())),
            },
        )
    return True


def grace_days() -> int | float:
    days = settings.SCHOOL_DELETION_GRACE_DAYS
    return int(days) if float(days).is_integer() else days
