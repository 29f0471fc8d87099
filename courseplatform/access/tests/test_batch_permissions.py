"""Who may manage which code batch (``accounts.permissions``): the owner every batch;
an instructor only batches whose courses are all courses they teach: a batch that
also opens a colleague's course cannot be opened, exported or revoked by them (403,
no plaintext shown, nothing audited as exported). Another school's batch is 404."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from courseplatform.access import services
from courseplatform.access.models import AccessCode, AccessCodeBatch
from courseplatform.ops.models import AuditLog
from courseplatform.tenancy.rls import school_context
from tests.fixtures.permissions import Cast, logged_in

pytestmark = pytest.mark.django_db

CODE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


def _first_code(school: Any, batch: AccessCodeBatch) -> AccessCode:
    with school_context(school):
        return AccessCode.objects.filter(batch=batch).order_by("id").first()  # type: ignore[return-value]


def _revoked(school: Any, batch: AccessCodeBatch) -> tuple[bool, int]:
    with school_context(school):
        batch.refresh_from_db()
        return batch.revoked_at is not None, AccessCode.objects.filter(
            batch=batch, revoked_at__isnull=False
        ).count()


def _exports(school: Any, batch: AccessCodeBatch) -> int:
    with school_context(school):
        return AuditLog.objects.filter(
            action="codes.batch_exported", target_id=str(batch.pk)
        ).count()


def test_batch_list_shows_an_instructor_only_their_batches(cast: Cast) -> None:
    teacher = logged_in(cast.teacher).get("/manage/codes/").content.decode()
    assert f'data-batch="{cast.only_mine.pk}"' in teacher
    for hidden in (cast.spanning, cast.only_theirs, cast.other_batch):
        assert f'data-batch="{hidden.pk}"' not in teacher
    owner = logged_in(cast.owner).get("/manage/codes/").content.decode()
    for shown in (cast.only_mine, cast.spanning, cast.only_theirs):
        assert f'data-batch="{shown.pk}"' in owner
    assert f'data-batch="{cast.other_batch.pk}"' not in owner


def test_batch_of_own_courses_opens_exports_and_revokes(cast: Cast) -> None:
    teacher = logged_in(cast.teacher)
    batch = cast.only_mine
    page = teacher.get(f"/manage/codes/{batch.pk}/")
    assert page.status_code == 200 and len(set(CODE.findall(page.content.decode()))) == 2
    export = teacher.get(f"/manage/codes/{batch.pk}/export.csv")
    assert export.status_code == 200 and len(set(CODE.findall(export.content.decode()))) == 2
    code = _first_code(cast.school, batch)
    assert teacher.get(f"/manage/codes/codes/{code.pk}/").status_code == 200
    assert teacher.post(f"/manage/codes/{batch.pk}/revoke/").status_code == 302
    assert _revoked(cast.school, batch) == (True, 2)


def test_batch_spanning_a_colleagues_course_is_403_to_open_export_revoke(cast: Cast) -> None:
    teacher = logged_in(cast.teacher)
    exported_before = _exports(cast.school, cast.spanning)
    for batch in (cast.spanning, cast.only_theirs):
        code = _first_code(cast.school, batch)
        for method, url in (
            ("get", f"/manage/codes/{batch.pk}/"),
            ("get", f"/manage/codes/{batch.pk}/export.csv"),
            ("post", f"/manage/codes/{batch.pk}/revoke/"),
            ("get", f"/manage/codes/codes/{code.pk}/"),
            ("post", f"/manage/codes/codes/{code.pk}/revoke/"),
        ):
            answer = getattr(teacher, method)(url)
            assert answer.status_code == 403, url
            assert not CODE.findall(answer.content.decode()), url  # no plaintext leaks
        assert _revoked(cast.school, batch) == (False, 0)
    assert _exports(cast.school, cast.spanning) == exported_before


def test_batch_of_another_school_is_404(cast: Cast) -> None:
    code = _first_code(cast.other_school, cast.other_batch)
    for user in (cast.owner, cast.teacher):
        client = logged_in(user)
        for method, url in (
            ("get", f"/manage/codes/{cast.other_batch.pk}/"),
            ("get", f"/manage/codes/{cast.other_batch.pk}/export.csv"),
            ("post", f"/manage/codes/{cast.other_batch.pk}/revoke/"),
            ("get", f"/manage/codes/codes/{code.pk}/"),
            ("post", f"/manage/codes/codes/{code.pk}/revoke/"),
        ):
            assert getattr(client, method)(url).status_code == 404, url
    assert _revoked(cast.other_school, cast.other_batch) == (False, 0)


def test_create_batch_with_a_colleagues_course_is_403_and_creates_nothing(cast: Cast) -> None:
    teacher = logged_in(cast.teacher)
    with school_context(cast.school):
        before = AccessCodeBatch.objects.count()
    data = {
        "name": "Sneaky",
        "courses": [str(cast.mine.pk), str(cast.theirs.pk)],
        "code_count": "2",
        "uses_per_code": "1",
        "expires_at": "",
        "note": "",
    }
    assert teacher.post("/manage/codes/", data).status_code == 403
    created = teacher.post("/manage/codes/", {**data, "courses": [str(cast.mine.pk)]})
    assert created.status_code == 302
    with school_context(cast.school):
        assert AccessCodeBatch.objects.count() == before + 1


def test_batch_services_refuse_403_in_school_and_404_across(cast: Cast) -> None:
    school = cast.school
    with school_context(school):
        code = AccessCode.objects.filter(batch=cast.spanning).first()
        assert code is not None
        for actor in (cast.teacher, cast.student):
            with pytest.raises(PermissionDenied):
                services.export_batch_codes(school=school, actor=actor, batch=cast.spanning)
            with pytest.raises(PermissionDenied):
                services.revoke_batch(school=school, actor=actor, batch=cast.spanning)
            with pytest.raises(PermissionDenied):
                services.revoke_code(school=school, actor=actor, code=code)
        with pytest.raises(PermissionDenied):
            services.create_batch(
                school=school,
                actor=cast.teacher,
                name="X",
                course_ids=[cast.theirs.pk],
                code_count=1,
            )
        with pytest.raises(Http404):
            services.export_batch_codes(school=school, actor=cast.owner, batch=cast.other_batch)
        with pytest.raises(Http404):
            services.revoke_batch(school=school, actor=cast.owner, batch=cast.other_batch)
        rows = services.export_batch_codes(school=school, actor=cast.teacher, batch=cast.only_mine)
        assert len(rows) == 2
        assert not AccessCode.objects.filter(batch=cast.spanning, revoked_at__isnull=False).exists()
