"""Reading partner files into the contract's columns.

Partners export from spreadsheets and business tools: CSV in several encodings and delimiters,
or XLSX; French dates and decimals; headers with accents, capitals and stray spaces. This module
turns any of those into a frame with the contract's column names and canonical values:
dates ``YYYY-MM-DD``, times ``HH:MM``, integers as numbers, choices as their codes. Values it
cannot read are kept as written so that validation can quote them back to the partner, and the
cells it did convert are remembered as written (``ReadResult.written``) for the same reason.
What it reads without guessing but differently from the contract (a « ; » or « , » between
list values, a singular header, 33… without « + ») is read and reported as a warning; a CSV
row with more cells than the header is never guessed at: the file is refused.

The cell conversions themselves are in ``pipeline.read.conversions`` (each column converted
through its distinct values).
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import itertools
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd
from charset_normalizer import from_bytes

from pipeline import settings
from pipeline.contracts.model import Contract, normalize_header
from pipeline.problems import Problem
from pipeline.read.conversions import (  # noqa: F401  (parse_* and canonical_text: read here)
    Distinct, as_written, canonical_text, convert_column, parse_date, parse_decimal,
    parse_integer, parse_time)
from pipeline.read.json_reading import is_json_name, read_json_cells
from pipeline.read.unreadable import UnreadableFile

CSV_DELIMITERS = ";,\t"
FIRST_DATA_LINE = 2  # line 1 of a spreadsheet is the header


@dataclass
class ReadResult:
    frame: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    # Per column, the cells as written where conversion changed them (dates, numbers, codes),
    # row by row in the frame's order; unchanged cells are missing (NaN).
    written: dict[str, pd.Categorical] = field(default_factory=dict)

    def as_written(self, column: str, line: int | None, shown: str) -> str:
        """The value the partner wrote in that cell, if the problem shows its converted form
        (``shown``); otherwise ``shown`` itself (a computed value, an unchanged cell)."""
        raw = self.written.get(column)
        if raw is None or line is None:
            return shown
        lines = self.frame["_ligne"].to_numpy()
        position = int(lines.searchsorted(line))
        if position >= len(lines) or lines[position] != line:
            return shown
        if shown != canonical_text(self.frame[column].iat[position]):
            return shown
        value = raw[position]
        return shown if pd.isna(value) else str(value)


# Encoding detection looks at this much of a file that is not UTF-8 (charset-normalizer holds
# and decodes what it is given: a whole 300 MB file would cost gigabytes).
ENCODING_SAMPLE_BYTES = 4_000_000
_BLOCK = 1 << 20
_BOM = b"\xef\xbb\xbf"
_NOT_TEXT = ("Le fichier n'est pas un texte lisible (encodage inconnu). "
             "Enregistrez-le au format CSV UTF-8 ou XLSX depuis votre tableur.")


def chunk_rows() -> int:
    """Rows read, converted and validated at a time: memory stays bounded whatever the file's
    size. Files up to this many rows are validated together with the rest of their batch."""
    return max(1, settings.get("INCLUSION_CHUNK_ROWS"))


@dataclass
class CellChunk:
    """Consecutive rows of a file's raw cells; ``first_line`` is the spreadsheet line of the
    first one (the rows are contiguous: blank rows inside the file are kept)."""
    cells: pd.DataFrame
    first_line: int = FIRST_DATA_LINE


def _decodes_as(path: Path, encoding: str) -> bool:
    """The whole file decodes with ``encoding``, checked block by block (bounded memory)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(_BLOCK), b""):
                decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path) -> str:
    """The file's encoding without holding it in memory: UTF-8 is checked over the whole
    file; otherwise charset-normalizer judges a sample (the whole file when it is smaller),
    and the whole file must decode with its answer."""
    with path.open("rb") as handle:
        if handle.read(3) == _BOM:
            return "utf-8-sig"
        handle.seek(0)
        sample = handle.read(ENCODING_SAMPLE_BYTES)
    if _decodes_as(path, "utf-8"):
        return "utf-8"
    best = from_bytes(sample, cp_isolation=["cp1252", "latin_1", "utf_8"]).best()
    if best is None:
        raise UnreadableFile(_NOT_TEXT)
    for encoding in (best.encoding, "cp1252", "latin_1"):  # latin-1 decodes any byte
        if _decodes_as(path, encoding):
            return encoding
    raise UnreadableFile(_NOT_TEXT)


def _text_head(path: Path, encoding: str, lines: int = 21) -> str:
    """The start of the file as text: at least ``lines`` lines (or all of it). Raises when
    the file holds nothing but blanks."""
    head, seen_text = "", False
    with path.open(encoding=encoding, newline="") as handle:
        for block in iter(lambda: handle.read(1 << 16), ""):
            seen_text = seen_text or bool(block.strip())
            if len(head) < ENCODING_SAMPLE_BYTES and len(head.splitlines()) <= lines:
                head += block
            if seen_text and len(head.splitlines()) > lines:
                break
    if not seen_text:
        raise UnreadableFile("Le fichier est vide.")
    return head


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        return max(CSV_DELIMITERS, key=header.count)


def _refuse_duplicate_headers(header: list[str]) -> None:
    seen: dict[str, str] = {}
    for name in header:
        key = normalize_header(name)
        if key and key in seen:
            raise UnreadableFile(f"La colonne « {name.strip()} » apparaît deux fois dans la "
                                 "ligne d'en-tête. Supprimez ou renommez l'une des deux.")
        seen[key] = name


def open_csv(path: Path) -> tuple[str, str, int, list[tuple[int, int]]]:
    """Encoding, delimiter, header width and short rows (see ``check_row_widths``) of a CSV
    file, after the checks that refuse it outright."""
    encoding = detect_encoding(path)
    head = _text_head(path, encoding)
    if encoding == "utf-8-sig":
        head = head.removeprefix("\ufeff")
    delimiter = _sniff_delimiter(head)
    header = next(csv.reader(io.StringIO(head), delimiter=delimiter), [])
    _refuse_duplicate_headers(header)
    short_rows = file_row_widths(path, encoding, delimiter, len(header))
    return encoding, delimiter, len(header), short_rows


def iter_csv_cells(path: Path, encoding: str, delimiter: str, width: int,
                   short_rows: list[tuple[int, int]] | None = None,
                   rows: int | None = None) -> Iterator[CellChunk]:
    """The file's cells as strings, ``rows`` rows at a time, streamed from disk. Each chunk
    carries its rows with too few cells in ``attrs[SHORT_ROWS]``."""
    # Rows ending with delimiters too many (their extra cells are checked empty when the file
    # is opened) must neither fail nor turn the first column into an index, shifting every
    # value one column.
    options = dict(sep=delimiter, dtype=str, keep_default_na=False, skip_blank_lines=False,
                   encoding=encoding, index_col=False,
                   usecols=range(width) if width else None)
    first_line, any_chunk = FIRST_DATA_LINE, False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pd.errors.ParserWarning)
        try:
            with pd.read_csv(path, chunksize=rows or chunk_rows(), **options) as reader:
                for cells in reader:
                    any_chunk = True
                    yield _with_short_rows(CellChunk(cells.reset_index(drop=True), first_line),
                                           short_rows or [], width)
                    first_line += len(cells)
            if not any_chunk:  # a header and no rows
                yield CellChunk(pd.read_csv(path, nrows=0, **options), first_line)
        except pd.errors.ParserError as exc:
            raise UnreadableFile(_parser_error_message(str(exc))) from exc


def _with_short_rows(chunk: CellChunk, short_rows: list[tuple[int, int]],
                     width: int) -> CellChunk:
    # A row cut in two goes with its first line, even when its second line starts the next
    # chunk: the report then tells the same story whatever the chunk size.
    cut = _cut_in_two(short_rows, width)
    last = chunk.first_line + len(chunk.cells)
    chunk.cells.attrs[SHORT_ROWS] = [
        (line, found) for line, found in short_rows
        if chunk.first_line <= (line - 1 if line - 1 in cut else line) < last]
    return chunk


SHORT_ROWS = "lignes_courtes"  # frame.attrs key: [(line, cells found)] of rows with too few cells
MAX_JAMMED_LINES_LISTED = 10


def _parser_error_message(error: str) -> str:
    """pandas' tokenizer error, told to the partner (rows it counts from 0, header included)."""
    quote = re.search(r"EOF inside string starting at row (\d+)", error)
    if quote:
        return UNCLOSED_QUOTE.format(line=int(quote.group(1)) + 1)
    return ("Le fichier n'a pas pu être découpé en lignes et en colonnes. Enregistrez-le à "
            "nouveau au format CSV depuis votre tableur, ou envoyez-le au format XLSX.")


UNCLOSED_QUOTE = (
    "À la ligne {line}, un guillemet (\") ouvre une case qui n'est jamais refermée : toute la "
    "suite du fichier serait lue comme une seule case. Ajoutez le guillemet fermant, ou retirez "
    "ce guillemet ; enregistrer le fichier au format CSV depuis votre tableur écrit les "
    "guillemets correctement.")


def _quoted_widths(lines: Iterable[str], delimiter: str, width: int, first: int,
                   note: Callable[[int, list[str]], None]) -> None:
    """``note`` (spreadsheet line, cells) of each record of another width than the header's,
    read by the csv module from line ``first``: a record spans several text lines when a
    quoted cell holds a line break, which is why lines are counted in records."""
    line = first - 1
    try:
        for line, cells in enumerate(csv.reader(lines, delimiter=delimiter), start=first):
            if len(cells) != width:
                note(line, cells)
    except csv.Error as exc:  # a runaway quoted cell, longer than the csv module allows
        raise UnreadableFile(UNCLOSED_QUOTE.format(line=line + 1)) from exc


def _width_notes(width: int) -> tuple[Callable[[int, list[str]], None],
                                       list[tuple[int, int]], list[tuple[int, int]]]:
    """A ``note`` (spreadsheet line, cells) and the lists it fills: rows with more cells than
    the header (when the extra ones hold something) and rows with fewer."""
    too_many: list[tuple[int, int]] = []
    too_few: list[tuple[int, int]] = []

    def note(line: int, cells: list[str]) -> None:
        if line == 1 or not cells:
            return
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            too_many.append((line, len(cells)))
        elif len(cells) < width:
            too_few.append((line, len(cells)))

    return note, too_many, too_few


def _refuse_too_many(too_many: list[tuple[int, int]], width: int, delimiter: str) -> None:
    if too_many:
        raise UnreadableFile(_jam_message(too_many, width, delimiter))


def check_row_widths(lines: Iterable[str], delimiter: str, width: int) -> list[tuple[int, int]]:
    """Refuses rows with more cells than the header (a delimiter inside an unquoted cell
    shifts every following value into the wrong column); returns the rows with fewer cells,
    which some spreadsheets write when the last cells are empty.

    A line without quote, NUL or overlong cell (most of a file) is not parsed: its cells are
    counted from its delimiters, as the csv module would split it. From the first line
    holding one of those on, the csv module reads the rest (a quoted cell may span lines)."""
    note, too_many, too_few = _width_notes(width)
    lines, limit = iter(lines), csv.field_size_limit()
    for number, line in enumerate(lines, start=1):
        if '"' in line or "\0" in line or len(line) > limit:
            _quoted_widths(itertools.chain([line], lines), delimiter, width, number, note)
            break
        if line.count(delimiter) + 1 != width:  # the usual row has nothing to say
            text = line.rstrip("\r\n")
            note(number, text.split(delimiter) if text else [])
    _refuse_too_many(too_many, width, delimiter)
    return too_few


# Encodings whose delimiters, line feeds, quotes and NUL are single ASCII bytes that no other
# character's bytes contain: their lines can be measured on the bytes.
_ASCII_SAFE = {"utf-8", "utf-8-sig", "cp1252", "latin-1", "iso8859-1"}
_WIDTH_BLOCK = 8 << 20


def file_row_widths(path: Path, encoding: str, delimiter: str,
                    width: int) -> list[tuple[int, int]]:
    """``check_row_widths`` over a file, with the cells of each record counted by numpy on
    the file's bytes, a block at a time: quotes are followed by their parity (a line break or
    a delimiter between an opening and a closing quote belongs to the cell), and only a record
    of another width than the header's is decoded and split. From the first record the csv
    module might read otherwise (a quote inside an unquoted cell or not closed, a NUL, a
    carriage return not followed by a line feed, more bytes than its cell limit), the csv
    module reads the rest, as in ``check_row_widths``."""
    if codecs.lookup(encoding).name not in _ASCII_SAFE or len(delimiter.encode()) != 1:
        with path.open(encoding=encoding, newline="") as handle:
            return check_row_widths(handle, delimiter, width)
    note, too_many, too_few = _width_notes(width)
    records_before, data_offset, carry = 0, 0, b""
    with path.open("rb") as handle:
        while True:
            block = handle.read(_WIDTH_BLOCK)
            data = carry + block
            measured = _measure_records(data, not block, delimiter, width, records_before,
                                        note, encoding)
            if measured.odd is not None:
                record, byte = measured.odd
                handle.seek(data_offset + byte)
                text = io.TextIOWrapper(handle, encoding=encoding, newline="")
                _quoted_widths(text, delimiter, width, record, note)
                break
            if not block:
                break
            records_before += measured.records
            data_offset, carry = data_offset + measured.consumed, data[measured.consumed:]
    _refuse_too_many(too_many, width, delimiter)
    return too_few


@dataclass
class _Measured:
    consumed: int  # bytes of whole records measured (the rest waits for the next block)
    records: int
    odd: tuple[int, int] | None = None  # (spreadsheet line, byte offset) where the csv module
    #                                     must take over


def _measure_records(chunk: bytes, final: bool, delimiter: str, width: int,
                     records_before: int, note: Callable[[int, list[str]], None],
                     encoding: str) -> _Measured:
    """Notes the records of ``chunk`` (it starts at a record) whose cell count differs from
    ``width``; unless ``final``, an incomplete last record is left for the next block."""
    data = np.frombuffer(chunk, dtype=np.uint8)
    quotes = data == 34
    quoted = (np.cumsum(quotes) & 1).astype(bool) if quotes.any() else np.zeros_like(quotes)
    ends = np.flatnonzero((data == 10) & ~quoted)
    consumed = int(ends[-1]) + 1 if len(ends) else 0
    if final:
        consumed = len(data)
        if consumed and (not len(ends) or ends[-1] != consumed - 1):
            ends = np.append(ends, consumed)  # a last record without line feed
    starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
    limit = csv.field_size_limit()
    lone_cr = data == 13
    lone_cr[:-1] &= data[1:] != 10
    odd = (data[:consumed] == 0) | (lone_cr[:consumed] & ~quoted[:consumed])
    if quotes.any() and not _well_quoted(data[:consumed], quotes[:consumed], delimiter):
        odd |= quotes[:consumed]
    odd_bytes = np.flatnonzero(odd)
    odd_records = np.flatnonzero(ends - starts > limit)
    first_odd = int(min(np.searchsorted(ends, odd_bytes[0]) if len(odd_bytes) else len(ends),
                        odd_records[0] if len(odd_records) else len(ends)))
    if first_odd == len(ends) and not final and not len(ends) and len(data) > limit:
        return _Measured(0, 0, (records_before + 1, 0))  # a record longer than any cell
    delimiters = np.flatnonzero((data == ord(delimiter)) & ~quoted)
    cells = (np.searchsorted(delimiters, ends[:first_odd])
             - np.searchsorted(delimiters, starts[:first_odd]) + 1)
    lengths = ends[:first_odd] - starts[:first_odd]
    lengths -= (lengths > 0) & (data[np.maximum(ends[:first_odd] - 1, 0)] == 13)  # \r\n
    for index in np.flatnonzero((cells != width) & (lengths > 0)).tolist():
        text = chunk[starts[index]:starts[index] + lengths[index]].decode(encoding)
        note(records_before + index + 1,
             next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), []))
    if first_odd < len(ends):
        return _Measured(consumed, first_odd, (records_before + first_odd + 1,
                                               int(starts[first_odd])))
    return _Measured(consumed, len(ends))


def _well_quoted(data: np.ndarray, quotes: np.ndarray, delimiter: str) -> bool:
    """Every quote opens a cell (at its start, or doubled inside a quoted cell) or closes one
    (before a delimiter, a line end or a doubled quote), and every opened cell is closed: the
    csv module then splits the records exactly where the quotes' parity says."""
    positions = np.flatnonzero(quotes)
    opening, closing = positions[0::2], positions[1::2]
    if len(opening) != len(closing):
        return False
    cell_edges = np.array([ord(delimiter), 10, 13], dtype=np.uint8)
    before = data[np.maximum(opening - 1, 0)]
    opens_well = (opening == 0) | np.isin(before, cell_edges)
    opens_well[1:] |= closing[:-1] == opening[1:] - 1  # a doubled quote: "" inside a cell
    after = data[np.minimum(closing + 1, len(data) - 1)]
    closes_well = (closing == len(data) - 1) | np.isin(after, cell_edges)
    closes_well[:-1] |= opening[1:] == closing[:-1] + 1
    return bool(opens_well.all() and closes_well.all())


def _jam_message(rows: list[tuple[int, int]], width: int, delimiter: str) -> str:
    shown = ", ".join(f"ligne {line} : {found} cases au lieu de {width}"
                      for line, found in rows[:MAX_JAMMED_LINES_LISTED])
    more = len(rows) - MAX_JAMMED_LINES_LISTED
    shown += f" (et {more} autres lignes)" if more > 0 else ""
    sign = "tabulation" if delimiter == "\t" else f"« {delimiter} »"
    return (f"Des lignes ont plus de cases que la ligne d'en-tête ({width} colonnes) : {shown}. "
            f"Le séparateur de colonnes de ce fichier est {sign} : une case de texte qui en "
            "contient un doit être entourée de guillemets (\"…\"), sinon ses valeurs "
            "glissent dans les colonnes suivantes. Retirez le séparateur en trop ou mettez la "
            "case entre guillemets ; enregistrer le fichier au format CSV depuis votre tableur "
            "le fait pour vous.")


MAX_XLSX_UNPACKED_BYTES = 400_000_000
MAX_XLSX_RATIO = 200


def _refuse_zip_bomb(path: Path) -> None:
    """An XLSX is a zip: refuse one that would unpack to far more than it weighs."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise UnreadableFile("Le classeur Excel est endommagé ; enregistrez-le à nouveau au "
                             "format XLSX, ou exportez-le en CSV.") from exc
    packed = max(path.stat().st_size, 1)
    if unpacked > MAX_XLSX_UNPACKED_BYTES or unpacked / packed > MAX_XLSX_RATIO:
        raise UnreadableFile("Le classeur Excel est anormalement compressé et n'a pas été "
                             "ouvert par sécurité. Exportez-le en CSV.")


def _empty(row: tuple) -> bool:
    return all(v is None for v in row)


def iter_xlsx_cells(path: Path, dataset: str, rows: int | None = None) -> Iterator[CellChunk]:
    """The sheet's cells as Python values, ``rows`` rows at a time.

    Read with calamine (Rust, ``python-calamine``): about ten times openpyxl's speed. It reads
    the cached values of formulas (never evaluates them) and ignores links to other workbooks.
    Spreadsheet tools declare and write far more than the data: a dimension of A1:XFD1048576,
    formats on whole rows or columns written as empty styled cells. calamine keeps only cells
    that hold a value; every row is still cut to the header's last named column, and blank
    rows are held back as a count until a filled row follows them (trailing blank rows,
    however many, cost nothing). Values come as openpyxl gave them (``_as_openpyxl``), so the
    conversions and every message quoting a cell stay the same, with one exception: a cell
    holding an Excel error (#DIV/0!, #N/A) reads as empty, where openpyxl gave its text
    (python-calamine exposes no error value, dimastbk/python-calamine#105), so the report
    speaks of a missing value rather than quoting the error."""
    from python_calamine import CalamineWorkbook

    _refuse_zip_bomb(path)
    size = rows or chunk_rows()
    workbook = CalamineWorkbook.from_path(str(path))
    try:
        names = workbook.sheet_names
        if not names:
            raise UnreadableFile("Le classeur est vide.")
        chosen = next((name for name in names if normalize_header(name) == dataset), names[0])
        values = (_as_openpyxl(row) for row in workbook.get_sheet_by_name(chosen).iter_rows())
        header = _xlsx_header(values)
        width = len(header)
        if not width and all(_empty(row) for row in values):
            raise UnreadableFile("Le classeur est vide.")
        body: list[list] = []
        first_line, blanks = FIRST_DATA_LINE, 0
        for row in values:
            row = row[:width]
            if _empty(row):
                blanks += 1
                continue
            for _ in range(blanks):  # blank rows inside the data keep their line numbers
                body.append([""] * width)
                if len(body) == size:
                    yield CellChunk(pd.DataFrame(body, columns=header, dtype=object), first_line)
                    first_line, body = first_line + size, []
            blanks = 0
            body.append(["" if v is None else v for v in row] + [""] * (width - len(row)))
            if len(body) == size:
                yield CellChunk(pd.DataFrame(body, columns=header, dtype=object), first_line)
                first_line, body = first_line + size, []
        if body or first_line == FIRST_DATA_LINE:
            yield CellChunk(pd.DataFrame(body, columns=header, dtype=object), first_line)
    finally:
        workbook.close()


def _as_openpyxl(row: list) -> tuple:
    """A calamine row as openpyxl returned it: empty cells as None, whole numbers as int
    (calamine gives every number as a float) and dates as midnight datetimes."""
    return tuple(None if value == "" else
                 int(value) if type(value) is float and value.is_integer() else
                 datetime.combine(value, time()) if type(value) is date else value
                 for value in row)


def _xlsx_header(values: Iterator[tuple]) -> list[str]:
    """The first row's names, up to its last filled cell (styled empty cells after it are
    formatting, not columns)."""
    first = next(values, None)
    if first is None:
        raise UnreadableFile("Le classeur est vide.")
    header = ["" if v is None else str(v) for v in first]
    while header and not header[-1].strip():
        header.pop()
    _refuse_duplicate_headers(header)
    return header


@dataclass
class CellSource:
    """A partner file opened for reading: checked, its kind (``csv``, ``xlsx`` or ``json``)
    known, and for CSV its encoding, delimiter, header width and rows with too few cells;
    ``chunks()`` reads it from the start, as many times as needed."""
    path: Path
    dataset: str
    kind: str
    encoding: str | None = None
    delimiter: str | None = None
    width: int = 0
    short_rows: list[tuple[int, int]] = field(default_factory=list)

    def chunks(self, rows: int | None = None) -> Iterator[CellChunk]:
        if self.kind == "xlsx":
            yield from _xlsx_errors_as_unreadable(iter_xlsx_cells(self.path, self.dataset, rows))
        elif self.kind == "json":  # parsed whole: its size limit bounds the memory
            yield CellChunk(read_json_cells(self.path.read_bytes()))
        else:
            yield from iter_csv_cells(self.path, self.encoding, self.delimiter, self.width,
                                      self.short_rows, rows)


def _xlsx_errors_as_unreadable(chunks: Iterator[CellChunk]) -> Iterator[CellChunk]:
    try:
        yield from chunks
    except UnreadableFile:
        raise
    except Exception as exc:  # calamine raises several kinds for corrupt workbooks
        raise UnreadableFile(
            "Le classeur Excel est illisible ou endommagé. Enregistrez-le à nouveau au "
            "format XLSX, ou exportez-le en CSV.") from exc


def open_cells(path: Path, dataset: str) -> CellSource:
    """Open a partner file (CSV, XLSX, JSON or GeoJSON); ``UnreadableFile`` if it cannot be
    read at all."""
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic == b"PK\x03\x04" or path.suffix.lower() == ".xlsx":
        _refuse_zip_bomb(path)
        return CellSource(path, dataset, "xlsx")
    if is_json_name(path.name):
        return CellSource(path, dataset, "json", encoding="utf-8")
    return CellSource(path, dataset, "csv", *open_csv(path))


def read_cells(path: Path, dataset: str) -> tuple[pd.DataFrame, str | None, str | None]:
    """Raw cells of the whole file, as strings (CSV) or Python values (XLSX, JSON)."""
    source = open_cells(path, dataset)
    frames = [chunk.cells for chunk in source.chunks()]
    cells = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if len(frames) > 1:
        cells.attrs[SHORT_ROWS] = source.short_rows
    return cells, source.encoding, source.delimiter


def header_lookup(contract: Contract) -> dict[str, str]:
    """Normalised name, label and aliases of each column -> the column (made once per
    contract: every file's recognition asks every contract). Not to be modified."""
    return _lookups(contract)[0]


def _lookups(contract: Contract) -> tuple[dict[str, str], dict[str, set[str]]]:
    """``header_lookup``, and its keys made singular -> the columns they may be."""
    known = _LOOKUPS.get(id(contract))
    if known is None or known[0] is not contract:
        lookup: dict[str, str] = {}
        for col in contract.columns:
            for variant in (col.name, col.label, *col.aliases):
                lookup.setdefault(normalize_header(variant), col.name)
        singular: dict[str, set[str]] = {}
        for key, name in lookup.items():
            singular.setdefault(_singular(key), set()).add(name)
        known = _LOOKUPS[id(contract)] = (contract, lookup, singular)
    return known[1], known[2]


_LOOKUPS: dict[int, tuple[Contract, dict[str, str], dict[str, set[str]]]] = {}
# Headers repeat from file to file: each is normalised once.
_normalized_header = functools.lru_cache(maxsize=1 << 16)(normalize_header)


def _singular(key: str) -> str:
    """``modalite_acces`` and ``modalites_acces`` -> the same key: tools and older versions
    of the standard hesitate between singular and plural."""
    return "_".join(w[:-1] if len(w) > 3 and w[-1] in "sx" else w for w in key.split("_"))


def map_headers(headers: list[str], contract: Contract) -> tuple[dict[str, str], list[str]]:
    """Original header -> contract column, and the headers that match no column. Exact
    matches first; then a header differing only by singular/plural takes a column still free
    when it is the only one it could be (``near_miss_headers`` names those for the report)."""
    lookup, singular = _lookups(contract)
    mapping: dict[str, str] = {}
    for header in headers:
        target = lookup.get(_normalized_header(header))
        if target and target not in mapping.values():
            mapping[header] = target
    unknown = []
    for header in headers:
        if header in mapping:
            continue
        targets = singular.get(_singular(_normalized_header(header)), set())
        if len(targets) == 1 and not targets & set(mapping.values()):
            mapping[header] = next(iter(targets))
        elif str(header).strip():
            unknown.append(str(header))
    order = {header: n for n, header in enumerate(headers)}
    return dict(sorted(mapping.items(), key=lambda item: order[item[0]])), unknown


def near_miss_headers(mapping: dict[str, str], contract: Contract) -> dict[str, str]:
    """The headers of ``mapping`` that matched their column only through a near miss."""
    lookup = header_lookup(contract)
    return {header: target for header, target in mapping.items()
            if normalize_header(header) not in lookup}


def _header_problems(near: dict[str, str], short_rows: list[tuple[int, int]],
                     width: int) -> list[Problem]:
    """Warnings about the file's layout: headers read through a near-miss, short rows."""
    problems = [Problem(
        None, target, "", f"La colonne « {header} » a été lue comme « {target} », le nom prévu "
        "par le modèle de fichier.",
        f"Rien à faire pour cet envoi ; nommez la colonne « {target} » dans les prochains.",
        "avertissement") for header, target in near.items()]
    cut = _cut_in_two(short_rows, width)
    problems += [Problem(
        line, "", "", f"Cette ligne a {found} cases au lieu de {width} (les colonnes de "
        "l'en-tête) : les dernières ont été lues comme vides.",
        "Vérifiez qu'aucune valeur n'a glissé d'une colonne à l'autre ; si ces cases sont "
        "bien vides, rien à faire.", "avertissement")
        for line, found in short_rows if line not in cut and line - 1 not in cut]
    problems += [Problem(
        line, "", "", f"Les lignes {line} et {line + 1} semblent n'en faire qu'une, coupée en "
        f"deux par un retour à la ligne tapé dans une case : {found} cases puis "
        f"{cut[line]}, soit {width} une fois recollées. Les valeurs de la ligne {line + 1} ont "
        "glissé dans d'autres colonnes.",
        "Dans votre fichier, supprimez le retour à la ligne dans cette case (souvent une "
        "adresse ou un commentaire), ou entourez la case de guillemets (\"…\") ; enregistrer "
        "au format CSV depuis votre tableur le fait pour vous.", "avertissement")
        for line, found in short_rows if line in cut]
    return problems


def _cut_in_two(short_rows: list[tuple[int, int]], width: int) -> dict[int, int]:
    """First line -> cells of the second, for two consecutive short lines whose cells make one
    row once joined (the cell holding the line break counts in both)."""
    cells = dict(short_rows)
    cut: dict[int, int] = {}
    for line, found in short_rows:
        following = cells.get(line + 1)
        if following is not None and line - 1 not in cut and found + following - 1 == width:
            cut[line] = following
    return cut


def to_contract(cells: pd.DataFrame, contract: Contract,
                communes_by_name: dict[str, str] | None = None,
                lines: list[int] | None = None,
                found: list[Distinct] | None = None) -> ReadResult:
    """Rename, convert and type the cells; ``lines`` are the spreadsheet line of each row;
    ``found``, when the caller has them, the distinct values of each column of ``cells``."""
    lines = lines if lines is not None else list(range(FIRST_DATA_LINE, FIRST_DATA_LINE + len(cells)))
    mapping, unknown = map_headers(list(cells.columns), contract)
    position = {header: n for n, header in reversed(list(enumerate(cells.columns)))}
    communes_by_name = communes_by_name or {}
    problems = _header_problems(near_miss_headers(mapping, contract),
                                cells.attrs.get(SHORT_ROWS, []), len(cells.columns))
    source = {target: position[header] for header, target in mapping.items()}
    out: dict[str, list] = {}
    written: dict[str, pd.Categorical] = {}
    for col in contract.columns:
        if col.name not in source:
            out[col.name] = [None] * len(cells)
            continue
        column = cells.iloc[:, source[col.name]]
        distinct = found[source[col.name]] if found is not None else Distinct.of(column)
        problems += _lost_letters(col.name, distinct, lines)
        out[col.name], raw = convert_column(col, column, distinct, lines, communes_by_name,
                                            problems)
        if raw is not None:
            written[col.name] = raw
    frame = pd.DataFrame(out, columns=contract.column_names)
    _fill_insee_from_names(frame, contract, communes_by_name)
    for col in contract.columns:
        if col.type in ("integer", "decimal"):
            frame[col.name] = pd.to_numeric(frame[col.name], errors="coerce").astype("float64")
        else:
            frame[col.name] = frame[col.name].astype(object)
    frame["_ligne"] = lines
    missing = [c.name for c in contract.columns if c.required and c.name not in mapping.values()]
    return ReadResult(frame, problems, unknown, missing, written=written)


# The replacement character: what a tool writes for each letter it could not convert when it
# read or saved the file in the wrong encoding. The letter is lost for good: no decoding of
# the file brings it back, only a new export.
LOST_LETTER = "\ufffd"
LOST_LETTERS_RULE = ("Des lettres de cette case ont été perdues avant l'envoi (remplacées par "
                     "« \ufffd ») : la valeur sera publiée ainsi.")
LOST_LETTERS_FIX = ("Exportez à nouveau le fichier depuis l'outil d'origine, au format CSV UTF-8 "
                    "ou XLSX, sans l'ouvrir ni l'enregistrer entre-temps dans un autre encodage ; "
                    "sinon, corrigez les lettres accentuées de ces cases.")


def _lost_letters(column: str, found: Distinct, lines: list[int]) -> list[Problem]:
    """A warning for each cell of ``column`` (``found``: its distinct cells, ``lines`` their
    rows' lines) holding the replacement character: the row is accepted (the rest of it is
    right) but its lost letters are never published silently."""
    values = found.values.tolist()
    try:  # one search over the distinct cells first: a lost letter is rare
        joined = "".join(values)
    except TypeError:  # numbers or dates from a workbook
        joined = "".join(v for v in values if type(v) is str)
    if LOST_LETTER not in joined:
        return []
    lost = [n for n, value in enumerate(values) if isinstance(value, str) and LOST_LETTER in value]
    if not lost:
        return []
    return [Problem(lines[row], column, found.values[found.codes[row]].strip(),
                    LOST_LETTERS_RULE, LOST_LETTERS_FIX, "avertissement")
            for row in np.flatnonzero(np.isin(found.codes, lost))]


def _fill_insee_from_names(frame: pd.DataFrame, contract: Contract,
                           communes_by_name: dict[str, str]) -> None:
    """Venue files may give only the commune's name: use the territory's exact names."""
    name_col, code_col = contract.commune_name_column, contract.commune_column
    if not name_col or not code_col or frame.empty:
        return
    missing = frame[code_col].isna()
    names = frame.loc[missing, name_col].map(lambda n: communes_by_name.get(normalize_header(n))
                                             if isinstance(n, str) else None)
    frame.loc[missing, code_col] = names


def read_partner_file(path: Path, contract: Contract,
                      communes_by_name: dict[str, str] | None = None) -> ReadResult:
    cells, encoding, delimiter = read_cells(path, contract.dataset)
    result = read_cells_into_contract(cells, contract, communes_by_name)
    result.encoding, result.delimiter = encoding, delimiter
    return result


def read_cells_into_contract(cells: pd.DataFrame, contract: Contract,
                             communes_by_name: dict[str, str] | None = None,
                             first_line: int = FIRST_DATA_LINE) -> ReadResult:
    """``first_line``: the spreadsheet line of the first row (a chunk of a larger file)."""
    # Skip rows that are entirely empty (left by spreadsheets) but keep each row's line number.
    found = [Distinct.of(cells.iloc[:, n]) for n in range(cells.shape[1])]
    filled = np.zeros(len(cells), dtype=bool)
    for distinct in found:
        filled |= distinct.filled()
    lines = (np.flatnonzero(filled) + first_line).tolist()
    short_rows = cells.attrs.get(SHORT_ROWS, [])
    if not filled.all():
        cells = cells[filled].reset_index(drop=True)
        found = [distinct.rows(filled) for distinct in found]
    cells.attrs[SHORT_ROWS] = short_rows
    return to_contract(cells, contract, communes_by_name, lines, found)
