"""The school setting rides along with the statements (tenancy/postgresql/base.py):
RLS stays exactly as strict while entering and leaving a school context sends nothing.

Every test runs its statements on the runtime role's connection (RLS in force) and
checks which school's rows a statement sees after whatever the connection did before:
another school's work, a rolled-back transaction or savepoint, a failed statement, a
setting changed by hand, another thread, a request that crashed mid-way.
"""

from __future__ import annotations

import os
import select
import threading
import time
from typing import Any

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from courseplatform.sites import selectors as site_selectors
from courseplatform.sites.models import Page
from courseplatform.tenancy import rls


class Boom(Exception):
    pass


def _page_schools() -> set[int]:
    return set(Page.objects.values_list("school_id", flat=True))


def _statements(ctx: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in ctx.captured_queries]


@pytest.mark.django_db(transaction=True)
def test_entering_and_leaving_a_context_sends_nothing(school_a: Any, school_b: Any) -> None:
    alpha, bravo = school_a.school, school_b.school
    with CaptureQueriesContext(connection) as ctx:
        with rls.school_context(alpha):
            pass
        with rls.school_context(bravo):
            pass
    assert ctx.captured_queries == []


@pytest.mark.django_db(transaction=True)
def test_the_school_rides_with_the_first_statement_and_only_when_it_changes(
    school_a: Any, school_b: Any
) -> None:
    alpha, bravo = school_a.school, school_b.school
    with rls.school_context(alpha):
        assert _page_schools() == {alpha.pk}
    with CaptureQueriesContext(connection) as ctx:
        with rls.school_context(alpha):  # the connection already holds alpha
            assert _page_schools() == {alpha.pk}
            assert _page_schools() == {alpha.pk}
        with rls.school_context(bravo):  # another school: sent with the statement
            assert _page_schools() == {bravo.pk}
            assert _page_schools() == {bravo.pk}
    statements = _statements(ctx)
    assert len(statements) == 4  # one round trip each, no separate set_config
    assert [("set_config" in sql) for sql in statements] == [False, False, True, False]
    assert f"'app.school_id', '{bravo.pk}'" in statements[2]


@pytest.mark.django_db(transaction=True)
def test_after_a_context_the_connection_sees_no_tenant_rows(school_a: Any) -> None:
    with rls.school_context(school_a.school):
        assert _page_schools() == {school_a.school.pk}
    assert _page_schools() == set()


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_cannot_leave_another_schools_setting(
    school_a: Any, school_b: Any
) -> None:
    alpha, bravo = school_a.school, school_b.school
    with rls.school_context(bravo):
        assert _page_schools() == {bravo.pk}  # the server session now holds bravo
    with rls.school_context(alpha):
        with pytest.raises(Boom), transaction.atomic():
            assert _page_schools() == {alpha.pk}  # alpha sent inside the transaction...
            raise Boom
        # ...and the rollback put bravo back on the server. Still only alpha:
        assert _page_schools() == {alpha.pk}
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('app.school_id', true)")
            assert cursor.fetchone()[0] == str(alpha.pk)


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_savepoint_cannot_leave_another_schools_setting(
    school_a: Any, school_b: Any
) -> None:
    alpha, bravo = school_a.school, school_b.school
    with transaction.atomic():
        with rls.school_context(bravo):
            assert _page_schools() == {bravo.pk}
        with rls.school_context(alpha):
            with pytest.raises(Boom), transaction.atomic():  # a savepoint
                assert _page_schools() == {alpha.pk}
                raise Boom
            assert _page_schools() == {alpha.pk}
        with rls.school_context(bravo):
            assert _page_schools() == {bravo.pk}
    with rls.school_context(alpha):
        assert _page_schools() == {alpha.pk}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["django", "psycopg"])
def test_a_manual_rollback_cannot_leave_another_schools_setting(
    school_a: Any, school_b: Any, how: str
) -> None:
    alpha, bravo = school_a.school, school_b.school
    with rls.school_context(bravo):
        assert _page_schools() == {bravo.pk}
    transaction.set_autocommit(False)
    try:
        with rls.school_context(alpha):
            assert _page_schools() == {alpha.pk}  # sent inside the transaction
            if how == "django":
                transaction.rollback()
            else:  # behind Django's back
                connection.connection.rollback()
            assert _page_schools() == {alpha.pk}
            transaction.commit()
            assert _page_schools() == {alpha.pk}
    finally:
        transaction.rollback()
        transaction.set_autocommit(True)
    with rls.school_context(bravo):
        assert _page_schools() == {bravo.pk}


@pytest.mark.django_db(transaction=True)
def test_a_failed_statement_cannot_leave_another_schools_setting(
    school_a: Any, school_b: Any
) -> None:
    alpha, bravo = school_a.school, school_b.school
    with rls.school_context(bravo):
        assert _page_schools() == {bravo.pk}
    with rls.school_context(alpha):
        # alpha rides with a statement that fails: the server drops both.
        with pytest.raises(DatabaseError), connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")
        assert _page_schools() == {alpha.pk}


@pytest.mark.django_db(transaction=True)
def test_a_setting_changed_by_hand_is_put_back_before_the_next_statement(
    school_a: Any, school_b: Any
) -> None:
    alpha, bravo = school_a.school, school_b.school
    with rls.school_context(alpha):
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.school_id', %s, false)", [str(bravo.pk)])
        assert _page_schools() == {alpha.pk}
        with connection.cursor() as cursor:
            cursor.execute("RESET ALL")
        assert _page_schools() == {alpha.pk}


@pytest.mark.django_db(transaction=True)
def test_server_side_cursors_and_executemany_run_as_the_context(
    school_a: Any, school_b: Any
) -> None:
    alpha, bravo = school_a.school, school_b.school
    with rls.school_context(bravo):
        assert _page_schools() == {bravo.pk}
    with rls.school_context(alpha):
        # iterator() uses a named (server-side) cursor on PostgreSQL.
        assert {p.school_id for p in Page.objects.iterator(chunk_size=1)} == {alpha.pk}
    with rls.school_context(bravo), connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE school_sites_page SET title = title WHERE school_id = %s",
            [[alpha.pk], [bravo.pk]],
        )
        assert cursor.rowcount >= 0
    with rls.school_context(alpha):
        assert _page_schools() == {alpha.pk}


@pytest.mark.django_db(transaction=True)
def test_another_threads_connection_starts_with_no_school(school_a: Any) -> None:
    seen: list[set[int]] = []

    def work() -> None:
        try:
            seen.append(_page_schools())
            with rls.school_context(school_a.school):
                seen.append(_page_schools())
        finally:
            connection.close()

    with rls.school_context(school_a.school):
        thread = threading.Thread(target=work)  # contexts do not cross threads
        thread.start()
        thread.join(timeout=120)
    assert seen == [set(), {school_a.school.pk}]


# --- through requests, on one persistent connection -----------------------------------


@pytest.mark.django_db(transaction=True)
def test_requests_for_two_schools_on_one_connection_see_only_their_own(
    school_a: Any, school_b: Any
) -> None:
    alpha, bravo = school_a.school, school_b.school
    seen: dict[str, set[int]] = {}
    real = site_selectors.get_home_page

    def spy(school: Any) -> Any:
        seen.setdefault(school.slug, set()).update(_page_schools())
        return real(school)

    pytest.MonkeyPatch().setattr(site_selectors, "get_home_page", spy)
    try:
        clients = {s.slug: Client(HTTP_HOST=f"{s.slug}.localhost") for s in (alpha, bravo)}
        connection.ensure_connection()
        backend = connection.connection
        for slug in ["alpha", "bravo", "bravo", "alpha", "bravo", "alpha", "alpha"]:
            assert clients[slug].get("/").status_code == 200
            assert connection.connection is backend  # the same connection throughout
    finally:
        site_selectors.get_home_page = real
    assert seen == {"alpha": {alpha.pk}, "bravo": {bravo.pk}}


@pytest.mark.django_db(transaction=True)
def test_a_request_that_crashes_mid_transaction_leaks_nothing_to_the_next(
    school_a: Any, school_b: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    alpha = school_a.school
    client_a = Client(HTTP_HOST="alpha.localhost", raise_request_exception=False)
    client_b = Client(HTTP_HOST="bravo.localhost")
    assert client_b.get("/").status_code == 200  # the connection holds bravo

    def crash(school: Any) -> Any:
        with transaction.atomic():
            assert _page_schools() == {alpha.pk}
            raise Boom

    monkeypatch.setattr(site_selectors, "get_home_page", crash)
    assert client_a.get("/").status_code == 500
    monkeypatch.undo()

    with rls.school_context(alpha):
        assert _page_schools() == {alpha.pk}
    body = client_b.get("/").content.decode()
    assert "Bravo Academy" in body and "Alpha Academy" not in body
    assert _page_schools() == set()


# --- the health check -----------------------------------------------------------------


def _terminate(pid: int) -> None:
    admin = os.environ.get("DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.django_db(transaction=True)
def test_health_check_asks_the_server_only_when_the_socket_says_something(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connection.ensure_connection()
    sent: list[str] = []
    real_execute = psycopg.Cursor.execute

    def counting(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(str(query))
        return real_execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counting)
    assert connection.is_usable()
    assert sent == []  # a healthy idle connection: no round trip

    pid = connection.connection.info.backend_pid
    _terminate(pid)
    # The server's termination notice reaches the socket (bounded wait, no timing claim).
    deadline = time.monotonic() + 120
    while not select.select([connection.connection.fileno()], [], [], 1)[0]:
        assert time.monotonic() < deadline, "the terminated connection never said so"
    assert not connection.is_usable()
    connection.close()
    monkeypatch.undo()
    connection.ensure_connection()
    assert connection.connection.info.backend_pid != pid
    assert connection.is_usable()
