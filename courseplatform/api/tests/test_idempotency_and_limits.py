"""Idempotency-Key on POST, and the per-token rate limit with its headers."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from courseplatform.access.models import AccessCodeBatch
from courseplatform.api.models import IdempotencyRecord
from courseplatform.courses.models import Course

from .conftest import is_problem

pytestmark = pytest.mark.django_db


def _courses(in_school, school) -> int:
    with in_school(school):
        return Course.objects.filter(school=school).count()


def test_same_key_and_body_replays_the_stored_answer(alpha, api_for, in_school):
    api = api_for(alpha)
    first = api.post("/courses", {"title": "Once"}, **{"Idempotency-Key": "k-1"})
    again = api.post("/courses", {"title": "Once"}, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert _courses(in_school, alpha) == 1


def test_replayed_batch_returns_the_same_codes_not_a_new_batch(alpha, api_for, in_school):
    api = api_for(alpha)
    cid = api.post("/courses", {"title": "C"}).json()["id"]
    body = {"name": "Shop", "course_ids": [cid], "code_count": 2}
    first = api.post("/code-batches", body, **{"Idempotency-Key": "batch-7"}).json()
    again = api.post("/code-batches", body, **{"Idempotency-Key": "batch-7"}).json()
    assert again["codes"] == first["codes"]
    with in_school(alpha):
        assert AccessCodeBatch.objects.filter(school=alpha).count() == 1


def test_same_key_with_another_body_is_422_and_changes_nothing(alpha, api_for, in_school):
    api = api_for(alpha)
    api.post("/courses", {"title": "Once"}, **{"Idempotency-Key": "k-2"})
    body = is_problem(api.post("/courses", {"title": "Other"}, **{"Idempotency-Key": "k-2"}), 422)
    assert body["type"].endswith(":idempotency-key-reused")
    # ...also on another endpoint.
    is_problem(api.post("/students", {"email": "a@example.com"}, **{"Idempotency-Key": "k-2"}), 422)
    assert _courses(in_school, alpha) == 1


def test_keys_are_per_token_and_expire_after_a_day(alpha, api_for, in_school):
    one, two = api_for(alpha), api_for(alpha)
    one.post("/courses", {"title": "A"}, **{"Idempotency-Key": "shared"})
    assert two.post("/courses", {"title": "A"}, **{"Idempotency-Key": "shared"}).status_code == 201
    assert _courses(in_school, alpha) == 2
    with in_school(alpha):
        IdempotencyRecord.objects.filter(school=alpha).update(
            created_at=timezone.now() - timedelta(hours=25)
        )
    again = one.post("/courses", {"title": "A"}, **{"Idempotency-Key": "shared"})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert _courses(in_school, alpha) == 3


def test_refused_request_is_not_stored_so_a_fixed_retry_runs(
    alpha, api_for, in_school, plan_limits
):
    plan_limits(alpha.plan, max_courses=0)
    api = api_for(alpha)
    is_problem(api.post("/courses", {"title": "A"}, **{"Idempotency-Key": "k-3"}), 409)
    with in_school(alpha):
        assert not IdempotencyRecord.objects.filter(school=alpha).exists()


@pytest.mark.parametrize("key", ["", "x" * 256, "with space", "ünïcode"])
def test_malformed_idempotency_key_is_400(alpha, api_for, in_school, key):
    response = api_for(alpha).post("/courses", {"title": "A"}, **{"Idempotency-Key": key})
    is_problem(response, 400)
    assert _courses(in_school, alpha) == 0


@pytest.mark.django_db(transaction=True)
def test_expire_command_removes_old_records(alpha, api_for, in_school):
    from django.core.management import call_command

    api = api_for(alpha)
    api.post("/courses", {"title": "A"}, **{"Idempotency-Key": "old"})
    api.post("/courses", {"title": "B"}, **{"Idempotency-Key": "new"})
    with in_school(alpha):
        IdempotencyRecord.objects.filter(key="old").update(
            created_at=timezone.now() - timedelta(hours=25)
        )
    out = io.StringIO()
    call_command("expire_api_idempotency_keys", "--quiet", stdout=out)
    assert out.getvalue() == "Deleted 1 expired idempotency record(s).\n"
    with in_school(alpha):
        assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    out = io.StringIO()  # nothing due: the periodic service's run prints nothing
    call_command("expire_api_idempotency_keys", "--quiet", stdout=out)
    assert out.getvalue() == ""


def test_rate_limit_headers_and_429(alpha, api_for, settings):
    cache.clear()
    settings.RATE_LIMIT_API_TOKEN = "3/600"
    api = api_for(alpha)
    remaining = []
    for _ in range(3):
        response = api.get("/courses")
        assert response.status_code == 200
        assert response["RateLimit-Limit"] == "3"
        assert 0 < int(response["RateLimit-Reset"]) <= 600
        remaining.append(int(response["RateLimit-Remaining"]))
    assert remaining == [2, 1, 0]
    limited = api.post("/courses", {"title": "Too many"})
    body = is_problem(limited, 429)
    assert body["type"].endswith(":rate-limited")
    assert 0 < int(limited["Retry-After"]) <= 600 and limited["RateLimit-Remaining"] == "0"
    # Another token of the same school has its own budget.
    assert api_for(alpha).get("/courses").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_write_once(alpha, make_token, in_school):
    """Four workers send the same POST with the same key at once: one writes, the others
    wait on the record's unique index and replay its answer."""
    from tests.fixtures.concurrency import run_together
    from tests.fixtures.schools import host_of

    from .conftest import ApiClient

    token = make_token(alpha)

    def send() -> tuple[int, bytes]:
        response = ApiClient(host_of(alpha), token).post(
            "/courses", {"title": "Race"}, **{"Idempotency-Key": "race-1"}
        )
        return response.status_code, response.content

    outcomes = run_together(alpha, [send for _ in range(4)])
    assert all(o.error is None for o in outcomes), [o.error for o in outcomes]
    answers = {o.value for o in outcomes}
    assert len(answers) == 1 and next(iter(answers))[0] == 201
    assert _courses(in_school, alpha) == 1
