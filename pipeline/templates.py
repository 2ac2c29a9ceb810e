"""Blank file templates for partners, generated from the contracts: CSV (``;``, UTF-8 with BOM
so that spreadsheets open accents correctly) and XLSX, each with the header and an example row."""

from __future__ import annotations

import csv
import io

from pipeline.contracts import Contract


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
    return buffer.getvalue()
