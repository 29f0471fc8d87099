"""Writing a whole school into one zip (the layout is in README *Taking your school with
you*). Runs in the school's RLS context, inside the task worker.

Each course is written by the course archive code (``course_archive.export``), so a
course taken from the whole-school export imports like any course archive. Everything
else is CSV (spreadsheet-safe cells, ``ops.csvexport.safe_cell``) or JSON.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.core.files.storage import default_storage
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_noop

from courseplatform.access import codes as access_codes
from courseplatform.access.models import AccessCode, AccessCodeBatch, Redemption
from courseplatform.accounts.models import User
from courseplatform.certificates.models import Certificate
from courseplatform.courses.models import Course, Enrollment, LessonProgress
from courseplatform.ops.audit_log import csv_rows as audit_csv_rows
from courseplatform.ops.csvexport import safe_cell
from courseplatform.ops.models import AuditLog
from courseplatform.portability.course_archive.export import write_course_archive
from courseplatform.quizzes.models import Attempt
from courseplatform.sites.models import Page, Theme
from courseplatform.tenancy.models import School

from . import passphrase as codes_crypto

FORMAT = "courseplatform-school-export"
FORMAT_VERSION = 1
ZIP_DATE = (2000, 1, 1, 0, 0, 0)

# progress(percent 0-100, what is being written)
Progress = Callable[[int, str], None]

# The share of the bar each part takes: courses carry the files, so most of the time.
STEPS: tuple[tuple[str, int], ...] = (
    ("courses", 60),
    ("students", 10),
    ("codes", 5),
    ("quizzes", 5),
    ("certificates", 3),
    ("pages", 5),
    ("audit", 10),
    ("school", 2),
)


def _entry(zf: zipfile.ZipFile, path: str, data: bytes) -> None:
    info = zipfile.ZipInfo(path, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o100644 << 16
    zf.writestr(info, data)


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    # A BOM so spreadsheets pick UTF-8, as the other CSV downloads do.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str).encode("utf-8")


def _iso(value: Any) -> str:
    return value.isoformat() if value else ""


class _Bar:
    """Turns per-step fractions into one 0-100 figure."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.done = 0

    def step(self, name: str, fraction: float = 1.0, note: str = "") -> None:
        weight = dict(STEPS)[name]
        start = sum(w for n, w in STEPS[: [n for n, _ in STEPS].index(name)])
        percent = min(99, int(start + weight * max(0.0, min(1.0, fraction))))
        if self.progress and percent >= self.done:
            self.done = percent
            self.progress(percent, note or name)


def build_school_archive(
    *,
    school: School,
    zf: zipfile.ZipFile,
    codes: str,
    passphrase: str = "",
    include_videos: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write the whole school into ``zf``; return what ``school.json`` says."""
    bar = _Bar(progress)
    counts: dict[str, int] = {}
    courses = list(Course.objects.filter(school=school).order_by("created_at", "pk"))
    course_entries = []
    for number, course in enumerate(courses):
        folder = f"courses/{course.slug}/"
        bar.step("courses", number / max(1, len(courses)), f"Course “{course.title}”")

        def course_progress(done: int, total: int, number: int = number) -> None:
            part = (number + (done / total if total else 1)) / max(1, len(courses))
            bar.step("courses", part, f"Course {number + 1} of {len(courses)}")

        write_course_archive(
            school=school,
            course=course,
            zf=zf,
            prefix=folder,
            include_sources=include_videos,
            progress=course_progress,
        )
        course_entries.append(
            {"slug": course.slug, "title": course.title, "status": course.status, "path": folder}
        )
    counts["courses"] = len(courses)

    bar.step("students", 0, gettext_noop("Students and their progress"))
    counts.update(_people(school, zf))
    bar.step("codes", 0, gettext_noop("Access codes"))
    counts.update(_codes(school, zf, codes, passphrase))
    bar.step("quizzes", 0, gettext_noop("Quiz attempts"))
    counts["quiz_attempts"] = _attempts(school, zf)
    bar.step("certificates", 0, gettext_noop("Certificates"))
    counts["certificates"] = _certificates(school, zf)
    bar.step("pages", 0, gettext_noop("Pages and theme"))
    counts["pages"] = _pages(school, zf)
    bar.step("audit", 0, gettext_noop("Audit log"))
    counts["audit_log_entries"] = _audit(school, zf)
    bar.step("school", 0, gettext_noop("Finishing"))
    summary = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "school": {
            "name": school.name,
            "slug": school.slug,
            "time_zone": school.time_zone,
            "plan": school.plan.code,
            "created_at": _iso(school.created_at),
        },
        "courses": course_entries,
        "counts": counts,
        "access_codes": codes,
        "video_sources": include_videos,
    }
    _entry(zf, "school.json", _json(summary))
    _entry(zf, "README.txt", _readme(school, codes).encode("utf-8"))
    return summary


def _people(school: School, zf: zipfile.ZipFile) -> dict[str, int]:
    users = User.objects.filter(school=school).order_by("pk")
    _entry(
        zf,
        "students.csv",
        _csv(
            ["email", "name", "role", "joined", "email_verified", "active"],
            (
                (
                    u.email,
                    u.full_name,
                    u.role,
                    _iso(u.date_joined),
                    _iso(u.email_verified_at),
                    "yes" if u.is_active else "no",
                )
                for u in users.iterator()
            ),
        ),
    )
    lessons_per_course = dict(
        Course.objects.filter(school=school).annotate(n=Count("lessons")).values_list("pk", "n")
    )
    completed = {
        (row["student_id"], row["course_id"]): row["n"]
        for row in LessonProgress.objects.filter(school=school, completed_at__isnull=False)
        .values("student_id", "course_id")
        .annotate(n=Count("id"))
    }
    enrollments = (
        Enrollment.objects.filter(school=school)
        .select_related("student", "course", "last_lesson")
        .order_by("pk")
    )
    enrollment_rows = []
    for e in enrollments.iterator():
        total = lessons_per_course.get(e.course_id, 0)
        done = completed.get((e.student_id, e.course_id), 0)
        enrollment_rows.append(
            (
                e.student.email,
                e.course.slug,
                e.source,
                _iso(e.created_at),
                _iso(e.last_activity_at),
                e.last_lesson.title if e.last_lesson else "",
                done,
                total,
                round(100 * done / total) if total else 0,
            )
        )
    _entry(
        zf,
        "enrolments.csv",
        _csv(
            [
                "student_email",
                "course_slug",
                "source",
                "enrolled_at",
                "last_activity_at",
                "last_lesson",
                "lessons_completed",
                "lessons",
                "percent_complete",
            ],
            enrollment_rows,
        ),
    )
    progress = (
        LessonProgress.objects.filter(school=school)
        .select_related("student", "course", "lesson__section")
        .order_by("student_id", "course_id", "lesson__section__position", "lesson__position")
    )
    progress_rows = [
        (
            p.student.email,
            p.course.slug,
            p.lesson.section.position + 1,
            p.lesson.position + 1,
            p.lesson.title,
            _iso(p.completed_at),
            p.last_position_seconds,
            _iso(p.updated_at),
        )
        for p in progress.iterator()
    ]
    _entry(
        zf,
        "progress.csv",
        _csv(
            [
                "student_email",
                "course_slug",
                "section_number",
                "lesson_number",
                "lesson_title",
                "completed_at",
                "video_position_seconds",
                "updated_at",
            ],
            progress_rows,
        ),
    )
    return {
        "people": users.count(),
        "enrolments": len(enrollment_rows),
        "lesson_progress": len(progress_rows),
    }


def _codes(school: School, zf: zipfile.ZipFile, codes: str, passphrase: str) -> dict[str, int]:
    batches = list(AccessCodeBatch.objects.filter(school=school).prefetch_related("courses"))
    _entry(
        zf,
        "access_code_batches.csv",
        _csv(
            ["batch", "courses", "uses_per_code", "codes", "expires_at", "revoked_at", "note"],
            (
                (
                    b.name,
                    " ".join(c.slug for c in b.courses.all()),
                    b.uses_per_code,
                    b.code_count,
                    _iso(b.expires_at),
                    _iso(b.revoked_at),
                    b.note,
                )
                for b in batches
            ),
        ),
    )
    redemptions = (
        Redemption.objects.filter(school=school)
        .select_related("code__batch", "student")
        .order_by("pk")
    )
    _entry(
        zf,
        "redemptions.csv",
        _csv(
            ["batch", "student_email", "redeemed_at"],
            ((r.code.batch.name, r.student.email, _iso(r.created_at)) for r in redemptions),
        ),
    )
    if codes == "none":
        return {"access_code_batches": len(batches), "access_codes": 0}
    rows = []
    for code in AccessCode.objects.filter(school=school).select_related("batch").order_by("pk"):
        rows.append(
            (
                code.batch.name,
                access_codes.format_code(access_codes.decrypt_code(code.ciphertext)),
                code.max_uses,
                code.uses_count,
                _iso(code.expires_at),
                _iso(code.revoked_at),
            )
        )
    body = _csv(["batch", "code", "max_uses", "uses", "expires_at", "revoked_at"], rows)
    if codes == "encrypted":
        _entry(zf, "access_codes.csv.enc", codes_crypto.encrypt(body, passphrase))
    else:
        _entry(zf, "access_codes.csv", body)
    return {"access_code_batches": len(batches), "access_codes": len(rows)}


def _attempts(school: School, zf: zipfile.ZipFile) -> int:
    attempts = (
        Attempt.objects.filter(school=school)
        .select_related("quiz__lesson", "quiz__course", "student")
        .order_by("pk")
    )
    rows = [
        (
            a.student.email,
            a.quiz.course.slug,
            a.quiz.lesson.title,
            a.number,
            _iso(a.started_at),
            _iso(a.submitted_at),
            a.correct_count,
            a.question_count,
            "" if a.score is None else a.score,
            "" if a.passed is None else ("yes" if a.passed else "no"),
            json.dumps(a.answers, ensure_ascii=False),
        )
        for a in attempts.iterator()
    ]
    _entry(
        zf,
        "quiz_attempts.csv",
        _csv(
            [
                "student_email",
                "course_slug",
                "quiz_lesson",
                "attempt",
                "started_at",
                "submitted_at",
                "correct",
                "questions",
                "score_percent",
                "passed",
                "answers_json",
            ],
            rows,
        ),
    )
    return len(rows)


def _certificates(school: School, zf: zipfile.ZipFile) -> int:
    certificates = (
        Certificate.objects.filter(school=school).select_related("course", "student").order_by("pk")
    )
    rows = [
        (
            c.code,
            c.student.email,
            c.student_name,
            c.course.slug,
            c.course_title,
            c.title,
            _iso(c.issued_at),
            _iso(c.revoked_at),
            c.revoked_reason,
        )
        for c in certificates.iterator()
    ]
    _entry(
        zf,
        "certificates.csv",
        _csv(
            [
                "code",
                "student_email",
                "student_name",
                "course_slug",
                "course_title",
                "title",
                "issued_at",
                "revoked_at",
                "revoked_reason",
            ],
            rows,
        ),
    )
    return len(rows)


def _pages(school: School, zf: zipfile.ZipFile) -> int:
    pages = list(Page.objects.filter(school=school).order_by("nav_order", "pk"))
    for page in pages:
        _entry(
            zf,
            f"pages/{page.slug}.json",
            _json(
                {
                    "slug": page.slug,
                    "title": page.title,
                    "status": page.status,
                    "is_home": page.is_home,
                    "show_in_nav": page.show_in_nav,
                    "nav_order": page.nav_order,
                    "published_at": _iso(page.published_at),
                    "published": {"html": page.published_html, "css": page.published_css},
                    "draft": {
                        "html": page.draft_html,
                        "css": page.draft_css,
                        "project": page.draft_project,
                    },
                }
            ),
        )
    theme = Theme.objects.filter(school=school).first()
    if theme is not None:
        files: dict[str, str] = {}
        for name, key in (("logo", theme.logo_key), ("favicon", theme.favicon_key)):
            if key and default_storage.exists(key):
                path = f"theme/{name}.{key.rsplit('.', 1)[-1].lower()}"
                with default_storage.open(key, "rb") as source:
                    _entry(zf, path, source.read())
                files[name] = path
        _entry(
            zf,
            "theme.json",
            _json(
                {
                    "primary_color": theme.primary_color,
                    "accent_color": theme.accent_color,
                    "background_color": theme.background_color,
                    "text_color": theme.text_color,
                    "heading_font": theme.heading_font,
                    "body_font": theme.body_font,
                    "button_shape": theme.button_shape,
                    **files,
                }
            ),
        )
    return len(pages)


def _audit(school: School, zf: zipfile.ZipFile) -> int:
    entries = AuditLog.objects.filter(school=school).order_by("id")
    body = _csv(
        ["time_utc", "actor", "action", "target_type", "target_id", "ip", "details"],
        audit_csv_rows(entries),
    )
    _entry(zf, "audit_log.csv", body)
    return entries.count()


def _readme(school: School, codes: str) -> str:
    codes_line = {
        "plain": "access_codes.csv         every code in plain text (keep this file private)",
        "encrypted": (
            "access_codes.csv.enc     every code, encrypted with the passphrase you chose;\n"
            f"                         decrypt with: {codes_crypto.OPENSSL_COMMAND}"
        ),
        "none": "(access codes were left out of this export)",
    }[codes]
    return f"""Export of {school.name} ({school.slug})

school.json              format, version, when, the school, what is in here (counts)
courses/<slug>/          one course archive each: manifest.json and its files (the same
                         format as a single course export; it can be imported as one)
students.csv             every account: email, name, role, joined, verified, active
enrolments.csv           who is enrolled where, since when, how far (lessons and percent)
progress.csv             every lesson a student started or completed
quiz_attempts.csv        every quiz attempt with its score and answers
certificates.csv         every certificate issued (code, student, course, revoked)
access_code_batches.csv  code batches: courses, uses per code, expiry
redemptions.csv          who redeemed a code of which batch, when
{codes_line}
pages/<slug>.json        every page: published and draft HTML/CSS, builder project
theme.json, theme/       colours, fonts, logo
audit_log.csv            the school's audit log, oldest first
"""
