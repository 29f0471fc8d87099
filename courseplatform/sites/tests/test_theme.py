"""Themes: contrast maths, the theme services, the editor at /manage/site/theme/, logo and
favicon processing, the public /branding/<kind> files, the theme on school pages and in
transactional emails.

Two schools (``alpha`` and ``bravo``) throughout; ORM work runs inside ``in_school``
(row-level security hides tenant rows otherwise).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from courseplatform.accounts import services as account_services
from courseplatform.accounts.models import User
from courseplatform.ops.files import UploadRejected
from courseplatform.ops.models import AuditLog
from courseplatform.sites import theming
from courseplatform.sites.models import FONT_CHOICES, Theme
from courseplatform.tenancy.rls import school_context

pytestmark = pytest.mark.django_db

ALPHA = "alpha.localhost"
BRAVO = "bravo.localhost"


# --- helpers ------------------------------------------------------------------------------


def image_upload(
    name: str = "logo.png",
    size: tuple[int, int] = (2000, 1000),
    fmt: str = "PNG",
    mode: str = "RGBA",
    colour: Any = (15, 118, 110, 255),
) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, format=fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def exe_as_png() -> SimpleUploadedFile:
    body = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 2048
    return SimpleUploadedFile("logo.png", body, content_type="image/png")


def logged_in(client_for: Callable[..., Client], host: str, user: User) -> Client:
    client = client_for(host)
    with school_context(user.school):
        client.force_login(user)
    return client


def theme_of(school: Any) -> Theme:
    with school_context(school):
        return Theme.objects.get(school=school)


def stored_image(key: str) -> Image.Image:
    with default_storage.open(key, "rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        image.load()
        return image


def form_data(**overrides: str) -> dict[str, str]:
    data = {
        "primary_color": "#4f46e5",
        "accent_color": "#f59e0b",
        "background_color": "#ffffff",
        "text_color": "#0f172a",
        "heading_font": "inter",
        "body_font": "inter",
        "button_shape": "rounded",
    }
    data.update(overrides)
    return data


def text_of(response: Any) -> str:
    return response.content.decode()


# --- contrast -------------------------------------------------------------------------------


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert theming.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert theming.contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)
    assert theming.contrast_ratio("#4f46e5", "#4f46e5") == pytest.approx(1.0)
    # The textbook borderline grey: just under AA on white.
    assert theming.contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert theming.contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    with pytest.raises(ValueError):
        theming.contrast_ratio("red", "#ffffff")


def test_contrast_warnings_grey_on_white_warns_black_on_white_does_not() -> None:
    grey = Theme(text_color="#777777", background_color="#ffffff")
    warnings = theming.contrast_warnings(grey)
    assert len(warnings) == 1
    assert "Text on the background" in warnings[0]
    assert "4.48:1" in warnings[0]

    assert theming.contrast_warnings(Theme(text_color="#000000", background_color="#ffffff")) == []
    assert theming.contrast_warnings(Theme()) == []  # the defaults pass


def test_contrast_warnings_for_buttons_and_links() -> None:
    # Mid grey primary: neither dark nor white button text reaches 4.5:1.
    mid = Theme(primary_color="#7a7a7a")
    assert any("Button text" in w for w in theming.contrast_warnings(mid))
    # Pale yellow primary on white: links and headings vanish.
    pale = Theme(primary_color="#fde68a")
    assert any("Links and headings" in w for w in theming.contrast_warnings(pale))
    # ...but its buttons get dark text automatically, which reads fine.
    assert theming.on_colour("#fde68a") == theming.ON_LIGHT
    assert theming.on_colour("#0f766e") == theming.ON_DARK


def test_theme_css_variables_cover_colours_fonts_and_radius() -> None:
    css = theming.theme_css_variables(
        Theme(
            primary_color="#0F766E",
            heading_font="lora",
            body_font="source-sans-3",
            button_shape="pill",
        )
    )
    assert "--school-primary:#0f766e;" in css
    assert "--school-on-primary:#ffffff;" in css
    assert "--school-background:#ffffff;" in css
    assert '--school-font-heading:"Lora Variable"' in css
    assert '--school-font-body:"Source Sans 3 Variable"' in css
    assert "--school-radius:9999px;" in css
    assert theming.theme_stylesheets(Theme(heading_font="lora", body_font="lora")) == [
        "dist/fonts/lora.css"
    ]
    assert theming.theme_stylesheets(Theme()) == []  # Inter is in app.css


def test_theme_css_variables_never_pass_through_unvalidated_values() -> None:
    hostile = Theme(
        primary_color="red;}body{display:none",
        heading_font="x;}</style>",
        button_shape="</style><script>",
    )
    css = theming.theme_css_variables(hostile)
    assert "}" not in css and "<" not in css and "display" not in css
    assert "--school-primary:#4f46e5;" in css


def test_every_font_choice_has_a_stack_and_a_bundled_stylesheet() -> None:
    from django.contrib.staticfiles import finders

    assert {key for key, _ in FONT_CHOICES} == set(theming.FONTS)
    for sheet in theming.all_font_stylesheets():
        path = finders.find(sheet)
        assert path, f"{sheet} is not built (cd frontend && npm run build)"
        css = open(path, encoding="utf-8").read()  # noqa: SIM115
        family = next(f for f in theming.FONTS.values() if f.stylesheet == sheet).stack
        assert family.split(",")[0].strip('"') in css
        for name in re.findall(r"url\(\./([\w.-]+\.woff2)\)", css):
            assert finders.find(f"dist/fonts/{name}"), name


# --- services -------------------------------------------------------------------------------


def test_update_theme_by_owner_saves_and_audits(school_a: Any) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        theme = theming.update_theme(
            school=school,
            actor=owner,
            primary_color="#0F766E",
            heading_font="merriweather",
            button_shape="square",
            ip="203.0.113.9",
        )
        assert theme.primary_color == "#0f766e"
        entry = AuditLog.objects.filter(school=school, action="site.theme_changed").get()
    assert entry.actor_id == owner.pk
    assert entry.data["changed"]["primary_color"] == ["#4f46e5", "#0f766e"]
    assert set(entry.data["changed"]) == {"primary_color", "heading_font", "button_shape"}
    saved = theme_of(school)
    assert (saved.primary_color, saved.heading_font, saved.button_shape) == (
        "#0f766e",
        "merriweather",
        "square",
    )


def test_update_theme_without_changes_writes_no_audit(school_a: Any) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        theming.update_theme(school=school, actor=owner, primary_color="#4f46e5")
        assert not AuditLog.objects.filter(action="site.theme_changed").exists()


def test_update_theme_refuses_bad_values_and_saves_nothing(school_a: Any) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        for bad in (
            {"primary_color": "teal"},
            {"heading_font": "comic-sans"},
            {"button_shape": "blob"},
            {"text_color": "#12345"},
        ):
            with pytest.raises(ValidationError):
                theming.update_theme(school=school, actor=owner, accent_color="#000000", **bad)
    theme = theme_of(school)
    assert theme.accent_color == "#f59e0b"


def test_only_the_owner_of_the_school_can_change_its_theme(
    school_a: Any, school_b: Any, make_user: Callable[..., Any]
) -> None:
    school = school_a.school
    instructor = make_user(school, "teacher@alpha.test", role="instructor")
    student = make_user(school, "student@alpha.test")
    with school_context(school):
        for actor in (instructor, student, school_b.owner):
            with pytest.raises(PermissionDenied):
                theming.update_theme(school=school, actor=actor, primary_color="#000000")
            with pytest.raises(PermissionDenied):
                theming.set_logo(school=school, actor=actor, upload=image_upload())
    assert theme_of(school).primary_color == "#4f46e5"
    assert theme_of(school).logo_key == ""


# --- logo and favicon -------------------------------------------------------------------------


def test_logo_png_is_resized_to_512_and_stored_under_the_schools_branding_prefix(
    school_a: Any,
) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        theme = theming.set_logo(school=school, actor=owner, upload=image_upload(size=(2000, 1000)))
    assert theme.logo_key.startswith(f"schools/{school.pk}/branding/")
    assert theme.logo_key.endswith(".png")
    image = stored_image(theme.logo_key)
    assert image.format == "PNG"
    assert image.size == (512, 256)
    assert image.mode == "RGBA"  # transparency kept


def test_small_logo_is_not_upscaled_and_jpeg_becomes_png(school_a: Any) -> None:
    school, owner = school_a.school, school_a.owner
    upload = image_upload("logo.jpg", size=(300, 120), fmt="JPEG", mode="RGB", colour=(200, 30, 30))
    with school_context(school):
        theme = theming.set_logo(school=school, actor=owner, upload=upload)
    image = stored_image(theme.logo_key)
    assert (image.format, image.size) == ("PNG", (300, 120))


def test_replacing_or_removing_the_logo_deletes_the_old_file(
    school_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        first = theming.set_logo(school=school, actor=owner, upload=image_upload()).logo_key
        with django_capture_on_commit_callbacks(execute=True):
            second = theming.set_logo(school=school, actor=owner, upload=image_upload()).logo_key
        assert first != second
        assert not default_storage.exists(first)
        assert default_storage.exists(second)
        with django_capture_on_commit_callbacks(execute=True):
            theming.clear_branding_image(school=school, actor=owner, kind="logo")
        assert not default_storage.exists(second)
    assert theme_of(school).logo_key == ""


def test_exe_renamed_png_is_refused_and_nothing_changes(school_a: Any) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        with pytest.raises(UploadRejected, match="not an image"):
            theming.set_logo(school=school, actor=owner, upload=exe_as_png())
        assert not AuditLog.objects.filter(action="site.theme_changed").exists()
    assert theme_of(school).logo_key == ""


def test_huge_image_dimensions_are_refused(school_a: Any) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        # 9,000 px wide: fine in pixels, absurd for a logo.
        with pytest.raises(UploadRejected, match="at most 8192 pixels"):
            theming.set_logo(
                school=school, actor=owner, upload=image_upload(size=(9000, 20), mode="L", colour=0)
            )
        # 8,000 x 6,000 = 48 MP: over the decoder's pixel budget (a decompression bomb).
        with pytest.raises(UploadRejected, match="too large in pixels"):
            theming.set_logo(
                school=school,
                actor=owner,
                upload=image_upload(size=(8000, 6000), mode="1", colour=0),
            )
    assert theme_of(school).logo_key == ""


def test_favicon_is_made_64x64_and_must_be_square(school_a: Any) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        theme = theming.set_favicon(
            school=school, actor=owner, upload=image_upload(size=(300, 300))
        )
        image = stored_image(theme.favicon_key)
        assert (image.format, image.size) == ("PNG", (64, 64))
        # Nearly square is padded onto a transparent square.
        theme = theming.set_favicon(
            school=school, actor=owner, upload=image_upload(size=(200, 192))
        )
        assert stored_image(theme.favicon_key).size == (64, 64)
        with pytest.raises(UploadRejected, match="must be square"):
            theming.set_favicon(school=school, actor=owner, upload=image_upload(size=(400, 100)))
        with pytest.raises(UploadRejected, match="at least"):
            theming.set_favicon(school=school, actor=owner, upload=image_upload(size=(8, 8)))


# --- /branding/<kind> ---------------------------------------------------------------------------


def test_branding_files_are_per_school(
    school_a: Any, school_b: Any, client_for: Callable[..., Client]
) -> None:
    with school_context(school_a.school):
        alpha = theming.set_logo(
            school=school_a.school,
            actor=school_a.owner,
            upload=image_upload(colour=(255, 0, 0, 255)),
        )
    with school_context(school_b.school):
        bravo = theming.set_logo(
            school=school_b.school,
            actor=school_b.owner,
            upload=image_upload(colour=(0, 0, 255, 255)),
        )

    def fetch(host: str) -> bytes:
        response = client_for(host).get("/branding/logo")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]

    a_bytes, b_bytes = fetch(ALPHA), fetch(BRAVO)
    assert a_bytes != b_bytes
    assert Image.open(io.BytesIO(a_bytes)).getpixel((0, 0)) == (255, 0, 0, 255)
    assert Image.open(io.BytesIO(b_bytes)).getpixel((0, 0)) == (0, 0, 255, 255)
    with default_storage.open(alpha.logo_key, "rb") as handle:
        assert a_bytes == handle.read()
    with default_storage.open(bravo.logo_key, "rb") as handle:
        assert b_bytes == handle.read()

    # Bravo has no favicon: nothing, not alpha's.
    assert client_for(BRAVO).get("/branding/favicon").status_code == 404
    assert client_for(BRAVO).get("/branding/secret").status_code == 404
    # The platform host has no branding route at all.
    assert client_for("localhost").get("/branding/logo").status_code == 404


def test_a_theme_pointing_at_another_schools_file_serves_nothing(
    school_a: Any, school_b: Any, client_for: Callable[..., Client]
) -> None:
    with school_context(school_a.school):
        alpha = theming.set_logo(
            school=school_a.school, actor=school_a.owner, upload=image_upload()
        )
    with school_context(school_b.school):
        # A row edited behind the services' back (shell, SQL).
        Theme.objects.filter(school=school_b.school).update(logo_key=alpha.logo_key)
    assert client_for(BRAVO).get("/branding/logo").status_code == 404
    assert client_for(ALPHA).get("/branding/logo").status_code == 200


def test_branding_cache_headers_and_etag(school_a: Any, client_for: Callable[..., Client]) -> None:
    with school_context(school_a.school):
        theme = theming.set_logo(
            school=school_a.school, actor=school_a.owner, upload=image_upload()
        )
    path = theming.branding_path(theme, "logo")
    assert path.startswith("/branding/logo?v=")
    client = client_for(ALPHA)
    versioned = client.get(path)
    assert versioned.status_code == 200
    assert "immutable" in versioned["Cache-Control"]
    assert "public" in versioned["Cache-Control"]
    bare = client.get("/branding/logo")
    assert bare["Cache-Control"] == "public, max-age=300"
    assert bare["ETag"] == versioned["ETag"]
    again = client.get("/branding/logo", HTTP_IF_NONE_MATCH=bare["ETag"])
    assert again.status_code == 304
    assert client.post("/branding/logo").status_code == 405


# --- the editor ---------------------------------------------------------------------------------


def test_theme_editor_access(
    school_a: Any, make_user: Callable[..., Any], client_for: Callable[..., Client]
) -> None:
    school = school_a.school
    assert client_for(ALPHA).get("/manage/site/theme/").status_code == 302  # to the login
    student = make_user(school, "student@alpha.test")
    assert logged_in(client_for, ALPHA, student).get("/manage/site/theme/").status_code == 403
    owner_page = logged_in(client_for, ALPHA, school_a.owner).get("/manage/site/theme/")
    assert owner_page.status_code == 200
    html = text_of(owner_page)
    for marker in (
        "data-theme-preview",
        'name="primary_color"',
        'type="color"',
        'name="heading_font"',
        'name="logo"',
        "dist/theme-preview.js",
        "dist/fonts/lora.css",
        'id="theme-preview-config"',
        "data-save-theme",
    ):
        assert marker in html, marker
    assert 'data-nav="site"' in html


def test_theme_editor_saves_colours_fonts_and_shape(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    client = logged_in(client_for, ALPHA, school_a.owner)
    response = client.post(
        "/manage/site/theme/",
        form_data(
            primary_color="0F766E",
            accent_color="#abc",
            heading_font="lora",
            body_font="source-sans-3",
            button_shape="pill",
        ),
    )
    assert response.status_code == 302, text_of(response)[:3000]
    theme = theme_of(school_a.school)
    assert (theme.primary_color, theme.accent_color) == ("#0f766e", "#aabbcc")
    assert (theme.heading_font, theme.body_font, theme.button_shape) == (
        "lora",
        "source-sans-3",
        "pill",
    )
    with school_context(school_a.school):
        assert AuditLog.objects.filter(action="site.theme_changed").count() == 1
    page = text_of(client.get("/manage/site/theme/"))
    assert "Theme saved" in page


def test_theme_editor_refuses_body_text_below_aa_naming_colours_and_ratio(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    client = logged_in(client_for, ALPHA, school_a.owner)
    response = client.post(
        "/manage/site/theme/",
        form_data(text_color="#777777", primary_color="#0f766e", heading_font="lora"),
    )
    assert response.status_code == 200  # the form again, not a redirect
    html = text_of(response)
    error = re.search(
        r'<div class="field[^"]*has-error" data-field="text_color">(.*?)data-field=',
        html,
        re.DOTALL,
    )
    assert error, "the error sits on the text colour field"
    field_error = re.search(r'<p class="field-error">(.*?)</p>', error.group(1), re.DOTALL)
    assert field_error
    assert "#777777" in field_error.group(1) and "#ffffff" in field_error.group(1)
    assert "4.48:1" in field_error.group(1) and "4.5:1" in field_error.group(1)
    assert "cannot be saved" in field_error.group(1)
    theme = theme_of(school_a.school)
    # Nothing at all was saved, not even the fields that were fine.
    assert (theme.text_color, theme.primary_color, theme.heading_font) == (
        "#0f172a",
        "#4f46e5",
        "inter",
    )
    with school_context(school_a.school):
        assert not AuditLog.objects.filter(action="site.theme_changed").exists()


def test_theme_editor_light_text_on_dark_background_is_judged_by_the_pair(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    client = logged_in(client_for, ALPHA, school_a.owner)
    # Light grey on white is refused; the same grey on near-black reads well and saves.
    refused = client.post("/manage/site/theme/", form_data(text_color="#cbd5e1"))
    assert refused.status_code == 200 and "cannot be saved" in text_of(refused)
    saved = client.post(
        "/manage/site/theme/", form_data(text_color="#cbd5e1", background_color="#0f172a")
    )
    assert saved.status_code == 302
    theme = theme_of(school_a.school)
    assert (theme.text_color, theme.background_color) == ("#cbd5e1", "#0f172a")


def test_theme_editor_low_contrast_links_save_with_an_inline_warning(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    # A pale primary colour only fails the 3:1 large-text/UI minimum: advice, not a block.
    client = logged_in(client_for, ALPHA, school_a.owner)
    response = client.post("/manage/site/theme/", form_data(primary_color="#fde68a"), follow=True)
    assert response.status_code == 200
    assert theme_of(school_a.school).primary_color == "#fde68a"
    html = text_of(response)
    assert "Some colours are hard to read" in html
    warning = re.search(
        r'<div class="alert alert-warning" data-contrast-warnings[^>]*>(.*?)</ul>', html, re.DOTALL
    )
    assert warning and "Links and headings in the primary colour" in warning.group(1)
    assert "hidden" not in warning.group(0).split(">")[0]


def test_update_theme_refuses_body_text_below_aa_and_saves_nothing(school_a: Any) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        with pytest.raises(ValidationError) as refused:
            theming.update_theme(
                school=school, actor=owner, text_color="#777777", heading_font="lora"
            )
        assert "#777777" in refused.value.message_dict["text_color"][0]
        # The textbook grey just above the line passes.
        theming.update_theme(school=school, actor=owner, text_color="#767676")
    theme = theme_of(school)
    assert (theme.text_color, theme.heading_font) == ("#767676", "inter")


def test_body_contrast_error_threshold_and_wording() -> None:
    assert theming.body_contrast_error("#767676", "#ffffff") == ""  # 4.54:1
    assert theming.body_contrast_error("#0f172a", "#ffffff") == ""
    message = theming.body_contrast_error("#777777", "#FFFFFF")
    assert message.startswith("Body text in #777777 on the background #ffffff")
    assert "4.48:1" in message
    # Never rounded up onto the limit: 4.4995 reads 4.49, not "4.50 (below 4.5)".
    assert theming._ratio(4.4995) == "4.49"
    assert theming._ratio(4.476) == "4.48"
    assert theming.body_contrast_error("teal", "#ffffff") == ""  # the field reports it


def test_contrast_messages_follow_the_active_language() -> None:
    from django.utils import translation

    with translation.override("de"):
        message = theming.body_contrast_error("#777777", "#ffffff")
    assert "Kontrast von 4,48:1" in message and "#777777" in message
    with translation.override("ar"):
        warnings = theming.contrast_warnings(Theme(primary_color="#fde68a"))
    assert len(warnings) == 1 and "تباين" in warnings[0]


def test_theme_editor_bad_colour_shows_error_and_saves_nothing(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    client = logged_in(client_for, ALPHA, school_a.owner)
    response = client.post(
        "/manage/site/theme/", form_data(primary_color="teal", heading_font="comic")
    )
    assert response.status_code == 200
    html = text_of(response)
    assert "Use a colour like #4f46e5." in html
    assert "Select a valid choice" in html
    assert theme_of(school_a.school).primary_color == "#4f46e5"


def test_theme_editor_logo_upload_and_refusal(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    client = logged_in(client_for, ALPHA, school_a.owner)
    refused = client.post(
        "/manage/site/theme/", {**form_data(primary_color="#000000"), "logo": exe_as_png()}
    )
    assert refused.status_code == 200
    assert "not an image we can read" in text_of(refused)
    theme = theme_of(school_a.school)
    assert theme.logo_key == "" and theme.primary_color == "#4f46e5"  # nothing saved

    ok = client.post(
        "/manage/site/theme/",
        {**form_data(), "logo": image_upload(), "favicon": image_upload("f.png", size=(128, 128))},
    )
    assert ok.status_code == 302
    theme = theme_of(school_a.school)
    assert theme.logo_key and theme.favicon_key

    removed = client.post("/manage/site/theme/", {**form_data(), "remove_logo": "on"})
    assert removed.status_code == 302
    assert theme_of(school_a.school).logo_key == ""
    assert theme_of(school_a.school).favicon_key == theme.favicon_key


def test_instructor_sees_the_editor_but_cannot_save(
    school_a: Any, make_user: Callable[..., Any], client_for: Callable[..., Client]
) -> None:
    instructor = make_user(school_a.school, "teacher@alpha.test", role="instructor")
    client = logged_in(client_for, ALPHA, instructor)
    page = text_of(client.get("/manage/site/theme/"))
    assert "Only the school owner can save the theme" in page
    assert "data-save-theme" not in page
    response = client.post("/manage/site/theme/", form_data(primary_color="#000000"), follow=True)
    assert "Only the school owner can change the theme." in text_of(response)
    assert theme_of(school_a.school).primary_color == "#4f46e5"


def test_an_owner_cannot_change_another_schools_theme(
    school_a: Any, school_b: Any, client_for: Callable[..., Client]
) -> None:
    # Alpha's owner session carried to bravo's host is logged out by the middleware.
    client = logged_in(client_for, ALPHA, school_a.owner)
    client.defaults["HTTP_HOST"] = BRAVO
    response = client.post("/manage/site/theme/", form_data(primary_color="#000000"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert theme_of(school_b.school).primary_color == "#4f46e5"


def test_site_home_links_to_theme_and_pages(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    response = logged_in(client_for, ALPHA, school_a.owner).get("/manage/site/")
    assert response.status_code == 200
    html = text_of(response)
    assert 'href="/manage/site/theme/"' in html
    assert 'href="/manage/site/pages/"' in html


def test_school_without_a_theme_row_gets_one_on_save(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    with school_context(school_a.school):
        Theme.objects.filter(school=school_a.school).delete()
    client = logged_in(client_for, ALPHA, school_a.owner)
    assert client.get("/manage/site/theme/").status_code == 200
    assert client.get("/").status_code == 200  # pages still render without a theme
    assert client.post("/manage/site/theme/", form_data(primary_color="#111111")).status_code == 302
    assert theme_of(school_a.school).primary_color == "#111111"


# --- applied to school pages --------------------------------------------------------------------


def test_school_pages_carry_the_theme_logo_favicon_and_fonts(
    school_a: Any, school_b: Any, client_for: Callable[..., Client]
) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        theming.update_theme(
            school=school,
            actor=owner,
            primary_color="#0f766e",
            heading_font="lora",
            body_font="merriweather",
            button_shape="pill",
        )
        theming.set_logo(school=school, actor=owner, upload=image_upload())
        theme = theming.set_favicon(school=school, actor=owner, upload=image_upload(size=(64, 64)))
    client = client_for(ALPHA)
    for path in (
        "/",
        "/accounts/login/",
        "/accounts/signup/",
        "/courses/",
        "/redeem/",
        "/no-such-page/",
    ):
        response = client.get(path)
        assert response.status_code in (200, 302, 404), (path, response.status_code)
        if response.status_code == 302:
            continue
        html = text_of(response)
        assert "--school-primary:#0f766e;" in html, path
        assert "--school-radius:9999px;" in html, path
        assert "dist/fonts/lora.css" in html and "dist/fonts/merriweather.css" in html, path
        assert f'href="{theming.branding_path(theme, "favicon")}"' in html, path
    home = text_of(client.get("/"))
    assert f'src="{theming.branding_path(theme, "logo")}"' in home
    assert "school-site" in home and "font-body" in home
    # Bravo keeps its own, default theme.
    other = text_of(client_for(BRAVO).get("/"))
    assert "--school-primary:#4f46e5;" in other
    assert "/branding/logo" not in other and "lora.css" not in other


def test_platform_pages_have_no_school_theme(client_for: Callable[..., Client], db: None) -> None:
    html = text_of(client_for("localhost").get("/"))
    assert "--school-primary" not in html


# --- emails -------------------------------------------------------------------------------------


def test_transactional_emails_have_a_themed_html_alternative(
    school_a: Any, make_user: Callable[..., Any], mailoutbox: list[Any]
) -> None:
    school, owner = school_a.school, school_a.owner
    with school_context(school):
        theming.update_theme(school=school, actor=owner, primary_color="#0f766e")
        theme = theming.set_logo(school=school, actor=owner, upload=image_upload())
        student = make_user(school, "student@alpha.test")
        account_services.send_verification_email(school=school, user=student, port="8000")
        account_services.request_password_reset(school=school, email=student.email, port="8000")
        account_services.send_invitation(
            school=school, user=student, course_title="Watercolour", port="8000"
        )
        account_services.notify_existing_account(school=school, email=student.email, port="8000")
    assert len(mailoutbox) == 4
    logo = f"http://alpha.localhost:8000{theming.branding_path(theme, 'logo')}"
    for message in mailoutbox:
        assert "http://alpha.localhost:8000/" in message.body  # the text version stays
        assert "<" not in message.body
        html, mimetype = message.alternatives[0]
        assert mimetype == "text/html"
        assert "background-color:#0f766e" in html
        assert f'src="{logo}"' in html
        assert "color:#ffffff" in html  # button text on the dark teal
    assert "/accounts/verify/" in mailoutbox[0].alternatives[0][0]
    assert "Watercolour" in mailoutbox[2].alternatives[0][0]


def test_email_without_logo_shows_the_school_name(school_b: Any, mailoutbox: list[Any]) -> None:
    with school_context(school_b.school):
        account_services.request_password_reset(
            school=school_b.school, email="owner@bravo.test", port=""
        )
    html = mailoutbox[0].alternatives[0][0]
    assert "/branding/logo" not in html
    assert "Bravo Academy" in html
    assert "background-color:#4f46e5" in html


def test_a_saved_theme_shows_on_the_next_signed_in_page_though_the_process_keeps_it(
    school_a: Any, client_for: Callable[..., Client]
) -> None:
    # The theme's context is kept in process memory while the process hears every
    # change (sites/context_processors.py, tenancy/heard.py): a save announces the
    # school's change, so the next page shows it.
    from courseplatform.tenancy import broadcast

    assert broadcast.wait_until_listening()
    client = client_for(ALPHA)
    with school_context(school_a.school):
        client.force_login(school_a.owner)
    assert "--school-primary:#4f46e5" in client.get("/courses/").content.decode()
    with school_context(school_a.school):
        theming.update_theme(
            school=school_a.school, actor=school_a.owner, primary_color="#0F766E", ip="203.0.113.9"
        )
    assert "--school-primary:#0f766e" in client.get("/courses/").content.decode()
