"""The preview: what applying each parsed row would do in this school, and why a row
cannot be applied. Reads only; ``services.create_import`` stores the outcome.

Per row, in file order: a missing or invalid address, a name too long or on several
lines, an address already listed higher up, a course slug this school does not have
(or, for an instructor, a course they do not teach) make the row invalid; an address
with an account here enrols it in the listed courses it is not in yet (none left:
nothing to do); a new address is invited, unless the plan's student limit would be
crossed, in which case this and every later new address are refused. Cells starting
like a formula (``= + - @``) are kept as text and flagged (a warning, not an error).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext

from courseplatform.accounts import permissions
from courseplatform.accounts.models import User, normalize_email
from courseplatform.accounts.selectors import count_students
from courseplatform.accounts.services import invitation_details
from courseplatform.courses.models import Course, Enrollment
from courseplatform.ops.csvexport import FORMULA_PREFIXES
from courseplatform.tenancy.models import School

from .models import StudentImportRow
from .parsing import ParsedRow

NAME_MAX = 120
EMAIL_MAX = 254
WARNINGS = frozenset({"formula"})
Action = StudentImportRow.Action


@dataclass
class PlannedRow:
    parsed: ParsedRow
    action: str = Action.INVITE
    issues: list[dict[str, str]] = field(default_factory=list)

    def add(self, code: str, message: str) -> None:
        self.issues.append({"code": code, "message": message})

    @property
    def has_error(self) -> bool:
        return any(issue["code"] not in WARNINGS for issue in self.issues)


@dataclass
class Plan:
    rows: list[PlannedRow]
    student_limit: int | None
    students_before: int

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def over_limit(self) -> int:
        return sum(1 for row in self.rows if any(i["code"] == "over_limit" for i in row.issues))

    @property
    def warnings(self) -> int:
        return sum(1 for row in self.rows if any(i["code"] in WARNINGS for i in row.issues))


def _check_cells(row: PlannedRow) -> None:
    parsed = row.parsed
    for label, value in (("name", parsed.name), ("email", parsed.email)):
        if value.startswith(FORMULA_PREFIXES):
            message = (
                gettext("The name starts with “%(char)s”: kept as text, never run as a formula.")
                if label == "name"
                else gettext(
                    "The email starts with “%(char)s”: kept as text, never run as a formula."
                )
            )
            row.add("formula", message % {"char": value[0]})
    if not parsed.email:
        row.add("bad_email", gettext("The email is missing."))
    elif len(parsed.email) > EMAIL_MAX:
        row.add(
            "bad_email",
            gettext("The email is longer than %(maximum)s characters.") % {"maximum": EMAIL_MAX},
        )
    if len(parsed.name) > NAME_MAX:
        row.add(
            "bad_name",
            gettext("The name is longer than %(maximum)s characters.") % {"maximum": NAME_MAX},
        )
    if row.has_error:
        return
    try:
        invitation_details(email=parsed.email, full_name=parsed.name)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            code = "bad_email" if name == "email" else "bad_name"
            what = "email" if name == "email" else "name"
            template = (
                gettext("The email “%(value)s”: %(problem)s")
                if what == "email"
                else gettext("The name “%(value)s”: %(problem)s")
            )
            row.add(
                code,
                template % {"value": _short(getattr(parsed, what)), "problem": " ".join(messages)},
            )


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "…"


def plan_rows(*, school: School, actor: User, rows: list[ParsedRow]) -> Plan:
    planned = [PlannedRow(parsed=row) for row in rows]
    is_owner = permissions.is_school_owner(actor, school)
    slugs = {slug for row in rows for slug in row.courses}
    courses: dict[str, Course] = {
        course.slug: course
        for course in permissions.manageable_courses(
            actor, Course.objects.filter(school=school, slug__in=slugs)
        )
    }
    seen: dict[str, int] = {}
    for row in planned:
        _check_cells(row)
        address = normalize_email(row.parsed.email)
        if not row.has_error:
            if address in seen:
                row.add(
                    "duplicate",
                    gettext("The same email as row %(line)s: this row is skipped.")
                    % {"line": seen[address]},
                )
            else:
                seen[address] = row.parsed.line
        unknown = [slug for slug in row.parsed.courses if slug not in courses]
        if unknown:
            listed = ", ".join(f"“{_short(slug)}”" for slug in unknown[:5])
            unknown_message = (
                ngettext(
                    "Unknown course %(courses)s.", "Unknown courses %(courses)s.", len(unknown)
                )
                if is_owner
                else ngettext(
                    "Unknown course %(courses)s (or a course you do not teach).",
                    "Unknown courses %(courses)s (or courses you do not teach).",
                    len(unknown),
                )
            )
            row.add("unknown_course", unknown_message % {"courses": listed})
    users = {
        user.email: user
        for user in User.objects.filter(school=school, email__in=list(seen)).only(
            "pk", "email", "is_active", "school_id"
        )
    }
    enrolled = set(
        Enrollment.objects.filter(
            school=school,
            student_id__in=[user.pk for user in users.values()],
            course_id__in=[course.pk for course in courses.values()],
        ).values_list("student_id", "course_id")
    )
    limit = school.plan.max_students
    before = count_students(school=school)
    places = None if limit is None else max(0, limit - before)
    invites = 0
    for row in planned:
        if row.has_error:
            row.action = Action.INVALID
            continue
        user = users.get(normalize_email(row.parsed.email))
        if user is not None:
            if not user.is_active:
                row.add("inactive", gettext("This account is deactivated: it is not enrolled."))
                row.action = Action.INVALID
                continue
            missing = [
                slug
                for slug in dict.fromkeys(row.parsed.courses)
                if (user.pk, courses[slug].pk) not in enrolled
            ]
            row.action = Action.ENROLL if missing else Action.UNCHANGED
            continue
        if places is not None and invites >= places:
            assert limit is not None  # places is only counted under a limit
            row.add(
                "over_limit",
                gettext(
                    "Over the plan's limit of %(limit)s students (%(before)s already): "
                    "no account is created for this row."
                )
                % {
                    "limit": number_format(limit, force_grouping=True),
                    "before": number_format(before, force_grouping=True),
                },
            )
            row.action = Action.INVALID
            continue
        invites += 1
        row.action = Action.INVITE
    return Plan(rows=planned, student_limit=limit, students_before=before)


def row_fields(row: PlannedRow) -> dict[str, Any]:
    parsed = row.parsed
    return {
        "line": parsed.line,
        "name": parsed.name,
        "email": parsed.email,
        "courses": parsed.courses,
        "action": row.action,
        "issues": row.issues,
    }
