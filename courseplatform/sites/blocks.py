"""Server-side rendering of pages: dynamic blocks with live data, in two stages.

Stage 1 (:func:`render_body`, cacheable) sanitises the stored HTML and CSS again and
replaces every placeholder with trusted HTML from ``sites/blocks/*.html``: the course
catalogue, a course card, an instructor bio, a YouTube/Vimeo embed. Placeholders
whose ids belong to another school (or to nothing, or to a draft course) render
nothing. Course covers get their stable public URLs (``courses.covers``). What depends
on the visitor or expires — the code-redemption form (CSRF token, signed-in state) and
videos (signed, short-lived poster URLs) — is left as *slots* marked with a random
per-rendering nonce.

Stage 2 (:func:`finish`, every request) fills the slots. Author HTML can never contain
a slot: nh3 strips comments, and the nonce is unguessable.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from courseplatform.accounts.models import User
from courseplatform.courses.covers import public_cover_path
from courseplatform.courses.models import Course, CourseInstructor, Lesson
from courseplatform.courses.selectors import published_courses
from courseplatform.ops import csp
from courseplatform.sanitize.css import sanitize_css
from courseplatform.sanitize.html import sanitize_page_html
from courseplatform.sanitize.placeholders import replace_placeholders
from courseplatform.sanitize.urls import normalize_embed_url
from courseplatform.tenancy.models import School

CATALOGUE_LIMIT = 24
PAGE_SCOPE = ".cp-page"


@dataclass
class Body:
    """A page rendered up to its per-request slots (what the cache holds)."""

    html: str
    css: str
    nonce: str


def _int(value: str | None) -> int | None:
    if value and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


class _Stage1:
    def __init__(self, school: School, nonce: str) -> None:
        self.school = school
        self.nonce = nonce
        self._catalogue: list[Course] | None = None

    def cover(self, course: Course) -> str:
        # Published courses only reach a block: their covers have stable URLs, so the
        # rendering holds nothing that expires (``courses.covers``).
        return public_cover_path(self.school, course)

    def card(self, course: Course) -> dict[str, Any]:
        return {
            "course": course,
            "cover": self.cover(course),
            "url": reverse("courses:course", args=[course.slug]),
        }

    def catalogue(self) -> list[Course]:
        if self._catalogue is None:
            self._catalogue = list(published_courses(school=self.school)[:CATALOGUE_LIMIT])
        return self._catalogue

    def slot(self, *parts: str) -> str:
        return f"<!--cp:{self.nonce}:{':'.join(parts)}-->"

    def __call__(self, attrs: dict[str, str]) -> str:
        kind = attrs.get("data-cp-block")
        school = self.school
        if kind == "catalogue":
            cards = [self.card(c) for c in self.catalogue()]
            return render_to_string(
                "sites/blocks/catalogue.html", {"cards": cards, "school": school}
            )
        if kind == "course":
            course_id = _int(attrs.get("data-course"))
            course = (
                published_courses(school=school).filter(pk=course_id).first() if course_id else None
            )
            if course is None:
                return ""
            return render_to_string(
                "sites/blocks/course.html", {"card": self.card(course), "school": school}
            )
        if kind == "instructor":
            return self.instructor(_int(attrs.get("data-user")))
        if kind == "embed":
            url = normalize_embed_url(attrs.get("data-url", ""))
            if not url:
                return ""
            provider = "YouTube" if "youtube" in url else "Vimeo"
            # Framed only when the CSP's frame-src lets the browser load it; else a link.
            framed = any(url.startswith(f"{o}/") for o in csp.FRAME_SOURCES)
            watch = url.replace("www.youtube-nocookie.com/embed/", "www.youtube.com/watch?v=")
            watch = watch.replace("player.vimeo.com/video/", "vimeo.com/")
            return render_to_string(
                "sites/blocks/embed.html",
                {
                    "url": url,
                    "provider": provider,
                    "framed": framed,
                    "watch_url": watch,
                },
            )
        if kind == "video":
            asset_id = _int(attrs.get("data-video"))
            return self.slot("video", str(asset_id)) if asset_id else ""
        if kind == "redeem":
            return self.slot("redeem")
        return ""

    def instructor(self, user_id: int | None) -> str:
        if not user_id:
            return ""
        person = User.objects.filter(
            school=self.school,
            pk=user_id,
            is_active=True,
            role__in=[User.Role.OWNER, User.Role.INSTRUCTOR],
        ).first()
        if person is None:
            return ""
        taught = set(
            CourseInstructor.objects.filter(school=self.school, user=person).values_list(
                "course_id", flat=True
            )
        )
        courses = [c for c in published_courses(school=self.school) if c.pk in taught][:6]
        return render_to_string(
            "sites/blocks/instructor.html",
            {
                "person": person,
                "courses": courses,
                "school": self.school,
                "cards": [self.card(c) for c in courses],
            },
        )


def render_body(*, school: School, html: str, css: str) -> Body:
    """Stage 1: sanitise again and render the dynamic blocks (cacheable)."""
    nonce = secrets.token_hex(8)
    stage = _Stage1(school, nonce)
    clean = sanitize_page_html(html)
    body = replace_placeholders(clean, stage)
    return Body(html=body, css=sanitize_css(css, scope=PAGE_SCOPE), nonce=nonce)


# --- stage 2 ------------------------------------------------------------------------------


def _render_video(request: HttpRequest, school: School, asset_id: int) -> str:
    from courseplatform.video import playback
    from courseplatform.video.models import VideoAsset

    asset = VideoAsset.objects.filter(
        school=school, pk=asset_id, status=VideoAsset.Status.READY
    ).first()
    if asset is None:
        return ""
    lessons = Lesson.objects.filter(
        school=school, video=asset, course__status=Course.Status.PUBLISHED
    ).select_related("course", "video")
    preview = lessons.filter(is_preview=True).order_by("id").first()
    if preview is not None:
        try:
            get_template("video/partials/player.html")
        except TemplateDoesNotExist:
            pass
        else:
            player = render_to_string(
                "video/partials/player.html", {"lesson": preview}, request=request
            )
            if player.strip():
                return render_to_string(
                    "sites/blocks/video.html",
                    {"player": mark_safe(player), "asset": asset},  # noqa: S308 (our template)
                    request=request,
                )
    any_lesson = lessons.order_by("id").first()
    return render_to_string(
        "sites/blocks/video.html",
        {
            "asset": asset,
            "poster": playback.poster_url(asset),
            "course": any_lesson.course if any_lesson else None,
        },
        request=request,
    )


def finish(body: Body, *, request: HttpRequest, school: School) -> SafeString:
    """Stage 2: fill the per-request slots of a (possibly cached) body."""
    html = body.html
    if f"<!--cp:{body.nonce}:" in html:
        pattern = re.compile(rf"<!--cp:{body.nonce}:(redeem|video:(\d+))-->")
        videos: dict[str, str] = {}
        forms = [0]

        def fill(match: re.Match[str]) -> str:
            slot = match.group(1)
            if slot == "redeem":
                forms[0] += 1  # each form gets its own field id
                return render_to_string(
                    "sites/blocks/redeem.html",
                    {"school": school, "field_id": f"cp-redeem-code-{forms[0]}"},
                    request=request,
                )
            if slot not in videos:
                videos[slot] = _render_video(request, school, int(match.group(2)))
            return videos[slot]

        html = pattern.sub(fill, html)
    return mark_safe(html)  # noqa: S308 (sanitised author HTML + our own templates)
