"""The outline endpoints off the happy path: plain GETs fall back to the editor, the
reorder endpoints refuse every malformed id list, and the keyboard moves that the main
tests do not walk (a lesson down inside its section, a bad title on rename)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from .test_manage_views import (
    ALPHA,
    HTMX,
    Outline,
    _logged_in,
    build_outline,
    lesson_layout,
    section_order,
    snapshot,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha(school_a: Any) -> Any:
    return school_a.school


@pytest.fixture
def client(client_for: Any, school_a: Any) -> Client:
    return _logged_in(client_for, ALPHA, school_a.owner)


@pytest.fixture
def built(alpha: Any, school_a: Any) -> Outline:
    return build_outline(alpha, school_a.owner)


def test_outline_gets_fall_back_to_the_editor_and_reorders_want_post(
    client: Client, alpha: Any, built: Outline
) -> None:
    course = built.course.pk
    s1 = built.sections[0].pk
    lesson = built.lessons[0].pk
    editor = f"/manage/courses/{course}/"
    before = snapshot(alpha)
    for url, anchor in [
        (f"/manage/courses/{course}/outline/", "#outline"),
        (f"/manage/courses/{course}/sections/new/", "#outline"),
        (f"/manage/courses/sections/{s1}/rename/", f"#section-{s1}"),
        (f"/manage/courses/sections/{s1}/move/", f"#section-{s1}"),
        (f"/manage/courses/sections/{s1}/lessons/new/", f"#section-{s1}"),
        (f"/manage/courses/lessons/{lesson}/move/", f"#lesson-{lesson}"),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == editor + anchor, url
    partial = client.get(f"/manage/courses/{course}/outline/", headers=HTMX)
    assert partial.status_code == 200 and 'id="outline"' in partial.content.decode()
    assert client.get(f"/manage/courses/{course}/reorder-sections/").status_code == 405
    assert client.get(f"/manage/courses/sections/{s1}/reorder-lessons/").status_code == 405
    assert snapshot(alpha) == before


def test_reorder_sections_refuses_malformed_id_lists(
    client: Client, alpha: Any, built: Outline
) -> None:
    s1, s2 = (s.pk for s in built.sections)
    url = f"/manage/courses/{built.course.pk}/reorder-sections/"
    malformed_json = [
        json.dumps({"ids": "1,2"}),  # not a list
        json.dumps({"ids": [True, False]}),
        json.dumps({"ids": [s2, 2**63]}),
        json.dumps({"ids": [s2, 0]}),
        json.dumps({"ids": list(range(1, 2002))}),
        json.dumps([s2, "one"]),
    ]
    for body in malformed_json:
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 400, body
        assert response.json() == {"ok": False, "error": "Send the new order as a list of ids."}
    assert section_order(alpha, built.course) == [s1, s2]

    # A bare JSON list and a comma-joined form field are both accepted.
    listed = client.post(url, json.dumps([s2, s1]), content_type="application/json")
    assert listed.status_code == 200 and section_order(alpha, built.course) == [s2, s1]
    joined = client.post(url, {"ids": f"{s1},{s2}"})
    assert joined.status_code == 200 and section_order(alpha, built.course) == [s1, s2]


def test_move_lesson_down_inside_its_section(client: Client, alpha: Any, built: Outline) -> None:
    s1, s2 = (s.pk for s in built.sections)
    welcome, materials, greens = (lesson.pk for lesson in built.lessons)
    response = client.post(
        f"/manage/courses/lessons/{welcome}/move/", {"direction": "down"}, headers=HTMX
    )
    assert response.status_code == 200
    assert "Moved “Welcome” down." in json.loads(response["HX-Trigger"])["authoringStatus"]
    assert lesson_layout(alpha, built.course) == {s1: [materials, welcome], s2: [greens]}


def test_move_section_last_down_and_rename_to_blank_change_nothing(
    client: Client, alpha: Any, built: Outline
) -> None:
    s1, s2 = (s.pk for s in built.sections)
    before = snapshot(alpha)
    last = client.post(f"/manage/courses/sections/{s2}/move/", {"direction": "down"}, headers=HTMX)
    assert "already the last section" in json.loads(last["HX-Trigger"])["authoringStatus"]
    blank = client.post(f"/manage/courses/sections/{s1}/rename/", {"title": " "}, headers=HTMX)
    assert blank.status_code == 200
    assert "Getting started" in blank.content.decode()
    assert snapshot(alpha) == before
