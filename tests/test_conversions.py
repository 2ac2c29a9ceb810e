"""pipeline/read/conversions.py converts each column through its distinct values, and the
reader's row-width check counts delimiters on lines without quotes: whatever the cells, both
give exactly what converting cell by cell, and splitting every line with the csv module, give."""

from __future__ import annotations

import csv
import io
import math
from unittest import mock

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.contracts.datasets import contract_for
from pipeline.read.conversions import _blank, _convert, as_written, canonical_text
from pipeline.read.privacy import EMAIL, MOBILE, holds_email_or_mobile, personal_values
from pipeline.read import reading
from pipeline.read.reading import check_row_widths, file_row_widths, read_cells_into_contract
from pipeline.read.unreadable import UnreadableFile

COMMUNES = {"palaiseau": "91477", "massy": "91377", "orsay": "91471"}

# What partners write in each kind of column: canonical values, French forms, slips, blanks.
WRITTEN = {
    "date": ["25/03/2026", "2026-03-25", "25/03/26", "31/02/2026", "25-03-2026", "25.03.2026",
             "2026-03-25 10:00:00", "mars 2026", "00/01/0000", " 01/04/2026 "],
    "time": ["14h30", "14:30", "9h", "25h00", "14 h 30", "midi"],
    "integer": ["12", " 12 ", "1 200", "12,0", "12,5", "douze", "-3"],
    "decimal": ["12,5", "12.5", "1 234,50", "10", "dix", "0,1"],
    "insee": ["91477", "Palaiseau", "PALAISEAU", "1234", "Massy ", "Lyon"],
    "text": ["Médiathèque", " Médiathèque ", "PASS-0001", "PASS-0002", "Jean@exemple.fr",
             "06 12 34 56 78"],
}
BLANKS = ["", " ", "\u00a0"]


def _cells_for(kind: str) -> st.SearchStrategy[str]:
    return st.sampled_from(WRITTEN.get(kind, WRITTEN["text"]) + BLANKS)


def _expected(contract, cells: pd.DataFrame, first_line: int):
    """Cell by cell: each cell converted on its own, the reference of the reader."""
    filled = [any(not _blank(v) for v in row) for row in cells.itertuples(index=False)]
    rows = cells[filled].reset_index(drop=True)
    lines = [first_line + n for n, keep in enumerate(filled) if keep]
    values, written, problems = {}, {}, []
    for col in contract.columns:
        if col.name not in rows.columns:
            continue
        if col.type == "text" and not col.multiple:
            values[col.name] = [None if _blank(v) else str(v).strip() for v in rows[col.name]]
            continue
        converted = [_convert(col, "" if _blank(v) else v, COMMUNES) for v in rows[col.name]]
        values[col.name] = [c.value for c in converted]
        written[col.name] = [as_written(v) if as_written(v) != canonical_text(c.value) else None
                             for v, c in zip(rows[col.name], converted)]
        for line, v, c in zip(lines, rows[col.name], converted):
            if c.error or c.warning:
                problems.append((line, col.name, as_written(v), c.error or c.warning))
    return lines, values, written, problems


def _same(a: object, b: object) -> bool:
    def missing(v: object) -> bool:
        return v is None or (isinstance(v, float) and math.isnan(v))
    if missing(a) or missing(b):
        return missing(a) and missing(b)
    return a == b or (isinstance(a, (int, float)) and float(a) == float(b))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_columns_convert_as_cell_by_cell(data):
    dataset = data.draw(st.sampled_from(["pass", "ateliers", "collecte"]))
    contract = contract_for(dataset)
    chosen = [c for c in contract.columns if data.draw(st.booleans(), label=c.name) or c.required]
    n = data.draw(st.integers(0, 30), label="rows")
    cells = pd.DataFrame({c.label: data.draw(st.lists(_cells_for(c.type), min_size=n,
                                                      max_size=n), label=c.name)
                          for c in chosen}, dtype="str")
    if data.draw(st.booleans(), label="workbook"):  # whole numbers as numbers, as calamine gives
        cells = cells.astype(object).map(lambda v: int(v) if v.strip().isdigit() else v)
    first_line = data.draw(st.integers(2, 100_000), label="first line")
    read = read_cells_into_contract(cells, contract, COMMUNES, first_line=first_line)
    lines, values, written, problems = _expected(contract, cells.rename(
        columns={c.label: c.name for c in chosen}), first_line)
    assert read.frame["_ligne"].tolist() == lines
    for name, expected in values.items():
        got = read.frame[name].tolist()
        assert all(_same(g, e) for g, e in zip(got, expected, strict=True)), (name, got, expected)
    for name, expected in written.items():
        got = (list(read.written[name]) if name in read.written else [None] * len(lines))
        assert all(_same(g, e) for g, e in zip(got, expected, strict=True)), (name, got, expected)
    found = [(p.line, p.column, p.value, p.rule) for p in read.problems if p.line is not None]
    assert [(line, column, value) for line, column, value, _rule in problems] == \
        [(line, column, value) for line, column, value, _rule in found]
    assert all(rule in got for (*_, rule), (*_, got) in zip(problems, found))


def _reference_widths(text: str, delimiter: str, width: int):
    """Every record split by the csv module, as the reader did before."""
    records = [(line, cells) for line, cells in enumerate(
        csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)
        if line > 1 and cells]
    return ([(line, len(cells)) for line, cells in records
             if len(cells) > width and any(c.strip() for c in cells[width:])],
            [(line, len(cells)) for line, cells in records if len(cells) < width])


CELL = st.sampled_from(["a", "", " ", "12,5", "Palaiseau", '"x;y"', '"deux\nlignes"', "b c"])


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([";", ",", "\t"]), st.integers(1, 5),
       st.lists(st.lists(CELL, max_size=7), max_size=12), st.sampled_from(["\n", "\r\n"]))
def test_row_widths_as_the_csv_module_splits_them(delimiter, width, rows, newline):
    text = newline.join([delimiter.join(["h"] * width)] + [delimiter.join(r) for r in rows])
    too_many, too_few = _reference_widths(text, delimiter, width)
    try:
        found = check_row_widths(io.StringIO(text, newline=""), delimiter, width)
    except UnreadableFile as refused:
        assert too_many and f"ligne {too_many[0][0]} : {too_many[0][1]} cases" in str(refused)
        return
    assert not too_many and found == too_few


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["Médiathèque", "jean.dupont@exemple.fr", "06 12 34 56 78",
                                 "+33 7 12 34 56 78", "01 69 31 00 00", "2026", "PASS-0612345678",
                                 "", "a@b", "06\n12 34 56 78"]), max_size=20))
def test_privacy_screen_finds_each_leaking_cell(texts):
    frame = pd.DataFrame({"prescripteur": texts, "_ligne": range(2, 2 + len(texts))})
    found = [p.line for p in personal_values(frame, "pass", ["prescripteur"])]
    assert found == [n + 2 for n, text in enumerate(texts) if EMAIL.search(text) or MOBILE.search(text)]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([";", ",", "\t"]), st.integers(1, 5),
       st.lists(st.lists(CELL | st.sampled_from(["é", "x\ry", "\0", "ŒŸ", "", 'a"b', '"a"b', '"',
                                                 '""', '"a""b"', ' "c"', '"\r\n"']), max_size=7),
                max_size=12),
       st.sampled_from(["\n", "\r\n"]), st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
       st.booleans(), st.integers(1, 64))
def test_row_widths_from_the_file_bytes_as_from_its_lines(
        tmp_path_factory, delimiter, width, rows, newline, encoding, final_newline, block):
    """The numpy count on the file's bytes, block after block, notes the same rows as the
    line-by-line reference, and refuses the same files."""
    text = newline.join([delimiter.join(["h"] * width)] + [delimiter.join(r) for r in rows])
    text += newline if final_newline else ""
    path = tmp_path_factory.mktemp("largeurs") / "f.csv"
    path.write_bytes(text.encode(encoding))
    decoded = path.read_bytes().decode(encoding)

    def widths(reader):
        try:
            return reader()
        except UnreadableFile as refused:
            return str(refused)

    expected = widths(lambda: check_row_widths(io.StringIO(decoded, newline=""), delimiter, width))
    with mock.patch.object(reading, "_WIDTH_BLOCK", block):
        assert widths(lambda: file_row_widths(path, encoding, delimiter, width)) == expected


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0167+3 .-a\n\0", max_size=40))
def test_mobile_search_without_look_behind_finds_what_the_pattern_finds(text):
    assert holds_email_or_mobile(text) == bool(MOBILE.search(text) or EMAIL.search(text))
