"""Blank file templates for partners, generated from the contracts: CSV (``;``, UTF-8 with BOM
so that spreadsheets open accents correctly) and XLSX, each with the header and an example row."""

from __future__ import annotations

import csv
import io
import re
import zipfile

from pipeline.contracts.model import Contract


def template_csv(contract: Contract) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(contract.column_names)
    writer.writerow([column.example for column in contract.columns])
    return buffer.getvalue().encode("utf-8-sig")


def template_xlsx(contract: Contract) -> bytes:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = contract.dataset
    sheet.append(contract.column_names)
    sheet.append([column.example for column in contract.columns])
    for cell, column in zip(sheet[1], contract.columns):
        cell.font = Font(bold=True)
        cell.comment = Comment(f"{column.label} : {column.description}", "Modèle")
        # Text cells keep codes such as 01xxx INSEE codes and dates exactly as typed.
        sheet.column_dimensions[cell.column_letter].width = max(14, len(column.name) + 2)
        for row in range(2, 500):
            sheet.cell(row=row, column=cell.column).number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return reproducible_xlsx(buffer.getvalue())


def reproducible_xlsx(payload: bytes) -> bytes:
    """openpyxl stamps the save time in the zip entries and in docProps/core.xml; fix both so
    that the same input gives byte-identical files (reproducible builds and fingerprints)."""
    fixed = "2026-01-01T00:00:00Z"
    source = zipfile.ZipFile(io.BytesIO(payload))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                              rb"\g<1>" + fixed.encode(), data)
            target.writestr(zipfile.ZipInfo(item.filename, date_time=(2026, 1, 1, 0, 0, 0)), data,
                            compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()
