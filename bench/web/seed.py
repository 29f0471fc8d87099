"""Seeding many schools fast: a few *sample* schools built through the real services,
then *clones* of them inserted in bulk, straight into PostgreSQL.

Samples (``create_samples``) go through what the product runs: ``create_school`` (the
school, its owner, theme and published landing page), ``create_course``,
``add_section``/``add_lesson``/``update_lesson`` (Markdown rendered and sanitised),
``set_course_status``, and for the one student who logs in ``register_user``,
``enroll_student`` and ``set_lesson_completed``. Their other students, enrolments and
progress are ``bulk_create``d inside the school's RLS context (the runtime role, so
row-level security checks every row), with the learner's password hash: a service call
per row, and Argon2 per student, would take minutes on a busy 2-core machine.

Clones (``clone_schools``) copy a sample's rows with one ``INSERT … SELECT … CROSS
JOIN generate_series`` per table, run as the schema owner (``BYPASSRLS``): every row
gets its new school's id, and every key into a cloned table is shifted by the same
block offset as the row it points at, so a clone is a consistent school of its own
(``school_id`` on every row, as row-level security requires). Names, emails and page
titles are rewritten to the clone's slug (``school-<id>``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

SAMPLE_PASSWORD = "a-long-bench-passphrase-42"
LEARNER = "learner"  # local part of the student who logs in, in every school
CLONE_SLUG_PREFIX = "school-"


@dataclass(frozen=True)
class Shape:
    """The size of a sample school (a clone has the same shape)."""

    slug: str
    name: str
    plan: str
    published_courses: int
    draft_courses: int
    sections: int  # per course
    lessons: int  # per section
    students: int  # the learner included
    courses_per_student: int
    completed_per_enrolment: int
    weight: int  # share of the clones made from this sample


SHAPES: tuple[Shape, ...] = (
    # Most schools are small; the weights give 5:3:1 small:medium:large clones.
    Shape("sample-medium", "Watercolour Studio", "free", 2, 1, 3, 3, 25, 2, 3, weight=3),
    Shape("sample-small", "Sourdough Kitchen", "free", 1, 0, 2, 3, 8, 1, 2, weight=5),
    Shape("sample-large", "Data Academy", "premium", 4, 1, 3, 4, 60, 2, 5, weight=1),
)

TOPICS = [
    "Getting started", "Core ideas", "Practice", "Going further", "Projects", "Review",
]  # fmt: skip


def _lesson_markdown(course: str, section: str, number: int) -> str:
    return (
        f"## {section}: part {number}\n\n"
        f"In this lesson of *{course}* we work through one idea at a time. Read it once, "
        "then try the exercise before you look at the notes.\n\n"
        "- Prepare what you need before you start\n"
        "- Work in short, focused sessions\n"
        "- Write down one question for the next lesson\n\n"
        "> Small, regular practice beats one long weekend.\n\n"
        "1. Watch or read the example\n2. Repeat it slowly\n3. Change one thing and compare\n\n"
        "When you are done, press **Mark complete** to move on to the next lesson. "
        "Your progress is saved on *My courses*."
    )


@dataclass
class Sample:
    school_id: int
    slug: str
    shape: Shape


def create_samples(shapes: Sequence[Shape] = SHAPES) -> list[Sample]:
    """Build each sample school through the real services (needs a fresh database)."""
    from django.utils import timezone

    from courseplatform.accounts.models import User
    from courseplatform.accounts.services import register_user
    from courseplatform.courses import services as courses
    from courseplatform.courses.models import Enrollment, Lesson, LessonProgress
    from courseplatform.onboarding.services import create_school
    from courseplatform.tenancy.rls import school_context

    samples = []
    for shape in shapes:
        created = create_school(
            slug=shape.slug,
            name=shape.name,
            owner_email=f"owner@{shape.slug}.test",
            owner_password=SAMPLE_PASSWORD,
            owner_name=f"{shape.name} Owner",
            plan_code=shape.plan,
        )
        school, owner = created.school, created.owner
        with school_context(school):
            learner = register_user(
                school=school,
                email=f"{LEARNER}@{shape.slug}.test",
                password=SAMPLE_PASSWORD,
                full_name="Lee Learner",
            )
            others = User.objects.bulk_create(
                User(
                    school=school,
                    email=f"student{n}@{shape.slug}.test",
                    full_name=f"Student {n}",
                    role=User.Role.STUDENT,
                    password=learner.password,
                )
                for n in range(2, shape.students + 1)
            )
            students = [learner, *others]
            published = []
            for c in range(shape.published_courses + shape.draft_courses):
                title = f"{shape.name}: {TOPICS[c % len(TOPICS)]} {c + 1}"
                course = courses.create_course(
                    school=school,
                    actor=owner,
                    title=title,
                    subtitle=f"A practical course in {shape.sections * shape.lessons} lessons.",
                    description_md=(
                        f"**{title}** takes you from the basics to confident practice.\n\n"
                        "- Short lessons you can finish in a coffee break\n"
                        "- Exercises after every section\n- Lifetime access"
                    ),
                )
                lessons: list[Lesson] = []
                for s in range(shape.sections):
                    section_title = f"{TOPICS[s % len(TOPICS)]}"
                    section = courses.add_section(
                        school=school, actor=owner, course=course, title=section_title
                    )
                    for n in range(shape.lessons):
                        lesson = courses.add_lesson(
                            school=school,
                            actor=owner,
                            section=section,
                            title=f"{section_title}, lesson {n + 1}",
                        )
                        lessons.append(
                            courses.update_lesson(
                                school=school,
                                actor=owner,
                                lesson=lesson,
                                title=lesson.title,
                                kind=Lesson.Kind.TEXT,
                                body_md=_lesson_markdown(title, section_title, n + 1),
                                is_preview=(s == 0 and n == 0),
                                duration_minutes=5 + 3 * n,
                            )
                        )
                if c < shape.published_courses:
                    courses.set_course_status(
                        school=school, actor=owner, course=course, publish=True
                    )
                    published.append((course, lessons))
            now = timezone.now()
            enrolments, progress = [], []
            for i, student in enumerate(students):
                for j in range(min(shape.courses_per_student, len(published))):
                    course, lessons = published[(i + j) % len(published)]
                    # Students are at different points of their courses.
                    done = lessons[: (shape.completed_per_enrolment + i) % (len(lessons) + 1)]
                    if student is learner:  # the one who logs in: through the services
                        courses.enroll_student(
                            school=school,
                            actor=owner,
                            course=course,
                            student=student,
                            source=Enrollment.Source.MANUAL,
                        )
                        for lesson in done:
                            courses.set_lesson_completed(
                                school=school, student=student, lesson=lesson
                            )
                        continue
                    enrolments.append(
                        Enrollment(
                            school=school,
                            student=student,
                            course=course,
                            source=Enrollment.Source.CODE,
                            last_activity_at=now if done else None,
                            last_lesson=done[-1] if done else None,
                        )
                    )
                    progress += [
                        LessonProgress(
                            school=school,
                            student=student,
                            lesson=lesson,
                            course=course,
                            completed_at=now,
                        )
                        for lesson in done
                    ]
            Enrollment.objects.bulk_create(enrolments)
            LessonProgress.objects.bulk_create(progress)
        samples.append(Sample(school_id=school.pk, slug=school.slug, shape=shape))
    return samples


# --- cloning ---------------------------------------------------------------------------

# Tables copied from a sample to its clones, with what each text column becomes.
# ``{name}``/``{new_name}``: the sample's and the clone's school names (SQL expressions).
CLONED_MODELS: tuple[str, ...] = (
    "tenancy.School",
    "accounts.User",
    "school_sites.Theme",
    "school_sites.Page",
    "school_sites.PageRevision",
    "courses.Course",
    "courses.CourseInstructor",
    "courses.Section",
    "courses.Lesson",
    "courses.Enrollment",
    "courses.LessonProgress",
)
RENAMED_COLUMNS: dict[str, tuple[str, ...]] = {
    "school_sites.Page": ("title", "draft_html", "published_html"),
    "school_sites.PageRevision": ("html",),
}


@dataclass
class CloneStats:
    schools: int = 0
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)


def clone_plan(weights: dict[int, int], total: int) -> dict[int, int]:
    """How many clones each sample gets: ``total`` in the samples' weights (the
    remainder goes to the heaviest)."""
    if total <= 0:
        return dict.fromkeys(weights, 0)
    weight_sum = sum(weights.values())
    plan = {sid: total * w // weight_sum for sid, w in weights.items()}
    leftover = total - sum(plan.values())
    for sid in sorted(weights, key=lambda s: -weights[s])[:leftover]:
        plan[sid] += 1
    return {sid: plan[sid] for sid in weights}


def _models() -> list[Any]:
    from django.apps import apps

    return [apps.get_model(label) for label in CLONED_MODELS]


def clone_schools(*, samples: Sequence[Sample], total: int, using: str = "owner") -> CloneStats:
    """Insert ``total`` clones of the samples (in their weights) in one transaction."""
    from django.db import connections, transaction

    stats = CloneStats()
    started = time.perf_counter()
    plan = clone_plan({s.school_id: s.shape.weight for s in samples}, total)
    models = _models()
    tables = {m._meta.db_table for m in models}
    connection = connections[using]
    quote = connection.ops.quote_name
    with transaction.atomic(using=using), connection.cursor() as cursor:
        foreign_keys = _drop_foreign_keys(cursor, sorted(tables))
        for sample in samples:
            count = plan[sample.school_id]
            if count <= 0:
                continue
            # Block layout of this batch: for each table, the sample's id range and where
            # the clones' ids start (after every existing row).
            layout: dict[str, tuple[int, int, int]] = {}  # table -> (min, span, base)
            for model in models:
                table = model._meta.db_table
                where = "id = %s" if table == "tenancy_school" else "school_id = %s"
                # Identifiers come from the models (quoted), values are parameters.
                cursor.execute(
                    f"SELECT min(id), max(id) FROM {quote(table)} WHERE {where}",  # noqa: S608
                    [sample.school_id],
                )
                low, high = cursor.fetchone()
                cursor.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {quote(table)}")  # noqa: S608
                (base,) = cursor.fetchone()
                if low is not None:
                    layout[table] = (low, high - low + 1, base)
            s_base = layout["tenancy_school"][2]
            new_school = f"({s_base} + k)"
            new_slug = f"'{CLONE_SLUG_PREFIX}' || {new_school}"
            for model in models:
                table = model._meta.db_table
                if table not in layout:
                    continue
                low, span, base = layout[table]
                columns, values = [], []
                for f in model._meta.concrete_fields:
                    column = f.column
                    columns.append(quote(column))
                    target = f.related_model._meta.db_table if f.is_relation else None
                    if f.primary_key:
                        values.append(f"{base} + k * {span} + (r.id - {low})")
                    elif table == "tenancy_school" and column == "slug":
                        values.append(new_slug)
                    elif table == "tenancy_school" and column == "name":
                        values.append(f"r.name || ' ' || {new_school}")
                    elif column == "school_id":
                        values.append(new_school)
                    elif table == "accounts_user" and column == "email":
                        values.append(
                            f"regexp_replace(r.email, '@.*$', '@' || {new_slug} || '.test')"
                        )
                    elif column in RENAMED_COLUMNS.get(model._meta.label, ()):
                        renamed = f"sample.name || ' ' || {new_school}"
                        values.append(f"replace(r.{quote(column)}, sample.name, {renamed})")
                    elif target is not None and target in layout:
                        t_low, t_span, t_base = layout[target]
                        values.append(
                            f"r.{quote(column)} - {t_low} + {t_base} + k * {t_span}"
                        )  # a NULL key stays NULL
                    elif target is not None and target in tables:
                        values.append("NULL")  # a cloned table the sample has no rows in
                    elif target is not None and target not in ("tenancy_plan",):
                        if not f.null:
                            raise ValueError(f"cannot clone {table}.{column} -> {target}")
                        values.append("NULL")  # e.g. a lesson's video: not cloned
                    else:
                        values.append(f"r.{quote(column)}")
                where = "r.id = %s" if table == "tenancy_school" else "r.school_id = %s"
                cursor.execute(  # every piece is a quoted model identifier or an integer
                    f"INSERT INTO {quote(table)} ({', '.join(columns)}) "  # noqa: S608
                    f"SELECT {', '.join(values)} FROM {quote(table)} r "
                    "CROSS JOIN generate_series(0, %s) AS k "
                    "CROSS JOIN (SELECT name FROM tenancy_school WHERE id = %s) AS sample "
                    f"WHERE {where}",
                    [count - 1, sample.school_id, sample.school_id],
                )
                stats.rows[table] = stats.rows.get(table, 0) + cursor.rowcount
            stats.schools += count
        _restore_foreign_keys(cursor, foreign_keys)
        for model in models:
            table = model._meta.db_table
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 1) FROM {quote(table)}))",
                [table],
            )
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {quote(model._meta.db_table)}")
    stats.seconds = time.perf_counter() - started
    return stats


def _drop_foreign_keys(cursor: Any, tables: list[str]) -> list[tuple[str, str, str]]:
    """Drop the foreign keys of ``tables`` for the bulk insert; returns their definitions.

    Django's keys are DEFERRABLE INITIALLY DEFERRED: checked row by row at COMMIT, which
    for a million rows takes minutes. Re-adding a key checks every row in one join
    (``_restore_foreign_keys``), in the same transaction: nothing unchecked is committed.
    """
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
        [tables],
    )
    keys = [(str(t), str(n), str(d)) for t, n, d in cursor.fetchall()]
    for table, name, _ in keys:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    return keys


def _restore_foreign_keys(cursor: Any, keys: list[tuple[str, str, str]]) -> None:
    for table, name, definition in keys:
        cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
