"""Course covers at stable public URLs (``courses/covers.py``): only the school's own
current, published covers are served, with immutable caching headers; a replaced cover
gets a new URL and the old one stops; pages show the change at once."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from courseplatform.courses import services
from courseplatform.courses.models import Course
from courseplatform.tenancy.rls import school_context

from .test_student_views import build_course, client_as, text

pytestmark = pytest.mark.django_db

COVER = re.compile(r'<img src="(/covers/\d+/[0-9a-f]{16}\.png)"')


def _png(colour: tuple[int, int, int]) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 18), colour).save(buffer, format="PNG")
    return SimpleUploadedFile("cover.png", buffer.getvalue(), content_type="image/png")


def _cover_path(page: str) -> str:
    match = COVER.search(page)
    assert match, "the catalogue links the cover at its stable URL"
    return match.group(1)


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_a_published_cover_is_served_at_its_stable_url_with_immutable_headers(
    school_a: Any,
) -> None:
    built = build_course(school_a.school, school_a.owner, title="Go Fundamentals", cover=True)
    visitor = client_as(None, school_a.school)
    catalogue = text(visitor.get("/courses/"))
    path = _cover_path(catalogue)
    assert path.startswith(f"/covers/{built.course.pk}/")
    assert "/files/" not in catalogue  # nothing on the page expires
    assert path in text(visitor.get(built.url()))  # the course page links the same URL

    image = visitor.get(path)
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    assert image["Cache-Control"] == "public, max-age=31536000, immutable"
    assert image["X-Content-Type-Options"] == "nosniff"
    assert image["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert image["Content-Disposition"].startswith("inline")
    assert not image.cookies
    body = _body(image)
    assert body.startswith(b"\x89PNG")

    again = visitor.get(path, HTTP_IF_NONE_MATCH=image["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == image["ETag"]
    assert again["Cache-Control"] == "public, max-age=31536000, immutable"

    # One statement per cover request (the course row); pinned so it cannot grow.
    with CaptureQueriesContext(connection) as ctx:
        assert visitor.get(path).status_code == 200
    assert len(ctx.captured_queries) == 1, [q["sql"] for q in ctx.captured_queries]

    # Signed in, the same URL and headers (the picture is public like the page).
    owner = client_as(school_a.owner, school_a.school)
    assert owner.get(path).status_code == 200


def test_another_schools_host_cannot_serve_the_cover_by_guessing(
    school_a: Any, school_b: Any
) -> None:
    built = build_course(school_a.school, school_a.owner, title="Go Fundamentals", cover=True)
    own = build_course(school_b.school, school_b.owner, title="Bravo Course", cover=True)
    path = _cover_path(text(client_as(None, school_a.school).get("/courses/")))
    version_and_ext = path.rsplit("/", 1)[1]
    bravo = client_as(None, school_b.school)
    # A's exact path on B's host, and A's version under B's own course id: both 404,
    # the same answer as for an id that never existed.
    assert bravo.get(path).status_code == 404
    assert bravo.get(f"/covers/{own.course.pk}/{version_and_ext}").status_code == 404
    assert bravo.get(f"/covers/{built.course.pk + 10_000}/{version_and_ext}").status_code == 404
    # B's own cover is served on B's host, and not on A's.
    own_path = _cover_path(text(bravo.get("/courses/")))
    assert bravo.get(own_path).status_code == 200
    assert client_as(None, school_a.school).get(own_path).status_code == 404


@pytest.mark.parametrize(
    "name",
    ["0123456789abcdef.exe", "short.png", "0123456789abcdef", "../../secret.png", "%2e%2e.png"],
)
def test_malformed_cover_names_are_404(school_a: Any, name: str) -> None:
    built = build_course(school_a.school, school_a.owner, cover=True)
    response = client_as(None, school_a.school).get(f"/covers/{built.course.pk}/{name}")
    assert response.status_code == 404


def test_a_replaced_cover_gets_a_new_url_and_the_old_one_stops(school_a: Any) -> None:
    school, owner = school_a.school, school_a.owner
    built = build_course(school, owner, title="Go Fundamentals", cover=True)
    visitor = client_as(None, school)
    old = _cover_path(text(visitor.get("/courses/")))
    assert visitor.get(old).status_code == 200
    with school_context(school):
        course = Course.objects.get(pk=built.course.pk)
        services.set_course_cover(school=school, actor=owner, course=course, upload=_png((1, 2, 3)))
    # The cached catalogue shows the new cover at once (the content generation changed).
    new = _cover_path(text(visitor.get("/courses/")))
    assert new != old
    assert visitor.get(old).status_code == 404
    assert visitor.get(new).status_code == 200


def test_an_unpublished_course_cover_is_no_longer_public(school_a: Any) -> None:
    school, owner = school_a.school, school_a.owner
    built = build_course(school, owner, title="Go Fundamentals", cover=True)
    visitor = client_as(None, school)
    path = _cover_path(text(visitor.get("/courses/")))
    with school_context(school):
        course = Course.objects.get(pk=built.course.pk)
        services.set_course_status(school=school, actor=owner, course=course, publish=False)
    assert visitor.get(path).status_code == 404
    assert "/covers/" not in text(visitor.get("/courses/"))
    # Its managers still see it, through a short-lived signed URL.
    editor = text(client_as(owner, school).get(f"/manage/courses/{built.course.pk}/"))
    match = re.search(r'<img src="([^"]+)" alt="Current cover', editor)
    assert match and match.group(1).startswith("/files/")


def test_a_removed_cover_file_is_404(school_a: Any) -> None:
    from django.core.files.storage import default_storage

    built = build_course(school_a.school, school_a.owner, cover=True)
    visitor = client_as(None, school_a.school)
    path = _cover_path(text(visitor.get("/courses/")))
    with school_context(school_a.school):
        default_storage.delete(Course.objects.get(pk=built.course.pk).cover_key)
    assert visitor.get(path).status_code == 404
