"""Request and response shapes (pydantic through ninja). Inputs forbid unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import ConfigDict, Field


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class Problem(Schema):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, object]] | None = None


# --- courses ---------------------------------------------------------------------------

Title = Field(min_length=1, max_length=200)


class LessonOut(Schema):
    id: int
    section_id: int
    title: str
    kind: str
    body_md: str
    is_preview: bool
    duration_minutes: int
    position: int
    video_id: str | None
    updated_at: datetime


class SectionOut(Schema):
    id: int
    title: str
    position: int
    lessons: list[LessonOut]


class CourseOut(Schema):
    id: int
    title: str
    slug: str
    subtitle: str
    description_md: str
    status: Literal["draft", "published"]
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CourseDetailOut(CourseOut):
    sections: list[SectionOut]


class CourseList(Schema):
    data: list[CourseOut]
    next: str | None


class CourseIn(In):
    title: str = Field(min_length=1, max_length=200)
    subtitle: str = Field(default="", max_length=300)
    description_md: str = Field(default="", max_length=100_000)


class CoursePatch(In):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    subtitle: str | None = Field(default=None, max_length=300)
    description_md: str | None = Field(default=None, max_length=100_000)
    slug: str | None = Field(default=None, min_length=1, max_length=80)


class SectionIn(In):
    title: str = Field(min_length=1, max_length=200)


class SectionPatch(In):
    title: str = Field(min_length=1, max_length=200)


LessonKind = Literal["video", "text", "file"]


class LessonIn(In):
    title: str = Field(min_length=1, max_length=200)
    kind: LessonKind = "text"


class LessonPatch(In):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    kind: LessonKind | None = None
    body_md: str | None = Field(default=None, max_length=100_000)
    is_preview: bool | None = None
    duration_minutes: int | None = Field(default=None, ge=0, le=1440)
