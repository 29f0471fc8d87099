"""Fixtures of the course archive tests: private local storage, and a course with one
of everything (cover, drip sections, Markdown text, attachments, a quiz, a video
lesson, certificate settings with a signature)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from courseplatform.accounts.models import User
from courseplatform.certificates import services as certificates
from courseplatform.courses import drip
from courseplatform.courses import services as courses
from courseplatform.courses.models import Course, Lesson
from courseplatform.quizzes import services as quizzes
from courseplatform.quizzes.services import OptionInput
from courseplatform.tenancy.rls import school_context
from tests.fixtures.schools import host_of

PDF_BYTES = b"%PDF-1.4\n% lesson notes\n" + b"x" * 2000
CSV_BYTES = b"name,score\nada,10\n"


def png_bytes(
    colour: tuple[int, int, int] = (79, 70, 229), size: tuple[int, int] = (64, 36)
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def local_storage(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """Local storage in a private dir, and a private temp work dir."""
    media = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media), "base_url": "/media/"},
        },
    }
    work = tmp_path / "work"
    work.mkdir()
    settings.VIDEO_WORK_DIR = str(work)
    yield media


@dataclass
class Rich:
    school: Any
    owner: User
    course: Course
    lessons: dict[str, Lesson]

    @property
    def host(self) -> str:
        return host_of(self.school)

    def client(self, user: User | None = None) -> Client:
        client = Client(HTTP_HOST=self.host)
        person = user or self.owner
        with school_context(person.school_id):
            client.force_login(person)
        return client


def build_rich_course(school: Any, owner: User, *, title: str = "Watercolour Basics") -> Rich:
    with school_context(school):
        course = courses.create_course(
            school=school,
            actor=owner,
            title=title,
            subtitle="Paint light with water",
            description_md="Learn **washes** and <em>glazes</em>.",
        )
        courses.set_course_cover(
            school=school,
            actor=owner,
            course=course,
            upload=SimpleUploadedFile("cover.png", png_bytes(), content_type="image/png"),
        )
        first = courses.add_section(school=school, actor=owner, course=course, title="Week 1")
        second = courses.add_section(school=school, actor=owner, course=course, title="Week 2")
        third = courses.add_section(school=school, actor=owner, course=course, title="Finale")
        drip.set_section_release(school=school, actor=owner, section=second, release="days", days=7)
        drip.set_section_release(
            school=school, actor=owner, section=third, release="date", on_date=date(2027, 3, 1)
        )
        lessons: dict[str, Lesson] = {}

        def lesson(section: Any, name: str, kind: str, body: str = "", **extra: Any) -> Lesson:
            made = courses.add_lesson(
                school=school, actor=owner, section=section, title=name, kind=kind
            )
            courses.update_lesson(
                school=school,
                actor=owner,
                lesson=made,
                title=name,
                kind=kind,
                body_md=body,
                is_preview=extra.get("preview", False),
                duration_minutes=extra.get("minutes", 0),
            )
            lessons[kind if kind not in lessons else f"{kind}2"] = made
            return made

        lesson(
            first,
            "Welcome",
            "text",
            "# Hello\n\nMix *pigment* and `water`.",
            preview=True,
            minutes=3,
        )
        files = lesson(first, "Handouts", "file", "Download these.")
        for name, data, kind in (
            ("notes.pdf", PDF_BYTES, "application/pdf"),
            ("scores.csv", CSV_BYTES, "text/csv"),
        ):
            courses.add_attachment(
                school=school,
                actor=owner,
                lesson=files,
                upload=SimpleUploadedFile(name, data, content_type=kind),
            )
        lesson(second, "Brush demo", "video", "Watch closely.", minutes=4)
        quiz_lesson = lesson(third, "Check yourself", "quiz", "Five minutes.")
        quizzes.update_quiz_settings(
            school=school,
            actor=owner,
            lesson=quiz_lesson,
            pass_mark=60,
            max_attempts=3,
            shuffle_questions=True,
            shuffle_options=False,
            reveal="passing",
        )
        quizzes.save_question(
            school=school,
            actor=owner,
            lesson=quiz_lesson,
            kind="single",
            prompt_md="Which colour is **warm**?",
            explanation_md="Red is warm.",
            options=[OptionInput("Red", True), OptionInput("Blue", False)],
        )
        quizzes.save_question(
            school=school,
            actor=owner,
            lesson=quiz_lesson,
            kind="text",
            prompt_md="Name the paper weight unit.",
            accepted_answers=["gsm", "grams"],
            case_sensitive=False,
        )
        certificates.update_settings(
            school=school,
            actor=owner,
            course=course,
            enabled=True,
            title="Certificate of Watercolour",
            signer_name="Ada Painter",
            signer_title="Teacher",
            paper_size="letter",
        )
        certificates.set_signature_image(
            school=school,
            actor=owner,
            course=course,
            upload=SimpleUploadedFile(
                "sig.png", png_bytes((0, 0, 0), (120, 40)), content_type="image/png"
            ),
        )
        course.refresh_from_db()
    return Rich(school, owner, course, lessons)


@pytest.fixture
def rich_a(school_a: Any, local_storage: Path) -> Rich:
    return build_rich_course(school_a.school, school_a.owner)


def comparable(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest without what differs between copies: ids, slugs and timestamps."""
    copy = json.loads(json.dumps(manifest))
    copy.pop("source", None)
    copy["course"].pop("slug", None)
    return copy


def zip_bytes(entries: dict[str, bytes], **infos: Any) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def read_zip(data: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    return json.loads(files.pop("manifest.json")), files
