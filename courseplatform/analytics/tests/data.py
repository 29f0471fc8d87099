"""A small school with known analytics figures (shared by the unit and browser tests).

School "alpha" after ``seed_known``:

* "Alpha Course" (4 lessons L1..L4, the owner teaches it) and "Beta Course" (2 lessons,
  taught by the instructor Ina);
* s1, s2, s3 enrolled in Alpha by hand; s4 in Beta; s5 redeemed one of the four
  single-use codes of batch "Spring promo" (Alpha) today; Ina's batch "Beta batch" (2
  codes, Beta) has no redemption;
* enrolled on: s1 and s2 two days ago, s3 forty days ago, s4 yesterday, s5 today;
* last active: s1 one day ago, s2 ten days ago, s3 sixty days ago, s4 three days ago,
  s5 never;
* progress: s1 completed L1..L4, s2 L1 and L2, s3 opened L1; s4 completed Beta;
* watch time (Alpha): L1 600 s yesterday, L2 120 s five days ago, L1 999 s fifty days ago.

So over the default range (last 30 days) the owner sees: 4 new enrolments, 5 students,
2 active in 7 days, 3 in 30; Alpha 1 of 4 completed (25 %), Beta 1 of 1 (100 %); Alpha's
funnel opened/completed 3/2, 2/2, 1/1, 1/1; watched 600, 120, 0, 0; Spring promo 1 of
4 uses (25 %), redeemed in range 1; Beta batch 0 %.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from django.utils import timezone

from courseplatform.access.services import create_batch, redeem_code
from courseplatform.accounts.models import User
from courseplatform.courses import services as course_services
from courseplatform.courses.models import Enrollment, LessonProgress
from courseplatform.courses.tests.test_student_views import build_course, enroll, new_user
from courseplatform.tenancy.rls import school_context
from courseplatform.video.models import WatchTime


def seed_known(school: Any, owner: User, *, prefix: str = "Alpha") -> SimpleNamespace:
    now = timezone.now()
    today = now.date()
    alpha = build_course(school, owner, title=f"{prefix} Course", sections=2, per_section=2)
    beta = build_course(school, owner, title="Beta Course", sections=1, per_section=2)
    slug = school.slug
    ina = new_user(school, f"ina@{slug}.test", name="Ina Instructor", role=User.Role.INSTRUCTOR)
    students = [new_user(school, f"s{n}@{slug}.test", name=f"Student {n}") for n in range(1, 6)]
    s1, s2, s3, s4, s5 = students
    with school_context(school):
        course_services.set_course_instructor(
            school=school, actor=owner, course=beta.course, user=ina, teaching=True
        )
        course_services.set_course_instructor(
            school=school, actor=owner, course=beta.course, user=owner, teaching=False
        )
    enroll(school, owner, alpha.course, s1, s2, s3)
    enroll(school, owner, beta.course, s4)
    with school_context(school):
        for lesson in alpha.lessons:
            course_services.set_lesson_completed(school=school, student=s1, lesson=lesson)
        for lesson in alpha.lessons[:2]:
            course_services.set_lesson_completed(school=school, student=s2, lesson=lesson)
        LessonProgress.objects.create(
            school=school, student=s3, lesson=alpha.lessons[0], course=alpha.course
        )
        for lesson in beta.lessons:
            course_services.set_lesson_completed(school=school, student=s4, lesson=lesson)
        promo = create_batch(
            school=school,
            actor=owner,
            name="Spring promo",
            course_ids=[alpha.course.pk],
            code_count=4,
        )
        create_batch(
            school=school, actor=ina, name="Beta batch", course_ids=[beta.course.pk], code_count=2
        )
        redeem_code(school=school, student=s5, raw_code=promo.codes[0])
        when = {
            s1: (now - timedelta(days=2), now - timedelta(days=1)),
            s2: (now - timedelta(days=2), now - timedelta(days=10)),
            s3: (now - timedelta(days=40), now - timedelta(days=60)),
            s4: (now - timedelta(days=1), now - timedelta(days=3)),
            s5: (now, None),
        }
        for student, (created, active) in when.items():
            Enrollment.objects.filter(school=school, student=student).update(
                created_at=created, last_activity_at=active
            )
        lessons = alpha.lessons
        for lesson, day, seconds in (
            (lessons[0], today - timedelta(days=1), 600),
            (lessons[1], today - timedelta(days=5), 120),
            (lessons[0], today - timedelta(days=50), 999),
        ):
            WatchTime.objects.create(
                school=school,
                lesson=lesson,
                course_id=lesson.course_id,
                day=day,
                seconds=seconds,
                beats=1,
            )
    return SimpleNamespace(
        alpha=alpha,
        beta=beta,
        ina=ina,
        students=students,
        promo=promo,
    )


def add_bulk(school: Any, owner: User, *, courses: int, students: int, tag: str) -> None:
    """More of everything (for the two-data-size query-count test): courses with lessons,
    students enrolled in all of them with some progress, batches, watch time."""
    built = [
        build_course(school, owner, title=f"{tag} {n}", sections=2, per_section=3)
        for n in range(courses)
    ]
    people = [
        new_user(school, f"{tag.lower()}{n}@{school.slug}.test", name=f"{tag} person {n}")
        for n in range(students)
    ]
    for item in built:
        enroll(school, owner, item.course, *people)
    today = timezone.now().date()
    with school_context(school):
        for n, person in enumerate(people):
            for lesson in built[0].lessons[: n % 4 + 1]:
                course_services.set_lesson_completed(school=school, student=person, lesson=lesson)
        for item in built:
            create_batch(
                school=school,
                actor=owner,
                name=f"{item.course.title} codes",
                course_ids=[item.course.pk],
                code_count=3,
            )
            for lesson in item.lessons:
                WatchTime.objects.create(
                    school=school,
                    lesson=lesson,
                    course_id=lesson.course_id,
                    day=today,
                    seconds=60,
                    beats=1,
                )
