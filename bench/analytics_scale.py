"""Analytics at scale: one school of 10,000 students, the page's figures and a refresh timed.

Creates a new school (slug bench-<random>) with STUDENTS students (default 10,000), five
courses of 20 lessons, two enrolments per student with random progress, and a year of
daily watch time; then times ``refresh_school`` and ``build_report`` (30 and 366 days)
and prints their query counts. For a scratch database only (README "Analytics"):

    DB=cp_analytics_scale; export DATABASE_URL=postgres://cp_app@127.0.0.1/$DB \
      DATABASE_OWNER_URL=postgres://cp_owner@127.0.0.1/$DB \
      DATABASE_PLATFORM_URL=postgres://cp_platform@127.0.0.1/$DB PYTHONPATH=$PWD
    .venv/bin/python scripts/pg_roles.py --recreate && .venv/bin/python manage.py migrate
    .venv/bin/python bench/analytics_scale.py
"""

import os
import random
import secrets
import time
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseplatform.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from courseplatform.accounts.models import User  # noqa: E402
from courseplatform.analytics.ranges import parse_range  # noqa: E402
from courseplatform.analytics.report import build_report  # noqa: E402
from courseplatform.analytics.rollups import refresh_school  # noqa: E402
from courseplatform.analytics.selectors import scope_for  # noqa: E402
from courseplatform.courses.models import Course, Enrollment, Lesson, LessonProgress, Section  # noqa: E402
from courseplatform.onboarding.services import create_school  # noqa: E402
from courseplatform.tenancy.rls import school_context  # noqa: E402
from courseplatform.video.models import WatchTime  # noqa: E402

STUDENTS = int(os.environ.get("STUDENTS", "10000"))
COURSES, LESSONS = 5, 20
slug = f"bench-{secrets.token_hex(3)}"
created = create_school(
    slug=slug,
    name="Bench",
    owner_email=f"o@{slug}.test",
    owner_password="a-long-test-passphrase-42",
    owner_name="O",
    plan_code="enterprise",
)
school, owner = created.school, created.owner
rnd = random.Random(1)
now = timezone.now()
t0 = time.monotonic()
with school_context(school):
    users = User.objects.bulk_create(
        [
            User(
                school=school,
                email=f"s{i}@{slug}.test",
                full_name=f"S {i}",
                role="student",
                password="!",
            )
            for i in range(STUDENTS)
        ],
        batch_size=2000,
    )
    courses, lessons = [], {}
    for c in range(COURSES):
        course = Course.objects.create(
            school=school, title=f"Course {c}", slug=f"c{c}", status="published"
        )
        section = Section.objects.create(school=school, course=course, title="S", position=1)
        lessons[course.pk] = Lesson.objects.bulk_create(
            [
                Lesson(school=school, course=course, section=section, title=f"L{n}", position=n)
                for n in range(LESSONS)
            ]
        )
        courses.append(course)
    enrolments, progress, watch = [], [], []
    for u in users:
        for course in rnd.sample(courses, 2):
            enrolments.append(
                Enrollment(
                    school=school,
                    student=u,
                    course=course,
                    source="manual",
                    last_activity_at=now - timedelta(days=rnd.randint(0, 90)),
                )
            )
            depth = rnd.randint(0, LESSONS)
            for lesson in lessons[course.pk][:depth]:
                progress.append(
                    LessonProgress(
                        school=school, student=u, lesson=lesson, course=course, completed_at=now
                    )
                )
    Enrollment.objects.bulk_create(enrolments, batch_size=5000)
    Enrollment.objects.update(created_at=now - timedelta(days=1))
    LessonProgress.objects.bulk_create(progress, batch_size=5000)
    for course in courses:
        for lesson in lessons[course.pk]:
            for d in range(365):
                watch.append(
                    WatchTime(
                        school=school,
                        lesson=lesson,
                        course=course,
                        day=(now - timedelta(days=d)).date(),
                        seconds=600,
                        beats=10,
                    )
                )
    WatchTime.objects.bulk_create(watch, batch_size=5000)
print(
    f"seeded {STUDENTS} students, {len(enrolments)} enrolments, {len(progress)} progress rows, "
    f"{len(watch)} watch rows in {time.monotonic() - t0:.1f}s"
)
connection.close()
with school_context(school):
    t = time.monotonic()
    with CaptureQueriesContext(connection) as rctx:
        r = refresh_school(school=school)
    print(f"refresh_school: {time.monotonic() - t:.2f}s ({r.courses} courses, {r.lessons} lessons)")
    for q in sorted(rctx.captured_queries, key=lambda q: -float(q["time"]))[:4]:
        print("  ", q["time"], q["sql"][:160])
    for label, params in (
        ("30 days", {}),
        (
            "366 days",
            {
                "start": (now - timedelta(days=365)).date().isoformat(),
                "end": now.date().isoformat(),
            },
        ),
    ):
        for _attempt in range(3):  # the last of three runs (warm caches)
            scope = scope_for(school=school, user=owner)
            with CaptureQueriesContext(connection) as ctx:
                t = time.monotonic()
                rep = build_report(scope=scope, rng=parse_range(params), course_id=courses[0].pk)
                elapsed = time.monotonic() - t
        slowest = sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:3]
        print(
            f"report {label}: {elapsed * 1000:.0f} ms, {len(ctx.captured_queries)} queries; "
            "slowest: " + ", ".join(f"{float(q['time']) * 1000:.0f} ms" for q in slowest)
        )
    print(
        "students",
        rep.activity.students,
        "active30",
        rep.activity.active_30,
        "completion",
        rep.tables["completion"].rows[0],
    )
