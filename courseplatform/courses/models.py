"""Courses, their outline (sections and lessons), enrolments and progress.

Every model here is school-owned (``TenantModel``) and under row-level security.
Child rows repeat ``school`` (and lessons repeat ``course``) so every query and
every RLS check is a single-column comparison, never a join.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from courseplatform.tenancy.models import TenantModel

TITLE_MAX = 200


class Course(TenantModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    title = models.CharField(max_length=TITLE_MAX)
    slug = models.SlugField(max_length=80)
    subtitle = models.CharField(max_length=300, blank=True)
    description_md = models.TextField(blank=True)
    description_html = models.TextField(blank=True, help_text="Sanitised rendering.")
    cover_key = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="CourseInstructor", related_name="teaching"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["school", "slug"], name="course_slug_unique_per_school")
        ]
        indexes = [models.Index(fields=["school", "status"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class CourseInstructor(TenantModel):
    """Explicit through table so the M2M rows carry the school key (and RLS)."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["course", "user"], name="course_instructor_unique")
        ]


class Section(TenantModel):
    class Release(models.TextChoices):
        """When enrolled students may open the section (drip.py holds the rules)."""

        IMMEDIATELY = "immediately", _("Immediately")
        DAYS = "days", _("Days after enrolment")
        DATE = "date", _("On a date")

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="sections")
    title = models.CharField(max_length=TITLE_MAX)
    position = models.PositiveIntegerField(default=0)
    release = models.CharField(max_length=12, choices=Release.choices, default=Release.IMMEDIATELY)
    # DAYS: opens at the start of the Nth day after the day of enrolment (school time).
    release_days = models.PositiveIntegerField(null=True, blank=True)
    # DATE: opens at the start of this day in the school's time zone.
    release_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(release="immediately")
                    | models.Q(release="days", release_days__isnull=False)
                    | models.Q(release="date", release_date__isnull=False)
                ),
                name="section_release_complete",
            )
        ]

    def __str__(self) -> str:
        return self.title


class Lesson(TenantModel):
    class Kind(models.TextChoices):
        VIDEO = "video", _("Video")
        TEXT = "text", _("Text")
        FILE = "file", _("File download")
        # Questions and attempts live in the quizzes app (courses/lesson_kinds.py).
        QUIZ = "quiz", _("Quiz")

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lessons")
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="lessons")
    title = models.CharField(max_length=TITLE_MAX)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    body_md = models.TextField(blank=True)
    body_html = models.TextField(blank=True, help_text="Sanitised rendering of body_md.")
    is_preview = models.BooleanField(default=False, help_text="Free preview without enrolment.")
    video = models.ForeignKey(
        "video.VideoAsset", null=True, blank=True, on_delete=models.SET_NULL, related_name="lessons"
    )
    duration_minutes = models.PositiveIntegerField(default=0)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["course", "position"])]

    def __str__(self) -> str:
        return self.title


class Attachment(TenantModel):
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="attachments")
    storage_key = models.CharField(max_length=500)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.filename


class Enrollment(TenantModel):
    class Source(models.TextChoices):
        CODE = "code", _("Access code")
        MANUAL = "manual", _("Added by instructor")
        API = "api", _("API")

    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments"
    )
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    source = models.CharField(max_length=10, choices=Source.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    last_lesson = models.ForeignKey(
        Lesson, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["student", "course"], name="enrollment_unique")
        ]


class LessonProgress(TenantModel):
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_progress"
    )
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="progress")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)
    last_position_seconds = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["student", "lesson"], name="lesson_progress_unique")
        ]
        indexes = [models.Index(fields=["student", "course"])]
