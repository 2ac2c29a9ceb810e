"""Converting partner cells to the contract's canonical values, column by column.

Dates become ``YYYY-MM-DD``, times ``HH:MM``, numbers numbers, choices their codes, French
phone numbers their international form, lists « | »-separated. A value that cannot be read is
kept as written so that validation quotes it back to the partner; each cell converted with a
note (a separator read, a number converted) gives a warning naming its line.

Columns are converted through their distinct values: dates, communes and choices repeat
massively across a file, so each distinct value is converted once and the results taken back
to the rows with numpy (``convert_column``).
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np
import pandas as pd

from pipeline.contracts.model import Column, normalize_header
from pipeline.problems import Problem

def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == ""


_USUAL_DATE = re.compile(r"(?P<d1>\d\d)/(?P<m1>\d\d)/(?P<y1>\d{4})"
                         r"|(?P<y2>\d{4})-(?P<m2>\d\d)-(?P<d2>\d\d)", re.ASCII)


def parse_date(value: object) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    usual = _USUAL_DATE.fullmatch(text)
    if usual:  # 25/03/2026 or 2026-03-25: what strptime would give, without its cost
        day, month, year = (usual["d1"], usual["m1"], usual["y1"]) if usual["d1"] else \
            (usual["d2"], usual["m2"], usual["y2"])
        try:
            return date(int(year), int(month), int(day)).isoformat()
        except ValueError:
            pass  # not a day of the calendar: the formats below say so
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
# E-mails and web addresses hold no "|", ";", "," or space: any of them separates two values.
_LOOSE_SPLIT = re.compile(r"\s*[|;,]\s*|\s+")
_COMMA_SPLIT = re.compile(r"\s*,\s*")
_ONLY_SEPARATORS = re.compile(r"[|;,\s]+")
# A code of a reference list (the data.inclusion typology: ASSO, TIERS_LIEUX, BIB): codes
# never hold a comma, so a comma between codes can only separate them.
_CODE = re.compile(r"[A-Z][A-Z0-9_]*")
SEPARATOR_WARNINGS = {
    ";": "utilise « ; » comme séparateur (ancienne version du standard) : converti en « | »",
    ",": "sépare les éléments de la liste par des virgules : séparateur virgule lu comme « | »",
    " ": "sépare les éléments de la liste par des espaces : séparateur espace lu comme « | »",
}
SEPARATOR_FIX = "Rien à faire pour cet envoi ; séparez les valeurs par « | » dans les prochains."
AS_IS_FIX = "Rien à faire pour cet envoi ; adoptez ce format pour les prochains."


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


def canonical_text(value: object) -> str:
    """A converted value as problems show it (whole numbers without ``.0``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def as_written(value: object) -> str:
    """A raw cell as the partner sees it: CSV text as is (trimmed); XLSX dates, times and
    decimals the way a French spreadsheet shows them."""
    if isinstance(value, datetime):
        return f"{value:%d/%m/%Y}" if value.time() == time() else f"{value:%d/%m/%Y %H:%M}"
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, time):
        return f"{value:%H:%M}"
    if isinstance(value, float) and not value.is_integer():
        return str(value).replace(".", ",")
    return "" if _blank(value) else canonical_text(value).strip()


# Numbers dialled only from France (emergency 15/17/18/112/115, 10XX operators, 3XXX
# services such as 3646 or 3939): they have no international form.
_SHORT_NUMBER = re.compile(r"1\d{1,2}|10\d{2}|3\d{3}")
CONVERTED_TO_INTERNATIONAL = ("n'était pas au format international (+33…) : elle a été "
                              "convertie")


PHONE_FIX = ("Rien à faire pour cet envoi ; écrivez les numéros au format international "
             "(+33 puis le numéro sans son 0) dans les prochains.")


def normalize_phone(text: str) -> tuple[str, str | None]:
    """French numbers written the usual way (``01 69 31 00 00``) -> ``+33169310000``, and what
    was changed (None when only spaces or dots went)."""
    digits = re.sub(r"[\s.\-()\u00a0\u202f]", "", text)
    if re.fullmatch(r"0[1-9]\d{8}", digits):
        return "+33" + digits[1:], CONVERTED_TO_INTERNATIONAL
    if re.fullmatch(r"0033[1-9]\d{8}", digits):
        return "+" + digits[2:], CONVERTED_TO_INTERNATIONAL
    if re.fullmatch(r"33[1-9]\d{8}", digits):  # the country code without its "+"
        return "+" + digits, "commence par 33 sans « + » : indicatif +33 ajouté"
    return digits, None


def _convert_phone(col: Column, text: str) -> Converted:
    """Converted only when the result is what the contract wants: a value the suite then
    refuses is left as written, so the report never says it was converted."""
    phone, change = normalize_phone(text)
    if not col.pattern or re.search(col.pattern, phone):
        return Converted(phone, warning=change, fix=PHONE_FIX if change else None)
    if _SHORT_NUMBER.fullmatch(phone):
        return Converted(text, error=(
            "est un numéro court, joignable seulement depuis la France : il n'a pas de forme "
            "internationale (+33…)"), fix=(
            "Indiquez le numéro à 10 chiffres du lieu (par exemple 01 69 31 00 00) ; le numéro "
            "court peut figurer dans la présentation du lieu."))
    return Converted(text)


def _choice_code(col: Column, text: str) -> str | None:
    return _choice_lookup(col).get(_normalized(text))


def _choice_lookup(col: Column) -> dict[str, str]:
    """Normalised code and label of each choice -> the code (the first choice wins)."""
    known = _CHOICES.get(id(col))
    if known is None or known[0] is not col:
        lookup: dict[str, str] = {}
        for choice in col.choices:
            lookup.setdefault(normalize_header(choice.code), choice.code)
            lookup.setdefault(normalize_header(choice.label), choice.code)
        known = _CHOICES[id(col)] = (col, lookup)
    return known[1]


_CHOICES: dict[int, tuple[Column, dict[str, str]]] = {}
# Communes and choices repeat from file to file: each text is normalised once.
_normalized = functools.lru_cache(maxsize=1 << 16)(normalize_header)


def _choose(col: Column, text: str) -> str:
    return _choice_code(col, text) or text


def _choose_long_label(col: Column, text: str) -> tuple[str, str | None]:
    """A closed-list value, also in version 1's long form « Gratuit : Je peux accéder… »
    (the list's label, « : », its description): read as its label, with a note."""
    code = _choice_code(col, text)
    if code is not None:
        return code, None
    label, colon, _description = text.partition(" : ")
    code = _choice_code(col, label) if colon else None
    if code is None:
        return text, None
    return code, (f"est écrite avec le libellé long de la version 1 du standard : lue comme "
                  f"« {label.strip()} »")


def _known_values_split_by_commas(col: Column, text: str) -> list[str] | None:
    """The text cut at commas into known values of the closed list, or None. A known value
    may itself hold a comma, so consecutive pieces are joined back before giving up."""
    pieces = _COMMA_SPLIT.split(text)
    found: dict[int, list[str] | None] = {len(pieces): []}
    for start in range(len(pieces) - 1, -1, -1):
        found[start] = None
        for end in range(start + 1, len(pieces) + 1):
            rest = found[end]
            candidate = ", ".join(pieces[start:end])
            if rest is not None and _choice_code(col, candidate) is not None:
                found[start] = [candidate, *rest]
                break
    return found[0]


def _split_list(col: Column, text: str) -> tuple[list[str], str | None]:
    """The list's elements and the separator used, when it is not « | »."""
    if not _ONLY_SEPARATORS.sub("", text):
        return [], None
    if col.type in ("email", "url"):
        parts = [p for p in _LOOSE_SPLIT.split(text) if p]
        used = next((s for s in (";", ",") if s in text), " ") if "|" not in text else None
        return parts, used if len(parts) > 1 else None
    if "|" in text or ";" in text:
        return [p for p in _MULTI_SPLIT.split(text) if p], ";" if ";" in text else None
    if "," in text:
        if col.type == "multichoice" and _choice_code(col, text) is None:
            known = _known_values_split_by_commas(col, text)
            if known and len(known) > 1:
                return known, ","
        pieces = _COMMA_SPLIT.split(text)
        if col.type == "multichoice" and any(_choice_code(col, p) for p in pieces):
            return pieces, ","  # some known, some not: the report names the unknown ones
        if col.type == "text" and all(_CODE.fullmatch(p) for p in pieces):
            return [p for p in pieces if p], ","
    return ([text] if text.strip() else []), None


def _convert_list(col: Column, text: str) -> Converted:
    parts, separator = _split_list(col, text)
    if not parts:
        if col.required:
            return Converted(text, error="ne contient que des séparateurs : la liste est vide",
                             fix=f"Écrivez au moins une valeur, par exemple « {col.example} ».")
        return Converted(None, warning="ne contient que des séparateurs : la liste a été lue "
                                       "comme vide", fix="Laissez la case vide quand il n'y a "
                                                         "rien à indiquer.")
    notes = [SEPARATOR_WARNINGS[separator]] if separator else []
    fix = SEPARATOR_FIX if separator else None
    if col.type == "multichoice":
        chosen = [_choose_long_label(col, p) for p in parts]
        unknown = [part for part, (code, _note) in zip(parts, chosen) if code == part
                   and _choice_code(col, part) is None]
        if unknown and not col.drop_unknown_choices:
            return _unknown_choices(col, text, unknown)
        if unknown:
            dropped = _unknown_choices(col, text, unknown)
            notes.append(f"{dropped.error} : cette valeur a été ignorée, les autres sont gardées"
                         if len(unknown) == 1 else
                         f"{dropped.error} : ces valeurs ont été ignorées, les autres sont "
                         "gardées")
            fix = dropped.fix
            chosen = [c for part, c in zip(parts, chosen) if part not in unknown]
            if not chosen:
                return Converted(None, warning=" ; ".join(notes), fix=fix)
        parts = [code for code, _note in chosen]
        long_labels = [note for _code, note in chosen if note]
        notes += long_labels
        fix = fix or (LONG_LABEL_FIX if long_labels else None)
    return Converted("|".join(parts), warning=" ; ".join(notes) or None, fix=fix)


LONG_LABEL_FIX = "Rien à faire pour cet envoi ; n'écrivez que le libellé court dans les prochains."


def _near_labels(written: str, labels: dict[str, str]) -> list[str]:
    """The label the partner probably meant: a typing slip, or a label shortened at its end
    (« SUD LABS » for « SUD LABS (PACA) »)."""
    close = difflib.get_close_matches(written, labels, n=1, cutoff=0.8)
    if close or len(written) < 4:
        return close
    return [key for key in labels if key.startswith(written)][:1]


def _unknown_choices(col: Column, text: str, unknown: list[str]) -> Converted:
    """Name the elements that are not in the closed list, and the closest label if one is
    near (a typing slip); the cell stays as written."""
    names = ", ".join(f"« {u} »" for u in unknown)
    labels = {normalize_header(label): label for label in col.choice_labels}
    near = [labels[m] for u in unknown for m in _near_labels(normalize_header(u), labels)]
    hint = f" Vouliez-vous écrire {', '.join(f'« {n} »' for n in near)} ?" if near else ""
    return Converted(text, error=(f"contient {names}, absent de la liste nationale"
                                  if len(unknown) == 1 else
                                  f"contient {names}, absents de la liste nationale"),
                     fix=("Choisissez parmi : " + " ; ".join(col.choice_labels)
                          + ". Séparez plusieurs valeurs par « | »." + hint))


@dataclass
class Converted:
    value: object
    error: str | None = None
    warning: str | None = None
    fix: str | None = None  # what to do, when the generic advice does not fit


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
        return Converted(communes_by_name.get(_normalized(text), text))
    if col.type == "choice":
        return Converted(_choose(col, text))
    if col.multiple:
        return _convert_list(col, text)
    if col.type == "phone":
        return _convert_phone(col, text)
    return Converted(text)


_NUMBER_TYPES = (bool, int, float)


@dataclass
class Distinct:
    """A column through its distinct values: ``codes`` gives each row's index into ``values``
    (the distinct non-blank cells, first seen first), -1 for a blank cell (missing, or only
    spaces). Distinct values compare as Python compares them (1 == 1.0 == True), as a dict
    of cells would."""
    codes: np.ndarray
    values: np.ndarray

    @classmethod
    def of(cls, cells: pd.Series | np.ndarray) -> Distinct:
        codes, values = pd.factorize(np.asarray(cells, dtype=object))
        values = np.asarray(values, dtype=object)
        if isinstance(cells, pd.Series) and cells.dtype == "str":  # CSV: only strings
            blank = np.array([not v or v.isspace() for v in values.tolist()], dtype=bool)
        else:
            blank = np.array([_blank(v) for v in values.tolist()], dtype=bool)
        if blank.any():  # cells of spaces only: blank, like missing ones
            renumber = np.cumsum(~blank) - 1
            renumber[blank] = -1
            codes = np.where(codes < 0, -1, renumber[codes])
            values = values[~blank]
        return cls(codes, values)

    def filled(self) -> np.ndarray:
        return self.codes >= 0

    def rows(self, keep: np.ndarray) -> Distinct:
        return Distinct(self.codes[keep], self.values)

    def take(self, per_value: list, blank: object = None) -> list:
        """``per_value[i]`` for each row holding value i, ``blank`` for blank rows."""
        table = np.empty(len(per_value) + 1, dtype=object)
        table[:-1] = per_value
        table[-1] = blank  # code -1
        return table[self.codes].tolist()


def _as_text(cells: pd.Series) -> Distinct:
    """Text cells as pandas writes them as strings (``astype("string")``), distinct. Numbers
    of several kinds (1, 1.0, True from a workbook or JSON) are told apart first: as text they
    differ."""
    if cells.dtype == object and len({type(v) for v in cells.tolist()} & set(_NUMBER_TYPES)) > 1:
        cells = cells.astype("string")
    found = Distinct.of(cells)
    as_text = pd.array(found.values, dtype="string").to_numpy(dtype=object, na_value=None)
    return Distinct(found.codes, as_text)


_LINE_BREAK = re.compile(r"\s*[\r\n\v\f\u2028\u2029]\s*")
_BREAK_CHARACTER = re.compile(r"[\r\n\v\f\u2028\u2029]")


def _plain_text(cells: pd.Series, found: Distinct, multiline: bool = True) -> list:
    """Single-valued text: trimmed, blanks as None; unless ``multiline``, line breaks inside
    (with the spaces around them) read as one space."""
    found = _as_text(cells) if cells.dtype == object else found
    values = found.values.tolist()
    # One search over the column's distinct texts first: most columns hold no line break.
    if multiline or not _BREAK_CHARACTER.search("\0".join(values)):
        return found.take([value.strip() for value in values])
    return found.take([_LINE_BREAK.sub(" ", value.strip()) for value in values])


def convert_column(col: Column, cells: pd.Series, found: Distinct, lines: list[int],
                   communes_by_name: dict[str, str], problems: list[Problem]
                   ) -> tuple[list, pd.Categorical | None]:
    """The converted values of ``cells`` (``found``: the same cells, distinct), and the cells
    as written where conversion changed them (None when it changed none), so that every
    problem can quote the partner's own writing. Dates, codes and labels repeat: each
    distinct value is converted once, then the results are taken back to the rows."""
    if col.type == "text" and not col.multiple:
        return _plain_text(cells, found, col.multiline), None
    converted = [_convert(col, value, communes_by_name) for value in found.values]
    flagged = [n for n, c in enumerate(converted) if c.error or c.warning]
    if flagged:
        for row in np.flatnonzero(np.isin(found.codes, flagged)):
            code = found.codes[row]
            problems.append(_reading_problem(col, lines[row], found.values[code],
                                             converted[code]))
    return found.take([c.value for c in converted]), _written(found, converted)


def _written(found: Distinct, converted: list[Converted]) -> pd.Categorical | None:
    """The cells as written where conversion changed them, NaN elsewhere; None if none
    changed. Categorical: one small code per row, each distinct text once (bounded memory)."""
    texts: dict[str, int] = {}
    category = np.full(len(converted) + 1, -1, dtype=np.int64)  # the last: blank cells
    for n, (value, c) in enumerate(zip(found.values.tolist(), converted)):
        # Text cells of a CSV (most of them) skip the general formatting.
        text = value.strip() if type(value) is str else as_written(value)
        shown = c.value if type(c.value) is str else canonical_text(c.value)
        if text != shown:
            category[n] = texts.setdefault(text, len(texts))
    if not texts:
        return None
    return pd.Categorical.from_codes(category[found.codes], categories=list(texts))


def _reading_problem(col: Column, line: int, value: object, converted: Converted) -> Problem:
    if converted.error:
        return Problem(line, col.name, as_written(value), f"La valeur {converted.error}.",
                       converted.fix or f"Écrivez un nombre, par exemple {col.example}.")
    return Problem(line, col.name, as_written(value), f"La valeur {converted.warning}.",
                          converted.fix or AS_IS_FIX, "avertissement")
