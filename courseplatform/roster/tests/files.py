"""Builders of the files the roster tests upload: CSV bytes, real XLSX workbooks
(openpyxl), and hostile zips (a bomb, too many parts, a non-zip named .xlsx)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile


def csv_bytes(
    rows: Sequence[Sequence[str]], *, bom: bool = False, encoding: str = "utf-8"
) -> bytes:
    text = "\r\n".join(",".join(_quote(cell) for cell in row) for row in rows) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def _quote(cell: str) -> str:
    if any(c in cell for c in ',"\n;'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def xlsx_bytes(rows: Sequence[Sequence[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_bomb(*, uncompressed: int = 200 * 1024 * 1024) -> bytes:
    """A workbook-shaped zip whose sheet inflates to ``uncompressed`` bytes (deflate
    compresses runs of one byte about 1000:1)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        chunk = b"<c>" + b"A" * (1024 * 1024) + b"</c>"
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as entry:
            for _ in range(uncompressed // len(chunk) + 1):
                entry.write(chunk)
    return buffer.getvalue()


def many_parts(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        for index in range(count):
            archive.writestr(f"xl/extra/{index}.xml", "<x/>")
    return buffer.getvalue()


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")
