"""Helpers shared by the upload tests (local tus and S3 multipart)."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from typing import Any

from django.test import Client

from courseplatform.accounts.models import User
from courseplatform.courses import services as course_services
from courseplatform.courses.models import Lesson
from courseplatform.tenancy.rls import school_context

MiB = 1024 * 1024


def logged_in(client_for: Callable[..., Client], host: str, user: User, **kwargs: Any) -> Client:
    """A client on ``host`` logged in as ``user`` (inside the user's school, so the
    session survives SchoolAccountMiddleware)."""
    client = client_for(host, **kwargs)
    with school_context(user.school):
        client.force_login(user)
    return client


def video_lesson(school: Any, owner: User, title: str = "Welcome") -> Lesson:
    """A course with one section and one video lesson, made through the services."""
    with school_context(school):
        course = course_services.create_course(school=school, actor=owner, title="Film School")
        section = course_services.add_section(
            school=school, actor=owner, course=course, title="Start"
        )
        return course_services.add_lesson(
            school=school, actor=owner, section=section, title=title, kind=Lesson.Kind.VIDEO
        )


def b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def payload(size: int) -> bytes:
    """``size`` bytes that are not all the same (a repeated random 4 KiB block)."""
    return (os.urandom(4096) * (size // 4096 + 1))[:size]
