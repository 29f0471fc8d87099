"""Reading an uploaded student list (CSV or XLSX) into plain rows, refusing bad files.

Pure file handling: no database, no school. ``read_upload`` returns the header-mapped
rows or raises ``ImportFileError`` with a message a person can act on. Decisions:

* **CSV** is UTF-8 only (with or without a BOM). Anything else (UTF-16, Latin-1, binary
  junk) is refused with a message saying how to save the file as "CSV UTF-8": guessing
  an encoding would silently mangle names.
* **XLSX** is read with openpyxl in read-only mode, which parses its XML through
  defusedxml (no entity expansion, no external entities). Before openpyxl opens the
  zip, its directory is checked: a file that is not a zip, too many entries, a total
  uncompressed size above ``XLSX_MAX_UNCOMPRESSED_BYTES`` or an entry expanding more
  than ``XLSX_MAX_RATIO`` times is refused (zip bombs). Python's zipfile never inflates
  an entry past the size its directory declares (it stops and fails the CRC), so the
  declared sizes checked here bound what openpyxl can inflate.
* Formulas are never evaluated: XLSX cells are read as written (``=SUM(A1)`` stays
  that text, ``data_only=False``), and the preview flags cells that look like formulas.
* A header row is required; column names are compared without case, spaces,
  underscores or hyphens (``Email``, ``E-mail``, ``email address``).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext

# XLSX (zip) limits, checked on the zip's directory before openpyxl opens it. A
# 5,000-row sheet is ~300 KB of XML; these leave room for styles and shared strings.
XLSX_MAX_ENTRIES = 500
XLSX_MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
XLSX_MAX_RATIO = 200
XLSX_REQUIRED = ("[Content_Types].xml", "xl/workbook.xml")
# Only this many columns are read from a sheet: its declared dimension can claim
# 16,384 columns per row.
MAX_COLUMNS = 20
MAX_CELL_CHARS = 1000

COLUMN_ALIASES = {
    "name": "name",
    "fullname": "name",
    "studentname": "name",
    "email": "email",
    "emailaddress": "email",
    "courses": "courses",
    "course": "courses",
    "courseslugs": "courses",
    "courseslug": "courses",
}
FORMATS = ("csv", "xlsx")
SLUG_SEPARATORS = re.compile(r"[;,\s]+")


class ImportFileError(Exception):
    """The whole file is refused; the message says why and what to do."""


@dataclass
class ParsedRow:
    line: int  # the row's number in the file (the header is row 1)
    name: str
    email: str
    courses: list[str] = field(default_factory=list)


def file_format(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ext not in FORMATS:
        raise ImportFileError(
            gettext(
                "Upload a .csv or .xlsx file (a spreadsheet saved as CSV UTF-8 or Excel workbook)."
            )
        )
    return ext


def _normalise_header(cell: str) -> str:
    return re.sub(r"[\s_\-]+", "", cell).lower()


def _columns(header: list[str]) -> dict[str, int]:
    if not any(cell.strip() for cell in header):
        raise ImportFileError(
            gettext(
                "The first row is empty. It must be a header row naming the columns: "
                "name, email and (optionally) courses."
            )
        )
    if any("@" in cell for cell in header):
        raise ImportFileError(
            gettext(
                "The first row looks like a student, not a header. Add a header row naming "
                "the columns: name, email and (optionally) courses."
            )
        )
    columns: dict[str, int] = {}
    unknown: list[str] = []
    for index, cell in enumerate(header):
        key = _normalise_header(cell)
        if not key:
            continue
        column = COLUMN_ALIASES.get(key)
        if column is None:
            unknown.append(cell.strip())
        elif column in columns:
            raise ImportFileError(
                gettext("The column “%(column)s” appears twice in the header row.")
                % {"column": column}
            )
        else:
            columns[column] = index
    if unknown:
        listed = ", ".join(f"“{name[:40]}”" for name in unknown[:5])
        raise ImportFileError(
            ngettext(
                "Unknown column %(columns)s. The header row may name only: name, email, courses.",
                "Unknown columns %(columns)s. The header row may name only: name, email, courses.",
                min(len(unknown), 5),
            )
            % {"columns": listed}
        )
    missing = [name for name in ("name", "email") if name not in columns]
    if missing:
        raise ImportFileError(
            gettext(
                "The header row has no name or email column. Columns: name, email and "
                "(optionally) courses."
            )
            if len(missing) == 2
            else gettext(
                "The header row has no %(column)s column. Columns: name, email and "
                "(optionally) courses."
            )
            % {"column": missing[0]}
        )
    return columns


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return text.strip()[: MAX_CELL_CHARS + 1]


def _rows(cells: Iterable[list[str]], *, max_rows: int) -> list[ParsedRow]:
    iterator: Iterator[list[str]] = iter(cells)
    header = next(iterator, None)
    if header is None:
        raise ImportFileError(gettext("The file is empty."))
    columns = _columns(header)
    rows: list[ParsedRow] = []
    blank = 0
    for number, raw in enumerate(iterator, start=2):
        values = [_cell(value) for value in raw[:MAX_COLUMNS]]
        if not any(values):
            blank += 1
            if blank > max_rows:  # a sheet of a million empty rows is junk too
                break
            continue

        def get(column: str, values: list[str] = values) -> str:
            index = columns.get(column)
            return values[index] if index is not None and index < len(values) else ""

        if len(rows) >= max_rows:
            raise ImportFileError(
                gettext("The file has more than %(count)s students. Split it into smaller files.")
                % {"count": number_format(max_rows, force_grouping=True)}
            )
        slugs = [slug.lower() for slug in SLUG_SEPARATORS.split(get("courses")) if slug]
        rows.append(ParsedRow(line=number, name=get("name"), email=get("email"), courses=slugs))
    if not rows:
        raise ImportFileError(gettext("The file has a header row but no students under it."))
    return rows


def _csv_cells(data: bytes) -> Iterator[list[str]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(
            gettext(
                "The file is UTF-16 text. Save it as “CSV UTF-8 (comma delimited)” "
                "and upload again."
            )
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            gettext(
                "The file is not UTF-8 text (byte %(byte)s at position %(position)s). "
                "Save it as “CSV UTF-8 (comma delimited)” and upload again."
            )
            % {
                "byte": f"{data[exc.start]:#04x}",
                "position": number_format(exc.start, force_grouping=True),
            }
        ) from exc
    if "\x00" in text:
        raise ImportFileError(gettext("The file contains binary data (NUL bytes), not CSV text."))
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:4096], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        yield from reader
    except csv.Error as exc:
        raise ImportFileError(
            gettext("The CSV file is malformed near line %(line)s: %(error)s.")
            % {"line": reader.line_num, "error": exc}
        ) from exc


def _check_zip(data: bytes) -> None:
    not_xlsx = gettext("The file is not an Excel workbook (.xlsx). Save it as .xlsx or CSV UTF-8.")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ImportFileError(not_xlsx)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ImportFileError(not_xlsx) from exc
    if len(entries) > XLSX_MAX_ENTRIES:
        raise ImportFileError(
            gettext(
                "The workbook holds %(count)s parts (at most %(maximum)s): "
                "it is not a plain spreadsheet."
            )
            % {
                "count": number_format(len(entries), force_grouping=True),
                "maximum": number_format(XLSX_MAX_ENTRIES, force_grouping=True),
            }
        )
    total = 0
    for entry in entries:
        if entry.flag_bits & 0x1:
            raise ImportFileError(
                gettext("The workbook is encrypted. Remove its password and upload again.")
            )
        total += entry.file_size
        if entry.file_size > 1024 * 1024 and entry.file_size > XLSX_MAX_RATIO * max(
            entry.compress_size, 1
        ):
            raise ImportFileError(
                gettext(
                    "The workbook expands far more than a spreadsheet does (a zip bomb?): refused."
                )
            )
    if total > XLSX_MAX_UNCOMPRESSED_BYTES:
        raise ImportFileError(
            gettext("The workbook would expand to %(size)s MB (at most %(maximum)s MB): refused.")
            % {
                "size": number_format(round(total / 1024 / 1024), force_grouping=True),
                "maximum": XLSX_MAX_UNCOMPRESSED_BYTES // 1024 // 1024,
            }
        )
    names = {entry.filename for entry in entries}
    if not all(name in names for name in XLSX_REQUIRED):
        raise ImportFileError(not_xlsx)


def _xlsx_cells(data: bytes) -> Iterator[list[str]]:
    import openpyxl
    import openpyxl.xml

    # openpyxl parses with defusedxml only when it is installed (a dependency of ours):
    # refuse rather than parse untrusted XML without it.
    if not openpyxl.xml.DEFUSEDXML:
        raise ImportFileError(
            gettext("XLSX files cannot be read on this server (defusedxml missing).")
        )
    _check_zip(data)
    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=False, keep_links=False
        )
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise ImportFileError(
            gettext("The workbook could not be read: %(error)s.") % {"error": type(exc).__name__}
        ) from exc
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise ImportFileError(gettext("The workbook has no worksheet."))
        try:
            for row in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
                yield [_cell(value) for value in row]
        except ImportFileError:
            raise
        except Exception as exc:
            raise ImportFileError(
                gettext("The worksheet could not be read: %(error)s.")
                % {"error": type(exc).__name__}
            ) from exc
    finally:
        workbook.close()


def read_upload(*, data: bytes, filename: str, max_rows: int) -> tuple[str, list[ParsedRow]]:
    """The file's format and its rows; ``ImportFileError`` for a file to refuse."""
    kind = file_format(filename)
    if not data.strip():
        raise ImportFileError(gettext("The file is empty."))
    cells = _csv_cells(data) if kind == "csv" else _xlsx_cells(data)
    return kind, _rows(cells, max_rows=max_rows)
