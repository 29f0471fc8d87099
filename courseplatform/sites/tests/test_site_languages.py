"""The school site in other languages: starter texts in the school's language, public
pages (and their cached renderings) per visitor language, management pages and messages
translated, right-to-left markup for Arabic.

Two schools (``alpha`` and ``bravo``); ORM work runs inside ``school_context``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polib
import pytest
from django.template import engines
from django.test import Client
from django.utils import translation

from courseplatform.sites import services
from courseplatform.sites.models import Page
from courseplatform.tenancy.models import School
from courseplatform.tenancy.rls import school_context

pytestmark = pytest.mark.django_db

ALPHA = "alpha.localhost"
BRAVO = "bravo.localhost"


def _set_school_language(school: School, language: str) -> None:
    with school_context(school):
        school.language = language
        school.save(update_fields=["language", "updated_at"])


def _home(school: School) -> Page:
    with school_context(school):
        return Page.objects.get(school=school, is_home=True)


def _visitor(client_for: Callable[..., Client], host: str, language: str) -> Client:
    client = client_for(host)
    client.cookies["cp_language"] = language
    return client


def test_starter_texts_are_in_the_schools_language(make_school: Callable[..., Any]) -> None:
    # A school in Arabic gets Arabic starter texts whoever renders them...
    with translation.override("en"):
        arabic = services.starter_html(
            school=School(name="Cairo Academy", language="ar"), starter="classic"
        )
    assert "تعلّم مهارات جديدة بالسرعة التي تناسبك" in arabic
    assert "مرحبًا بك في Cairo Academy" in arabic
    assert "Learn new skills" not in arabic
    # ...one that follows the browser gets the language of whoever creates the page...
    with translation.override("es"):
        spanish = services.starter_html(school=School(name="Lima", language=""), starter="bold")
    assert "Domina las habilidades que impulsan tu carrera" in spanish
    # ...so a school created in Arabic starts with an Arabic home page, whatever the
    # language of the request that creates it.
    from courseplatform.onboarding.services import create_school

    with translation.override("en"):
        cairo = create_school(
            slug="cairo",
            name="Cairo Academy",
            owner_email="owner@cairo.test",
            owner_password="a-long-test-passphrase-42",
            owner_name="Cairo Owner",
            language="ar",
        )
    home = _home(cairo.school).published_html
    assert "تعلّم مهارات جديدة بالسرعة التي تناسبك" in home and "Learn new" not in home
    # An English school stays English even when created from an Arabic page.
    with translation.override("ar"):
        created = make_school("boston")
    assert "Learn new skills, at your own pace" in _home(created.school).published_html


def test_starters_follow_the_schools_language_not_the_editors(school_a: Any) -> None:
    school, owner = school_a.school, school_a.owner
    _set_school_language(school, "de")
    with school_context(school), translation.override("en"):
        bold = services.create_page(school=school, actor=owner, title="Start", starter="bold")
        minimal = services.create_page(school=school, actor=owner, title="Ruhig", starter="minimal")
        blank = services.create_page(school=school, actor=owner, title="Leer", starter="blank")
    assert "Meistere die Fähigkeiten, die deine Karriere voranbringen" in bold.draft_html
    assert "Durchdachte Kurse, mit Sorgfalt gemacht." in minimal.draft_html
    assert "Fang hier an zu schreiben" in blank.draft_html
    for page in (bold, minimal, blank):
        assert "Learn" not in page.draft_html and "Start writing" not in page.draft_html
    # Applying a starter later uses the school's language too (pt-br here).
    _set_school_language(school, "pt-br")
    with school_context(school):
        services.apply_starter(school=school, actor=owner, page=blank, starter="classic")
        blank.refresh_from_db()
    assert "Aprenda novas habilidades no seu ritmo" in blank.draft_html


def test_public_page_blocks_and_their_cache_follow_the_visitors_language(
    school_a: Any, school_b: Any, client_for: Callable[..., Client]
) -> None:
    # The default home page has a catalogue block: with no course it shows our own
    # "coming soon" text, rendered once per language (the body cache is per language).
    english = client_for(ALPHA).get("/").content.decode()
    assert "New courses are on their way" in english
    assert '<html lang="en" dir="ltr"' in english
    spanish = _visitor(client_for, ALPHA, "es").get("/").content.decode()
    assert "Pronto habrá nuevos cursos" in spanish and "New courses" not in spanish
    arabic = _visitor(client_for, ALPHA, "ar").get("/").content.decode()
    assert "دورات جديدة في الطريق" in arabic
    assert '<html lang="ar" dir="rtl"' in arabic
    assert "أدخله لفتح دورتك في Alpha Academy." in arabic  # the redeem block
    # English again after the other languages were cached: still English.
    assert "New courses are on their way" in client_for(ALPHA).get("/").content.decode()
    # The starter text itself stays as the author wrote it (English for this school).
    assert "Learn new skills, at your own pace" in arabic
    # Another school is untouched by alpha's cached renderings.
    assert "Bravo Academy" in _visitor(client_for, BRAVO, "ar").get("/").content.decode()


def test_management_pages_and_messages_in_the_users_language(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        owner.language = "de"
        owner.save(update_fields=["language"])
        client = client_for(ALPHA)
        client.force_login(owner)
    pages = client.get("/manage/site/pages/").content.decode()
    assert "Neue Seite" in pages and "Im Editor bearbeiten" in pages
    assert "New page" not in pages
    client.post("/manage/site/pages/new/", {"title": "Über uns", "starter": "minimal"})
    flashed = client.get("/manage/site/pages/").content.decode()
    assert "„Über uns“ wurde als Entwurf erstellt." in flashed
    refused = client.post(
        "/manage/site/theme/",
        {
            "primary_color": "#4f46e5",
            "accent_color": "#f59e0b",
            "background_color": "#ffffff",
            "text_color": "#777777",
            "heading_font": "inter",
            "body_font": "inter",
            "button_shape": "rounded",
        },
    ).content.decode()
    assert (
        "Kontrast von 4,48:1" in refused and "kann das Design nicht gespeichert werden" in refused
    )
    theme = client.get("/manage/site/theme/").content.decode()
    assert '<html lang="de" dir="ltr"' in theme and "Design speichern" in theme


def test_arabic_management_pages_are_right_to_left(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    school, owner = school_a.school, school_a.owner
    home = _home(school)
    with school_context(school):
        owner.language = "ar"
        owner.save(update_fields=["language"])
        client = client_for(ALPHA)
        client.force_login(owner)
    for path, text in (
        ("/manage/site/", "الموقع والمظهر"),
        ("/manage/site/pages/", "صفحة جديدة"),
        (f"/manage/site/pages/{home.pk}/", "سجل النسخ"),
        ("/manage/site/theme/", "حفظ المظهر"),
        (f"/manage/site/pages/{home.pk}/builder/", "معاينة المسودة"),
    ):
        html = client.get(path).content.decode()
        assert '<html lang="ar" dir="rtl"' in html, path
        assert text in html, path
    builder = client.get(f"/manage/site/pages/{home.pk}/builder/").content.decode()
    assert '"language": "ar"' in builder  # GrapesJS gets its Arabic panel texts
    assert "rtl:-scale-x-100" in builder  # the "back" chevron mirrors


SITES_CATALOGS = sorted(Path(__file__).resolve().parents[1].glob("locale/*/LC_MESSAGES/*.po"))


@pytest.mark.parametrize("path", SITES_CATALOGS, ids=lambda p: p.parent.parent.name)
def test_sites_catalogs_fill_every_plural_form_the_language_has(path: Path) -> None:
    # Spanish has three forms (one, many, other) and Arabic six: a catalog with only two
    # msgstr forms silently shows English for most counts.
    catalog = polib.pofile(str(path))
    match = re.search(r"nplurals=(\d+)", catalog.metadata["Plural-Forms"])
    assert match
    forms = int(match.group(1))
    short = [e.msgid for e in catalog if e.msgid_plural and len(e.msgstr_plural) < forms]
    assert not short, short


@pytest.mark.parametrize(
    ("language", "count", "expected"),
    [
        ("es", 5, "5 de 5 páginas del plan Free"),
        ("es", 1, "1 de 1 página del plan Free"),
        ("ar", 0, "0 من 0 صفحة في خطة Free"),
        ("ar", 1, "1 من صفحة واحدة في خطة Free"),
        ("ar", 2, "2 من صفحتين في خطة Free"),
        ("ar", 5, "5 من 5 صفحات في خطة Free"),
        ("ar", 11, "11 من 11 صفحة في خطة Free"),
        ("ar", 100, "100 من 100 صفحة في خطة Free"),
        ("de", 5, "5 von 5 Seiten im Tarif Free"),
        ("pt-br", 5, "5 de 5 páginas do plano Free"),
    ],
)
def test_plan_usage_line_is_translated_for_every_count(
    language: str, count: int, expected: str
) -> None:
    template = engines["django"].from_string(
        "{% load i18n %}{% blocktranslate trimmed count counter=limit with used=used "
        "plan=plan %}{{ used }} of {{ counter }} page on the {{ plan }} plan{% plural %}"
        "{{ used }} of {{ counter }} pages on the {{ plan }} plan{% endblocktranslate %}"
    )
    with translation.override(language):
        assert template.render({"limit": count, "used": count, "plan": "Free"}) == expected
