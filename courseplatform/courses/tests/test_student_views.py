"""The school site's course pages: catalogue, course page, lesson page, progress,
attachment downloads and My courses.

Every access rule is tested against two schools (``alpha`` and ``bravo``). Data is
made through the services inside ``in_school`` (row-level security hides tenant
rows from code outside a school context), and clients log in with
``force_login`` inside the user's school so the session survives
``SchoolAccountMiddleware``.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from courseplatform.accounts.models import User
from courseplatform.courses import services
from courseplatform.courses.models import Attachment, Course, Enrollment, Lesson, LessonProgress
from courseplatform.ops import files
from courseplatform.tenancy.rls import school_context
from tests.fixtures.schools import PASSWORD, host_of

pytestmark = pytest.mark.django_db

ALPHA = "alpha.localhost"
BRAVO = "bravo.localhost"
PDF_BYTES = b"%PDF-1.4\n% lesson notes for the student\n"


# --- helpers (also used by test_roster.py) ------------------------------------------------


@dataclass
class Built:
    course: Course
    lessons: list[Lesson]
    attachment: Attachment | None = None
    preview_attachment: Attachment | None = None

    @property
    def preview(self) -> Lesson:
        """The first lesson: a free preview."""
        return self.lessons[0]

    @property
    def locked(self) -> Lesson:
        """The second lesson: enrolled students only (it carries ``attachment``)."""
        return self.lessons[1]

    def url(self, suffix: str = "") -> str:
        return f"/courses/{self.course.slug}/{suffix}"

    def lesson_url(self, lesson: Lesson, suffix: str = "") -> str:
        return f"/courses/{self.course.slug}/lessons/{lesson.pk}/{suffix}"

    def attachment_url(self, attachment: Attachment | None) -> str:
        assert attachment is not None
        return f"/courses/{self.course.slug}/attachments/{attachment.pk}/"


def png_upload(name: str = "cover.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 18), (79, 70, 229)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def build_course(
    school: Any,
    actor: User,
    *,
    title: str = "Python Basics",
    sections: int = 2,
    per_section: int = 2,
    publish: bool = True,
    attachments: bool = False,
    cover: bool = False,
) -> Built:
    """A course through the services: lesson 1 is a preview, the rest are locked;
    with ``attachments`` the locked lesson 2 and the preview lesson carry a PDF."""
    with school_context(school):
        course = services.create_course(
            school=school,
            actor=actor,
            title=title,
            subtitle=f"Everything about {title}",
            description_md=f"Learn **{title}** step by step.",
        )
        lessons: list[Lesson] = []
        for s in range(sections):
            section = services.add_section(
                school=school, actor=actor, course=course, title=f"Part {s + 1}"
            )
            for n in range(per_section):
                lesson = services.add_lesson(
                    school=school, actor=actor, section=section, title=f"{title} {s + 1}.{n + 1}"
                )
                services.update_lesson(
                    school=school,
                    actor=actor,
                    lesson=lesson,
                    title=lesson.title,
                    kind=Lesson.Kind.TEXT if n % 2 == 0 else Lesson.Kind.VIDEO,
                    body_md=f"Body of *{lesson.title}*",
                    is_preview=not lessons,
                    duration_minutes=5,
                )
                lessons.append(lesson)
        built = Built(course, lessons)
        if attachments:
            built.attachment = services.add_attachment(
                school=school,
                actor=actor,
                lesson=lessons[1],
                upload=SimpleUploadedFile("notes.pdf", PDF_BYTES, content_type="application/pdf"),
            )
            built.preview_attachment = services.add_attachment(
                school=school,
                actor=actor,
                lesson=lessons[0],
                upload=SimpleUploadedFile("intro.pdf", PDF_BYTES, content_type="application/pdf"),
            )
        if cover:
            services.set_course_cover(
                school=school, actor=actor, course=course, upload=png_upload()
            )
        if publish:
            services.set_course_status(school=school, actor=actor, course=course, publish=True)
        course.refresh_from_db()
    return built


def new_user(school: Any, email: str, *, name: str = "Sam Student", role: str = "student") -> User:
    with school_context(school):
        return User.objects.create_user(email, PASSWORD, school=school, full_name=name, role=role)


def enroll(school: Any, actor: User, course: Course, *students: User) -> None:
    with school_context(school):
        for student in students:
            services.enroll_student(
                school=school, actor=actor, course=course, student=student, source="manual"
            )


def complete(school: Any, student: User, *lessons: Lesson) -> None:
    with school_context(school):
        for lesson in lessons:
            services.set_lesson_completed(school=school, student=student, lesson=lesson)


def client_as(user: User | None, school: Any, host: str | None = None) -> Client:
    """A client on ``host`` (the school's own by default), logged in as ``user``."""
    client = Client(HTTP_HOST=host or host_of(school))
    if user is not None:
        with school_context(user.school_id):
            client.force_login(user)
    return client


def text(response: Any) -> str:
    return response.content.decode()


class Queries(list[str]):
    """The SQL of one request; two compare equal when they have as many statements
    (a failing assertion then prints both lists)."""

    __hash__ = None  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, list) and len(self) == len(other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __repr__(self) -> str:
        return f"<{len(self)} queries>\n" + "\n".join(f"  {sql[:160]}" for sql in self)


def count_queries(client: Client, path: str, *, method: str = "get", **extra: Any) -> Queries:
    getattr(client, method)(path, **extra)  # warm-up: first-request caches are not the page
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(path, **extra)
    assert response.status_code == 200, response.status_code
    # The host -> school lookup is cached in Redis; a flush by another process sharing
    # the Redis database would add it to one side only. It never depends on page size.
    return Queries(
        query["sql"]
        for query in ctx.captured_queries
        if not query["sql"].startswith('SELECT "tenancy_school"."id"')
    )


@pytest.fixture
def course_a(school_a: Any) -> Built:
    return build_course(school_a.school, school_a.owner, attachments=True)


@pytest.fixture
def student_a(school_a: Any) -> User:
    return new_user(school_a.school, "sam@alpha.test")


@pytest.fixture
def enrolled_a(school_a: Any, course_a: Built, student_a: User) -> User:
    enroll(school_a.school, school_a.owner, course_a.course, student_a)
    return student_a


def _progress_rows(school: Any, **filters: Any) -> list[LessonProgress]:
    with school_context(school):
        return list(LessonProgress.objects.filter(**filters))


# --- log in / nav ---------------------------------------------------------------------------


def test_force_login_survives_school_account_middleware_only_on_own_host(
    school_a: Any, school_b: Any, student_a: User
) -> None:
    own = client_as(student_a, school_a.school)
    response = own.get("/my/")
    assert response.status_code == 200
    assert response.wsgi_request.user.pk == student_a.pk
    # The same session carried to another school's host is logged out.
    foreign = client_as(student_a, school_a.school, host=BRAVO)
    response = foreign.get("/my/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_school_nav_links_courses_and_my_courses(school_a: Any, student_a: User) -> None:
    anonymous = text(client_as(None, school_a.school).get("/"))
    assert 'href="/courses/"' in anonymous and 'href="/my/"' not in anonymous
    logged_in = text(client_as(student_a, school_a.school).get("/"))
    assert 'href="/courses/"' in logged_in and 'href="/my/"' in logged_in


# --- catalogue ------------------------------------------------------------------------------


def test_catalogue_lists_published_courses_of_this_school_with_enrolled_badge(
    school_a: Any, school_b: Any, course_a: Built, enrolled_a: User
) -> None:
    build_course(school_a.school, school_a.owner, title="Go Fundamentals", cover=True)
    build_course(school_a.school, school_a.owner, title="Secret Draft", publish=False)
    build_course(school_b.school, school_b.owner, title="Bravo Only Course")

    page = text(client_as(enrolled_a, school_a.school).get("/courses/"))
    assert "Python Basics" in page and "Go Fundamentals" in page
    assert "Secret Draft" not in page and "Bravo Only Course" not in page
    assert page.count("Enrolled</span>") == 1
    assert f'href="/courses/{course_a.course.slug}/"' in page
    assert "4 lessons" in page
    assert re.search(r'<img src="/covers/\d+/[0-9a-f]{16}\.png"', page), "the cover's stable URL"

    anonymous = text(client_as(None, school_a.school).get("/courses/"))
    assert "Enrolled</span>" not in anonymous and "Python Basics" in anonymous

    bravo = text(client_as(None, school_b.school).get("/courses/"))
    assert "Bravo Only Course" in bravo and "Python Basics" not in bravo


def test_catalogue_empty_state(school_a: Any) -> None:
    build_course(school_a.school, school_a.owner, title="Only A Draft", publish=False)
    page = text(client_as(None, school_a.school).get("/courses/"))
    assert "No courses yet" in page and "Only A Draft" not in page


# --- course page ----------------------------------------------------------------------------


def test_draft_course_is_404_for_students_and_anonymous_and_a_preview_for_managers(
    school_a: Any, make_user: Callable[..., Any], student_a: User
) -> None:
    draft = build_course(school_a.school, school_a.owner, title="Work In Progress", publish=False)
    enroll(school_a.school, school_a.owner, draft.course, student_a)
    other_instructor = make_user(school_a.school, "teach@alpha.test", role="instructor")

    for user in (None, student_a, other_instructor):
        client = client_as(user, school_a.school)
        assert client.get(draft.url()).status_code == 404
        assert client.get(draft.lesson_url(draft.preview)).status_code == 404
        assert client.get(draft.lesson_url(draft.locked)).status_code == 404

    owner = client_as(school_a.owner, school_a.school)
    response = owner.get(draft.url())
    assert response.status_code == 200 and "Draft preview" in text(response)
    lesson = owner.get(draft.lesson_url(draft.locked))
    assert lesson.status_code == 200 and "Draft preview" in text(lesson)


def test_course_of_another_school_is_404_by_slug_even_for_its_owner(
    school_a: Any, school_b: Any, course_a: Built
) -> None:
    for user in (None, school_b.owner, new_user(school_b.school, "sam@bravo.test")):
        client = client_as(user, school_b.school)
        assert client.get(course_a.url()).status_code == 404
        assert client.get(course_a.lesson_url(course_a.preview)).status_code == 404
        assert client.get(course_a.lesson_url(course_a.locked)).status_code == 404


def test_course_page_for_anonymous_shows_syllabus_previews_locks_and_ways_in(
    school_a: Any, course_a: Built
) -> None:
    page = text(client_as(None, school_a.school).get(course_a.url()))
    assert "Python Basics" in page and "Everything about Python Basics" in page
    assert "<strong>Python Basics</strong>" in page  # the sanitised description, unescaped
    assert "Part 1" in page and "Part 2" in page
    assert f'href="{course_a.lesson_url(course_a.preview)}"' in page  # the preview is linked
    assert f'href="{course_a.lesson_url(course_a.locked)}"' not in page  # locked ones are not
    assert ">Preview<" in page and "(locked)" in page
    assert "Have an access code?" in page and 'href="/redeem/"' in page
    next_param = f"?next=/courses/{course_a.course.slug}/"
    assert f'href="/accounts/login/{next_param}"' in page
    assert f'href="/accounts/signup/{next_param}"' in page


def test_course_page_for_signed_in_student_not_enrolled_offers_code_without_login(
    school_a: Any, course_a: Built, student_a: User
) -> None:
    page = text(client_as(student_a, school_a.school).get(course_a.url()))
    assert "Have an access code?" in page
    assert "/accounts/login/?next" not in page
    assert f'href="{course_a.lesson_url(course_a.locked)}"' not in page


def test_course_page_for_enrolled_student_shows_progress_and_continue(
    school_a: Any, course_a: Built, enrolled_a: User
) -> None:
    complete(school_a.school, enrolled_a, course_a.lessons[0])
    page = text(client_as(enrolled_a, school_a.school).get(course_a.url()))
    assert "Your progress" in page and 'value="25"' in page
    assert "1 of 4 lessons completed" in page
    assert "Have an access code?" not in page
    # Every lesson is open, and "Continue" points at the first one not completed.
    for lesson in course_a.lessons:
        assert f'href="{course_a.lesson_url(lesson)}"' in page
    assert re.search(
        rf'href="{re.escape(course_a.lesson_url(course_a.lessons[1]))}" class="btn btn-primary',
        page,
    )


# --- lesson page access ---------------------------------------------------------------------


def test_preview_lesson_is_open_to_anonymous_on_published_course(
    school_a: Any, course_a: Built
) -> None:
    response = client_as(None, school_a.school).get(course_a.lesson_url(course_a.preview))
    assert response.status_code == 200
    page = text(response)
    assert "Body of <em>Python Basics 1.1</em>" in page
    assert "Enjoying the preview?" in page and "Mark complete" not in page


def test_locked_lesson_sends_anonymous_to_login_with_next(school_a: Any, course_a: Built) -> None:
    url = course_a.lesson_url(course_a.locked)
    response = client_as(None, school_a.school).get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_locked_lesson_is_403_with_ways_in_for_student_not_enrolled(
    school_a: Any, course_a: Built, student_a: User
) -> None:
    response = client_as(student_a, school_a.school).get(course_a.lesson_url(course_a.locked))
    assert response.status_code == 403
    page = text(response)
    assert 'href="/redeem/"' in page and f'href="{course_a.url()}"' in page
    assert "Body of" not in page


def test_locked_lesson_open_to_enrolled_student_course_instructor_and_owner(
    school_a: Any, make_user: Callable[..., Any], course_a: Built, enrolled_a: User
) -> None:
    instructor = make_user(school_a.school, "teach@alpha.test", role="instructor")
    other_instructor = make_user(school_a.school, "other@alpha.test", role="instructor")
    taught = build_course(school_a.school, instructor, title="Taught By Instructor")

    url = course_a.lesson_url(course_a.locked)
    for user in (enrolled_a, school_a.owner):
        response = client_as(user, school_a.school).get(url)
        assert response.status_code == 200, user.email
        assert "Body of <em>Python Basics 1.2</em>" in text(response)
    # Instructors see the courses they teach, not the others.
    taught_url = taught.lesson_url(taught.locked)
    assert client_as(instructor, school_a.school).get(taught_url).status_code == 200
    assert client_as(instructor, school_a.school).get(url).status_code == 403
    assert client_as(other_instructor, school_a.school).get(taught_url).status_code == 403


def test_lesson_page_shows_outline_checks_current_video_placeholder_and_neighbours(
    school_a: Any, course_a: Built, enrolled_a: User
) -> None:
    complete(school_a.school, enrolled_a, course_a.lessons[0])
    url = course_a.lesson_url(course_a.locked)  # lesson 2: a video lesson with a PDF
    page = text(client_as(enrolled_a, school_a.school).get(url))
    assert "No video yet" in page
    assert page.count("Completed:") == 2  # lesson 1 is ticked, in both outline renderings
    assert f'href="{url}" class="' in page and 'aria-current="page"' in page
    assert f'href="{course_a.lesson_url(course_a.lessons[0])}" rel="prev"' in page
    assert f'href="{course_a.lesson_url(course_a.lessons[2])}" rel="next"' in page
    assert f'href="{course_a.attachment_url(course_a.attachment)}"' in page
    assert "notes.pdf" in page and "Mark complete" in page


def test_lesson_visit_is_remembered_for_enrolled_students_only(
    school_a: Any, course_a: Built, enrolled_a: User
) -> None:
    client_as(enrolled_a, school_a.school).get(course_a.lesson_url(course_a.lessons[2]))
    client_as(school_a.owner, school_a.school).get(course_a.lesson_url(course_a.lessons[3]))
    with school_context(school_a.school):
        enrollment = Enrollment.objects.get(student=enrolled_a, course=course_a.course)
        assert enrollment.last_lesson_id == course_a.lessons[2].pk
        assert enrollment.last_activity_at is not None
        assert not Enrollment.objects.filter(student=school_a.owner).exists()


def test_lesson_id_of_another_course_or_school_is_404(
    school_a: Any, school_b: Any, course_a: Built
) -> None:
    other_a = build_course(school_a.school, school_a.owner, title="Other Alpha Course")
    course_b = build_course(school_b.school, school_b.owner, title="Bravo Course")

    # A's lesson id under A's other course.
    owner_a = client_as(school_a.owner, school_a.school)
    assert owner_a.get(other_a.lesson_url(course_a.preview)).status_code == 404
    assert owner_a.get(other_a.lesson_url(course_a.locked)).status_code == 404
    # A's lesson id under B's course slug on B's host, even for B's owner.
    for user in (None, school_b.owner):
        client = client_as(user, school_b.school)
        assert client.get(course_b.lesson_url(course_a.preview)).status_code == 404
        assert client.get(course_b.lesson_url(course_a.locked)).status_code == 404
    # B's lesson id under A's course on A's host.
    assert owner_a.get(course_a.lesson_url(course_b.preview)).status_code == 404


# --- progress -------------------------------------------------------------------------------


def test_mark_complete_moves_progress_and_advances_to_the_next_lesson(
    school_a: Any, course_a: Built, enrolled_a: User
) -> None:
    client = client_as(enrolled_a, school_a.school)
    first, second = course_a.lessons[0], course_a.lessons[1]
    assert 'value="0"' in text(client.get(course_a.url()))

    response = client.post(course_a.lesson_url(first, "complete/"))
    assert response.status_code == 302
    assert response["Location"] == course_a.lesson_url(second)
    rows = _progress_rows(school_a.school, student=enrolled_a, completed_at__isnull=False)
    assert [row.lesson_id for row in rows] == [first.pk]
    page = text(client.get(course_a.url()))
    assert 'value="25"' in page and "1 of 4 lessons completed" in page

    # Un-marking stays on the lesson and moves the progress back.
    response = client.post(course_a.lesson_url(first, "complete/"), {"completed": "0"})
    assert response.status_code == 302 and response["Location"] == course_a.lesson_url(first)
    assert 'value="0"' in text(client.get(course_a.url()))


def test_mark_complete_with_htmx_answers_hx_redirect_and_swaps_when_staying(
    school_a: Any, course_a: Built, enrolled_a: User
) -> None:
    client = client_as(enrolled_a, school_a.school)
    first, last = course_a.lessons[0], course_a.lessons[-1]
    response = client.post(course_a.lesson_url(first, "complete/"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"] == course_a.lesson_url(course_a.lessons[1])

    # Un-marking with htmx returns the lesson layout to swap in, not a page.
    response = client.post(
        course_a.lesson_url(first, "complete/"), {"completed": "0"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    fragment = text(response)
    assert 'id="lesson-layout"' in fragment and "<html" not in fragment
    assert "Mark complete" in fragment

    # The last lesson has nowhere to go: it stays, shown as completed.
    complete(school_a.school, enrolled_a, *course_a.lessons[:-1])
    response = client.post(course_a.lesson_url(last, "complete/"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "HX-Redirect" not in response
    assert "Completed ✓" in text(response)
    assert "You completed every lesson of this course" in text(response)


def test_last_lesson_complete_without_js_returns_to_the_lesson(
    school_a: Any, course_a: Built, enrolled_a: User
) -> None:
    client = client_as(enrolled_a, school_a.school)
    last = course_a.lessons[-1]
    response = client.post(course_a.lesson_url(last, "complete/"))
    assert response.status_code == 302 and response["Location"] == course_a.lesson_url(last)
    assert "Completed ✓" in text(client.get(course_a.lesson_url(last)))


def test_student_cannot_mark_progress_in_a_course_they_are_not_enrolled_in(
    school_a: Any, course_a: Built, student_a: User
) -> None:
    client = client_as(student_a, school_a.school)
    for lesson in (course_a.preview, course_a.locked):
        response = client.post(course_a.lesson_url(lesson, "complete/"))
        assert response.status_code == 403
    assert _progress_rows(school_a.school, student=student_a) == []


def test_mark_complete_needs_login_and_post(school_a: Any, course_a: Built) -> None:
    url = course_a.lesson_url(course_a.preview, "complete/")
    anonymous = client_as(None, school_a.school)
    response = anonymous.post(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert anonymous.get(url).status_code == 405
    assert _progress_rows(school_a.school) == []


def test_complete_post_across_schools_is_404_and_writes_nothing(
    school_a: Any, school_b: Any, course_a: Built
) -> None:
    course_b = build_course(school_b.school, school_b.owner, title="Python Basics")
    student_b = new_user(school_b.school, "sam@bravo.test")
    enroll(school_b.school, school_b.owner, course_b.course, student_b)
    client = client_as(student_b, school_b.school)
    # A's slug and lesson on B's host; A's lesson id under B's own course.
    assert client.post(course_a.lesson_url(course_a.locked, "complete/")).status_code == 404
    assert client.post(course_b.lesson_url(course_a.locked, "complete/")).status_code == 404
    assert client.post(course_b.lesson_url(course_a.preview, "complete/")).status_code == 404
    assert _progress_rows(school_a.school) == []
    assert _progress_rows(school_b.school) == []
    # The same client on its own course works: the 404s above are the school boundary.
    assert client.post(course_b.lesson_url(course_b.preview, "complete/")).status_code == 302
    assert len(_progress_rows(school_b.school)) == 1


# --- attachments ----------------------------------------------------------------------------


def _download(client: Client, response: Any) -> Any:
    assert response.status_code == 302, response.status_code
    location = response["Location"]
    assert re.fullmatch(r"/files/[^/]+/", location), location
    return client.get(location)


def test_attachment_download_for_enrolled_student_follows_signed_redirect(
    school_a: Any, course_a: Built, enrolled_a: User
) -> None:
    client = client_as(enrolled_a, school_a.school)
    response = client.get(course_a.attachment_url(course_a.attachment))
    assert "no-store" in response["Cache-Control"]
    served = _download(client, response)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == PDF_BYTES
    assert served["Content-Type"] == "application/pdf"
    assert 'attachment; filename="notes.pdf"' in served["Content-Disposition"]


def test_attachment_token_expired_forged_or_on_another_host_is_404(
    school_a: Any, course_a: Built, enrolled_a: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_as(enrolled_a, school_a.school)
    location = client.get(course_a.attachment_url(course_a.attachment))["Location"]
    token = location.split("/")[2]
    # Forged: one character changed in the signature.
    forged = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert client.get(f"/files/{forged}/").status_code == 404
    # Presented on another school's host.
    assert Client(HTTP_HOST=BRAVO).get(location).status_code == 404
    # Expired: the same link once its time to live has passed (the clock moves on).
    real_time = time.time

    class Later:
        @staticmethod
        def time() -> float:
            return real_time() + files.DOWNLOAD_TTL_SECONDS + 1

    monkeypatch.setattr("django.core.signing.time", Later)
    assert client.get(location).status_code == 404


def test_attachment_of_locked_lesson_refused_to_anonymous_and_non_enrolled(
    school_a: Any, course_a: Built, student_a: User
) -> None:
    url = course_a.attachment_url(course_a.attachment)
    anonymous = client_as(None, school_a.school).get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    assert client_as(student_a, school_a.school).get(url).status_code == 403


def test_attachment_of_preview_lesson_is_open_to_anonymous(school_a: Any, course_a: Built) -> None:
    client = client_as(None, school_a.school)
    served = _download(client, client.get(course_a.attachment_url(course_a.preview_attachment)))
    assert served.status_code == 200 and b"".join(served.streaming_content) == PDF_BYTES


def test_attachment_open_to_the_owner(school_a: Any, course_a: Built) -> None:
    client = client_as(school_a.owner, school_a.school)
    served = _download(client, client.get(course_a.attachment_url(course_a.attachment)))
    assert served.status_code == 200


def test_attachment_id_of_another_school_or_course_is_404(
    school_a: Any, school_b: Any, course_a: Built
) -> None:
    # Same slug in both schools: only the host decides whose course it is.
    course_b = build_course(school_b.school, school_b.owner, title="Python Basics")
    assert course_b.course.slug == course_a.course.slug
    other_a = build_course(school_a.school, school_a.owner, title="Other Alpha Course")
    owner_b = client_as(school_b.owner, school_b.school)
    for attachment in (course_a.attachment, course_a.preview_attachment):
        assert owner_b.get(course_b.attachment_url(attachment)).status_code == 404
        assert owner_b.get(course_a.attachment_url(attachment)).status_code == 404
        # Within school A, the attachment id under another course is 404 too.
        owner_a = client_as(school_a.owner, school_a.school)
        assert owner_a.get(other_a.attachment_url(attachment)).status_code == 404


def test_attachment_of_unpublished_course_is_404_for_its_students(
    school_a: Any, course_a: Built, enrolled_a: User
) -> None:
    with school_context(school_a.school):
        services.set_course_status(
            school=school_a.school, actor=school_a.owner, course=course_a.course, publish=False
        )
    client = client_as(enrolled_a, school_a.school)
    assert client.get(course_a.attachment_url(course_a.attachment)).status_code == 404


# --- My courses -----------------------------------------------------------------------------


def test_my_courses_requires_login(school_a: Any) -> None:
    response = client_as(None, school_a.school).get("/my/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/my/"


def test_my_courses_empty_state_points_to_the_catalogue(school_a: Any, student_a: User) -> None:
    page = text(client_as(student_a, school_a.school).get("/my/"))
    assert "You are not enrolled in any course yet" in page and 'href="/courses/"' in page


def test_my_courses_lists_progress_and_continue_sorted_by_last_activity(
    school_a: Any, school_b: Any, course_a: Built, enrolled_a: User
) -> None:
    later = build_course(school_a.school, school_a.owner, title="Enrolled Later Course")
    enroll(school_a.school, school_a.owner, later.course, enrolled_a)  # newer, never opened
    not_mine = build_course(school_a.school, school_a.owner, title="Not Mine Course")
    complete(school_a.school, enrolled_a, course_a.lessons[0])
    client = client_as(enrolled_a, school_a.school)
    client.get(course_a.lesson_url(course_a.lessons[2]))  # where the student left off

    page = text(client.get("/my/"))
    assert "Not Mine Course" not in page
    # The course with recent activity first, then the one never opened.
    assert page.index("Python Basics") < page.index("Enrolled Later Course")
    assert "25%" in page and "0%" in page
    continue_links = re.findall(
        r'<a href="([^"]+)" class="btn btn-primary w-full" data-continue', page
    )
    assert continue_links == [
        course_a.lesson_url(course_a.lessons[2]),
        later.lesson_url(later.lessons[0]),
    ]
    assert "Continue where you left off" in page and "Start the course" in page
    assert not_mine.course.slug not in page


# --- query counts ---------------------------------------------------------------------------


@pytest.fixture
def sized(school_a: Any) -> Iterator[Callable[..., Built]]:
    """``sized(sections, per_section, students)``: a course with enrolled students,
    each having completed the first lesson."""
    count = {"n": 0}

    def _make(sections: int, per_section: int, students: int) -> Built:
        count["n"] += 1
        built = build_course(
            school_a.school,
            school_a.owner,
            title=f"Sized Course {count['n']}",
            sections=sections,
            per_section=per_section,
            attachments=True,
            cover=True,
        )
        users = [
            new_user(school_a.school, f"s{count['n']}-{i}@alpha.test", name=f"Student {i}")
            for i in range(students)
        ]
        enroll(school_a.school, school_a.owner, built.course, *users)
        for user in users:
            complete(school_a.school, user, built.lessons[0])
        return built

    yield _make


def test_course_and_lesson_pages_run_a_constant_number_of_queries(
    school_a: Any, sized: Callable[..., Built]
) -> None:
    small, big = sized(2, 2, 3), sized(4, 5, 12)
    student = new_user(school_a.school, "counted@alpha.test")
    enroll(school_a.school, school_a.owner, small.course, student)
    enroll(school_a.school, school_a.owner, big.course, student)
    complete(school_a.school, student, small.lessons[0], small.lessons[2])
    complete(school_a.school, student, *big.lessons[:7])
    client = client_as(student, school_a.school)

    assert count_queries(client, small.url()) == count_queries(client, big.url())
    assert count_queries(client, small.lesson_url(small.locked)) == count_queries(
        client, big.lesson_url(big.locked)
    )
    anonymous = client_as(None, school_a.school)
    assert count_queries(anonymous, small.url()) == count_queries(anonymous, big.url())


def test_catalogue_runs_a_constant_number_of_queries(make_school: Callable[..., Any]) -> None:
    one = make_school("onecourse", plan="premium")
    six = make_school("sixcourses", plan="premium")
    build_course(one.school, one.owner, title="Course 0", cover=True)
    for i in range(6):
        build_course(six.school, six.owner, title=f"Course {i}", cover=i % 2 == 0)
    student_one = new_user(one.school, "s@one.test")
    student_six = new_user(six.school, "s@six.test")
    with school_context(six.school):
        first = Course.objects.filter(school=six.school).first()
    assert first is not None
    enroll(six.school, six.owner, first, student_six)

    counted = [
        count_queries(client_as(user, school.school), "/courses/")
        for school, user in ((one, student_one), (six, student_six))
    ]
    assert counted[0] == counted[1]
    anonymous = [count_queries(client_as(None, s.school), "/courses/") for s in (one, six)]
    assert anonymous[0] == anonymous[1]


def test_my_courses_runs_a_constant_number_of_queries(make_school: Callable[..., Any]) -> None:
    school = make_school("mycourses", plan="premium")
    courses = [
        build_course(school.school, school.owner, title=f"Course {i}", cover=i % 2 == 0)
        for i in range(6)
    ]
    few, many = new_user(school.school, "few@my.test"), new_user(school.school, "many@my.test")
    enroll(school.school, school.owner, courses[0].course, few)
    for built in courses:
        enroll(school.school, school.owner, built.course, many)
        complete(school.school, many, built.lessons[0])
    complete(school.school, few, courses[0].lessons[0])
    assert count_queries(client_as(few, school.school), "/my/") == count_queries(
        client_as(many, school.school), "/my/"
    )
