"""Access codes: a redemption burst against PostgreSQL.

K threads (one database connection each, like K web workers) redeem distinct
single-use codes of one batch as distinct students, as fast as they can, and a
second burst has everyone race for ONE many-use code (the row every request
locks). The baseline in the same run is the same threads enrolling the same
number of students directly (``enroll_student``: one insert, no code), so the
ratio shows what the code path (digest lookup, conditional UPDATE, redemption
row, audit entry) costs. Counts are bounded; nothing here is asserted.
"""

from __future__ import annotations

import contextlib
import functools
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

TITLE = "Access codes: redemption burst"

THREADS = 8
PER_THREAD = 25  # 200 redemptions per burst


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _burst(school: Any, jobs: list[Callable[[], None]]) -> tuple[float, list[float], int]:
    """Run ``jobs`` split over THREADS threads; return wall time, latencies, failures.

    The threads connect first and start together (``run_together``); the wall time
    runs from the first job's start to the last one's end, connecting excluded.
    """
    from tests.fixtures.concurrency import run_together

    latencies: list[float] = []
    spans: list[tuple[float, float]] = []
    failures = 0
    lock = threading.Lock()
    chunks = [jobs[i::THREADS] for i in range(THREADS)]

    def worker(chunk: list[Callable[[], None]]) -> None:
        nonlocal failures
        began = time.perf_counter()
        for job in chunk:
            started = time.perf_counter()
            try:
                job()
            except Exception:
                with lock:
                    failures += 1
                continue
            with lock:
                latencies.append(time.perf_counter() - started)
        with lock:
            spans.append((began, time.perf_counter()))

    run_together(school, [functools.partial(worker, chunk) for chunk in chunks])
    wall = max(end for _, end in spans) - min(begin for begin, _ in spans)
    return wall, latencies, failures


def run() -> str:
    from courseplatform.access.models import AccessCode, Redemption
    from courseplatform.access.services import RedeemError, create_batch, redeem_code
    from courseplatform.accounts.models import User
    from courseplatform.courses.models import Enrollment
    from courseplatform.courses.services import (
        add_lesson,
        add_section,
        create_course,
        enroll_student,
    )
    from courseplatform.onboarding.services import create_school
    from courseplatform.tenancy.rls import school_context

    total = THREADS * PER_THREAD
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    created = create_school(
        slug=slug,
        name="Bench School",
        owner_email=f"o@{slug}.test",
        owner_password="a-long-bench-passphrase-42",
        owner_name="Owner",
        plan_code="enterprise",
    )
    school, owner = created.school, created.owner
    with school_context(school):
        course = create_course(school=school, actor=owner, title="Bench course")
        plain_course = create_course(school=school, actor=owner, title="Baseline course")
        section = add_section(school=school, actor=owner, course=course, title="S")
        add_lesson(school=school, actor=owner, section=section, title="L")
        single = create_batch(
            school=school, actor=owner, name="Single-use", course_ids=[course.pk], code_count=total
        ).codes
        shared = create_batch(
            school=school,
            actor=owner,
            name="Shared",
            course_ids=[course.pk],
            code_count=1,
            uses_per_code=total // 2,
        ).codes[0]
        students = User.objects.bulk_create(
            [
                User(school=school, email=f"s{i}@{slug}.test", full_name=f"S{i}", password="!")
                for i in range(total * 2)
            ]
        )
    first, second = students[:total], students[total:]

    def redeem(student: Any, code: str) -> Callable[[], None]:
        return lambda: redeem_code(school=school, student=student, raw_code=code, ip="127.0.0.1")

    def enrol(student: Any) -> Callable[[], None]:
        return lambda: enroll_student(
            school=school,
            actor=owner,
            course=plain_course,
            student=student,
            source=Enrollment.Source.MANUAL,
        )

    base_wall, base_lat, base_fail = _burst(school, [enrol(s) for s in first])
    wall, lat, fail = _burst(school, [redeem(s, c) for s, c in zip(first, single, strict=True)])

    def race(student: Any) -> Callable[[], None]:
        def job() -> None:
            # "fully used" is an expected answer once the uses run out
            with contextlib.suppress(RedeemError):
                redeem_code(school=school, student=student, raw_code=shared, ip="127.0.0.1")

        return job

    race_wall, race_lat, race_fail = _burst(school, [race(s) for s in second])
    with school_context(school):
        shared_row = AccessCode.objects.get(school=school, batch__name="Shared")
        race_ok = Redemption.objects.filter(school=school, code=shared_row).count()

    def row(name: str, wall_s: float, samples: list[float], failures: int) -> str:
        rate = len(samples) / wall_s if wall_s else 0.0
        return (
            f"| {name} | {len(samples)} | {failures} | {rate:.0f}/s | "
            f"{statistics.median(samples) * 1000:.1f} ms | "
            f"{_percentile(samples, 95) * 1000:.1f} ms |"
        )

    ratio = (len(lat) / wall) / (len(base_lat) / base_wall) if base_wall and wall else 0.0
    return "\n".join(
        [
            f"{THREADS} threads, {total} operations per burst, PostgreSQL with row-level security.",
            "",
            "| burst | done | failed | throughput | p50 | p95 |",
            "|---|---:|---:|---:|---:|---:|",
            row("baseline: direct enrolment", base_wall, base_lat, base_fail),
            row("redeem distinct single-use codes", wall, lat, fail),
            row(f"race for one {total // 2}-use code", race_wall, race_lat, race_fail),
            "",
            f"Redemption throughput vs direct enrolment: **{ratio:.2f}x**.",
            f"The shared code was redeemed exactly **{race_ok}** times "
            f"(uses: {total // 2}, attempts: {total}).",
        ]
    )
