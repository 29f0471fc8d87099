"""The signed-in user comes from the cache, and no change to an account waits for it:
a changed password, a deactivated, deleted or demoted account and a removed enrolment
all take effect on the very next request."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from courseplatform.accounts import services
from courseplatform.accounts.backends import SchoolEmailBackend
from courseplatform.accounts.models import User
from courseplatform.accounts.user_cache import forget_user, load_user
from courseplatform.courses import services as course_services
from courseplatform.courses.models import Enrollment
from courseplatform.courses.tests.test_student_views import (
    build_course,
    client_as,
    enroll,
    new_user,
)
from courseplatform.tenancy.rls import school_context
from tests.fixtures.schools import PASSWORD

pytestmark = pytest.mark.django_db

# How the signed-in user's row is read (plan usage counts students in the same table).
_ROW_READ = 'FROM "accounts_user" WHERE "accounts_user"."id" ='


def _user_reads(client: Any, path: str) -> tuple[int, int]:
    """(status, how many times the request read accounts_user)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    reads = sum(_ROW_READ in query["sql"] for query in captured.captured_queries)
    return response.status_code, reads


def test_a_signed_in_user_is_read_once_then_served_from_the_cache(school_a: Any) -> None:
    student = new_user(school_a.school, "cached@alpha.test")
    client = client_as(student, school_a.school)
    assert _user_reads(client, "/my/") == (200, 1)
    assert _user_reads(client, "/my/") == (200, 0)
    assert _user_reads(client, "/courses/") == (200, 0)


def test_the_cache_holds_no_password_hash(school_a: Any) -> None:
    student = new_user(school_a.school, "nohash@alpha.test")
    client_as(student, school_a.school).get("/my/")
    with school_context(school_a.school):
        stored_hash = User.objects.get(pk=student.pk).password
    raw = cache._cache.get_client().keys("*accounts:user:*")  # type: ignore[attr-defined]
    assert raw, "the user row was not cached"
    for key in raw:
        assert stored_hash.encode() not in cache._cache.get_client().get(key)  # type: ignore[attr-defined]


def test_a_changed_password_logs_out_other_sessions_at_once(school_a: Any) -> None:
    student = new_user(school_a.school, "pw@alpha.test")
    client = client_as(student, school_a.school)
    assert _user_reads(client, "/my/")[0] == 200
    assert _user_reads(client, "/my/") == (200, 0)  # cached now
    with school_context(school_a.school):
        user = User.objects.get(pk=student.pk)
        user.set_password("another-long-passphrase-77")
        user.save(update_fields=["password"])
    response = client.get("/my/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_deactivated_or_deleted_account_is_signed_out_at_once(school_a: Any) -> None:
    gone = new_user(school_a.school, "gone@alpha.test")
    off = new_user(school_a.school, "off@alpha.test")
    clients = {user.pk: client_as(user, school_a.school) for user in (gone, off)}
    for client in clients.values():
        client.get("/my/")
        assert _user_reads(client, "/my/") == (200, 0)
    with school_context(school_a.school):
        User.objects.filter(pk=gone.pk).first().delete()  # type: ignore[union-attr]
        deactivated = User.objects.get(pk=off.pk)
        deactivated.is_active = False
        deactivated.save(update_fields=["is_active"])
    for client in clients.values():
        assert client.get("/my/").status_code == 302


def test_a_demoted_instructor_loses_the_management_area_at_once(school_a: Any) -> None:
    teacher = new_user(school_a.school, "teach@alpha.test", role="instructor")
    client = client_as(teacher, school_a.school)
    client.get("/manage/")
    assert _user_reads(client, "/manage/") == (200, 0)
    with school_context(school_a.school):
        services.change_role(
            school=school_a.school,
            actor=school_a.owner,
            user=User.objects.get(pk=teacher.pk),
            role="student",
        )
    assert client.get("/manage/").status_code == 403


def test_a_removed_student_loses_the_lessons_at_once(school_a: Any) -> None:
    built = build_course(school_a.school, school_a.owner)
    student = new_user(school_a.school, "removed@alpha.test")
    enroll(school_a.school, school_a.owner, built.course, student)
    client = client_as(student, school_a.school)
    url = built.lesson_url(built.locked)
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200
    with school_context(school_a.school):
        course_services.remove_enrollment(
            school=school_a.school,
            actor=school_a.owner,
            enrollment=Enrollment.objects.get(student=student, course=built.course),
        )
    assert client.get(url).status_code == 403


def test_a_cached_user_is_never_served_outside_their_school(school_a: Any, school_b: Any) -> None:
    student = new_user(school_a.school, "home@alpha.test")
    with school_context(school_a.school):
        assert load_user(student.pk) is not None  # cached now
    with school_context(school_b.school), CaptureQueriesContext(connection) as captured:
        assert load_user(student.pk) is None  # row-level security: not visible here
    assert len(captured.captured_queries) == 1  # asked the database, not the cache
    with school_context(None):
        assert SchoolEmailBackend().get_user(student.pk) is None


def test_forget_user_and_a_new_secret_key_make_the_cached_row_unused(school_a: Any) -> None:
    student = new_user(school_a.school, "forget@alpha.test")
    with school_context(school_a.school):
        load_user(student.pk)
        with CaptureQueriesContext(connection) as captured:
            assert load_user(student.pk) is not None
        assert captured.captured_queries == []
        User.objects.filter(pk=student.pk).update(full_name="Changed Behind Our Back")
        forget_user(student.pk)
        user = load_user(student.pk)
        assert user is not None and user.full_name == "Changed Behind Our Back"
        with override_settings(SECRET_KEY="another-secret-key-for-this-test-only-0123456789"):
            with CaptureQueriesContext(connection) as captured:
                assert load_user(student.pk) is not None
            assert len(captured.captured_queries) == 1


def test_password_checks_on_a_cached_user_use_the_real_password(school_a: Any) -> None:
    student = new_user(school_a.school, "check@alpha.test")
    with school_context(school_a.school):
        load_user(student.pk)
        cached = load_user(student.pk)
        assert cached is not None and "password" in cached.get_deferred_fields()
        assert cached.check_password(PASSWORD)
        assert not cached.check_password("wrong-password-entirely")
        before = cached.get_session_auth_hash()
        cached.set_password("a-brand-new-passphrase-55")
        assert cached.get_session_auth_hash() != before  # computed from the new password


@override_settings(USER_CACHE_SECONDS=0)
def test_a_zero_lifetime_reads_the_row_on_every_request(school_a: Any) -> None:
    student = new_user(school_a.school, "nocache@alpha.test")
    client = client_as(student, school_a.school)
    client.get("/my/")
    assert _user_reads(client, "/my/") == (200, 1)


def test_while_listening_the_user_comes_from_memory_until_a_change_is_heard(
    school_a: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from courseplatform.accounts import user_cache
    from courseplatform.tenancy import broadcast

    assert broadcast.wait_until_listening()
    student = new_user(school_a.school, "heard@alpha.test")
    asked: list[str] = []
    real_get = cache.get

    def counting_get(key: str, *args: Any, **kwargs: Any) -> Any:
        asked.append(key)
        return real_get(key, *args, **kwargs)

    with school_context(school_a.school):
        load_user(student.pk)
        monkeypatch.setattr(cache, "get", counting_get)
        assert load_user(student.pk) is not None
        assert not [key for key in asked if key.startswith("accounts:user")]  # no Redis
        # Another web process changed the user (its forget_user: a new token in Redis and
        # an announcement): this one hears of it and reads again.
        User.objects.filter(pk=student.pk).update(full_name="Renamed Elsewhere")
        user_cache.replace_token(user_cache._version_key(student.pk), ttl=300)
        elsewhere = broadcast._redis_client()
        assert elsewhere is not None
        elsewhere.publish(broadcast.channel(), f"another-process\nuser:{student.pk}")  # type: ignore[attr-defined]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            user = load_user(student.pk)
            if user is not None and user.full_name == "Renamed Elsewhere":
                break
            time.sleep(0.02)
        assert user is not None and user.full_name == "Renamed Elsewhere"
