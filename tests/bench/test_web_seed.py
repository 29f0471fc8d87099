"""The web bench's seeding and sessions on a small count: samples through the real
services, bulk clones that are consistent schools of their own (row-level security
sees each clone's rows in its own school only), the target rows, a real login over
HTTP, and sessions minted from a real session's layout."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from django.db import connections
from django.test import Client

from bench.web import seed, targets

TINY = seed.Shape("sample-tiny", "Tiny Pottery", "free", 1, 1, 1, 2, 3, 1, 1, weight=1)
SMALL = seed.Shape("sample-two", "Two Courses", "free", 2, 0, 2, 2, 4, 2, 2, weight=2)
COUNTED = ("courses.Course", "courses.Section", "courses.Lesson", "courses.Enrollment",
           "courses.LessonProgress", "accounts.User", "school_sites.Page")  # fmt: skip

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "platform", "owner"])


def test_clone_plan_follows_the_weights() -> None:
    assert seed.clone_plan({1: 1, 2: 2}, 5) == {1: 1, 2: 4}
    # 97 in 3:5:1 is 32.3 : 53.9 : 10.8; the two left over go to the heaviest samples.
    assert seed.clone_plan({1: 3, 2: 5, 3: 1}, 97) == {1: 33, 2: 54, 3: 10}
    assert seed.clone_plan({1: 3, 2: 5}, 0) == {1: 0, 2: 0}


def _counts(school: Any) -> dict[str, int]:
    """What the runtime role sees in the school's own RLS context."""
    from django.apps import apps

    from courseplatform.tenancy.rls import school_context

    with school_context(school):
        return {label: apps.get_model(label).objects.count() for label in COUNTED}


def _cross_school_keys() -> int:
    """Rows of a cloned table whose key points at a row of another school."""
    models = seed._models()
    tables = {m._meta.db_table for m in models}
    wrong = 0
    with connections["owner"].cursor() as cursor:
        for model in models:
            for f in model._meta.concrete_fields:
                if not f.is_relation or f.related_model._meta.db_table not in tables:
                    continue
                parent = f.related_model._meta.db_table
                if parent == "tenancy_school" or model._meta.db_table == "tenancy_school":
                    continue
                cursor.execute(
                    f'SELECT count(*) FROM "{model._meta.db_table}" c JOIN "{parent}" p '
                    f'ON p.id = c."{f.column}" WHERE p.school_id IS DISTINCT FROM c.school_id'
                )
                wrong += cursor.fetchone()[0]
    return wrong


@pytest.fixture
def seeded() -> tuple[list[seed.Sample], seed.CloneStats]:
    samples = seed.create_samples((TINY, SMALL))
    stats = seed.clone_schools(samples=samples, total=5, using="owner")
    return samples, stats


def test_clones_are_whole_schools_of_their_own(
    seeded: tuple[list[seed.Sample], seed.CloneStats],
) -> None:
    from courseplatform.accounts.models import User
    from courseplatform.courses.services import create_course
    from courseplatform.tenancy.models import School
    from courseplatform.tenancy.rls import school_context

    samples, stats = seeded
    assert stats.schools == 5 and stats.rows["tenancy_school"] == 5
    clones = list(School.objects.filter(slug__startswith=seed.CLONE_SLUG_PREFIX))
    assert sorted(c.slug for c in clones) == sorted(f"school-{c.pk}" for c in clones)
    by_name = {s.shape.name: School.objects.get(pk=s.school_id) for s in samples}
    made = {name: 0 for name in by_name}
    for clone in clones:
        name = clone.name.rsplit(" ", 1)[0]
        made[name] += 1
        assert _counts(clone) == _counts(by_name[name])
        with school_context(clone):
            emails = set(User.objects.values_list("email", flat=True))
            # A new row after the bulk insert gets a fresh id (sequences moved on).
            owner = User.objects.get(role=User.Role.OWNER)
            create_course(school=clone, actor=owner, title="After cloning")
        assert emails and all(e.endswith(f"@{clone.slug}.test") for e in emails)
    assert made == {"Tiny Pottery": 1, "Two Courses": 4}  # weights 1:2 of five clones
    assert _cross_school_keys() == 0


def test_school_rows_name_a_lesson_the_learner_may_open(
    seeded: tuple[list[seed.Sample], seed.CloneStats],
) -> None:
    rows = targets.school_rows()
    assert len(rows) == 7
    row = next(r for r in rows if r.slug.startswith(seed.CLONE_SLUG_PREFIX))
    host = f"{row.slug}.localhost"
    client = Client(HTTP_HOST=host)
    assert client.get("/").status_code == 200
    assert client.get(f"/courses/{row.course_slug}/").status_code == 200
    lesson = f"/courses/{row.lesson_course_slug}/lessons/{row.lesson_id}/"
    assert client.get(lesson).status_code == 302  # not logged in: to the login page

    # A session minted in the layout of a real login's session opens the lesson.
    from courseplatform.accounts.models import User
    from courseplatform.tenancy.rls import school_context

    sample_row = next(r for r in rows if r.slug == TINY.slug)
    real = Client(HTTP_HOST=f"{sample_row.slug}.localhost")
    with school_context(sample_row.school_id):  # login() records last_login under RLS
        real.force_login(User.objects.get(pk=sample_row.learner_id))
    layout = targets.session_layout(real.session.session_key or "")
    (minted,) = targets.mint_sessions(layout, [(row.learner_id, row.learner_password_hash)])
    client.cookies["sessionid"] = minted
    assert client.get(lesson).status_code == 200
    assert client.get("/my/").status_code == 200
    # The same session on another school's host is logged out there.
    other = next(r for r in rows if r.school_id != row.school_id)
    stranger = Client(HTTP_HOST=f"{other.slug}.localhost")
    stranger.cookies["sessionid"] = minted
    assert stranger.get("/my/").status_code == 302


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def wsgi_port() -> Iterator[int]:
    from django.core.wsgi import get_wsgi_application

    server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_login_goes_through_the_real_form(
    seeded: tuple[list[seed.Sample], seed.CloneStats], wsgi_port: int
) -> None:
    row = next(r for r in targets.school_rows() if r.slug.startswith(seed.CLONE_SLUG_PREFIX))
    host = targets.host_of(row.slug, wsgi_port)
    key = targets.login(
        port=wsgi_port,
        host=host,
        email=row.learner_email,
        password=seed.SAMPLE_PASSWORD,
        cookie_name="sessionid",
    )
    assert targets.session_layout(key)["_auth_user_id"] == str(row.learner_id)
    with pytest.raises(targets.LoginFailed, match="answered 200"):
        targets.login(
            port=wsgi_port, host=host, email=row.learner_email, password="wrong-password-123",
            cookie_name="sessionid",
        )  # fmt: skip


def _foreign_keys() -> list[tuple[str, str, str]]:
    tables = sorted(m._meta.db_table for m in seed._models())
    with connections["owner"].cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) "
            "ORDER BY 1, 2",
            [tables],
        )
        return list(cursor.fetchall())


def test_cloning_puts_every_foreign_key_back_as_it_was() -> None:
    before = _foreign_keys()
    assert any("DEFERRABLE INITIALLY DEFERRED" in definition for _, _, definition in before)
    samples = seed.create_samples((TINY,))
    seed.clone_schools(samples=samples, total=2, using="owner")
    assert _foreign_keys() == before
