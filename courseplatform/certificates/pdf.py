"""The certificate as a PDF, drawn server-side with ReportLab in the school's theme.

Landscape A4 or US Letter. Colours come from the school's theme (primary for the frame
and title, accent for the rules, the theme's text colour when it reads well on white
paper); the logo is the theme's; the fonts follow the theme's heading and body fonts
by kind (serif, sans or monospace) with TrueType files embedded (subset) in the PDF:
Liberation (Debian's ``fonts-liberation``, installed by ``make test`` and the
Dockerfile), else DejaVu, else the Bitstream Vera files that ship inside ReportLab, so
a PDF renders on any machine. The browser fonts of the theme are variable WOFF2 files,
which ReportLab cannot embed.

The fixed wording ("This certifies that", the date, "Verify this certificate at") is in
``Design.language``: the school's language, else the reader's (``pdf_language``).
ReportLab draws glyphs one by one, left to right, without Arabic shaping or bidi
reordering, so a right-to-left language falls back to English for the fixed wording
(names and titles are printed as stored).

The QR code is drawn as vector squares from the ``qrcode`` library's matrix of the
verification URL. The signed fields and their signature (``signing.py``) go into the
document information, written with pypdf after ReportLab has drawn the page.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

import qrcode
import reportlab
from django.core.files.storage import default_storage
from django.utils import formats, translation
from django.utils.translation import gettext as _
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, LETTER, landscape
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from courseplatform.sites.models import Theme
from courseplatform.sites.theming import DEFAULTS, HEX_COLOUR, contrast_ratio

from . import signing
from .models import Certificate, PaperSize

logger = logging.getLogger(__name__)

PAGE_SIZES: dict[str, tuple[float, float]] = {
    PaperSize.A4.value: landscape(A4),
    PaperSize.LETTER.value: landscape(LETTER),
}
PAYLOAD_KEY = "/CertificatePayload"
SIGNATURE_KEY = "/CertificateSignature"
URL_KEY = "/CertificateURL"

_SYSTEM_FONTS = Path("/usr/share/fonts/truetype")
_VERA = Path(reportlab.__file__).parent / "fonts"
# kind -> candidate (regular, bold) files, best first.
_FONT_FILES: dict[str, list[tuple[Path, Path]]] = {
    "sans": [
        (
            _SYSTEM_FONTS / "liberation/LiberationSans-Regular.ttf",
            _SYSTEM_FONTS / "liberation/LiberationSans-Bold.ttf",
        ),
        (_SYSTEM_FONTS / "dejavu/DejaVuSans.ttf", _SYSTEM_FONTS / "dejavu/DejaVuSans-Bold.ttf"),
    ],
    "serif": [
        (
            _SYSTEM_FONTS / "liberation/LiberationSerif-Regular.ttf",
            _SYSTEM_FONTS / "liberation/LiberationSerif-Bold.ttf",
        ),
        (_SYSTEM_FONTS / "dejavu/DejaVuSerif.ttf", _SYSTEM_FONTS / "dejavu/DejaVuSerif-Bold.ttf"),
    ],
    "mono": [
        (
            _SYSTEM_FONTS / "liberation/LiberationMono-Regular.ttf",
            _SYSTEM_FONTS / "liberation/LiberationMono-Bold.ttf",
        ),
        (
            _SYSTEM_FONTS / "dejavu/DejaVuSansMono.ttf",
            _SYSTEM_FONTS / "dejavu/DejaVuSansMono-Bold.ttf",
        ),
    ],
}
_VERA_FILES = (_VERA / "Vera.ttf", _VERA / "VeraBd.ttf")
# The theme's font keys (sites.models.FONT_CHOICES) by kind; the rest are sans.
_FONT_KIND = {"lora": "serif", "merriweather": "serif", "jetbrains-mono": "mono"}
PAPER_WHITE = "#ffffff"
FALLBACK_TEXT = "#0f172a"


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str


def _font_files(kind: str) -> tuple[Path, Path]:
    for regular, bold in _FONT_FILES.get(kind, _FONT_FILES["sans"]):
        if regular.is_file() and bold.is_file():
            return regular, bold
    return _VERA_FILES


def fonts_for(theme_font: str | None) -> Fonts:
    """Registered ReportLab names of the TrueType fonts standing in for ``theme_font``."""
    kind = _FONT_KIND.get(theme_font or "", "sans")
    regular, bold = _font_files(kind)
    names = []
    for path in (regular, bold):
        name = f"cert-{path.stem}"
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(path)))
        names.append(name)
    return Fonts(*names)


def _readable_text_colour(theme: Theme | None) -> str:
    colour = theme.text_color if theme else DEFAULTS["text_color"]
    try:
        return colour if contrast_ratio(colour, PAPER_WHITE) >= 4.5 else FALLBACK_TEXT
    except ValueError:
        return FALLBACK_TEXT


def _colour(theme: Theme | None, field: str) -> str:
    value = getattr(theme, field, "") if theme else ""
    return value if HEX_COLOUR.match(value or "") else DEFAULTS[field]


def _stored_image(key: str) -> ImageReader | None:
    """An image from storage, or None (a missing file leaves the space empty)."""
    if not key:
        return None
    try:
        with default_storage.open(key, "rb") as handle:
            return ImageReader(io.BytesIO(handle.read()))
    except Exception:  # storage down or file gone: the certificate still renders
        logger.warning("certificate image %s could not be read", key, exc_info=True)
        return None


def _draw_image_fitted(
    canvas: Canvas, image: ImageReader, *, cx: float, y: float, max_w: float, max_h: float
) -> None:
    width, height = image.getSize()
    scale = min(max_w / width, max_h / height)
    w, h = width * scale, height * scale
    canvas.drawImage(image, cx - w / 2, y, w, h, mask="auto")


def _fit_size(text: str, font: str, size: float, max_width: float, minimum: float) -> float:
    while size > minimum and pdfmetrics.stringWidth(text, font, size) > max_width:
        size -= 1
    return size


def _centred_lines(
    canvas: Canvas, text: str, *, font: str, size: float, cx: float, y: float, max_width: float
) -> float:
    """Draw ``text`` centred, wrapped to ``max_width``; returns the y below it."""
    for line in simpleSplit(text, font, size, max_width) or [""]:
        canvas.setFont(font, size)
        canvas.drawCentredString(cx, y, line)
        y -= size * 1.2
    return y


def qr_matrix(url: str) -> list[list[bool]]:
    """The QR code of ``url`` as rows of dark (True) modules, without the quiet zone."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(url)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def _draw_qr(canvas: Canvas, url: str, *, x: float, y: float, size: float) -> None:
    matrix = qr_matrix(url)
    module = size / len(matrix)
    # A white quiet zone of four modules keeps the code readable on any frame colour.
    canvas.setFillColor(HexColor(PAPER_WHITE))
    canvas.rect(x - 4 * module, y - 4 * module, size + 8 * module, size + 8 * module, 0, 1)
    canvas.setFillColor(HexColor("#000000"))
    for row_index, row in enumerate(matrix):
        for col_index, dark in enumerate(row):
            if dark:
                canvas.rect(
                    x + col_index * module,
                    y + size - (row_index + 1) * module,
                    module,
                    module,
                    stroke=0,
                    fill=1,
                )


@dataclass(frozen=True)
class Design:
    theme: Theme | None
    signature_key: str
    paper: str
    language: str = "en"


def pdf_language(school_language: str, reader_language: str | None) -> str:
    """The language of the PDF's fixed wording: the school's, else the reader's; English
    for a right-to-left language, which ReportLab cannot shape (module docstring)."""
    language = school_language or reader_language or "en"
    try:
        bidi = translation.get_language_info(language)["bidi"]
    except KeyError:
        return "en"
    return "en" if bidi else language


def render_pdf(certificate: Certificate, *, design: Design, verify_url: str) -> bytes:
    """The certificate's PDF bytes, signed (see the module docstring)."""
    with translation.override(design.language):
        return _render_pdf(certificate, design=design, verify_url=verify_url)


def _render_pdf(certificate: Certificate, *, design: Design, verify_url: str) -> bytes:
    theme = design.theme
    page_w, page_h = PAGE_SIZES.get(design.paper, PAGE_SIZES[PaperSize.A4])
    heading = fonts_for(theme.heading_font if theme else None)
    body = fonts_for(theme.body_font if theme else None)
    primary = HexColor(_colour(theme, "primary_color"))
    accent = HexColor(_colour(theme, "accent_color"))
    ink = HexColor(_readable_text_colour(theme))
    muted = HexColor("#475569")

    buffer = io.BytesIO()
    # The initial font is one of ours: otherwise ReportLab lists Helvetica (a font not
    # embedded) in the page's resources although no text uses it.
    canvas = Canvas(
        buffer, pagesize=(page_w, page_h), pageCompression=1, initialFontName=body.regular
    )
    canvas.setTitle(f"{certificate.title}: {certificate.student_name}")
    canvas.setAuthor(certificate.school_name)
    canvas.setSubject(certificate.course_title)
    canvas.setCreator("courseplatform")
    cx = page_w / 2
    width = page_w - 200

    # The frame: a thick primary border and a thin accent rule inside it.
    canvas.setStrokeColor(primary)
    canvas.setLineWidth(8)
    canvas.rect(24, 24, page_w - 48, page_h - 48)
    canvas.setStrokeColor(accent)
    canvas.setLineWidth(1.5)
    canvas.rect(38, 38, page_w - 76, page_h - 76)

    top = page_h - 70
    logo = _stored_image(theme.logo_key if theme else "")
    if logo is not None:
        _draw_image_fitted(canvas, logo, cx=cx, y=top - 56, max_w=200, max_h=56)
        top -= 70
    canvas.setFillColor(primary)
    canvas.setFont(body.bold, 14)
    canvas.drawCentredString(cx, top - 8, certificate.school_name.upper())

    canvas.setFillColor(primary)
    size = _fit_size(certificate.title, heading.bold, 36, width, 18)
    y = _centred_lines(
        canvas, certificate.title, font=heading.bold, size=size, cx=cx, y=top - 62, max_width=width
    )
    canvas.setFillColor(muted)
    canvas.setFont(body.regular, 14)
    canvas.drawCentredString(cx, y - 14, _("This certifies that"))

    canvas.setFillColor(ink)
    size = _fit_size(certificate.student_name, heading.bold, 32, width, 16)
    y = _centred_lines(
        canvas,
        certificate.student_name,
        font=heading.bold,
        size=size,
        cx=cx,
        y=y - 56,
        max_width=width,
    )
    canvas.setStrokeColor(accent)
    canvas.setLineWidth(1)
    canvas.line(cx - 180, y + size * 0.7, cx + 180, y + size * 0.7)

    canvas.setFillColor(muted)
    canvas.setFont(body.regular, 14)
    canvas.drawCentredString(cx, y - 6, _("has successfully completed the course"))
    canvas.setFillColor(primary)
    size = _fit_size(certificate.course_title, heading.bold, 24, width, 14)
    y = _centred_lines(
        canvas,
        certificate.course_title,
        font=heading.bold,
        size=size,
        cx=cx,
        y=y - 40,
        max_width=width,
    )
    canvas.setFillColor(ink)
    canvas.setFont(body.regular, 12)
    issued = formats.date_format(certificate.issued_at, "DATE_FORMAT")
    canvas.drawCentredString(
        cx,
        y - 8,
        _("Issued on %(date)s by %(school)s") % {"date": issued, "school": certificate.school_name},
    )

    # Bottom left: the signature over the signer's name.
    base = 70
    left = 90
    signature = _stored_image(design.signature_key)
    if signature is not None:
        _draw_image_fitted(canvas, signature, cx=left + 110, y=base + 40, max_w=220, max_h=60)
    canvas.setStrokeColor(ink)
    canvas.setLineWidth(0.75)
    canvas.line(left, base + 36, left + 220, base + 36)
    canvas.setFillColor(ink)
    if certificate.signer_name:
        canvas.setFont(body.bold, 12)
        canvas.drawCentredString(left + 110, base + 20, certificate.signer_name)
    if certificate.signer_title:
        canvas.setFont(body.regular, 10)
        canvas.setFillColor(muted)
        canvas.drawCentredString(left + 110, base + 6, certificate.signer_title)

    # Bottom right: the QR code to the verification page, its address and the id.
    qr_size = 84
    qr_x = page_w - 90 - qr_size
    _draw_qr(canvas, verify_url, x=qr_x, y=base + 10, size=qr_size)
    canvas.setFillColor(muted)
    canvas.setFont(body.regular, 8)
    canvas.drawRightString(qr_x - 14, base + 52, _("Verify this certificate at"))
    canvas.drawRightString(qr_x - 14, base + 40, verify_url)
    canvas.drawRightString(
        qr_x - 14, base + 22, _("Certificate ID %(code)s") % {"code": certificate.code}
    )
    canvas.showPage()
    canvas.save()
    return _with_signature(buffer.getvalue(), certificate, verify_url)


def _with_signature(pdf: bytes, certificate: Certificate, verify_url: str) -> bytes:
    payload = signing.canonical(signing.certificate_fields(certificate))
    # Imported here: pypdf's import is slow (its glyph tables), and every worker would
    # otherwise pay it on its first request to any school page.
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.add_metadata(
        {
            PAYLOAD_KEY: payload,
            SIGNATURE_KEY: signing.sign(payload),
            URL_KEY: verify_url,
        }
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
