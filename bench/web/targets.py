"""What the load generator asks for: per school, the pages of the bench and the
session cookies of a student and an owner who logged in.

``school_rows`` reads, as the schema owner, one row per seeded school: its slug, the
owner and the learner, a published course and a lesson the learner is enrolled in.
``login`` signs a person in through the real login form over HTTP (CSRF token,
Argon2 check, session in Redis) and returns the session cookie. Logging in 20,000
people that way would take longer than the whole bench (~0.1 s of Argon2 each on
this machine), so ``mint_sessions`` writes further sessions with the session engine
itself, copying the layout of a real login's session (every key it holds; the user id
and the password-derived auth hash are the person's own).
"""

from __future__ import annotations

import http.client
import random
import re
import urllib.parse
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any

from .wrk import Target

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass(frozen=True)
class SchoolRow:
    school_id: int
    slug: str
    owner_id: int
    owner_email: str
    owner_password_hash: str
    learner_id: int
    learner_email: str
    learner_password_hash: str
    course_slug: str
    lesson_course_slug: str
    lesson_id: int


SCHOOL_ROWS_SQL = """
SELECT s.id, s.slug, o.id, o.email, o.password, l.id, l.email, l.password, c.slug, x.slug, x.id
FROM tenancy_school s
JOIN LATERAL (SELECT id, email, password FROM accounts_user
              WHERE school_id = s.id AND role = 'owner' ORDER BY id LIMIT 1) o ON true
JOIN LATERAL (SELECT id, email, password FROM accounts_user
              WHERE school_id = s.id AND email LIKE %s ORDER BY id LIMIT 1) l ON true
JOIN LATERAL (SELECT slug FROM courses_course
              WHERE school_id = s.id AND status = 'published' ORDER BY id LIMIT 1) c ON true
JOIN LATERAL (SELECT cc.slug, le.id FROM courses_enrollment e
              JOIN courses_course cc ON cc.id = e.course_id
              JOIN courses_lesson le ON le.course_id = cc.id
              JOIN courses_section se ON se.id = le.section_id
              WHERE e.school_id = s.id AND e.student_id = l.id AND cc.status = 'published'
                AND NOT le.is_preview
              ORDER BY e.course_id, se.position, le.position, le.id LIMIT 1) x ON true
ORDER BY s.id
"""


def school_rows(*, using: str = "owner") -> list[SchoolRow]:
    from django.db import connections

    from .seed import LEARNER

    with connections[using].cursor() as cursor:
        cursor.execute(SCHOOL_ROWS_SQL, [f"{LEARNER}@%"])
        return [SchoolRow(*row) for row in cursor.fetchall()]


def host_of(slug: str, port: int, domain: str = "localhost") -> str:
    return f"{slug}.{domain}:{port}"


# --- logging in -----------------------------------------------------------------------


class LoginFailed(RuntimeError):
    pass


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    jar: dict[str, str] = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        parsed: SimpleCookie = SimpleCookie()
        parsed.load(header)
        jar.update({name: morsel.value for name, morsel in parsed.items()})
    return jar


def login(*, port: int, host: str, email: str, password: str, cookie_name: str) -> str:
    """Sign in through /accounts/login/ on 127.0.0.1:port; returns the session id."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", "/accounts/login/", headers={"Host": host})
        page = conn.getresponse()
        body = page.read().decode("utf-8", "replace")
        jar = _cookies(page)
        token = CSRF_INPUT.search(body)
        if page.status != 200 or token is None or "csrftoken" not in jar:
            raise LoginFailed(f"{host}: login form answered {page.status} without a CSRF token")
        form = urllib.parse.urlencode(
            {"email": email, "password": password, "csrfmiddlewaretoken": token.group(1)}
        )
        conn.request(
            "POST",
            "/accounts/login/",
            body=form,
            headers={
                "Host": host,
                "Origin": f"http://{host}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={jar['csrftoken']}",
            },
        )
        answer = conn.getresponse()
        answer.read()
        session = _cookies(answer).get(cookie_name)
        if answer.status != 302 or not session:
            raise LoginFailed(f"{host}: login of {email} answered {answer.status}, no session")
        return session
    finally:
        conn.close()


def login_many(
    jobs: Sequence[tuple[str, str]], *, port: int, password: str, cookie_name: str, workers: int = 4
) -> list[str]:
    """Log (host, email) pairs in concurrently; session ids in the same order."""

    def one(job: tuple[str, str]) -> str:
        return login(
            port=port, host=job[0], email=job[1], password=password, cookie_name=cookie_name
        )

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, jobs))


def session_layout(session_key: str) -> dict[str, Any]:
    """The stored contents of a real login's session."""
    from importlib import import_module

    from django.conf import settings

    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    data = dict(store.load())
    from django.contrib.auth import SESSION_KEY

    if SESSION_KEY not in data:
        raise LoginFailed("the real login's session holds no user: cannot copy its layout")
    return data


def mint_sessions(layout: dict[str, Any], people: Iterable[tuple[int, str]]) -> list[str]:
    """Sessions for (user id, password hash) pairs, laid out like ``layout``.

    With the cache session engine (Redis) they are written in batches, exactly as
    ``SessionStore.create`` stores one (same key prefix, value and expiry); any other
    engine creates them one by one."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.base import VALID_KEY_CHARS
    from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore
    from django.utils.crypto import get_random_string

    from courseplatform.accounts.models import User

    engine = import_module(settings.SESSION_ENGINE)
    hashes: dict[str, str] = {}
    sessions: list[dict[str, Any]] = []
    for user_id, password_hash in people:
        if password_hash not in hashes:  # the auth hash depends only on the password hash
            hashes[password_hash] = User(password=password_hash).get_session_auth_hash()
        data = dict(layout)
        data[SESSION_KEY] = str(user_id)
        if HASH_SESSION_KEY in layout:
            data[HASH_SESSION_KEY] = hashes[password_hash]
        sessions.append(data)
    if engine.SessionStore is CacheSessionStore:
        probe = CacheSessionStore()
        keys = [get_random_string(32, VALID_KEY_CHARS) for _ in sessions]
        for start in range(0, len(keys), 1000):
            probe._cache.set_many(
                {
                    probe.cache_key_prefix + key: data
                    for key, data in zip(
                        keys[start : start + 1000], sessions[start : start + 1000], strict=True
                    )
                },
                timeout=probe.get_expiry_age(),
            )
        return keys
    keys = []
    for data in sessions:
        store = engine.SessionStore()
        store.update(data)
        store.create()
        keys.append(store.session_key)
    return keys


# --- the pages ------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    kind: str  # "floor", "static", "anonymous", "logged-in", "ceiling"

    def target(self, row: SchoolRow, host: str, sessions: dict[int, tuple[str, str]],
               *, cookie_name: str, static_path: str) -> Target:  # fmt: skip
        learner, owner = sessions.get(row.school_id, ("", ""))
        if self.kind == "floor":
            return Target(host, "/healthz")
        if self.key == "static":
            return Target(host, static_path)
        if self.key == "landing":
            return Target(host, "/")
        if self.key == "catalogue":
            return Target(host, "/courses/")
        if self.key == "course":
            return Target(host, f"/courses/{row.course_slug}/")
        if self.key == "lesson":
            path = f"/courses/{row.lesson_course_slug}/lessons/{row.lesson_id}/"
            return Target(host, path, f"{cookie_name}={learner}")
        if self.key == "my":
            return Target(host, "/my/", f"{cookie_name}={learner}")
        if self.key == "dashboard":
            return Target(host, "/manage/", f"{cookie_name}={owner}")
        if self.key == "ceiling":
            return Target(host, "/accounts/session/", f"{cookie_name}={learner}")
        raise ValueError(self.key)


PAGES: tuple[Page, ...] = (
    Page("floor", "floor: /healthz", "floor"),
    Page("static", "static file", "static"),
    Page("landing", "landing /", "anonymous"),
    Page("catalogue", "catalogue /courses/", "anonymous"),
    Page("course", "course page", "anonymous"),
    Page("lesson", "lesson (student)", "logged-in"),
    Page("my", "My courses (student)", "logged-in"),
    Page("dashboard", "dashboard /manage/ (owner)", "logged-in"),
    # The cheapest signed-in page there is (session, cached user, a tiny template, the
    # same middleware): the ceiling of any signed-in page on this stack. No target.
    Page("ceiling", "signed-in ceiling /accounts/session/", "ceiling"),
)


def rotation(rows: Sequence[SchoolRow], seed: int = 12) -> list[SchoolRow]:
    """The schools in a fixed shuffled order: neighbours in the rotation are of
    different sizes, and two runs rotate the same way."""
    ordered = list(rows)
    random.Random(seed).shuffle(ordered)
    return ordered
