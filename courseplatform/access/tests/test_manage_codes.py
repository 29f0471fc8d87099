"""The instructor's access-code pages (/manage/codes/): batches, codes, revocation,
CSV export, and who may see what, on two schools."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from courseplatform.access import selectors
from courseplatform.access.models import AccessCode, AccessCodeBatch
from courseplatform.access.services import create_batch, redeem_code
from courseplatform.accounts.models import User
from courseplatform.courses.services import create_course

from .test_redeem import code_row, logged_in, make_codes, setup_school

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha(school_a: Any, in_school: Callable[..., Any], make_user: Callable[..., Any]) -> Any:
    return setup_school(school_a, in_school, make_user)


@pytest.fixture
def bravo(school_b: Any, in_school: Callable[..., Any], make_user: Callable[..., Any]) -> Any:
    return setup_school(school_b, in_school, make_user)


def field_error(response: Any, field: str) -> str:
    html = response.content.decode()
    match = re.search(rf'<div id="id_{field}_error">(.*?)</div>', html, re.DOTALL)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


def batch_count(env: Any, in_school: Callable[..., Any]) -> int:
    with in_school(env.school):
        return AccessCodeBatch.objects.filter(school=env.school).count()


def new_batch_data(env: Any, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Spring workshop",
        "courses": [str(c.pk) for c in env.courses],
        "code_count": "2",
        "uses_per_code": "1",
        "expires_at": "",
        "note": "Handed out at the library",
    }
    data.update(overrides)
    return data


# --- list, create, show once ---------------------------------------------------------------


def test_manage_codes_create_batch_shows_the_codes_once(
    alpha: Any, bravo: Any, in_school: Any
) -> None:
    owner = logged_in(alpha, alpha.owner)
    page = owner.get("/manage/codes/")
    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r'data-nav="codes"[^>]*aria-current="page"', html)
    offered = set(re.findall(r'name="courses" value="(\d+)"', html))
    assert offered == {str(c.pk) for c in alpha.courses}
    assert not offered & {str(c.pk) for c in bravo.courses}

    created = owner.post("/manage/codes/", new_batch_data(alpha, expires_at="2999-01-01T10:30"))
    assert created.status_code == 302
    with in_school(alpha.school):
        batch = AccessCodeBatch.objects.get(school=alpha.school)
        assert batch.expires_at == datetime(2999, 1, 1, 10, 30, tzinfo=UTC)
        assert batch.note == "Handed out at the library"
        assert {c.pk for c in batch.courses.all()} == {c.pk for c in alpha.courses}
        assert batch.created_by_id == alpha.owner.pk
    assert created["Location"] == f"/manage/codes/{batch.pk}/"

    first = owner.get(created["Location"])
    assert first.status_code == 200
    html = first.content.decode()
    shown = re.findall(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", html)
    assert "data-new-codes" in html and "Download CSV" in html
    assert len(set(shown)) == 2
    with in_school(alpha.school):
        for code in set(shown):
            assert code_row(alpha, in_school, code).batch_id == batch.pk

    second = owner.get(created["Location"])
    html = second.content.decode()
    assert "data-new-codes" not in html  # the prominent list is shown once
    assert set(re.findall(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", html)) == set(shown)

    listing = owner.get("/manage/codes/").content.decode()
    assert "Spring workshop" in listing and "Watercolour Basics" in listing
    assert "2 codes \u00d7 1 use" in listing and "0 / 2" in listing


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"code_count": "0"}, "code_count", "Create between 1 and 10,000 codes."),
        ({"code_count": "10001"}, "code_count", "Create between 1 and 10,000 codes."),
        ({"code_count": "-5"}, "code_count", "Create between 1 and 10,000 codes."),
        ({"uses_per_code": "0"}, "uses_per_code", "Each code can be used 1 to 10,000 times."),
        ({"courses": []}, "courses", "Choose at least one course."),
        ({"name": "   "}, "name", "This field is required."),
        ({"expires_at": "2001-01-01T00:00"}, "expires_at", "The expiry must be in the future."),
        ({"code_count": "lots"}, "code_count", "Enter a whole number."),
    ],
)
def test_manage_codes_create_batch_refuses(
    alpha: Any, in_school: Any, overrides: dict[str, Any], field: str, message: str
) -> None:
    response = logged_in(alpha, alpha.owner).post(
        "/manage/codes/", new_batch_data(alpha, **overrides)
    )
    assert response.status_code == 200
    assert field_error(response, field) == message
    assert "data-new-batch open" in response.content.decode()
    assert batch_count(alpha, in_school) == 0


def test_manage_codes_course_of_another_school_is_refused(
    alpha: Any, bravo: Any, in_school: Any
) -> None:
    foreign = [str(alpha.courses[0].pk), str(bravo.courses[0].pk)]
    response = logged_in(alpha, alpha.owner).post(
        "/manage/codes/", new_batch_data(alpha, courses=foreign)
    )
    assert response.status_code == 200
    assert field_error(response, "courses") == "Choose courses of this school only."
    assert batch_count(alpha, in_school) == 0 and batch_count(bravo, in_school) == 0
    # The service says the same to any other caller.
    with in_school(alpha.school), pytest.raises(ValidationError) as refused:
        create_batch(
            school=alpha.school,
            actor=alpha.owner,
            name="X",
            course_ids=[bravo.courses[0].pk],
            code_count=1,
        )
    assert refused.value.message_dict["courses"] == ["Choose courses of this school only."]


def test_manage_codes_batch_of_ten_thousand_and_one_refused_by_service(
    alpha: Any, in_school: Any
) -> None:
    with in_school(alpha.school):
        for count in (0, 10_001):
            with pytest.raises(ValidationError) as refused:
                create_batch(
                    school=alpha.school,
                    actor=alpha.owner,
                    name="X",
                    course_ids=[alpha.courses[0].pk],
                    code_count=count,
                )
            assert "code_count" in refused.value.message_dict
        with pytest.raises(ValidationError) as refused:
            create_batch(
                school=alpha.school, actor=alpha.owner, name="X", course_ids=[], code_count=1
            )
        assert "courses" in refused.value.message_dict
    assert batch_count(alpha, in_school) == 0


def test_manage_codes_instructor_is_offered_only_their_courses(
    alpha: Any, in_school: Any, make_user: Callable[..., Any]
) -> None:
    teacher = make_user(alpha.school, "teacher@alpha.test", role=User.Role.INSTRUCTOR)
    with in_school(alpha.school):
        own = create_course(school=alpha.school, actor=teacher, title="Teacher's course")
    page = logged_in(alpha, teacher).get("/manage/codes/")
    assert page.status_code == 200
    assert set(re.findall(r'name="courses" value="(\d+)"', page.content.decode())) == {str(own.pk)}
    assert "Teacher&#x27;s course (draft)" in page.content.decode()


# --- who may see what ----------------------------------------------------------------------


def _urls(batch_id: int, code_id: int) -> list[tuple[str, str]]:
    return [
        ("get", "/manage/codes/"),
        ("get", f"/manage/codes/{batch_id}/"),
        ("get", f"/manage/codes/{batch_id}/export.csv"),
        ("post", f"/manage/codes/{batch_id}/revoke/"),
        ("get", f"/manage/codes/codes/{code_id}/"),
        ("post", f"/manage/codes/codes/{code_id}/revoke/"),
    ]


def test_manage_codes_students_get_403_and_visitors_log_in(alpha: Any, in_school: Any) -> None:
    new = make_codes(alpha, in_school)
    code = code_row(alpha, in_school, new.codes[0])
    student = logged_in(alpha, alpha.student)
    visitor = Client(HTTP_HOST=alpha.host)
    for method, url in _urls(new.batch.pk, code.pk):
        assert getattr(student, method)(url).status_code == 403, url
        answer = getattr(visitor, method)(url)
        assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")
    assert code_row(alpha, in_school, new.codes[0]).revoked_at is None


def test_manage_codes_other_schools_ids_are_404(alpha: Any, bravo: Any, in_school: Any) -> None:
    new = make_codes(alpha, in_school)
    code = code_row(alpha, in_school, new.codes[0])
    make_codes(bravo, in_school)  # bravo has batches of its own
    manager_b = logged_in(bravo, bravo.owner)
    for method, url in _urls(new.batch.pk, code.pk)[1:]:
        assert getattr(manager_b, method)(url).status_code == 404, url
    for url in ("/manage/codes/99999999999999999999/", "/manage/codes/codes/9223372036854775808/"):
        assert manager_b.get(url).status_code == 404
    with in_school(alpha.school):
        batch = AccessCodeBatch.objects.get(pk=new.batch.pk)
        assert batch.revoked_at is None
        assert not AccessCode.objects.filter(batch=batch, revoked_at__isnull=False).exists()
    listing = manager_b.get("/manage/codes/").content.decode()
    assert f'data-batch="{new.batch.pk}"' not in listing


# --- batch page: revoke, export, per code --------------------------------------------------


def test_manage_codes_revoke_code_then_batch(alpha: Any, in_school: Any) -> None:
    new = make_codes(alpha, in_school, count=3)
    owner = logged_in(alpha, alpha.owner)
    code = code_row(alpha, in_school, new.codes[1])
    back = f"/manage/codes/{new.batch.pk}/?page=1"
    revoked = owner.post(f"/manage/codes/codes/{code.pk}/revoke/", {"next": back})
    assert revoked.status_code == 302 and revoked["Location"] == back
    assert code_row(alpha, in_school, new.codes[1]).revoked_at is not None
    evil = owner.post(f"/manage/codes/codes/{code.pk}/revoke/", {"next": "https://evil.test/"})
    assert evil["Location"] == f"/manage/codes/codes/{code.pk}/"

    page = owner.get(f"/manage/codes/{new.batch.pk}/").content.decode()
    assert page.count('data-status="revoked"') == 2  # mobile + desktop badge of one row
    assert "Revoke batch" in page

    gone = owner.post(f"/manage/codes/{new.batch.pk}/revoke/")
    assert gone.status_code == 302 and gone["Location"] == f"/manage/codes/{new.batch.pk}/"
    with in_school(alpha.school):
        assert not AccessCode.objects.filter(school=alpha.school, revoked_at__isnull=True).exists()
    page = owner.get(f"/manage/codes/{new.batch.pk}/").content.decode()
    assert 'data-batch-status="revoked"' in page and "Revoke batch" not in page
    assert 'data-stat="remaining">0<' in page
    listing = owner.get("/manage/codes/").content.decode()
    assert "Revoked" in listing
    assert owner.get(f"/manage/codes/{new.batch.pk}/revoke/").status_code == 405


def test_manage_codes_export_csv(alpha: Any, in_school: Any) -> None:
    new = make_codes(alpha, in_school, count=3, uses=2)
    with in_school(alpha.school):
        redeem_code(school=alpha.school, student=alpha.student, raw_code=new.codes[0])
        redeem_code(school=alpha.school, student=alpha.other, raw_code=new.codes[0])
    owner = logged_in(alpha, alpha.owner)
    owner.post(f"/manage/codes/codes/{code_row(alpha, in_school, new.codes[2]).pk}/revoke/")

    response = owner.get(f"/manage/codes/{new.batch.pk}/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    assert f"-{new.batch.pk}.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["code", "uses", "max_uses", "revoked", "redeemed_by"]
    by_code = {row[0]: row for row in rows[1:]}
    assert set(by_code) == set(new.codes)
    both = f"{alpha.student.email} {alpha.other.email}"
    assert by_code[new.codes[0]][1:] == ["2", "2", "no", both]
    assert by_code[new.codes[1]][1:] == ["0", "2", "no", ""]
    assert by_code[new.codes[2]][1:] == ["0", "2", "yes", ""]


def test_manage_codes_code_page_lists_redemptions(alpha: Any, in_school: Any) -> None:
    new = make_codes(alpha, in_school, count=1, uses=5)
    with in_school(alpha.school):
        redeem_code(school=alpha.school, student=alpha.student, raw_code=new.codes[0])
    code = code_row(alpha, in_school, new.codes[0])
    owner = logged_in(alpha, alpha.owner)
    batch_page = owner.get(f"/manage/codes/{new.batch.pk}/").content.decode()
    assert f'href="/manage/codes/codes/{code.pk}/"' in batch_page
    assert alpha.student.email in batch_page  # the batch's redemptions list
    page = owner.get(f"/manage/codes/codes/{code.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert new.codes[0] in html and alpha.student.email in html and "1 of 5" in html
    assert alpha.other.email not in html


def test_manage_codes_batch_page_pages_through_codes(alpha: Any, in_school: Any) -> None:
    new = make_codes(alpha, in_school, count=150)
    owner = logged_in(alpha, alpha.owner)
    owner.get(f"/manage/codes/{new.batch.pk}/")  # the one-time full list
    first = owner.get(f"/manage/codes/{new.batch.pk}/").content.decode()
    second = owner.get(f"/manage/codes/{new.batch.pk}/?page=2").content.decode()
    assert first.count("data-code=") == 100 and second.count("data-code=") == 50
    assert "1\u2013100 of 150" in first and "101\u2013150 of 150" in second


def test_batch_stats_revoked_partly_used_code_has_no_uses_left(alpha: Any, in_school: Any) -> None:
    new = make_codes(alpha, in_school, count=2, uses=3)
    with in_school(alpha.school):
        redeem_code(school=alpha.school, student=alpha.student, raw_code=new.codes[0])
        AccessCode.objects.filter(pk=code_row(alpha, in_school, new.codes[0]).pk).update(
            revoked_at=new.batch.created_at
        )
        stats = selectors.batch_stats(
            selectors.get_batch(school=alpha.school, batch_id=new.batch.pk)
        )
    assert (stats.issued, stats.used, stats.remaining) == (6, 1, 3)
