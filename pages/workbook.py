"""One XLSX workbook per year of results (``donnees/resultats/<année>/resultats-<année>.xlsx``):
a sheet per table published for that year, with the values of its CSV (published values only,
withheld cells empty), a sheet « Définitions » (each column: name, French label, unit,
definition, formula, from the catalogue and the Table Schema) and a sheet « À propos »
(producer, title, date, address, licence, how to cite).

Safe in a spreadsheet: every cell is typed explicitly (XlsxWriter with ``strings_to_formulas``,
``strings_to_numbers`` and ``strings_to_urls`` off), numbers of number columns as numbers, all
else as text; text is the CSV's text (``pages.csv_cells.csv_cell``: a leading ``=``, ``+``,
``-``, ``@``, tab or CR is neutralised), except a value that wholly matches its column's
pattern (a phone number ``+33 1 …``), kept as is since a text cell never runs. Text that
starts like a formula also gets Excel's « quote prefix », so editing the cell keeps it text.

Byte-identical for the same tables and build time: the creation date is the build's, the
archive's members carry XlsxWriter's fixed 1980 timestamp, and nothing random is written.
"""

from __future__ import annotations

import io
import re
from datetime import datetime

import xlsxwriter

from pages.citation import LICENCE, table_citation
from pages.csv_cells import FORMULA_STARTS, NUMBER, csv_cell
from transforms.catalogue import CATALOGUE, UNIT_LABELS

NUMERIC = {"integer", "number"}
SHEET_NAME_MAX = 31
FORBIDDEN_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")
DEFINITION_HEADERS = ["Colonne", "Libellé", "Unité", "Définition", "Formule", "Tableaux"]
NUMBER_RE = re.compile(NUMBER)
TEXT = {"name": "texte", "type": "string"}
TYPE_UNITS = {"string": "texte", "date": "date (AAAA-MM-JJ)", "integer": "nombre entier",
              "number": "nombre"}


def workbook_path(year: int) -> str:
    return f"donnees/resultats/{year}/resultats-{year}.xlsx"


def sheet_names(tables: list[dict]) -> list[str]:
    """A distinct name of at most 31 characters per table (Excel's rules), from its path."""
    names: list[str] = []
    for table in tables:
        base = FORBIDDEN_IN_SHEET_NAMES.sub("-", table["path"].rsplit("/", 1)[-1])
        name, suffix = base[:SHEET_NAME_MAX], 2
        while name.lower() in {n.lower() for n in names}:
            tail = f"-{suffix}"
            name, suffix = base[:SHEET_NAME_MAX - len(tail)] + tail, suffix + 1
        names.append(name)
    return names


def cell_value(value: object, field: dict) -> object:
    """What a sheet holds for one value of a column: None (empty), a number, or text."""
    if value is None or value == "":
        return None
    if field["type"] in NUMERIC and not isinstance(value, bool):
        if isinstance(value, (int, float)):
            return None if value != value else value  # NaN: not published
        if isinstance(value, str) and NUMBER_RE.fullmatch(value):
            return float(value) if "." in value else int(value)
    pattern = field.get("constraints", {}).get("pattern")
    if isinstance(value, str) and pattern and re.fullmatch(pattern, value):
        return value
    text = csv_cell(value)
    return text if isinstance(text, str) else str(text)


def _write_row(sheet, row: int, values: list[object], text_format, prefixed_format) -> None:
    for column, value in enumerate(values):
        if value is None:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            sheet.write_number(row, column, value)
        else:
            fmt = prefixed_format if value.startswith(FORMULA_STARTS) else text_format
            sheet.write_string(row, column, value, fmt)


def _definitions(tables: list[dict], names: list[str]) -> list[list[object]]:
    """One row per column name across the year's tables: the catalogue's words for an
    indicator, the Table Schema's for the other columns."""
    catalogue = {ind.id: ind for ind in CATALOGUE}
    rows: dict[str, list[object]] = {}
    for table, sheet in zip(tables, names):
        for field in table["fields"]:
            if field["name"] in rows:
                rows[field["name"]][5] += f", {sheet}"
                continue
            ind = catalogue.get(field["name"])
            if ind is not None:
                unit = "proportion entre 0 et 1" if ind.unit == "taux" else UNIT_LABELS[ind.unit]
                rows[field["name"]] = [ind.id, ind.label, unit, ind.definition, ind.formula,
                                       sheet]
            else:
                unit = TYPE_UNITS.get(field["type"], field["type"])
                rows[field["name"]] = [field["name"], field["title"], unit,
                                       field["description"], "", sheet]
    return list(rows.values())


def _about(year: int, cite: dict, tables: list[dict]) -> list[list[object]]:
    title = f"{cite['title']} — résultats {year}"
    path = workbook_path(year)
    rows = [["Producteur", cite["producer"]], ["Titre", title],
            ["Date des données", cite["date"]], ["Adresse", f"{cite['site_url']}/{path}"],
            ["Données ouvertes", cite["url"]],
            ["Licence", f"{LICENCE['title']} ({LICENCE['path']})"],
            ["Comment citer ces données", table_citation(cite, title, path)],
            ["Cellules vides", "Valeur non publiée : commune sans donnée reçue (colonne "
                               "donnees_recues) ou secret statistique (colonne "
                               "secret_statistique)."],
            ["Fichiers CSV et JSON", "Les mêmes valeurs, un fichier par feuille : "
                                     f"{cite['url']}"]]
    rows += [[f"Feuille {t['title']}", f"{cite['site_url']}/donnees/resultats/{t['path']}.csv"]
             for t in tables]
    return rows


def year_workbook(year: int, tables: list[dict], cite: dict) -> bytes:
    """The workbook of one year's ``tables`` (``pages.opendata.published_tables`` entries)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_numbers": False, "strings_to_urls": False})
    book.set_properties({"title": f"{cite['title']} — résultats {year}",
                         "author": cite["producer"], "company": cite["producer"],
                         "created": datetime.fromisoformat(cite["created"]).replace(tzinfo=None),
                         "comments": cite["text"]})
    text = None
    prefixed = book.add_format({"quote_prefix": True})
    header = book.add_format({"bold": True})
    names = sheet_names(tables)
    for table, name in zip(tables, names):
        sheet = book.add_worksheet(name)
        fields = table["fields"]
        _write_row(sheet, 0, [f["name"] for f in fields], header, header)
        for index, record in enumerate(table["records"], start=1):
            _write_row(sheet, index, [cell_value(record.get(f["name"]), f) for f in fields],
                       text, prefixed)
        sheet.freeze_panes(1, 0)
    for name, headers, rows in (
            ("Définitions", DEFINITION_HEADERS, _definitions(tables, names)),
            ("À propos", ["Rubrique", "Valeur"], _about(year, cite, tables))):
        sheet = book.add_worksheet(name)
        _write_row(sheet, 0, headers, header, header)
        for index, row in enumerate(rows, start=1):
            _write_row(sheet, index, [cell_value(v, TEXT) for v in row], text, prefixed)
    book.close()
    return buffer.getvalue()


def year_workbooks(tables: list[dict], years: list[int], cite: dict) -> dict[str, bytes]:
    """Path -> bytes of each year's workbook (tables whose path is ``<année>/…``)."""
    return {workbook_path(year): year_workbook(
                year, [t for t in tables if t["path"].startswith(f"{year}/")], cite)
            for year in years}
