"""``enrollment.deleted`` reaches the receiver for every enrolment a removal ends: a
student removed from one course in the roster page, and a student account removed
through the API (each of its enrolments)."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from courseplatform.accounts.models import User
from courseplatform.api.services import create_token
from courseplatform.courses import services as course_services
from courseplatform.courses.models import Course, Enrollment
from courseplatform.tenancy.rls import school_context
from courseplatform.webhooks.models import WebhookDelivery
from courseplatform.webhooks.selectors import current_secret
from courseplatform.webhooks.tasks import run_delivery
from tests.fixtures.schools import host_of

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


def _course(school: Any, owner: User, title: str) -> Course:
    return course_services.create_course(school=school, actor=owner, title=title)


def _student(school: Any, email: str) -> User:
    return User.objects.create_user(
        email, None, school=school, full_name="Sam Lee", role=User.Role.STUDENT
    )


def _deliver_all(hooked: SimpleNamespace) -> list[dict[str, Any]]:
    """Run every queued delivery; the bodies the receiver got, verified."""
    with school_context(hooked.school):
        deliveries = list(WebhookDelivery.objects.order_by("pk"))
    for delivery in deliveries:
        assert run_delivery(school_id=hooked.school.pk, delivery_id=delivery.pk) == "succeeded"
    return [json.loads(r.body) for r in hooked.receiver.received]


def test_removing_a_student_through_the_api_announces_each_enrolment(
    hooked: SimpleNamespace,
    verify_webhook: Callable[..., bool],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    school, owner = hooked.school, hooked.owner
    with school_context(school):
        courses = [_course(school, owner, "Ink"), _course(school, owner, "Clay")]
        sam, other = _student(school, "sam@example.com"), _student(school, "kim@example.com")
        for course in courses:
            course_services.enroll_student(
                school=school, actor=owner, course=course, student=sam, source="manual"
            )
        course_services.enroll_student(
            school=school, actor=owner, course=courses[0], student=other, source="manual"
        )
        ended = list(
            Enrollment.objects.filter(student=sam).order_by("pk").values_list("pk", flat=True)
        )
        token = create_token(school=school, actor=owner, name="CRM", scope="write").plaintext
        WebhookDelivery.objects.all().delete()  # the enrolments' own events
    api = Client(HTTP_HOST=host_of(school), headers={"Authorization": f"Bearer {token}"})
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/v1/students/{sam.pk}").status_code == 204

    bodies = _deliver_all(hooked)
    assert [b["type"] for b in bodies] == ["enrollment.deleted", "enrollment.deleted"]
    assert [b["data"]["id"] for b in bodies] == ended
    assert [b["data"]["course"]["title"] for b in bodies] == ["Ink", "Clay"]
    assert {b["data"]["student"]["email"] for b in bodies} == {"sam@example.com"}
    assert bodies[0]["data"]["student"]["id"] == sam.pk
    secret = current_secret(hooked.endpoint)
    assert all(verify_webhook(secret, r.headers, r.body) for r in hooked.receiver.received)
    with school_context(school):
        assert not Enrollment.objects.filter(student_id=sam.pk).exists()
        assert Enrollment.objects.filter(student=other).count() == 1


def test_a_refused_removal_announces_nothing(
    hooked: SimpleNamespace,
    make_user: Callable[..., Any],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    school, owner = hooked.school, hooked.owner
    teacher = make_user(school, "teacher@alpha.test", role="instructor")
    with school_context(school):
        course = _course(school, owner, "Ink")
        sam = _student(school, "sam@example.com")
        course_services.enroll_student(
            school=school, actor=owner, course=course, student=sam, source="manual"
        )
        WebhookDelivery.objects.all().delete()
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(PermissionDenied):
            course_services.remove_student(school=school, actor=teacher, student=sam)
        assert not WebhookDelivery.objects.exists()
        assert Enrollment.objects.filter(student=sam).exists()


def test_removing_a_student_from_a_course_in_the_roster_announces_it(
    hooked: SimpleNamespace,
    client_for: Callable[..., Client],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    from tests.fixtures.schools import PASSWORD

    school, owner = hooked.school, hooked.owner
    with school_context(school):
        course = _course(school, owner, "Ink")
        sam = _student(school, "sam@example.com")
        enrollment, _ = course_services.enroll_student(
            school=school, actor=owner, course=course, student=sam, source="manual"
        )
        WebhookDelivery.objects.all().delete()
    client = client_for(host_of(school))
    login = {"email": owner.email, "password": PASSWORD}
    assert client.post("/accounts/login/", login).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/manage/courses/{course.pk}/students/{enrollment.pk}/remove/")
    assert response.status_code == 302

    [body] = _deliver_all(hooked)
    assert body["type"] == "enrollment.deleted"
    assert body["data"] == {
        "id": enrollment.pk,
        "course": {"id": course.pk, "slug": course.slug, "title": "Ink"},
        "student": {"id": sam.pk, "email": "sam@example.com", "full_name": "Sam Lee"},
    }
