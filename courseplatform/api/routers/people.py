"""Students and enrolments, through ``accounts`` and ``courses`` services."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from courseplatform.accounts.models import User
from courseplatform.accounts.selectors import list_school_people
from courseplatform.courses import selectors as course_selectors
from courseplatform.courses import services as course_services
from courseplatform.courses.models import Enrollment

from ..guard import read_auth, write_auth
from ..pagination import paginate
from ..problems import ApiProblem
from ..schemas import In
from .common import ERRORS, ListParams, actor, school

router = Router(tags=["students"])


class StudentOut(Schema):
    id: int
    email: str
    full_name: str
    email_verified: bool
    date_joined: datetime
    last_login: datetime | None


class StudentList(Schema):
    data: list[StudentOut]
    next: str | None


class StudentIn(In):
    email: str = Field(min_length=3, max_length=254)
    full_name: str = Field(default="", max_length=120)


def _student_out(user: User) -> dict[str, object]:
    return {
        "id": user.pk,
        "email": user.email,
        "full_name": user.full_name,
        "email_verified": user.email_verified_at is not None,
        "date_joined": user.date_joined,
        "last_login": user.last_login,
    }


def _student(request: HttpRequest, student_id: int) -> User:
    student = list_school_people(school=school(request)).filter(
        pk=student_id, role=User.Role.STUDENT
    )
    found = student.first()
    if found is None:
        raise ApiProblem(404, "Not found.", kind="not-found")
    return found


@router.get("/students", response={200: StudentList, **ERRORS}, auth=read_auth)
def list_students(
    request: HttpRequest, params: Query[ListParams], joined_since: datetime | None = None
) -> dict[str, object]:
    """The school's students in id order; `joined_since` narrows the list."""
    queryset = list_school_people(school=school(request)).filter(role=User.Role.STUDENT)
    if joined_since is not None:
        queryset = queryset.filter(date_joined__gte=joined_since)
    rows, next_url = paginate(
        request, queryset, resource="students", cursor=params.cursor, limit=params.limit
    )
    return {"data": [_student_out(u) for u in rows], "next": next_url}


@router.post("/students", response={201: StudentOut, **ERRORS}, auth=write_auth)
def invite_student(request: HttpRequest, payload: StudentIn) -> Status[dict[str, object]]:
    """Create a student account and email them an invitation to choose a password.
    An address that already has an account is refused (409)."""
    try:
        student = course_services.invite_student(
            school=school(request),
            actor=actor(request),
            email=str(payload.email),
            full_name=payload.full_name,
            port=request.host_port,  # type: ignore[attr-defined]
        )
    except ValidationError as exc:
        if any(e.code == "duplicate" for e in exc.error_dict.get("email", [])):
            raise ApiProblem(
                409, "This address already has an account in this school.", kind="duplicate"
            ) from exc
        raise
    return Status(201, _student_out(student))


@router.get("/students/{student_id}", response={200: StudentOut, **ERRORS}, auth=read_auth)
def get_student(request: HttpRequest, student_id: int) -> dict[str, object]:
    return _student_out(_student(request, student_id))


@router.delete("/students/{student_id}", response={204: None, **ERRORS}, auth=write_auth)
def remove_student(request: HttpRequest, student_id: int) -> Status[None]:
    """Delete the student's account with their enrolments and progress."""
    course_services.remove_student(
        school=school(request), actor=actor(request), student=_student(request, student_id)
    )
    return Status(204, None)


# --- enrolments ------------------------------------------------------------------------

enrollments = Router(tags=["enrollments"])


class EnrollmentOut(Schema):
    id: int
    course_id: int
    student_id: int
    source: str
    created_at: datetime
    last_activity_at: datetime | None
    completed_lessons: int
    total_lessons: int
    percent: int


class EnrollmentList(Schema):
    data: list[EnrollmentOut]
    next: str | None


class EnrollmentIn(In):
    course_id: int
    student_id: int | None = None
    email: str | None = Field(default=None, min_length=3, max_length=254)


def _enrollment_out(e: Enrollment, progress: tuple[int, int]) -> dict[str, object]:
    done, total = progress
    return {
        "id": e.pk,
        "course_id": e.course_id,
        "student_id": e.student_id,
        "source": e.source,
        "created_at": e.created_at,
        "last_activity_at": e.last_activity_at,
        "completed_lessons": done,
        "total_lessons": total,
        "percent": round(100 * done / total) if total else 0,
    }


def _with_progress(request: HttpRequest, rows: list[Enrollment]) -> list[dict[str, object]]:
    progress = course_selectors.enrollment_progress(school=school(request), enrollments=rows)
    return [_enrollment_out(e, progress[e.pk]) for e in rows]


@enrollments.get("/enrollments", response={200: EnrollmentList, **ERRORS}, auth=read_auth)
def list_enrollments(
    request: HttpRequest,
    params: Query[ListParams],
    course_id: int | None = None,
    student_id: int | None = None,
    updated_since: datetime | None = None,
) -> dict[str, object]:
    """Enrolments with progress; filter by course, student, or activity since a time."""
    from django.db.models import Q

    courses = course_selectors.courses_for_manager(school=school(request), user=actor(request))
    queryset = Enrollment.objects.filter(school=school(request), course_id__in=courses.values("pk"))
    if course_id is not None:
        queryset = queryset.filter(course_id=course_id)
    if student_id is not None:
        queryset = queryset.filter(student_id=student_id)
    if updated_since is not None:
        queryset = queryset.filter(
            Q(created_at__gte=updated_since) | Q(last_activity_at__gte=updated_since)
        )
    rows, next_url = paginate(
        request, queryset, resource="enrollments", cursor=params.cursor, limit=params.limit
    )
    return {"data": _with_progress(request, rows), "next": next_url}


@enrollments.post(
    "/enrollments", response={200: EnrollmentOut, 201: EnrollmentOut, **ERRORS}, auth=write_auth
)
def create_enrollment(request: HttpRequest, payload: EnrollmentIn) -> Status[dict[str, object]]:
    """Enrol a student (by `student_id`, or by `email`, creating and inviting the account
    when it does not exist). 201 when new, 200 when the student was already enrolled."""
    if (payload.student_id is None) == (payload.email is None):
        raise ApiProblem(
            422,
            "Give exactly one of student_id and email.",
            kind="validation",
            errors=[{"field": "student_id", "message": "Give student_id or email."}],
        )
    course = course_selectors.get_course_for_manager(
        school=school(request), user=actor(request), course_id=payload.course_id
    )
    if payload.student_id is not None:
        student = _student(request, payload.student_id)
        enrollment, created = course_services.enroll_student(
            school=school(request),
            actor=actor(request),
            course=course,
            student=student,
            source=Enrollment.Source.API,
        )
    else:
        before = Enrollment.objects.filter(
            school=school(request), course=course, student__email=str(payload.email).lower()
        ).exists()
        enrollment, _ = course_services.enroll_by_email(
            school=school(request),
            actor=actor(request),
            course=course,
            email=str(payload.email),
            port=request.host_port,  # type: ignore[attr-defined]
        )
        created = not before
    return Status(201 if created else 200, _with_progress(request, [enrollment])[0])


def _enrollment(request: HttpRequest, enrollment_id: int) -> Enrollment:
    return course_selectors.get_enrollment_for_manager(
        school=school(request), user=actor(request), enrollment_id=enrollment_id
    )


@enrollments.get(
    "/enrollments/{enrollment_id}", response={200: EnrollmentOut, **ERRORS}, auth=read_auth
)
def get_enrollment(request: HttpRequest, enrollment_id: int) -> dict[str, object]:
    return _with_progress(request, [_enrollment(request, enrollment_id)])[0]


@enrollments.delete("/enrollments/{enrollment_id}", response={204: None, **ERRORS}, auth=write_auth)
def delete_enrollment(request: HttpRequest, enrollment_id: int) -> Status[None]:
    """Remove the enrolment and the student's progress in that course."""
    course_services.remove_enrollment(
        school=school(request), actor=actor(request), enrollment=_enrollment(request, enrollment_id)
    )
    return Status(204, None)
