"""Fixtures of the notices tests: a school with a course and enrolled students, and
an email backend that refuses one address (a real SMTP-style refusal)."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.mail import EmailMessage
from django.core.mail.backends.locmem import EmailBackend

from courseplatform.accounts.models import User
from courseplatform.courses.tests.test_student_views import Built, build_course, enroll, new_user

BOUNCING = "@bounce.invalid"


class RefusingBackend(EmailBackend):
    """locmem, except that any recipient at ``bounce.invalid`` is refused as an SMTP
    server would (``SMTPRecipientsRefused``), before anything is recorded."""

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        for message in messages:
            refused = [to for to in message.recipients() if to.endswith(BOUNCING)]
            if refused:
                raise smtplib.SMTPRecipientsRefused(
                    dict.fromkeys(refused, (550, b"5.1.1 mailbox unavailable"))
                )
        return super().send_messages(messages)


@pytest.fixture
def refusing_mail(settings: Any) -> None:
    settings.MAILERS = {
        "default": {"BACKEND": "courseplatform.notices.tests.conftest.RefusingBackend"}
    }


@dataclass
class Cohort:
    school: Any
    owner: User
    built: Built
    students: list[User]


def make_cohort(school: Any, owner: User, emails: list[str], *, title: str = "Cohort") -> Cohort:
    built = build_course(school, owner, title=title, sections=2, per_section=1)
    students = [new_user(school, email) for email in emails]
    enroll(school, owner, built.course, *students)
    return Cohort(school, owner, built, students)


@pytest.fixture
def cohort_a(school_a: Any) -> Cohort:
    return make_cohort(
        school_a.school,
        school_a.owner,
        ["ann@alpha.test", f"bad{BOUNCING}", "cat@alpha.test", "dan@alpha.test"],
    )
