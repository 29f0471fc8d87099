"""The certificate's fixed wording follows the school's language (else the reader's);
a right-to-left language falls back to English, because ReportLab draws no Arabic
shaping (pdf.py docstring). The PDF still verifies: the signed fields do not change."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from courseplatform.certificates.pdf import Design, pdf_language, render_pdf
from courseplatform.tenancy.rls import school_context

from .conftest import Setup
from .test_pdf_and_verify import download, issued, post_pdf

pytestmark = pytest.mark.django_db


def _text(data: bytes) -> str:
    return " ".join((PdfReader(io.BytesIO(data)).pages[0].extract_text() or "").split())


def test_pdf_language_is_the_schools_else_the_readers_and_never_right_to_left() -> None:
    assert pdf_language("de", "es") == "de"
    assert pdf_language("", "pt-br") == "pt-br"
    assert pdf_language("", None) == "en"
    assert pdf_language("ar", "es") == "en"
    assert pdf_language("", "ar") == "en"
    assert pdf_language("xx", None) == "en"


@pytest.mark.parametrize(
    ("language", "certifies", "issued_on"),
    [
        ("es", "Se certifica que", "Emitido el"),
        ("de", "Hiermit wird bestätigt, dass", "Ausgestellt am"),
        ("pt-br", "Certificamos que", "Emitido em"),
        ("ar", "This certifies that", "Issued on"),
    ],
)
def test_fixed_wording_is_in_the_pdf_language(
    alpha: Setup, language: str, certifies: str, issued_on: str
) -> None:
    certificate = issued(alpha)
    data = render_pdf(
        certificate,
        design=Design(
            theme=None, signature_key="", paper="a4", language=pdf_language(language, None)
        ),
        verify_url="http://x.test/",
    )
    text = _text(data)
    assert certifies in text
    assert issued_on in text
    assert "Sam Øster-Lee" in text and certificate.code in text


def test_download_in_a_spanish_school_is_spanish_and_verifies(alpha: Setup) -> None:
    with school_context(alpha.school):  # save() invalidates the cached host -> school
        alpha.school.language = "es"
        alpha.school.save(update_fields=["language", "updated_at"])
    certificate = issued(alpha)
    data = download(alpha, certificate)
    assert "Se certifica que" in _text(data)
    status, body = post_pdf(alpha, data)
    assert status == 200
    assert 'data-verdict="genuine"' in body
