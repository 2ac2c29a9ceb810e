"""Reading partner files into the contract's columns.

Partners export from spreadsheets and business tools: CSV in several encodings and delimiters,
or XLSX; French dates and decimals; headers with accents, capitals and stray spaces. This module
turns any of those into a frame with the contract's column names and canonical values:
dates ``YYYY-MM-DD``, times ``HH:MM``, integers as numbers, choices as their codes. Values it
cannot read are kept as written so that validation can quote them back to the partner.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd
from charset_normalizer import from_bytes

from pipeline.contracts import Column, Contract

CSV_DELIMITERS = ";,\t"
FIRST_DATA_LINE = 2  # line 1 of a spreadsheet is the header


class UnreadableFile(Exception):
    """The file cannot be read at all; the message is French and meant for the partner."""


@dataclass
class ReadingProblem:
    line: int
    column: str
    value: str
    rule: str
    fix: str
    severity: str = "erreur"


@dataclass
class ReadResult:
    frame: pd.DataFrame
    problems: list[ReadingProblem] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None


def normalize_header(name: object) -> str:
    """``" Durée (minutes) "`` -> ``"duree_minutes"``: compare headers without accents or case."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


DEFAULT_CHUNK_ROWS = 50_000
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
    return max(1, int(os.environ.get("INCLUSION_CHUNK_ROWS", DEFAULT_CHUNK_ROWS)))


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


def open_csv(path: Path) -> tuple[str, str]:
    """Encoding and delimiter of a CSV file, after the checks that refuse it outright."""
    encoding = detect_encoding(path)
    head = _text_head(path, encoding)
    if encoding == "utf-8-sig":
        head = head.removeprefix("\ufeff")
    delimiter = _sniff_delimiter(head)
    _refuse_duplicate_headers(next(csv.reader(io.StringIO(head), delimiter=delimiter), []))
    return encoding, delimiter


def iter_csv_cells(path: Path, encoding: str, delimiter: str,
                   rows: int | None = None) -> Iterator[CellChunk]:
    """The file's cells as strings, ``rows`` rows at a time, streamed from disk."""
    options = dict(sep=delimiter, dtype=str, keep_default_na=False, skip_blank_lines=False,
                   encoding=encoding)
    first_line, any_chunk = FIRST_DATA_LINE, False
    with pd.read_csv(path, chunksize=rows or chunk_rows(), **options) as reader:
        for cells in reader:
            any_chunk = True
            yield CellChunk(cells.reset_index(drop=True), first_line)
            first_line += len(cells)
    if not any_chunk:  # a header and no rows
        yield CellChunk(pd.read_csv(path, nrows=0, **options), first_line)


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
    """The sheet's cells as Python values, ``rows`` rows at a time, streamed from the zip.

    Spreadsheet tools declare and write far more than the data: a dimension of A1:XFD1048576,
    formats on whole rows or columns written as empty styled cells. openpyxl pads every row to
    the declared width and yields every declared row, so a 3 MB workbook became gigabytes of
    empty cells. Here the declared size is ignored, every row is cut to the header's last
    named column, and blank rows are held back as a count until a filled row follows them
    (trailing blank rows, however many, cost nothing)."""
    from openpyxl import load_workbook

    _refuse_zip_bomb(path)
    size = rows or chunk_rows()
    # read_only streams rows; data_only returns cached values, never evaluates formulas;
    # keep_links=False ignores links to external workbooks.
    workbook = load_workbook(path, read_only=True, data_only=True, keep_links=False)
    try:
        sheet = next((ws for ws in workbook.worksheets
                      if normalize_header(ws.title) == dataset), workbook.worksheets[0])
        sheet.reset_dimensions()
        values = sheet.iter_rows(values_only=True)
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
    """A partner file opened for reading: checked, its encoding and delimiter known (CSV);
    ``chunks()`` reads it from the start, as many times as needed."""
    path: Path
    dataset: str
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def is_xlsx(self) -> bool:
        return self.encoding is None

    def chunks(self, rows: int | None = None) -> Iterator[CellChunk]:
        if self.is_xlsx:
            yield from _xlsx_errors_as_unreadable(iter_xlsx_cells(self.path, self.dataset, rows))
        else:
            yield from iter_csv_cells(self.path, self.encoding, self.delimiter, rows)


def _xlsx_errors_as_unreadable(chunks: Iterator[CellChunk]) -> Iterator[CellChunk]:
    try:
        yield from chunks
    except UnreadableFile:
        raise
    except Exception as exc:  # openpyxl raises many kinds for corrupt workbooks
        raise UnreadableFile(
            "Le classeur Excel est illisible ou endommagé. Enregistrez-le à nouveau au "
            "format XLSX, ou exportez-le en CSV.") from exc


def open_cells(path: Path, dataset: str) -> CellSource:
    """Open a partner file (CSV or XLSX); ``UnreadableFile`` if it cannot be read at all."""
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic == b"PK\x03\x04" or path.suffix.lower() == ".xlsx":
        _refuse_zip_bomb(path)
        return CellSource(path, dataset)
    return CellSource(path, dataset, *open_csv(path))


def read_cells(path: Path, dataset: str) -> tuple[pd.DataFrame, str | None, str | None]:
    """Raw cells of the whole file, as strings (CSV) or Python values (XLSX)."""
    source = open_cells(path, dataset)
    frames = [chunk.cells for chunk in source.chunks()]
    cells = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    return cells, source.encoding, source.delimiter


def map_headers(headers: list[str], contract: Contract) -> tuple[dict[str, str], list[str]]:
    """Original header -> contract column, and the headers that match no column."""
    lookup: dict[str, str] = {}
    for col in contract.columns:
        for variant in (col.name, col.label, *col.aliases):
            lookup.setdefault(normalize_header(variant), col.name)
    mapping, unknown = {}, []
    for header in headers:
        target = lookup.get(normalize_header(header))
        if target and target not in mapping.values():
            mapping[header] = target
        elif str(header).strip():
            unknown.append(str(header))
    return mapping, unknown


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == ""


def parse_date(value: object) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    for fmt in ("%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


_TIME = re.compile(r"^(\d{1,2})\s*(?:[hH:]\s*(\d{2})?)(?::\d{2})?$")


def parse_time(value: object) -> str | None:
    if isinstance(value, datetime):
        value = value.time()
    if isinstance(value, time):
        return f"{value.hour:02d}:{value.minute:02d}"
    match = _TIME.match(str(value).strip())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def parse_integer(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = re.sub(r"[\s\u00a0\u202f]", "", str(value)).replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


_MULTI_SPLIT = re.compile(r"\s*[|;]\s*")
_LOOSE_SPLIT = re.compile(r"\s*[|;,]\s*|\s+")


def parse_decimal(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = re.sub(r"[\s\u00a0\u202f]", "", str(value)).replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def normalize_phone(text: str) -> tuple[str, bool]:
    """French numbers written the usual way (``01 69 31 00 00``) -> ``+33169310000``."""
    digits = re.sub(r"[\s.\-()\u00a0]", "", text)
    if re.fullmatch(r"0[1-9]\d{8}", digits):
        return "+33" + digits[1:], True
    if re.fullmatch(r"0033[1-9]\d{8}", digits):
        return "+" + digits[2:], True
    return digits, digits != text


def _choose(col: Column, text: str) -> str:
    wanted = normalize_header(text)
    for choice in col.choices:
        if wanted in (normalize_header(choice.code), normalize_header(choice.label)):
            return choice.code
    return text


@dataclass
class Converted:
    value: object
    error: str | None = None
    warning: str | None = None


def _convert(col: Column, value: object, communes_by_name: dict[str, str]) -> Converted:
    """Canonical value; an unreadable value is kept as written so validation quotes it back,
    except numbers, which become empty with a reading error."""
    if _blank(value):
        return Converted(None)
    if col.type == "date":
        return Converted(parse_date(value) or str(value).strip())
    if col.type == "time":
        return Converted(parse_time(value) or str(value).strip())
    if col.type == "integer":
        parsed = parse_integer(value)
        return Converted(parsed, None if parsed is not None else "n'est pas un nombre entier")
    if col.type == "decimal":
        parsed = parse_decimal(value)
        return Converted(parsed, None if parsed is not None else "n'est pas un nombre")
    text = str(value).strip()
    if col.type == "insee":
        if re.fullmatch(r"\d{4}", text):
            text = "0" + text  # spreadsheets drop the leading zero of 01xxx-09xxx codes
        return Converted(communes_by_name.get(normalize_header(text), text))
    if col.type == "choice":
        return Converted(_choose(col, text))
    if col.type == "multichoice":
        parts = [p for p in _MULTI_SPLIT.split(text) if p]
        warning = ("utilise « ; » comme séparateur (ancienne version du standard) : converti en « | »"
                   if ";" in text else None)
        return Converted("|".join(_choose(col, p) for p in parts), warning=warning)
    if col.type == "phone":
        phone, changed = normalize_phone(text)
        return Converted(phone, warning=("n'était pas au format international (+33…) : elle a "
                                         "été convertie" if changed else None))
    if col.multiple:
        splitter = _MULTI_SPLIT if col.type == "text" else _LOOSE_SPLIT
        parts = [p for p in splitter.split(text) if p]
        return Converted("|".join(parts))
    return Converted(text)


def _plain_text(series: pd.Series) -> list:
    """Single-valued text: trimmed, blanks as None. Vectorised: these columns are mostly
    unique (identifiers), so converting value by value would dominate large files."""
    text = series.astype("string").str.strip()
    blank = (text.isna() | (text == "")).fillna(True).tolist()
    return [None if empty else value for empty, value in zip(blank, text.astype(object).tolist())]


def _convert_column(col: Column, series: pd.Series, lines: list[int],
                    communes_by_name: dict[str, str], problems: list[ReadingProblem]) -> list:
    if col.type == "text" and not col.multiple:
        return _plain_text(series)
    # Dates, codes and labels repeat: convert each distinct value once, then map back.
    keys = series.map(lambda v: v if not _blank(v) else "")
    converted = {key: _convert(col, key, communes_by_name) for key in dict.fromkeys(keys.tolist())}
    flagged = {key for key, c in converted.items() if c.error or c.warning}
    if flagged:
        for line, key in zip(lines, keys.tolist()):
            if key in flagged:
                problems.append(_reading_problem(col, line, key, converted[key]))
    return [converted[key].value for key in keys.tolist()]


def _reading_problem(col: Column, line: int, value: object, converted: Converted) -> ReadingProblem:
    if converted.error:
        return ReadingProblem(line, col.name, str(value).strip(), f"La valeur {converted.error}.",
                              f"Écrivez un nombre, par exemple {col.example}.")
    return ReadingProblem(line, col.name, str(value).strip(), f"La valeur {converted.warning}.",
                          "Rien à faire pour cet envoi ; adoptez ce format pour les prochains.",
                          "avertissement")


def to_contract(cells: pd.DataFrame, contract: Contract,
                communes_by_name: dict[str, str] | None = None,
                lines: list[int] | None = None) -> ReadResult:
    """Rename, convert and type the cells; ``lines`` are the spreadsheet line of each row."""
    lines = lines if lines is not None else list(range(FIRST_DATA_LINE, FIRST_DATA_LINE + len(cells)))
    mapping, unknown = map_headers(list(cells.columns), contract)
    renamed = cells[list(mapping)].rename(columns=mapping)
    communes_by_name = communes_by_name or {}
    problems: list[ReadingProblem] = []
    out: dict[str, list] = {}
    for col in contract.columns:
        if col.name not in renamed.columns:
            out[col.name] = [None] * len(renamed)
            continue
        out[col.name] = _convert_column(col, renamed[col.name], lines, communes_by_name,
                                        problems)
    frame = pd.DataFrame(out, columns=contract.column_names)
    _fill_insee_from_names(frame, contract, communes_by_name)
    for col in contract.columns:
        if col.type in ("integer", "decimal"):
            frame[col.name] = pd.to_numeric(frame[col.name], errors="coerce").astype("float64")
        else:
            frame[col.name] = frame[col.name].astype(object)
    frame["_ligne"] = lines
    missing = [c.name for c in contract.columns if c.required and c.name not in mapping.values()]
    return ReadResult(frame, problems, unknown, missing)


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
    as_text = cells.astype("string").apply(lambda column: column.str.strip())
    filled = (as_text.notna() & (as_text != "")).any(axis=1).tolist()
    lines = [i + first_line for i, keep in enumerate(filled) if keep]
    cells = cells[filled].reset_index(drop=True)
    return to_contract(cells, contract, communes_by_name, lines)
