"""Demo data for `make demo`: school `demo` with an owner, a student partway through
a sample course, and an access-code batch with one code printed for a newcomer."""

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand

from courseplatform.access.codes import decrypt_code, format_code
from courseplatform.access.models import AccessCode, AccessCodeBatch
from courseplatform.access.services import create_batch
from courseplatform.accounts.models import User
from courseplatform.accounts.services import register_user
from courseplatform.courses import services as courses
from courseplatform.courses.models import Course, Enrollment, Lesson
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context
from courseplatform.tenancy.selectors import school_url
from courseplatform.tenancy.services import create_school

DEMO_SLUG = "demo"
OWNER_EMAIL = "owner@demo.example"
OWNER_PASSWORD = "demo-owner-pass-2026"
STUDENT_EMAIL = "student@demo.example"
STUDENT_PASSWORD = "demo-student-pass-2026"
COURSE_TITLE = "Watercolour for Beginners"
BATCH_NAME = "Demo codes"

LESSONS = [
    (
        "Before you start",
        [
            (
                "Welcome to the course",
                True,
                "Welcome! In this course you will paint **five small pictures**, one per lesson.\n\n"
                "- Work at your own pace\n- Mark each lesson complete when you are done\n"
                "- Download the supplies list below",
            ),
            (
                "Paper, paint and brushes",
                False,
                "## What you need\n\nCold-pressed paper (300 g/m²), a round brush size 8 and a "
                "small palette of *three* colours is plenty.\n\n> Cheap paper is the most common "
                "reason beginners give up. Buy good paper, cheap everything else.",
            ),
        ],
    ),
    (
        "First paintings",
        [
            (
                "Flat and graded washes",
                False,
                "Load the brush, tilt the board, and pull the bead of paint down the page.\n\n"
                "1. Flat wash\n2. Graded wash\n3. Variegated wash",
            ),
            (
                "Wet-in-wet skies",
                False,
                "Wet the paper first, then drop in colour and *let the water do the work*.",
            ),
        ],
    ),
]

SUPPLIES = (
    "Watercolour supplies\n====================\n\n"
    "- Cold-pressed paper, 300 g/m2\n- Round brush, size 8\n"
    "- Ultramarine, burnt sienna, lemon yellow\n- Two water jars\n- Paper towels\n"
)


class Command(BaseCommand):
    help = "Create (idempotently) the demo school and print its credentials and a code."

    def handle(self, *args: Any, **options: Any) -> None:
        school = School.objects.filter(slug=DEMO_SLUG).first()
        if school is None:
            school = create_school(
                slug=DEMO_SLUG,
                name="Demo Academy",
                owner_email=OWNER_EMAIL,
                owner_password=OWNER_PASSWORD,
                owner_name="Dana Owner",
                plan_code="premium",
            ).school
        with school_context(school):
            owner = User.objects.get(school=school, email=OWNER_EMAIL)
            student = User.objects.filter(school=school, email=STUDENT_EMAIL).first()
            if student is None:
                student = register_user(
                    school=school,
                    email=STUDENT_EMAIL,
                    password=STUDENT_PASSWORD,
                    full_name="Sam Student",
                )
            course = Course.objects.filter(school=school, title=COURSE_TITLE).first()
            if course is None:
                course = self._sample_course(school, owner, student)
            code = self._unused_code(school, owner, course)
        self.stdout.write(self.style.SUCCESS("Demo school ready:"))
        self.stdout.write(f"  site:     {school_url(school, '/')}")
        self.stdout.write(f"  owner:    {OWNER_EMAIL} / {OWNER_PASSWORD}")
        self.stdout.write(f"            manage at {school_url(school, '/manage/')}")
        self.stdout.write(f"  student:  {STUDENT_EMAIL} / {STUDENT_PASSWORD}")
        self.stdout.write(
            f"  code:     {code}  (sign up as a new student, then redeem it at "
            f"{school_url(school, '/redeem/')})"
        )

    def _sample_course(self, school: School, owner: User, student: User) -> Course:
        course = courses.create_course(
            school=school,
            actor=owner,
            title=COURSE_TITLE,
            subtitle="Paint loose, luminous landscapes in five short lessons.",
            description_md="A gentle, practical introduction to watercolour. No drawing "
            "skills needed: just paper, three colours and curiosity.",
        )
        lessons: list[Lesson] = []
        for section_title, items in LESSONS:
            section = courses.add_section(
                school=school, actor=owner, course=course, title=section_title
            )
            for title, preview, body in items:
                lesson = courses.add_lesson(
                    school=school, actor=owner, section=section, title=title
                )
                courses.update_lesson(
                    school=school,
                    actor=owner,
                    lesson=lesson,
                    title=title,
                    kind=Lesson.Kind.TEXT,
                    body_md=body,
                    is_preview=preview,
                    duration_minutes=8,
                )
                lessons.append(lesson)
        courses.add_attachment(
            school=school,
            actor=owner,
            lesson=lessons[1],
            upload=SimpleUploadedFile("supplies-list.txt", SUPPLIES.encode(), "text/plain"),
        )
        courses.set_course_status(school=school, actor=owner, course=course, publish=True)
        courses.enroll_student(
            school=school,
            actor=owner,
            course=course,
            student=student,
            source=Enrollment.Source.MANUAL,
        )
        courses.set_lesson_completed(school=school, student=student, lesson=lessons[0])
        courses.record_lesson_visit(school=school, student=student, lesson=lessons[1])
        return course

    def _unused_code(self, school: School, owner: User, course: Course) -> str:
        batch = AccessCodeBatch.objects.filter(school=school, name=BATCH_NAME).first()
        if batch is None:
            return create_batch(
                school=school,
                actor=owner,
                name=BATCH_NAME,
                course_ids=[course.pk],
                code_count=20,
                uses_per_code=1,
                note="Created by make demo",
            ).codes[0]
        unused = AccessCode.objects.filter(
            school=school, batch=batch, uses_count=0, revoked_at__isnull=True
        ).first()
        if unused is None:
            return create_batch(
                school=school,
                actor=owner,
                name=f"{BATCH_NAME} (more)",
                course_ids=[course.pk],
                code_count=20,
            ).codes[0]
        return format_code(decrypt_code(unused.ciphertext))
