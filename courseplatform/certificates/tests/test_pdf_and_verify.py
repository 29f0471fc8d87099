"""The PDF (text, metadata, QR code, fonts, paper), its signature, and the public
verification page with its upload: genuine, revoked, doctored, corrupt, other school."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
import zxingcpp
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from pypdf import PdfReader, PdfWriter

from courseplatform.certificates import services, signing
from courseplatform.certificates.models import Certificate, CertificateSettings
from courseplatform.certificates.pdf import (
    PAYLOAD_KEY,
    SIGNATURE_KEY,
    Design,
    qr_matrix,
    render_pdf,
)
from courseplatform.sites.models import Theme
from courseplatform.tenancy.rls import school_context

from .conftest import Setup, png_upload

pytestmark = pytest.mark.django_db

OUTPUT = Path(__file__).resolve().parents[3] / "test-output" / "certificates"
A4_LANDSCAPE = (841.89, 595.28)
LETTER_LANDSCAPE = (792.0, 612.0)


def issued(setup: Setup) -> Certificate:
    setup.complete_all()
    with school_context(setup.school):
        certificate, _ = services.issue_certificate(
            school=setup.school, actor=None, course=setup.course, student=setup.student
        )
    return certificate


def download(setup: Setup, certificate: Certificate, query: str = "") -> bytes:
    response = setup.client(setup.student).get(f"/my/certificates/{certificate.code}.pdf{query}")
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    return response.content


def meta(data: bytes) -> Any:
    return PdfReader(io.BytesIO(data)).metadata


def page_fonts(reader: PdfReader) -> Any:
    resources: Any = reader.pages[0]["/Resources"]
    return resources["/Font"].values()


def verify_url(setup: Setup, certificate: Certificate) -> str:
    return f"http://{setup.host}/certificates/{certificate.code}/"


def upload(data: bytes, name: str = "certificate.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def post_pdf(setup: Setup, data: bytes, host: str | None = None) -> tuple[int, str]:
    response = setup.client(host=host).post("/certificates/verify/", {"pdf": upload(data)})
    return response.status_code, response.content.decode()


def test_pdf_text_metadata_fonts_qr_and_png(alpha: Setup) -> None:
    with school_context(alpha.school):
        services.set_signature_image(
            school=alpha.school, actor=alpha.owner, course=alpha.course, upload=png_upload()
        )
        Theme.objects.filter(school=alpha.school).update(
            primary_color="#7c2d12", heading_font="lora", body_font="source-sans-3"
        )
    certificate = issued(alpha)
    data = download(alpha, certificate)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 2), round(float(box.height), 2)) == A4_LANDSCAPE
    text = " ".join((reader.pages[0].extract_text() or "").split())
    for expected in (
        "Certificate of Completion",
        "Sam Øster-Lee",
        "Watercolour Basics",
        alpha.school.name,
        "Ada Painter",
        "Lead instructor",
        certificate.code,
        verify_url(alpha, certificate),
    ):
        assert expected in text, expected
    info: Any = reader.metadata
    assert info is not None
    assert info.title == "Certificate of Completion: Sam Øster-Lee"
    fields = json.loads(info[PAYLOAD_KEY])
    assert fields == signing.certificate_fields(certificate)
    assert signing.is_valid(info[PAYLOAD_KEY], info[SIGNATURE_KEY])
    # TrueType fonts embedded (subset): a serif for the Lora heading, a sans for the body.
    fonts = set()
    for font in page_fonts(reader):
        descriptor = font.get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor  # the font program is in the file
        fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("Serif" in name for name in fonts) and any("Sans" in name for name in fonts)

    # Page 1 as an image: the QR code decodes to the verification URL.
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page = pypdfium2.PdfDocument(data)[0]
    image = page.render(scale=3).to_pil()
    image.save(OUTPUT / "certificate-a4.png")
    codes = zxingcpp.read_barcodes(image)
    assert [code.text for code in codes] == [verify_url(alpha, certificate)]
    assert codes[0].format == zxingcpp.BarcodeFormat.QRCode
    # The drawn matrix is the qrcode library's for that URL (size of the decoded symbol).
    assert len(qr_matrix(verify_url(alpha, certificate))) >= 21

    # Letter by query, and by the course's setting.
    letter = PdfReader(io.BytesIO(download(alpha, certificate, "?paper=letter"))).pages[0].mediabox
    assert (float(letter.width), float(letter.height)) == LETTER_LANDSCAPE
    with school_context(alpha.school):
        CertificateSettings.objects.filter(school=alpha.school).update(paper_size="letter")
    data = download(alpha, certificate)
    letter = PdfReader(io.BytesIO(data)).pages[0].mediabox
    assert (float(letter.width), float(letter.height)) == LETTER_LANDSCAPE
    pypdfium2.PdfDocument(data)[0].render(scale=2).to_pil().save(OUTPUT / "certificate-letter.png")
    # An unknown paper falls back to A4.
    box = PdfReader(io.BytesIO(download(alpha, certificate, "?paper=a0"))).pages[0].mediabox
    assert round(float(box.width), 2) == A4_LANDSCAPE[0]


def test_fonts_fall_back_to_the_ones_inside_reportlab(
    alpha: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    from courseplatform.certificates import pdf

    monkeypatch.setattr(pdf, "_FONT_FILES", {"sans": [(Path("/nope.ttf"), Path("/nope.ttf"))]})
    certificate = issued(alpha)
    data = render_pdf(
        certificate,
        design=Design(theme=None, signature_key="missing/key.png", paper="a4"),
        verify_url="http://x.test/",
    )
    reader = PdfReader(io.BytesIO(data))
    names = {str(f.get_object()["/BaseFont"]) for f in page_fonts(reader)}
    assert all("Vera" in name for name in names)
    assert "Sam Øster-Lee" in (reader.pages[0].extract_text() or "")


def test_genuine_pdf_verifies_and_revoked_says_so(alpha: Setup) -> None:
    certificate = issued(alpha)
    data = download(alpha, certificate)
    status, body = post_pdf(alpha, data)
    assert status == 200
    assert 'data-verdict="genuine"' in body and "Sam Øster-Lee" in body
    with school_context(alpha.school):
        services.revoke_certificate(
            school=alpha.school, actor=alpha.owner, certificate=certificate, reason="mistake"
        )
    status, body = post_pdf(alpha, data)
    assert status == 200 and 'data-verdict="revoked"' in body
    assert "mistake" not in body  # the reason stays in the audit log


def test_doctored_pdfs_fail(alpha: Setup) -> None:
    certificate = issued(alpha)
    data = download(alpha, certificate)

    # 1. A field changed in the signed metadata: the signature no longer matches.
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    fields = json.loads(meta(data)[PAYLOAD_KEY])
    writer.add_metadata({PAYLOAD_KEY: signing.canonical({**fields, "course": "Oil Masters"})})
    doctored = io.BytesIO()
    writer.write(doctored)
    status, body = post_pdf(alpha, doctored.getvalue())
    assert status == 200 and 'data-verdict="altered"' in body

    # 2. The signature itself replaced.
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.add_metadata({SIGNATURE_KEY: "hmac-sha256:" + "0" * 64})
    doctored = io.BytesIO()
    writer.write(doctored)
    assert 'data-verdict="altered"' in post_pdf(alpha, doctored.getvalue())[1]

    # 3. The visible text changed (another name printed) with the genuine metadata kept.
    forged = Certificate(
        **{f.attname: getattr(certificate, f.attname) for f in Certificate._meta.concrete_fields}
    )
    forged.student_name = "Mallory Forger"
    page = render_pdf(
        forged, design=Design(theme=None, signature_key="", paper="a4"), verify_url="x"
    )
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(page)))
    genuine = meta(data)
    writer.add_metadata({PAYLOAD_KEY: genuine[PAYLOAD_KEY], SIGNATURE_KEY: genuine[SIGNATURE_KEY]})
    doctored = io.BytesIO()
    writer.write(doctored)
    status, body = post_pdf(alpha, doctored.getvalue())
    assert 'data-verdict="altered"' in body and "Mallory" not in body

    # 4. Signed with another key (a forger's own HMAC): not ours.
    with override_settings(CERTIFICATE_SIGNING_KEYS=["a-forgers-key"]):
        forged_pdf = render_pdf(
            certificate, design=Design(theme=None, signature_key="", paper="a4"), verify_url="x"
        )
    assert 'data-verdict="altered"' in post_pdf(alpha, forged_pdf)[1]


def test_rotated_keys_still_verify(alpha: Setup) -> None:
    certificate = issued(alpha)
    with override_settings(CERTIFICATE_SIGNING_KEYS=["old-key"]):
        old = render_pdf(
            certificate,
            design=Design(theme=None, signature_key="", paper="a4"),
            verify_url="x",
        )
    with override_settings(CERTIFICATE_SIGNING_KEYS=["new-key", "old-key"]):
        assert 'data-verdict="genuine"' in post_pdf(alpha, old)[1]
    with override_settings(CERTIFICATE_SIGNING_KEYS=["new-key"]):
        assert 'data-verdict="altered"' in post_pdf(alpha, old)[1]


def test_bad_uploads_get_a_clear_error(alpha: Setup, settings: object) -> None:
    certificate = issued(alpha)
    data = download(alpha, certificate)
    cases = [
        (b"", "The submitted file is empty."),
        (b"PK\x03\x04 a zip file", "This file is not a PDF."),
        (b"%PDF-1.7\n" + b"\x00garbage" * 100, "This PDF is damaged and cannot be read."),
        (data[: len(data) // 3], "This PDF is damaged and cannot be read."),
    ]
    for content, message in cases:
        status, body = post_pdf(alpha, content)
        assert status == 400, message
        assert message in body, (message, body[:2000])
    settings.CERTIFICATE_UPLOAD_MAX_BYTES = 1000  # type: ignore[attr-defined]
    status, body = post_pdf(alpha, data)
    assert status == 400 and "a certificate PDF is at most" in body
    # No file at all.
    response = alpha.client().post("/certificates/verify/", {})
    assert response.status_code == 400 and "This field is required." in response.content.decode()


def test_a_pdf_that_is_no_certificate_is_not_ours(alpha: Setup) -> None:
    blank = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.write(blank)
    status, body = post_pdf(alpha, blank.getvalue())
    assert status == 200 and 'data-verdict="not_ours"' in body


def test_school_b_never_verifies_school_as_certificate(alpha: Setup, bravo: Setup) -> None:
    certificate = issued(alpha)
    data = download(alpha, certificate)
    # Its page: 404 on B's host, like an id that never existed.
    assert bravo.client().get(f"/certificates/{certificate.code}/").status_code == 404
    # Its PDF uploaded to B's verification page: not B's.
    status, body = post_pdf(bravo, data)
    assert status == 200 and 'data-verdict="not_ours"' in body
    assert "Sam Øster-Lee" not in body
    # The PDF download on B's host: 404 (B's owner, too).
    assert (
        bravo.client(bravo.owner).get(f"/my/certificates/{certificate.code}.pdf").status_code == 404
    )


def test_public_page_shows_only_the_fields_and_is_cacheable(alpha: Setup) -> None:
    certificate = issued(alpha)
    client = alpha.client()
    # HEAD (link checkers, uptime probes) answers like GET, without a body, on a cold page.
    head = client.head(f"/certificates/{certificate.code}/")
    assert head.status_code == 200 and head.content == b""
    response = client.get(f"/certificates/{certificate.code}/")
    assert response.status_code == 200
    body = response.content.decode()
    for shown in ("Sam Øster-Lee", "Watercolour Basics", alpha.school.name, "data-valid"):
        assert shown in body
    assert alpha.student.email not in body and "Ada Painter" not in body
    assert response["Cache-Control"].startswith("public, max-age=0, s-maxage=")
    assert "csrftoken" not in response.cookies
    etag = response["ETag"]
    assert (
        client.get(f"/certificates/{certificate.code}/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    )
    # Revoking shows at once, though the page was cached.
    with school_context(alpha.school):
        services.revoke_certificate(
            school=alpha.school, actor=alpha.owner, certificate=certificate, reason=""
        )
    body = client.get(f"/certificates/{certificate.code}/").content.decode()
    assert "data-revoked" in body and "was revoked on" in body


@pytest.mark.parametrize(
    "code",
    ["AAAAAAAAAAAAAAAAAAAAAA", "short", "x" * 23, "verify-but-22-chars-xx", "%2e%2e"],
)
def test_forged_ids_are_404(alpha: Setup, code: str) -> None:
    issued(alpha)
    assert alpha.client().get(f"/certificates/{code}/").status_code == 404
    assert alpha.client(alpha.student).get(f"/my/certificates/{code}.pdf").status_code == 404


def test_download_is_for_the_student_and_the_owner_only(alpha: Setup) -> None:
    certificate = issued(alpha)
    other = alpha.add_student("eve@alpha.test", "Eve")
    assert alpha.client(other).get(f"/my/certificates/{certificate.code}.pdf").status_code == 403
    assert (
        alpha.client(alpha.owner).get(f"/my/certificates/{certificate.code}.pdf").status_code == 200
    )
    anonymous = alpha.client().get(f"/my/certificates/{certificate.code}.pdf")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    with school_context(alpha.school):
        services.revoke_certificate(
            school=alpha.school, actor=alpha.owner, certificate=certificate, reason=""
        )
    assert (
        alpha.client(alpha.student).get(f"/my/certificates/{certificate.code}.pdf").status_code
        == 403
    )


def test_verification_uploads_are_rate_limited(alpha: Setup, settings: object) -> None:
    settings.RATE_LIMIT_CERTIFICATE_VERIFY_IP = "2/600"  # type: ignore[attr-defined]
    client = alpha.client()
    statuses = [
        client.post("/certificates/verify/", {"pdf": upload(b"not a pdf")}).status_code
        for _ in range(3)
    ]
    assert statuses == [400, 400, 429]
    assert client.get("/certificates/verify/").status_code == 200


def _resigned(data: bytes, **changes: Any) -> bytes:
    """The PDF with changed signed fields, re-signed with our own key (as only a holder of
    CERTIFICATE_SIGNING_KEY could): the check against the issued row still catches it."""
    fields = {**json.loads(meta(data)[PAYLOAD_KEY]), **changes}
    payload = signing.canonical(fields)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.add_metadata({PAYLOAD_KEY: payload, SIGNATURE_KEY: signing.sign(payload)})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_validly_signed_fields_still_match_the_issued_certificate(alpha: Setup) -> None:
    from courseplatform.certificates.verify import ALTERED, NOT_OURS, UnreadableUpload, verify_pdf

    certificate = issued(alpha)
    data = download(alpha, certificate)
    with school_context(alpha.school):
        # An id this school never issued, and a malformed one.
        for code in ("B" * 22, "not-an-id"):
            verdict = verify_pdf(school=alpha.school, upload=upload(_resigned(data, id=code)))
            assert verdict.outcome == NOT_OURS
        # Fields that differ from the issued row (another course title).
        verdict = verify_pdf(school=alpha.school, upload=upload(_resigned(data, course="Oils")))
        assert verdict.outcome == ALTERED and "differ" in verdict.message
        # An empty upload reaching the check directly (the form refuses it before).
        with pytest.raises(UnreadableUpload, match="empty"):
            verify_pdf(school=alpha.school, upload=upload(b""))
