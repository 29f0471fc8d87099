"""Schools with a two-lesson course, an enrolled student and a certificate turned on."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from courseplatform.accounts.models import User
from courseplatform.certificates import services
from courseplatform.certificates.models import Certificate
from courseplatform.courses import services as courses
from courseplatform.courses.models import Course, Enrollment, Lesson
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context
from tests.fixtures.schools import host_of


@dataclass
class Setup:
    school: School
    owner: User
    student: User
    course: Course
    lessons: list[Lesson]

    @property
    def host(self) -> str:
        return host_of(self.school)

    def client(self, user: User | None = None, host: str | None = None) -> Client:
        client = Client(HTTP_HOST=host or self.host)
        if user is not None:
            with school_context(user.school_id):
                client.force_login(user)
        return client

    def complete_all(self, student: User | None = None) -> None:
        with school_context(self.school):
            for lesson in self.lessons:
                courses.set_lesson_completed(
                    school=self.school, student=student or self.student, lesson=lesson
                )

    def certificate(self, student: User | None = None) -> Certificate | None:
        with school_context(self.school):
            return Certificate.objects.filter(
                school=self.school, course=self.course, student=student or self.student
            ).first()

    def add_student(self, email: str, name: str = "Another Student") -> User:
        with school_context(self.school):
            student = User.objects.create_user(
                email,
                "a-long-test-passphrase-42",
                school=self.school,
                full_name=name,
                role=User.Role.STUDENT,
            )
            courses.enroll_student(
                school=self.school,
                actor=self.owner,
                course=self.course,
                student=student,
                source=Enrollment.Source.MANUAL,
            )
        return student


def png_upload(
    name: str = "signature.png", size: tuple[int, int] = (300, 90)
) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    for x in range(10, size[0] - 10):  # a "signature" stroke
        image.putpixel((x, size[1] // 2 + (x % 20) - 10), (20, 20, 80, 255))
    image.save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def build(make_school: Callable[..., Any], slug: str, *, enabled: bool = True) -> Setup:
    created = make_school(slug)
    school = created.school
    with school_context(school):
        owner = User.objects.get(school=school, role=User.Role.OWNER)
        student = User.objects.create_user(
            f"sam@{slug}.test",
            "a-long-test-passphrase-42",
            school=school,
            full_name="Sam Øster-Lee",
            role=User.Role.STUDENT,
        )
        course = courses.create_course(school=school, actor=owner, title="Watercolour Basics")
        section = courses.add_section(school=school, actor=owner, course=course, title="Start")
        lessons = [
            courses.add_lesson(school=school, actor=owner, section=section, title=title)
            for title in ("Brushes", "Colour mixing")
        ]
        courses.set_course_status(school=school, actor=owner, course=course, publish=True)
        courses.enroll_student(
            school=school,
            actor=owner,
            course=course,
            student=student,
            source=Enrollment.Source.MANUAL,
        )
        if enabled:
            services.update_settings(
                school=school,
                actor=owner,
                course=course,
                enabled=True,
                title="Certificate of Completion",
                signer_name="Ada Painter",
                signer_title="Lead instructor",
            )
    return Setup(school, owner, student, course, lessons)


@pytest.fixture
def alpha(make_school: Callable[..., Any]) -> Setup:
    return build(make_school, "alpha")


@pytest.fixture
def bravo(make_school: Callable[..., Any]) -> Setup:
    return build(make_school, "bravo")
