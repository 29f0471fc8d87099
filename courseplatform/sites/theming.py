"""A school's theme: colours, fonts, button shape, logo and favicon.

Services (``update_theme``, ``set_logo``, ``set_favicon``, ``clear_branding_image``)
change the theme; only the school's owner may (the brand is the owner's call, like the
school's name). The helpers turn a theme into CSS custom properties for every school
page (``theme_css_variables``), check colour contrast against WCAG 2.x AA
(``contrast_ratio``, ``contrast_warnings``; ``body_contrast_error`` is the one pair that
blocks a save: body text below 4.5:1) and build the public URLs of the logo and
favicon (``branding_url``), which are served by ``views_theme.branding_asset`` at
``/branding/<kind>`` on the school's host.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import formats
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps

from courseplatform.accounts import permissions
from courseplatform.ops.files import (
    UploadRejected,
    check_image,
    delete_school_file,
    store_school_file,
)
from courseplatform.ops.services import record_audit
from courseplatform.tenancy.models import School
from courseplatform.tenancy.selectors import school_url
from courseplatform.tenancy.storage import school_storage_key

from .models import FONT_CHOICES, Theme

BrandingKind = Literal["logo", "favicon"]
BRANDING_KINDS: tuple[BrandingKind, ...] = ("logo", "favicon")
BRANDING_FOLDER = "branding"
THEME_OWNER_ONLY = gettext_lazy("Only the school owner can change the theme.")

# WCAG 2.x level AA: 4.5:1 for body text, 3:1 for large text and UI components.
AA_TEXT = 4.5
AA_LARGE = 3.0

LOGO_MAX_SIDE = 512  # px, the logo is scaled down (never up) to fit a 512x512 box
FAVICON_SIDE = 64  # px, the favicon is stored as a 64x64 PNG
FAVICON_MIN_SIDE = 16
FAVICON_SQUARE_TOLERANCE = 0.05  # "square": sides within 5% of each other
MAX_SOURCE_SIDE = 8192  # px; beyond this a logo is certainly not a logo

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULTS = {
    "primary_color": "#4f46e5",
    "accent_color": "#f59e0b",
    "background_color": "#ffffff",
    "text_color": "#0f172a",
}
# Text on a primary-coloured surface: whichever of these contrasts more with it.
ON_LIGHT = "#0f172a"
ON_DARK = "#ffffff"

# Arabic script first among the fallbacks: no theme font has Arabic glyphs, so Arabic text
# takes the self-hosted Noto Sans Arabic (frontend/src/fonts.css) rather than whatever the
# device has; Latin text keeps the theme's font.
_ARABIC = '"Noto Sans Arabic Variable"'
_SANS_FALLBACK = (
    f'{_ARABIC}, ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, '
    '"Helvetica Neue", Arial, sans-serif, "Apple Color Emoji", "Segoe UI Emoji"'
)

_SERIF_FALLBACK = f'{_ARABIC}, ui-serif, Georgia, Cambria, "Times New Roman", serif'


@dataclass(frozen=True)
class Font:
    key: str
    label: str
    stack: str  # the CSS font-family value
    stylesheet: str  # dist/fonts/<name>.css with its @font-face rules ("" = none needed)


# Family names are those of the @fontsource-variable packages' CSS ("<Name> Variable").
FONTS: dict[str, Font] = {
    font.key: font
    for font in (
        Font("inter", "Inter", f'"Inter Variable", {_SANS_FALLBACK}', ""),  # in app.css
        Font(
            "source-sans-3",
            "Source Sans 3",
            f'"Source Sans 3 Variable", {_SANS_FALLBACK}',
            "dist/fonts/source-sans-3.css",
        ),
        Font(
            "montserrat",
            "Montserrat",
            f'"Montserrat Variable", {_SANS_FALLBACK}',
            "dist/fonts/montserrat.css",
        ),
        Font("lora", "Lora", f'"Lora Variable", {_SERIF_FALLBACK}', "dist/fonts/lora.css"),
        Font(
            "merriweather",
            "Merriweather",
            f'"Merriweather Variable", {_SERIF_FALLBACK}',
            "dist/fonts/merriweather.css",
        ),
        Font(
            "jetbrains-mono",
            "JetBrains Mono",
            f'"JetBrains Mono Variable", {_ARABIC}, ui-monospace, SFMono-Regular, Menlo, Consolas, '
            "monospace",
            "dist/fonts/jetbrains-mono.css",
        ),
        Font("system", "System UI", _SANS_FALLBACK, ""),
    )
}
DEFAULT_FONT = "inter"
assert set(FONTS) == {key for key, _ in FONT_CHOICES}, "FONTS and models.FONT_CHOICES differ"

# (button radius, small button radius) per Theme.ButtonShape.
BUTTON_RADII: dict[str, tuple[str, str]] = {
    Theme.ButtonShape.ROUNDED: ("0.5rem", "0.375rem"),
    Theme.ButtonShape.PILL: ("9999px", "9999px"),
    Theme.ButtonShape.SQUARE: ("0px", "0px"),
}

THEME_FIELDS = (
    "primary_color",
    "accent_color",
    "background_color",
    "text_color",
    "heading_font",
    "body_font",
    "button_shape",
)


# --- colour maths ------------------------------------------------------------------------


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of ``#rrggbb``."""
    if not HEX_COLOUR.match(colour or ""):
        raise ValueError(f"not a #rrggbb colour: {colour!r}")
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours, from 1.0 to 21.0."""
    a, b = relative_luminance(first), relative_luminance(second)
    lighter, darker = max(a, b), min(a, b)
    return (lighter + 0.05) / (darker + 0.05)


def on_colour(background: str) -> str:
    """The text colour (near-black or white) that reads best on ``background``."""
    return (
        ON_LIGHT
        if contrast_ratio(background, ON_LIGHT) >= contrast_ratio(background, ON_DARK)
        else ON_DARK
    )


def _colour(theme: Any, field: str) -> str:
    value = getattr(theme, field, "") or ""
    # A row edited behind the form's back (shell, SQL) must never inject CSS.
    return value.lower() if HEX_COLOUR.match(value) else DEFAULTS[field]


def _ratio(value: float) -> str:
    """A contrast ratio as people read it ("4.48"), with the active language's decimal
    mark. Rounded, except never up onto a limit: 4.499 must not read "4.50 (below 4.5)"."""
    shown = round(value, 2)
    if any(value < limit <= shown for limit in (AA_TEXT, AA_LARGE)):
        shown = int(value * 100) / 100
    return formats.number_format(shown, 2)


def body_contrast_error(text: str, background: str) -> str:
    """Why body text ``text`` on ``background`` cannot be saved, or "" when it can.

    Body text is what every visitor reads; below WCAG AA (4.5:1) the theme is refused
    (the form error names both colours and the ratio). The other pairs in
    ``contrast_warnings`` stay advice.
    """
    if not (HEX_COLOUR.match(text or "") and HEX_COLOUR.match(background or "")):
        return ""  # the colour fields report bad values themselves
    ratio = contrast_ratio(text, background)
    if ratio >= AA_TEXT:
        return ""
    return _(
        "Body text in %(text)s on the background %(background)s has a contrast of "
        "%(ratio)s:1; WCAG AA needs at least %(minimum)s:1 for body text, so the theme "
        "cannot be saved. Darken the text or lighten the background."
    ) % {
        "text": text.lower(),
        "background": background.lower(),
        "ratio": _ratio(ratio),
        "minimum": formats.number_format(AA_TEXT, 1),
    }


def contrast_warnings(theme: Any) -> list[str]:
    """Plain-language notes for colour pairs below WCAG AA.

    Checks body text on the background (4.5:1; this one also blocks a save, see
    ``body_contrast_error``), button text on the primary colour (4.5:1; the button text
    is chosen automatically, so this fires only for mid-tones where neither dark nor
    white text is enough) and the primary colour used for links and headings on the
    background (3:1, the large-text / UI-component minimum).
    """
    text, background = _colour(theme, "text_color"), _colour(theme, "background_color")
    primary = _colour(theme, "primary_color")
    warnings = []
    ratio = contrast_ratio(text, background)
    if ratio < AA_TEXT:
        warnings.append(
            _(
                "Text on the background has a contrast of %(ratio)s:1; WCAG AA asks for at "
                "least %(minimum)s:1, so some visitors will struggle to read it. "
                "Darken the text or lighten the background."
            )
            % {"ratio": _ratio(ratio), "minimum": formats.number_format(AA_TEXT, 1)}
        )
    on_primary = on_colour(primary)
    ratio = contrast_ratio(on_primary, primary)
    if ratio < AA_TEXT:
        warnings.append(
            _(
                "Button text on the primary colour has a contrast of %(ratio)s:1 (below "
                "%(minimum)s:1). Choose a darker or lighter primary colour."
            )
            % {"ratio": _ratio(ratio), "minimum": formats.number_format(AA_TEXT, 1)}
        )
    ratio = contrast_ratio(primary, background)
    if ratio < AA_LARGE:
        warnings.append(
            _(
                "Links and headings in the primary colour have a contrast of %(ratio)s:1 "
                "with the background (below %(minimum)s:1) and may be hard to see."
            )
            % {"ratio": _ratio(ratio), "minimum": formats.number_format(AA_LARGE, 1)}
        )
    return warnings


# --- CSS ---------------------------------------------------------------------------------


def font_of(key: str | None) -> Font:
    return FONTS.get(key or "", FONTS[DEFAULT_FONT])


def theme_css_variables(theme: Any) -> SafeString:
    """The theme as CSS custom properties, for ``:root{...}`` or a ``style`` attribute.

    Every value comes from a validated hex colour (re-checked here) or from a fixed
    table, never from free text, so the result is safe to place inside ``<style>``
    unescaped (escaping would turn the quotes of font names into entities, which CSS
    does not decode).
    """
    primary = _colour(theme, "primary_color")
    accent = _colour(theme, "accent_color")
    radius, radius_sm = BUTTON_RADII.get(
        getattr(theme, "button_shape", ""), BUTTON_RADII[Theme.ButtonShape.ROUNDED]
    )
    variables = {
        "--school-primary": primary,
        "--school-on-primary": on_colour(primary),
        "--school-accent": accent,
        "--school-on-accent": on_colour(accent),
        "--school-background": _colour(theme, "background_color"),
        "--school-text": _colour(theme, "text_color"),
        "--school-font-heading": font_of(getattr(theme, "heading_font", None)).stack,
        "--school-font-body": font_of(getattr(theme, "body_font", None)).stack,
        "--school-radius": radius,
        "--school-radius-sm": radius_sm,
    }
    return mark_safe("".join(f"{name}:{value};" for name, value in variables.items()))  # noqa: S308


def theme_stylesheets(theme: Any) -> list[str]:
    """Static paths of the @font-face stylesheets the theme's fonts need."""
    paths = []
    for field in ("heading_font", "body_font"):
        sheet = font_of(getattr(theme, field, None)).stylesheet
        if sheet and sheet not in paths:
            paths.append(sheet)
    return paths


def all_font_stylesheets() -> list[str]:
    """Every bundled font's stylesheet (the theme editor previews them all)."""
    return [font.stylesheet for font in FONTS.values() if font.stylesheet]


# --- branding files ------------------------------------------------------------------------


def _branding_key(theme: Theme, kind: BrandingKind) -> str:
    return theme.logo_key if kind == "logo" else theme.favicon_key


def branding_version(key: str) -> str:
    """Cache-busting token of a stored file: changes whenever a new file is uploaded."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def branding_path(theme: Theme | None, kind: BrandingKind) -> str:
    """``/branding/<kind>?v=<version>`` on the school's host, or "" without that file."""
    key = _branding_key(theme, kind) if theme is not None else ""
    return f"/branding/{kind}?v={branding_version(key)}" if key else ""


def branding_url(
    school: School, theme: Theme | None, kind: BrandingKind, *, port: str | None = None
) -> str:
    """Absolute URL of the logo or favicon (for emails), or "" without that file."""
    path = branding_path(theme, kind)
    return school_url(school, path, port=port) if path else ""


def branding_file(school: School, theme: Theme | None, kind: str) -> str:
    """Storage key of ``school``'s logo/favicon, or "" (also for foreign or odd keys)."""
    if theme is None or kind not in BRANDING_KINDS or theme.school_id != school.pk:
        return ""
    key = _branding_key(theme, kind)  # type: ignore[arg-type]
    prefix = school_storage_key(school.pk, BRANDING_FOLDER) + "/"
    return key if key.startswith(prefix) and ".." not in key else ""


# --- services ----------------------------------------------------------------------------


def _locked_theme(school: School) -> Theme:
    theme, _ = Theme.objects.select_for_update().get_or_create(school=school)
    return theme


def update_theme(
    *,
    school: School,
    actor: Any,
    primary_color: str | None = None,
    accent_color: str | None = None,
    background_color: str | None = None,
    text_color: str | None = None,
    heading_font: str | None = None,
    body_font: str | None = None,
    button_shape: str | None = None,
    ip: str | None = None,
) -> Theme:
    """Change colours, fonts and button shape (None leaves a value as it is).

    Raises PermissionDenied unless ``actor`` owns ``school`` and ValidationError for a
    bad colour, font or shape, or body text below WCAG AA on the background
    (``body_contrast_error``); nothing is saved then. Audited as ``site.theme_changed``.
    """
    permissions.require_school_owner(school, actor, message=str(THEME_OWNER_ONLY))
    values = {
        "primary_color": primary_color,
        "accent_color": accent_color,
        "background_color": background_color,
        "text_color": text_color,
        "heading_font": heading_font,
        "body_font": body_font,
        "button_shape": button_shape,
    }
    with transaction.atomic():
        theme = _locked_theme(school)
        changes: dict[str, list[str]] = {}
        for field, value in values.items():
            if value is None:
                continue
            if field.endswith("_color"):
                value = value.strip().lower()
            old = getattr(theme, field)
            if value != old:
                setattr(theme, field, value)
                changes[field] = [old, value]
        if not changes:
            return theme
        theme.full_clean(exclude=["school"], validate_unique=False, validate_constraints=False)
        error = body_contrast_error(theme.text_color, theme.background_color)
        if error:
            raise ValidationError({"text_color": error})
        theme.save()
        record_audit(
            school=school,
            actor=actor,
            action="site.theme_changed",
            target=theme,
            data={"changed": changes},
            ip=ip,
        )
    return theme


def _open_checked(upload: Any) -> Image.Image:
    """Validate ``upload`` as an image and return it decoded (first frame), upright."""
    check_image(upload, max_bytes=settings.MAX_IMAGE_BYTES)
    upload.seek(0)
    try:
        with Image.open(upload) as source:
            width, height = source.size
            if width > MAX_SOURCE_SIDE or height > MAX_SOURCE_SIDE:
                raise UploadRejected(
                    _(
                        "The image is %(width)sx%(height)s pixels; use one at most "
                        "%(max)s pixels on each side."
                    )
                    % {"width": width, "height": height, "max": MAX_SOURCE_SIDE}
                )
            source.seek(0)  # the first frame of an animation
            image = ImageOps.exif_transpose(source)
            image.load()
            return image.convert("RGBA")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        if isinstance(exc, UploadRejected):
            raise
        raise UploadRejected(
            _("This image could not be read; try saving it again as PNG.")
        ) from exc
    finally:
        upload.seek(0)


def _png_bytes(image: Image.Image) -> ContentFile[bytes]:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return ContentFile(buffer.getvalue())


def make_logo(upload: Any) -> Image.Image:
    """The logo image: scaled down (never up) to fit 512x512, transparency kept."""
    image = _open_checked(upload)
    image.thumbnail((LOGO_MAX_SIDE, LOGO_MAX_SIDE), Image.Resampling.LANCZOS)
    return image


def make_favicon(upload: Any) -> Image.Image:
    """The favicon: a square image resized to 64x64 (nearly square ones are padded)."""
    image = _open_checked(upload)
    width, height = image.size
    if min(width, height) < FAVICON_MIN_SIDE:
        raise UploadRejected(
            _(
                "The favicon is %(width)sx%(height)s pixels; use a square image of at least "
                "%(side)sx%(side)s."
            )
            % {"width": width, "height": height, "side": FAVICON_SIDE}
        )
    if abs(width - height) > FAVICON_SQUARE_TOLERANCE * max(width, height):
        raise UploadRejected(
            _(
                "The favicon must be square (for example 512x512); this image is "
                "%(width)sx%(height)s."
            )
            % {"width": width, "height": height}
        )
    image.thumbnail((FAVICON_SIDE, FAVICON_SIDE), Image.Resampling.LANCZOS)
    if image.size != (FAVICON_SIDE, FAVICON_SIDE):
        # Centre on a transparent square; small icons are scaled up to fill it.
        if max(image.size) < FAVICON_SIDE:
            scale = FAVICON_SIDE / max(image.size)
            image = image.resize(
                (max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                Image.Resampling.LANCZOS,
            )
        canvas = Image.new("RGBA", (FAVICON_SIDE, FAVICON_SIDE), (0, 0, 0, 0))
        canvas.paste(image, ((FAVICON_SIDE - image.width) // 2, (FAVICON_SIDE - image.height) // 2))
        image = canvas
    return image


def _replace_image(
    *,
    school: School,
    actor: Any,
    kind: BrandingKind,
    image: Image.Image | None,
    ip: str | None,
) -> Theme:
    permissions.require_school_owner(school, actor, message=str(THEME_OWNER_ONLY))
    new_key = ""
    if image is not None:
        new_key = store_school_file(
            school=school, folder=BRANDING_FOLDER, upload=_png_bytes(image), extension="png"
        )
    field = "logo_key" if kind == "logo" else "favicon_key"
    try:
        with transaction.atomic():
            theme = _locked_theme(school)
            old_key = getattr(theme, field)
            setattr(theme, field, new_key)
            theme.save()
            data: dict[str, Any] = {"changed": [kind], kind: "uploaded" if new_key else "removed"}
            if image is not None:
                data["size"] = list(image.size)
            record_audit(
                school=school,
                actor=actor,
                action="site.theme_changed",
                target=theme,
                data=data,
                ip=ip,
            )
            if old_key:
                transaction.on_commit(lambda: delete_school_file(school=school, key=old_key))
    except Exception:
        if new_key:
            delete_school_file(school=school, key=new_key)
        raise
    return theme


def set_logo(*, school: School, actor: Any, upload: Any, ip: str | None = None) -> Theme:
    """Validate, resize (max 512 px) and store a logo as PNG under schools/<id>/branding/.

    Raises UploadRejected (a message for the uploader) for anything that is not a
    readable JPEG/PNG/WebP/GIF within the size and pixel limits.
    """
    return _replace_image(school=school, actor=actor, kind="logo", image=make_logo(upload), ip=ip)


def set_favicon(*, school: School, actor: Any, upload: Any, ip: str | None = None) -> Theme:
    """Validate a square image and store it as a 64x64 PNG favicon."""
    return _replace_image(
        school=school, actor=actor, kind="favicon", image=make_favicon(upload), ip=ip
    )


def clear_branding_image(
    *, school: School, actor: Any, kind: BrandingKind, ip: str | None = None
) -> Theme:
    """Remove the logo or favicon (the school falls back to its initial / no icon)."""
    if kind not in BRANDING_KINDS:
        raise ValidationError(_("Unknown branding image."))
    return _replace_image(school=school, actor=actor, kind=kind, image=None, ip=ip)


# --- email -------------------------------------------------------------------------------


def email_branding(school: School, *, port: str | None = None) -> dict[str, str]:
    """Colours and logo URL for the HTML version of a school's transactional emails."""
    from .selectors import get_theme

    theme = get_theme(school)
    primary = _colour(theme, "primary_color")
    # The body stays dark on white whatever the site uses: mail clients (and their dark
    # modes) vary too much for a themed page background. The header carries the brand.
    radius = {"pill": "999px", "square": "0"}.get(getattr(theme, "button_shape", ""), "8px")
    return {
        "primary": primary,
        "on_primary": on_colour(primary),
        "radius": radius,
        "logo_url": branding_url(school, theme, "logo", port=port),
    }
