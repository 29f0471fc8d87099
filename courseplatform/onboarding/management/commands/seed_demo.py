"""Demo data for `make demo`: school `demo` with an owner, a student partway through
a sample course, and an access-code batch with one code printed for a newcomer."""

import subprocess
import tempfile
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.utils import timezone

from courseplatform.access.codes import decrypt_code, format_code
from courseplatform.access.models import AccessCode, AccessCodeBatch
from courseplatform.access.services import create_batch
from courseplatform.accounts.models import User
from courseplatform.accounts.services import register_user
from courseplatform.certificates import selectors as certificates
from courseplatform.certificates import services as certificate_services
from courseplatform.courses import services as courses
from courseplatform.courses.models import Course, Enrollment, Lesson
from courseplatform.onboarding.services import create_school
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context
from courseplatform.tenancy.selectors import school_url

DEMO_SLUG = "demo"
OWNER_EMAIL = "owner@demo.example"
OWNER_PASSWORD = "demo-owner-pass-2026"
STUDENT_EMAIL = "student@demo.example"
STUDENT_PASSWORD = "demo-student-pass-2026"
COURSE_TITLE = "Watercolour for Beginners"
BATCH_NAME = "Demo codes"
MORE_BATCH_NAME = f"{BATCH_NAME} (more)"
VIDEO_LESSON = "Watch: a first wash"
VIDEO_SECONDS = 30
VIDEO_BODY = (
    "Watch the whole wash once before you try it. The sample clip is a test pattern "
    "with a tone: replace it with your own recording from the lesson editor."
)

LESSONS = [
    (
        "Before you start",
        [
            (
                "Welcome to the course",
                True,
                "Welcome! In this course you will paint **five small pictures**, "
                "one per lesson.\n\n"
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

QUIZ_LESSON = "Quiz: washes and skies"
QUIZ_BODY = "Five quick questions on the first paintings. Pass with 60 % to complete the lesson."
# (kind, prompt, options as (text, correct) or accepted answers, explanation)
QUIZ_QUESTIONS: list[tuple[str, str, list[Any], str]] = [
    (
        "single",
        "Which wash goes from **dark to light** down the page?",
        [("Flat wash", False), ("Graded wash", True), ("Variegated wash", False)],
        "A graded wash adds water with every stroke, so the colour fades.",
    ),
    (
        "multiple",
        "Which are part of the wet-in-wet technique?",
        [("Wetting the paper first", True), ("Letting colours mix on the paper", True),
         ("Waiting for each layer to dry", False)],
        "Waiting for layers to dry is *wet-on-dry* glazing.",
    ),
    (
        "true_false",
        "Tilting the board helps the bead of paint run down.",
        [("True", True), ("False", False)],
        "Gravity pulls the bead down, which keeps the wash even.",
    ),
    (
        "text",
        "Which brush size does the supplies list recommend? (a number)",
        ["8", "size 8", "eight"],
        "A round size 8 holds enough water for small paintings.",
    ),
    (
        "single",
        "What is the most common reason beginners give up?",
        [("Cheap paper", True), ("Too many colours", False), ("Small brushes", False)],
        "Good paper is worth it; cheap everything else.",
    ),
]  # fmt: skip

SUPPLIES = (
    "Watercolour supplies\n====================\n\n"
    "- Cold-pressed paper, 300 g/m2\n- Round brush, size 8\n"
    "- Ultramarine, burnt sienna, lemon yellow\n- Two water jars\n- Paper towels\n"
)


def _demo_clip_command(ffmpeg: str, target: Path) -> list[str]:
    """ffmpeg test pattern + a beeping tone, 1080p30, VIDEO_SECONDS long."""
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={VIDEO_SECONDS}",
        "-f", "lavfi", "-i", f"sine=frequency=330:beep_factor=4:duration={VIDEO_SECONDS}",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k", "-shortest", "-movflags", "+faststart", str(target),
    ]  # fmt: skip


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
            video_lesson = self._demo_video(school, owner, course)
            quiz_lesson = self._demo_quiz(school, owner, course)
            self._certificate(school, owner, course)
        self.stdout.write(self.style.SUCCESS("Demo school ready:"))
        self.stdout.write(f"  site:     {school_url(school, '/')}")
        self.stdout.write(f"  owner:    {OWNER_EMAIL} / {OWNER_PASSWORD}")
        self.stdout.write(f"            manage at {school_url(school, '/manage/')}")
        self.stdout.write(f"  student:  {STUDENT_EMAIL} / {STUDENT_PASSWORD}")
        if video_lesson is not None:
            lesson_path = f"/courses/{course.slug}/lessons/{video_lesson.pk}/"
            self.stdout.write(f"  video:    {school_url(school, lesson_path)}")
        if quiz_lesson is not None:
            quiz_path = f"/courses/{course.slug}/lessons/{quiz_lesson.pk}/"
            self.stdout.write(f"  quiz:     {school_url(school, quiz_path)}")
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

    def _demo_quiz(self, school: School, owner: User, course: Course) -> Lesson | None:
        """A quiz lesson at the end of section 2 (pass mark 60 %, three attempts).
        Idempotent: an existing quiz lesson with questions is left alone."""
        from courseplatform.quizzes import services as quizzes
        from courseplatform.quizzes.models import Question

        section = course.sections.order_by("position", "id")[1:2].first()
        if section is None:
            return None
        lesson = Lesson.objects.filter(school=school, course=course, title=QUIZ_LESSON).first()
        if lesson is None:
            lesson = courses.add_lesson(
                school=school, actor=owner, section=section, title=QUIZ_LESSON,
                kind=Lesson.Kind.QUIZ,
            )  # fmt: skip
            courses.update_lesson(
                school=school, actor=owner, lesson=lesson, title=QUIZ_LESSON,
                kind=Lesson.Kind.QUIZ, body_md=QUIZ_BODY, is_preview=False, duration_minutes=5,
            )  # fmt: skip
        if Question.objects.filter(school=school, quiz__lesson=lesson).exists():
            return lesson
        quizzes.update_quiz_settings(
            school=school, actor=owner, lesson=lesson, pass_mark=60, max_attempts=3,
            shuffle_questions=False, shuffle_options=True, reveal="submission",
        )  # fmt: skip
        for kind, prompt, answers, explanation in QUIZ_QUESTIONS:
            options = [quizzes.OptionInput(t, c) for t, c in answers] if kind != "text" else []
            quizzes.save_question(
                school=school, actor=owner, lesson=lesson, kind=kind, prompt_md=prompt,
                explanation_md=explanation, options=options,
                accepted_answers=answers if kind == "text" else [],
            )  # fmt: skip
        return lesson

    def _certificate(self, school: School, owner: User, course: Course) -> None:
        """Turn the demo course's certificate on (once: an owner's later changes stay)."""
        if certificates.get_settings(school=school, course=course) is not None:
            return
        certificate_services.update_settings(
            school=school,
            actor=owner,
            course=course,
            enabled=True,
            title="Certificate of Completion",
            signer_name="Dana Owner",
            signer_title="Founder, Demo Academy",
        )

    def _demo_video(self, school: School, owner: User, course: Course) -> Lesson | None:
        """A ~30 s 1080p test-pattern clip, transcoded now (not by the worker) and attached
        to the video lesson "Watch: a first wash" in section 2. Idempotent: a lesson whose
        video is ready is left alone; a missing or failed one is (re)made."""
        from courseplatform.video import pipeline
        from courseplatform.video import services as videos
        from courseplatform.video import tasks as video_tasks
        from courseplatform.video.models import VideoAsset

        section = course.sections.order_by("position", "id")[1:2].first()
        if section is None:
            return None
        lesson = Lesson.objects.filter(school=school, course=course, title=VIDEO_LESSON).first()
        if lesson is None:
            lesson = courses.add_lesson(
                school=school, actor=owner, section=section, title=VIDEO_LESSON,
                kind=Lesson.Kind.VIDEO,
            )  # fmt: skip
            courses.update_lesson(
                school=school, actor=owner, lesson=lesson, title=VIDEO_LESSON,
                kind=Lesson.Kind.VIDEO, body_md=VIDEO_BODY, is_preview=True, duration_minutes=1,
            )  # fmt: skip
            others = [pk for pk in section.lessons.values_list("pk", flat=True) if pk != lesson.pk]
            courses.reorder_lessons(
                school=school, actor=owner, section=section, lesson_ids=[lesson.pk, *others]
            )
        asset = lesson.video
        if asset is not None and asset.status == VideoAsset.Status.READY:
            return lesson
        self.stdout.write("Demo video: generating a 30 s 1080p test clip…")
        with tempfile.TemporaryDirectory(prefix="cp-demo-") as tmp:
            source = Path(tmp) / "first-wash.mp4"
            try:
                subprocess.run(
                    _demo_clip_command(pipeline.ffmpeg_exe(), source),
                    check=True,
                    capture_output=True,
                    timeout=600,
                )
            except (OSError, subprocess.SubprocessError) as exc:
                self.stderr.write(f"Demo video skipped: could not generate the clip ({exc}).")
                return lesson
            if asset is None:
                asset = videos.create_asset(
                    school=school, actor=owner, filename=source.name,
                    size=source.stat().st_size, title="A first wash (demo clip)",
                )  # fmt: skip
                # Attached at once, so a re-run after an interruption finds and reuses it.
                videos.attach_video_to_lesson(
                    school=school, actor=owner, lesson=lesson, asset=asset
                )
            if default_storage.exists(asset.source_key):
                default_storage.delete(asset.source_key)
            with source.open("rb") as fh:
                default_storage.save(asset.source_key, File(fh))
            # Claimed like a worker would (token + heartbeat), so the watchdog leaves it be.
            token = timezone.now()
            VideoAsset.objects.filter(school=school, pk=asset.pk).update(
                status=VideoAsset.Status.PROCESSING,
                source_bytes=source.stat().st_size,
                uploaded_bytes=source.stat().st_size,
                error_message="",
                started_at=token,
                heartbeat_at=token,
            )
            claim = pipeline.Claim(school=school, asset_id=asset.pk, token=token)
            self.stdout.write("Demo video: transcoding the HLS ladder (one ffmpeg run)…")
            try:
                asset = pipeline.process_asset(
                    school=school, asset=asset, claim=claim, echo=self.stdout.write
                )
            except Exception as exc:
                video_tasks.mark_failed(school=school, asset=asset, message=str(exc))
                self.stderr.write(f"Demo video failed: {exc}")
                return lesson
        videos.attach_video_to_lesson(school=school, actor=owner, lesson=lesson, asset=asset)
        return lesson

    def _unused_code(self, school: School, owner: User, course: Course) -> str:
        """An unused code of the demo batches; a new batch only when all are used."""
        unused = (
            AccessCode.objects.filter(
                school=school,
                batch__name__in=[BATCH_NAME, MORE_BATCH_NAME],
                uses_count=0,
                revoked_at__isnull=True,
            )
            .order_by("batch_id", "pk")
            .first()
        )
        if unused is not None:
            return format_code(decrypt_code(unused.ciphertext))
        first = not AccessCodeBatch.objects.filter(school=school, name=BATCH_NAME).exists()
        return create_batch(
            school=school,
            actor=owner,
            name=BATCH_NAME if first else MORE_BATCH_NAME,
            course_ids=[course.pk],
            code_count=20,
            uses_per_code=1,
            note="Created by make demo",
        ).codes[0]
