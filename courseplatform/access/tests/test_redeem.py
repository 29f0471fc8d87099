"""Redeeming codes: the service and the /redeem/ page, on two schools.

ORM reads of tenant rows run inside ``in_school(...)``: row-level security hides
them otherwise.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from courseplatform.access import codes
from courseplatform.access.models import AccessCode, AccessCodeBatch, Redemption
from courseplatform.access.services import (
    MESSAGES,
    RedeemError,
    create_batch,
    redeem_code,
    revoke_batch,
    revoke_code,
)
from courseplatform.access.views import PENDING_KEY
from courseplatform.courses.models import Enrollment
from courseplatform.courses.services import (
    add_lesson,
    add_section,
    create_course,
    remove_enrollment,
    set_course_status,
)
from courseplatform.ops import ratelimit
from courseplatform.ops.models import AuditLog
from courseplatform.tenancy.rls import school_context
from tests.fixtures.schools import PASSWORD, host_of

pytestmark = pytest.mark.django_db

WRONG_CODE = "ZZZZ-ZZZZ-ZZZZ-ZZZZ"  # well-formed; no batch in any school holds it


@pytest.fixture(autouse=True)
def _steady_rate_limit_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin the limiter's clock just after a 15-minute boundary so no window rolls over."""
    start = int(time.time()) // 900 * 900 + 5
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: float(start)))


def published_course(school: Any, owner: Any, title: str) -> Any:
    course = create_course(school=school, actor=owner, title=title)
    section = add_section(school=school, actor=owner, course=course, title="Start")
    add_lesson(school=school, actor=owner, section=section, title="Welcome")
    return set_course_status(school=school, actor=owner, course=course, publish=True)


def setup_school(created: Any, in_school: Callable[..., Any], make_user: Callable[..., Any]) -> Any:
    school, owner = created.school, created.owner
    with in_school(school):
        first = published_course(school, owner, "Watercolour Basics")
        second = published_course(school, owner, "Colour Theory")
    student = make_user(school, f"sam@{school.slug}.test")
    other = make_user(school, f"kim@{school.slug}.test")
    return SimpleNamespace(
        school=school,
        owner=owner,
        courses=[first, second],
        student=student,
        other=other,
        host=host_of(school),
    )


@pytest.fixture
def alpha(school_a: Any, in_school: Callable[..., Any], make_user: Callable[..., Any]) -> Any:
    return setup_school(school_a, in_school, make_user)


@pytest.fixture
def bravo(school_b: Any, in_school: Callable[..., Any], make_user: Callable[..., Any]) -> Any:
    return setup_school(school_b, in_school, make_user)


def make_codes(
    env: Any,
    in_school: Callable[..., Any],
    *,
    count: int = 3,
    uses: int = 1,
    courses: list[Any] | None = None,
    **kwargs: Any,
) -> Any:
    with in_school(env.school):
        return create_batch(
            school=env.school,
            actor=env.owner,
            name="Spring workshop",
            course_ids=[c.pk for c in (courses or env.courses)],
            code_count=count,
            uses_per_code=uses,
            **kwargs,
        )


def logged_in(env: Any, user: Any, **kwargs: Any) -> Client:
    client = Client(HTTP_HOST=env.host, **kwargs)
    with school_context(env.school):  # login writes last_login: a tenant row under RLS
        client.force_login(user)
    return client


def field_error(response: Any) -> str:
    html = response.content.decode()
    match = re.search(r'<div id="id_code_error"[^>]*>(.*?)</div>', html, re.DOTALL)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


def flashed(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def code_row(env: Any, in_school: Callable[..., Any], plaintext: str) -> AccessCode:
    with in_school(env.school):
        return AccessCode.objects.get(
            school=env.school, digest=codes.code_digest(codes.normalize_code(plaintext))
        )


def enrolled_ids(env: Any, in_school: Callable[..., Any], user: Any) -> set[int]:
    with in_school(env.school):
        return set(
            Enrollment.objects.filter(school=env.school, student=user).values_list(
                "course_id", flat=True
            )
        )


def state(env: Any, in_school: Callable[..., Any]) -> tuple[int, int, list[int]]:
    with in_school(env.school):
        return (
            Enrollment.objects.filter(school=env.school).count(),
            Redemption.objects.filter(school=env.school).count(),
            sorted(
                AccessCode.objects.filter(school=env.school).values_list("uses_count", flat=True)
            ),
        )


# --- the service ---------------------------------------------------------------------------


def test_redeem_code_enrols_in_every_course_of_a_bundle(alpha: Any, in_school: Any) -> None:
    code = make_codes(alpha, in_school).codes[0]
    with in_school(alpha.school):
        result = redeem_code(
            school=alpha.school, student=alpha.student, raw_code=code.lower(), ip="10.0.0.1"
        )
    assert [c.pk for c in result.newly_enrolled] == [c.pk for c in alpha.courses]
    assert result.first_course is not None and result.first_course.pk == alpha.courses[0].pk
    assert enrolled_ids(alpha, in_school, alpha.student) == {c.pk for c in alpha.courses}
    assert code_row(alpha, in_school, code).uses_count == 1


def test_redeem_code_of_another_school_fails_like_a_wrong_code(
    alpha: Any, bravo: Any, in_school: Any
) -> None:
    code_of_a = make_codes(alpha, in_school).codes[0]
    with in_school(bravo.school):
        with pytest.raises(RedeemError) as foreign:
            redeem_code(school=bravo.school, student=bravo.student, raw_code=code_of_a)
        with pytest.raises(RedeemError) as wrong:
            redeem_code(school=bravo.school, student=bravo.student, raw_code=WRONG_CODE)
    assert (foreign.value.reason, str(foreign.value)) == (wrong.value.reason, str(wrong.value))
    assert foreign.value.reason == "invalid"
    assert code_row(alpha, in_school, code_of_a).uses_count == 0


# --- the page: success and friendly no-ops -------------------------------------------------


def test_redeem_view_enrols_and_redirects_to_the_first_course(alpha: Any, in_school: Any) -> None:
    code = make_codes(alpha, in_school).codes[0]
    client = logged_in(alpha, alpha.student)
    page = client.get("/redeem/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="code"' in html and 'autocomplete="off"' in html
    assert 'autocapitalize="characters"' in html

    response = client.post("/redeem/", {"code": f"  {code.lower().replace('-', ' ')} "})
    assert response.status_code == 302
    assert response["Location"] == f"/courses/{alpha.courses[0].slug}/"
    [message] = flashed(response)
    assert "Watercolour Basics" in message and "Colour Theory" in message
    assert enrolled_ids(alpha, in_school, alpha.student) == {c.pk for c in alpha.courses}
    with in_school(alpha.school):
        assert Redemption.objects.filter(school=alpha.school, student=alpha.student).count() == 1


def test_redeem_view_already_enrolled_uses_nothing(alpha: Any, in_school: Any) -> None:
    two_use = make_codes(alpha, in_school, count=2, uses=2).codes
    client = logged_in(alpha, alpha.student)
    assert client.post("/redeem/", {"code": two_use[0]}).status_code == 302

    again = client.post("/redeem/", {"code": two_use[0]})
    assert again.status_code == 302
    assert again["Location"] == f"/courses/{alpha.courses[0].slug}/"
    message = flashed(again)[-1]  # the first success message was never displayed
    assert "already have access" in message and "not used" in message
    other_code = client.post("/redeem/", {"code": two_use[1]})
    assert other_code.status_code == 302
    assert code_row(alpha, in_school, two_use[0]).uses_count == 1
    assert code_row(alpha, in_school, two_use[1]).uses_count == 0


def test_redeem_code_again_after_removal_from_a_course_enrols_nothing_and_uses_nothing(
    alpha: Any, in_school: Any
) -> None:
    """A student an instructor removed cannot re-enter the code they already used to
    get back in; the code's other uses stay for other students."""
    code = make_codes(alpha, in_school, count=1, uses=2).codes[0]
    with in_school(alpha.school):
        redeem_code(school=alpha.school, student=alpha.student, raw_code=code)
        enrollment = Enrollment.objects.get(
            school=alpha.school, student=alpha.student, course=alpha.courses[0]
        )
        remove_enrollment(school=alpha.school, actor=alpha.owner, enrollment=enrollment)
        again = redeem_code(school=alpha.school, student=alpha.student, raw_code=code)
    assert again.already_enrolled and again.newly_enrolled == []
    assert enrolled_ids(alpha, in_school, alpha.student) == {alpha.courses[1].pk}
    assert code_row(alpha, in_school, code).uses_count == 1


# --- the page: each failure has its own words ------------------------------------------


def test_redeem_view_expired_code(alpha: Any, in_school: Any) -> None:
    new = make_codes(alpha, in_school, expires_at=timezone.now() + timedelta(days=1))
    with in_school(alpha.school):
        past = timezone.now() - timedelta(minutes=1)
        AccessCode.objects.filter(school=alpha.school).update(expires_at=past)
        AccessCodeBatch.objects.filter(pk=new.batch.pk).update(expires_at=past)
    response = logged_in(alpha, alpha.student).post("/redeem/", {"code": new.codes[0]})
    assert response.status_code == 200
    assert field_error(response) == MESSAGES["expired"]
    assert enrolled_ids(alpha, in_school, alpha.student) == set()


def test_redeem_view_revoked_code_and_revoked_batch(alpha: Any, in_school: Any) -> None:
    first = make_codes(alpha, in_school)
    second = make_codes(alpha, in_school)
    with in_school(alpha.school):
        revoke_code(
            school=alpha.school, actor=alpha.owner, code=code_row(alpha, in_school, first.codes[0])
        )
        revoke_batch(school=alpha.school, actor=alpha.owner, batch=second.batch)
    client = logged_in(alpha, alpha.student)
    for code in (first.codes[0], second.codes[2]):
        response = client.post("/redeem/", {"code": code})
        assert response.status_code == 200
        assert field_error(response) == MESSAGES["revoked"]
    # The other codes of the first batch still work.
    assert client.post("/redeem/", {"code": first.codes[1]}).status_code == 302


def test_redeem_view_exhausted_code(alpha: Any, in_school: Any) -> None:
    code = make_codes(alpha, in_school, uses=1).codes[0]
    assert logged_in(alpha, alpha.other).post("/redeem/", {"code": code}).status_code == 302
    response = logged_in(alpha, alpha.student).post("/redeem/", {"code": code})
    assert response.status_code == 200
    assert field_error(response) == MESSAGES["exhausted"]
    assert code_row(alpha, in_school, code).uses_count == 1
    assert enrolled_ids(alpha, in_school, alpha.student) == set()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "format"),
        ("K7QM-3XTA", "format"),
        ("K" * 65, "format"),
        ("ÄÖÜ…ÄÖÜ…ÄÖÜ…ÄÖÜ…", "format"),
        ("' OR 1=1 --", "format"),
        ("'; DROP TABLE access_accesscode; --", "format"),
        ("K7QM\x003XTA9BDRW2HN", "format"),
        (WRONG_CODE, "invalid"),
    ],
)
def test_redeem_view_bad_input_changes_nothing(
    alpha: Any, in_school: Any, raw: str, reason: str
) -> None:
    make_codes(alpha, in_school)
    before = state(alpha, in_school)
    response = logged_in(alpha, alpha.student).post("/redeem/", {"code": raw})
    assert response.status_code == 200
    assert field_error(response) == MESSAGES[reason]
    assert state(alpha, in_school) == before
    with in_school(alpha.school):
        failed = AuditLog.objects.filter(school=alpha.school, action="codes.redeem_failed")
        assert [a.data for a in failed] == [{"reason": reason}]


def test_redeem_view_code_of_school_a_at_school_b_looks_like_a_wrong_code(
    alpha: Any, bravo: Any, in_school: Any
) -> None:
    code_of_a = make_codes(alpha, in_school).codes[0]
    make_codes(bravo, in_school)
    client = logged_in(bravo, bravo.student)
    foreign = client.post("/redeem/", {"code": code_of_a})
    wrong = client.post("/redeem/", {"code": WRONG_CODE})
    assert foreign.status_code == wrong.status_code == 200
    assert field_error(foreign) == field_error(wrong) == MESSAGES["invalid"]
    assert len(foreign.content) - len(code_of_a) == len(wrong.content) - len(WRONG_CODE)
    assert code_row(alpha, in_school, code_of_a).uses_count == 0
    assert enrolled_ids(bravo, in_school, bravo.student) == set()


# --- rate limits ---------------------------------------------------------------------------


def _fail(client: Client, n: int, **extra: Any) -> None:
    for _ in range(n):
        response = client.post("/redeem/", {"code": WRONG_CODE}, **extra)
        assert response.status_code == 200, response.status_code


def test_redeem_view_ten_failures_per_account_then_429(alpha: Any, in_school: Any) -> None:
    good = make_codes(alpha, in_school).codes[0]
    client = logged_in(alpha, alpha.student)
    _fail(client, 10, REMOTE_ADDR="10.0.0.1")
    limited = client.post("/redeem/", {"code": WRONG_CODE}, REMOTE_ADDR="10.0.0.1")
    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 900
    # Another network does not help the same account, and neither does a good code.
    elsewhere = client.post("/redeem/", {"code": good}, REMOTE_ADDR="10.9.9.9")
    assert elsewhere.status_code == 429
    assert code_row(alpha, in_school, good).uses_count == 0
    with in_school(alpha.school):
        assert AuditLog.objects.filter(
            school=alpha.school, action="codes.redeem_throttled", data__scope="redeem-account"
        ).exists()


def test_redeem_view_wrong_codes_per_ip_then_429_for_every_account(
    alpha: Any, in_school: Any, make_user: Any, settings: Any
) -> None:
    """A guesser with many accounts behind one address is stopped at the IP budget."""
    good = make_codes(alpha, in_school).codes[0]
    ip_budget = ratelimit.Limit.parse(settings.RATE_LIMIT_REDEEM_IP).count
    per_account = ratelimit.Limit.parse(settings.RATE_LIMIT_REDEEM_ACCOUNT).count
    guessers = [
        make_user(alpha.school, f"guesser{i}@alpha.test", password=None)
        for i in range(-(-ip_budget // per_account))
    ]
    sent = 0
    for guesser in guessers:
        take = min(per_account, ip_budget - sent)
        _fail(logged_in(alpha, guesser), take, REMOTE_ADDR="10.0.0.2")
        sent += take
    assert sent == ip_budget
    other = logged_in(alpha, alpha.other)
    limited = other.post("/redeem/", {"code": good}, REMOTE_ADDR="10.0.0.2")
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert code_row(alpha, in_school, good).uses_count == 0
    # The other account from its own network is fine.
    assert other.post("/redeem/", {"code": good}, REMOTE_ADDR="10.0.0.3").status_code == 302


def test_redeem_view_successes_do_not_count(alpha: Any, in_school: Any) -> None:
    batch_codes = make_codes(alpha, in_school, count=3, uses=3).codes
    client = logged_in(alpha, alpha.student)
    _fail(client, 9)
    for code in batch_codes:  # one redemption, then "already enrolled" twice
        assert client.post("/redeem/", {"code": code}).status_code == 302
    _fail(client, 1)  # the tenth failure is still answered
    assert client.post("/redeem/", {"code": WRONG_CODE}).status_code == 429


def test_redeem_view_fully_used_expired_and_revoked_answers_are_not_guesses(
    alpha: Any, bravo: Any, in_school: Any
) -> None:
    used_up = make_codes(alpha, in_school, count=1).codes[0]
    assert logged_in(alpha, alpha.other).post("/redeem/", {"code": used_up}).status_code == 302
    expiring = make_codes(alpha, in_school, count=1, expires_at=timezone.now() + timedelta(1))
    with in_school(alpha.school):
        AccessCode.objects.filter(school=alpha.school, batch=expiring.batch).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    revoked = make_codes(alpha, in_school, count=1)
    with in_school(alpha.school):
        revoke_batch(school=alpha.school, actor=alpha.owner, batch=revoked.batch)
    good = make_codes(alpha, in_school, count=1).codes[0]

    client = logged_in(alpha, alpha.student)
    answers = [
        (used_up, "exhausted"),
        (expiring.codes[0], "expired"),
        (revoked.codes[0], "revoked"),
    ]
    for code, reason in answers * 5:  # 15 answers: more than the account's 10 wrong codes
        response = client.post("/redeem/", {"code": code}, REMOTE_ADDR="10.0.0.4")
        assert response.status_code == 200
        assert field_error(response) == MESSAGES[reason]
    assert client.post("/redeem/", {"code": good}, REMOTE_ADDR="10.0.0.4").status_code == 302
    # Nothing was counted: the whole budget of wrong codes is still there.
    _fail(client, 10, REMOTE_ADDR="10.0.0.4")
    assert client.post("/redeem/", {"code": WRONG_CODE}).status_code == 429
    # A code of another school is a wrong code here, so it counts like one.
    foreign = make_codes(bravo, in_school, count=1).codes[0]
    response = logged_in(alpha, alpha.other).post("/redeem/", {"code": foreign})
    assert field_error(response) == MESSAGES["invalid"]


CLASS_SIZE = 40


def test_redeem_view_a_class_of_forty_behind_one_ip_redeems_while_a_guesser_is_stopped(
    alpha: Any, in_school: Any, make_user: Any, settings: Any
) -> None:
    """The issue's classroom: the code on the board has run out, so every student is
    first told "fully used" (40 answers, which alone used to lock the address); then
    each types their own code, every fourth one with a typo first, while a guesser sits
    on the same school network, all within one rate-limit window (the clock is pinned).
    Every student gets in; the guesser does not."""
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")  # the real limiter
    school_ip: dict[str, Any] = {"REMOTE_ADDR": "192.0.2.10"}
    own_codes = make_codes(alpha, in_school, count=CLASS_SIZE).codes
    used_up = make_codes(alpha, in_school, count=1).codes[0]
    assert logged_in(alpha, alpha.other).post("/redeem/", {"code": used_up}).status_code == 302
    students = [
        make_user(alpha.school, f"pupil{i}@alpha.test", password=None) for i in range(CLASS_SIZE)
    ]
    guesser = logged_in(alpha, alpha.student)

    guesser_answers = []
    for i, (student, code) in enumerate(zip(students, own_codes, strict=True)):
        client = logged_in(alpha, student)
        told = client.post("/redeem/", {"code": used_up}, **school_ip)
        assert field_error(told) == MESSAGES["exhausted"]
        if i % 4 == 0:
            mistyped = code[:-1] + ("Y" if code.endswith("Z") else "Z")
            typo = client.post("/redeem/", {"code": mistyped}, **school_ip)
            assert field_error(typo) == MESSAGES["invalid"]
        response = client.post("/redeem/", {"code": code}, **school_ip)
        assert response.status_code == 302, (i, response.status_code)
        guesser_answers.append(guesser.post("/redeem/", {"code": WRONG_CODE}, **school_ip))

    codes_used = [guess.status_code for guess in guesser_answers]
    assert codes_used == [200] * 10 + [429] * (CLASS_SIZE - 10)
    assert int(guesser_answers[-1]["Retry-After"]) > 0
    with in_school(alpha.school):
        assert Enrollment.objects.filter(school=alpha.school, student__in=students).count() == (
            CLASS_SIZE * len(alpha.courses)
        )
    assert enrolled_ids(alpha, in_school, alpha.student) == set()


def test_redeem_view_accepts_codes_pasted_with_unicode_dashes_and_invisible_characters(
    alpha: Any, in_school: Any
) -> None:
    code = make_codes(alpha, in_school, count=1).codes[0]
    a, b, c, d = code.split("-")
    pasted = f"\u200b{a}\u2013{b}\u2014{c}\u2011{d[:2]}\u200b{d[2:]}\u00a0"
    response = logged_in(alpha, alpha.student).post("/redeem/", {"code": pasted})
    assert response.status_code == 302
    assert enrolled_ids(alpha, in_school, alpha.student) == {c.pk for c in alpha.courses}
    assert code_row(alpha, in_school, code).uses_count == 1


def test_redeem_signed_out_keeps_a_pasted_code_in_its_canonical_form(
    alpha: Any, in_school: Any
) -> None:
    code = make_codes(alpha, in_school, count=1).codes[0]
    client = Client(HTTP_HOST=alpha.host)
    pasted = code.replace("-", "\u2212")  # minus signs, as a word processor writes them
    assert client.post("/redeem/", {"code": pasted}).status_code == 302
    login = client.post(
        "/accounts/login/?next=/redeem/",
        {"email": alpha.student.email, "password": PASSWORD, "next": "/redeem/"},
    )
    assert login.status_code == 302
    assert client.get("/redeem/").status_code == 302  # redeemed on return
    assert code_row(alpha, in_school, code).uses_count == 1


# --- audit ---------------------------------------------------------------------------------


def test_redeem_audit_entries_never_contain_the_plaintext(alpha: Any, in_school: Any) -> None:
    new = make_codes(alpha, in_school, count=3)
    client = logged_in(alpha, alpha.student)
    client.post("/redeem/", {"code": new.codes[0]})
    logged_in(alpha, alpha.other).post("/redeem/", {"code": new.codes[0]})  # exhausted
    client.post("/redeem/", {"code": new.codes[1].lower()})  # already enrolled: no audit needed
    owner = logged_in(alpha, alpha.owner)
    code2 = code_row(alpha, in_school, new.codes[2])
    assert owner.post(f"/manage/codes/codes/{code2.pk}/revoke/").status_code == 302
    assert owner.post(f"/manage/codes/{new.batch.pk}/revoke/").status_code == 302
    logged_in(alpha, alpha.other).post("/redeem/", {"code": new.codes[2]})  # revoked
    owner.get(f"/manage/codes/{new.batch.pk}/export.csv")

    with in_school(alpha.school):
        entries = list(AuditLog.objects.filter(school=alpha.school))
    actions = {e.action for e in entries}
    assert {
        "codes.batch_created",
        "codes.redeemed",
        "codes.redeem_failed",
        "codes.code_revoked",
        "codes.batch_revoked",
        "codes.batch_exported",
    } <= actions
    reasons = {e.data.get("reason") for e in entries if e.action == "codes.redeem_failed"}
    assert reasons == {"exhausted", "revoked"}
    text = " ".join(
        f"{e.action} {e.target_type} {e.target_id} {e.ip} {json.dumps(e.data)}" for e in entries
    ).upper()
    for code in new.codes:
        assert code not in text and code.replace("-", "") not in text.replace("-", "")


# --- signed out: keep the code, sign up, come back -----------------------------------------


def test_redeem_signed_out_keeps_code_through_signup_and_completes(
    alpha: Any, in_school: Any
) -> None:
    code = make_codes(alpha, in_school).codes[0]
    client = Client(HTTP_HOST=alpha.host)
    page = client.get("/redeem/")
    assert page.status_code == 200
    assert "/accounts/signup/?next=/redeem/" in page.content.decode()
    assert "/accounts/login/?next=/redeem/" in page.content.decode()

    sent = client.post("/redeem/", {"code": code})
    assert sent.status_code == 302
    assert sent["Location"] == "/accounts/signup/?next=/redeem/"
    assert "Create an account or log in to redeem your code" in flashed(sent)[0]
    kept = json.dumps(client.session[PENDING_KEY])
    assert code.replace("-", "") not in kept and code not in kept  # encrypted in the session

    signup = client.get(sent["Location"])
    assert signup.status_code == 200
    html = signup.content.decode()
    assert "Create an account or log in to redeem your code" in html
    assert "/accounts/login/?next=/redeem/" in html.replace("%2F", "/")

    joined = client.post(
        "/accounts/signup/?next=/redeem/",
        {
            "full_name": "New Student",
            "email": "new@alpha.test",
            "password": PASSWORD,
            "next": "/redeem/",
        },
    )
    assert joined.status_code == 302 and joined["Location"] == "/redeem/"
    done = client.get("/redeem/")
    assert done.status_code == 302
    assert done["Location"] == f"/courses/{alpha.courses[0].slug}/"
    with in_school(alpha.school):
        student = Enrollment.objects.filter(school=alpha.school, student__email="new@alpha.test")
        assert {e.course_id for e in student} == {c.pk for c in alpha.courses}
    assert PENDING_KEY not in client.session
    assert client.get("/redeem/").status_code == 200  # nothing pending any more


def test_redeem_link_signed_out_prefills_after_login_without_redeeming(
    alpha: Any, in_school: Any
) -> None:
    code = make_codes(alpha, in_school).codes[0]
    client = Client(HTTP_HOST=alpha.host)
    sent = client.get(f"/redeem/?code={code}")
    assert sent.status_code == 302 and sent["Location"] == "/accounts/signup/?next=/redeem/"
    login = client.post(
        "/accounts/login/?next=/redeem/",
        {"email": alpha.student.email, "password": PASSWORD, "next": "/redeem/"},
    )
    assert login.status_code == 302 and login["Location"] == "/redeem/"
    page = client.get("/redeem/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'value="{code}"' in html and "data-kept-code" in html
    assert enrolled_ids(alpha, in_school, alpha.student) == set()
    assert client.post("/redeem/", {"code": code}).status_code == 302
    assert enrolled_ids(alpha, in_school, alpha.student) == {c.pk for c in alpha.courses}


def test_redeem_signed_out_malformed_code_is_refused_at_once(alpha: Any) -> None:
    client = Client(HTTP_HOST=alpha.host)
    response = client.post("/redeem/", {"code": "' OR 1=1 --"})
    assert response.status_code == 200
    assert field_error(response) == MESSAGES["format"]
    assert PENDING_KEY not in client.session


def test_redeem_only_get_and_post(alpha: Any) -> None:
    assert logged_in(alpha, alpha.student).put("/redeem/").status_code == 405
