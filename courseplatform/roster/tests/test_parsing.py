"""Reading uploaded lists: headers, encodings, CSV dialects, XLSX (real workbooks) and
the files refused before openpyxl sees them (bombs, too many parts, not a zip)."""

from __future__ import annotations

import random

import pytest

from courseplatform.roster import parsing
from courseplatform.roster.parsing import ImportFileError, read_upload
from courseplatform.roster.tests.files import csv_bytes, many_parts, xlsx_bomb, xlsx_bytes

GOOD = [["Name", "Email", "Courses"], ["Ann Lee", "ann@x.test", "a-course; b-course"]]


def _read(data: bytes, name: str = "list.csv", max_rows: int = 100) -> list[parsing.ParsedRow]:
    return read_upload(data=data, filename=name, max_rows=max_rows)[1]


@pytest.mark.parametrize("bom", [False, True])
def test_csv_utf8_with_or_without_bom(bom: bool) -> None:
    rows = _read(csv_bytes([["name", "email"], ["Zoë Ångström", "zoe@x.test"]], bom=bom))
    assert [(r.line, r.name, r.email, r.courses) for r in rows] == [
        (2, "Zoë Ångström", "zoe@x.test", [])
    ]


def test_header_names_are_case_and_space_insensitive_and_slugs_split() -> None:
    data = csv_bytes(
        [
            ["  Full Name ", "E-mail", "Course slugs"],
            ["Ann", "ann@x.test", "A-Course;b-course  c-course,d"],
            ["", "", ""],  # blank rows are skipped
            ["Bob", "bob@x.test", ""],
        ]
    )
    rows = _read(data)
    assert [r.line for r in rows] == [2, 4]
    assert rows[0].courses == ["a-course", "b-course", "c-course", "d"]


def test_semicolon_delimited_csv_is_read() -> None:
    rows = _read(b"name;email;courses\nAnn;ann@x.test;a b\n")
    assert (rows[0].name, rows[0].email, rows[0].courses) == ("Ann", "ann@x.test", ["a", "b"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"   \r\n", "The file is empty."),
        (b"name,email\r\n", "no students"),
        (b"Ann,ann@x.test\r\nBob,bob@x.test\r\n", "looks like a student, not a header"),
        (b"name,phone\r\nAnn,123\r\n", "Unknown column \u201cphone\u201d"),
        (b"name,courses\r\nAnn,a\r\n", "has no email column"),
        (b"email,email\r\na@x.test,b@x.test\r\n", "appears twice"),
        (b",,\r\nAnn,a@x.test,\r\n", "The first row is empty"),
        ("name,email\r\nZoë,z@x.test\r\n".encode("latin-1"), "not UTF-8 text"),
        ("name,email\r\nAnn,a@x.test\r\n".encode("utf-16"), "UTF-16"),
        (b"name,email\r\nAnn\x00,a@x.test\r\n", "NUL bytes"),
    ],
)
def test_bad_csv_files_are_refused_with_a_message(data: bytes, message: str) -> None:
    with pytest.raises(ImportFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _read(data)


def test_random_junk_is_refused_as_csv_and_as_xlsx() -> None:
    junk = random.Random(18).randbytes(512 * 1024)
    with pytest.raises(ImportFileError, match="not UTF-8 text"):
        _read(junk, "junk.csv")
    with pytest.raises(ImportFileError, match="not an Excel workbook"):
        _read(junk, "junk.xlsx")


def test_other_extensions_are_refused() -> None:
    for name in ("list.txt", "list.xls", "list", "list.csv.exe"):
        with pytest.raises(ImportFileError, match=r"\.csv or \.xlsx"):
            _read(b"name,email\nA,a@x.test\n", name)


def test_row_cap_refuses_the_whole_file() -> None:
    rows = [["name", "email"]] + [[f"S{i}", f"s{i}@x.test"] for i in range(11)]
    assert len(_read(csv_bytes(rows[:11]), max_rows=10)) == 10
    with pytest.raises(ImportFileError, match="more than 10 students"):
        _read(csv_bytes(rows), max_rows=10)


def test_xlsx_rows_are_read_as_written_formulas_not_evaluated() -> None:
    data = xlsx_bytes(
        [
            ["Name", "Email", "Courses"],
            ["Ann Lee", "ann@x.test", "a-course"],
            ['=HYPERLINK("http://evil.test","x")', "bob@x.test", None],
            [None, None, None],
            [42, "cat@x.test", "b c"],
        ]
    )
    rows = _read(data, "list.xlsx")
    assert [(r.line, r.name, r.email, r.courses) for r in rows] == [
        (2, "Ann Lee", "ann@x.test", ["a-course"]),
        (3, '=HYPERLINK("http://evil.test","x")', "bob@x.test", []),
        (5, "42", "cat@x.test", ["b", "c"]),
    ]


def test_xlsx_bad_header_is_refused_like_csv() -> None:
    with pytest.raises(ImportFileError, match="looks like a student"):
        _read(xlsx_bytes([["Ann", "ann@x.test"]]), "list.xlsx")


def test_xlsx_bomb_is_refused_before_openpyxl_opens_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    def _never(*args: object, **kwargs: object) -> None:
        raise AssertionError("openpyxl must not open a refused workbook")

    monkeypatch.setattr(openpyxl, "load_workbook", _never)
    bomb = xlsx_bomb()
    assert len(bomb) < 1024 * 1024  # small on the wire, 200 MB inflated
    with pytest.raises(ImportFileError, match="zip bomb"):
        _read(bomb, "bomb.xlsx")
    with pytest.raises(ImportFileError, match="parts"):
        _read(many_parts(parsing.XLSX_MAX_ENTRIES + 1), "parts.xlsx")
    with pytest.raises(ImportFileError, match="not an Excel workbook"):
        _read(b"PK\x03\x04 not really a zip" * 10, "fake.xlsx")


def test_xlsx_total_expansion_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsing, "XLSX_MAX_UNCOMPRESSED_BYTES", 1024 * 1024)
    monkeypatch.setattr(parsing, "XLSX_MAX_RATIO", 10**9)
    with pytest.raises(ImportFileError, match="would expand to"):
        _read(xlsx_bomb(uncompressed=3 * 1024 * 1024), "big.xlsx")


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ImportFileError, match="not an Excel workbook"):
        _read(buffer.getvalue(), "hello.xlsx")


def test_a_damaged_workbook_is_refused() -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<not-xml")
        archive.writestr("xl/workbook.xml", "<workbook")
    with pytest.raises(ImportFileError, match="could not be read"):
        _read(buffer.getvalue(), "broken.xlsx")


def test_xml_entities_in_a_workbook_are_refused_by_defusedxml() -> None:
    """A billion-laughs sheet: defusedxml (under openpyxl) refuses the DTD."""
    import io
    import zipfile

    good = zipfile.ZipFile(io.BytesIO(xlsx_bytes([["name", "email"], ["A", "a@x.test"]])))
    buffer = io.BytesIO()
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    with zipfile.ZipFile(buffer, "w") as archive:
        for item in good.infolist():
            data = good.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = laughs.encode()
            archive.writestr(item, data)
    with pytest.raises(ImportFileError, match="could not be read"):
        _read(buffer.getvalue(), "laughs.xlsx")
