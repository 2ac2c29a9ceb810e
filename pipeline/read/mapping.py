"""Per-partner mappings: reading a partner's own export layout as the contract.

Some partners export from tools with their own column names, their own labels for closed lists,
their own date format, lists spread over several columns, or opening hours split into one column
per day (or half-day). The territory configuration gives each such partner a mapping, as
expressive as the national cartography's per-source configurations (anct-cartographie-nationale/
mednum-cli), and this module applies it to the raw cells before the contract reads them.
Every option is documented in the header of territory.toml.

Whatever the mapping does not cover is reported, never guessed: a label missing from a value
table, a cell of a term column that matches no term, a day column that cannot be read, a column
the mapping names but the file lacks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime

import pandas as pd

from pipeline.contracts.partner_mapping import OSM_DAYS, Mapping, TermRule, Transform
from pipeline.problems import Problem
from pipeline.read.french_hours import read_week

_SLOT = re.compile(r"(\d{1,2})\s*(?:h|:)\s*(\d{2})?\s*(?:-|–|à|a)\s*(\d{1,2})\s*(?:h|:)\s*(\d{2})?",
                   re.IGNORECASE)
_CLOSED = {"", "ferme", "fermé", "fermée", "closed", "-", "non"}
_HAS_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


MAPPING_ADVICE = ("Signalez-le à l'équipe de l'agglomération, qui complétera la correspondance "
                  "prévue pour vos fichiers.")


# An unreadable day cell is most often a slip in the cell itself (« 07:30:12:30 »,
# « 09:00-12:00-14:00-17:00 »): the partner can fix it; a whole way of writing hours that
# the mapping does not know is for the team.
DAY_HOURS_ADVICE = ("Écrivez les plages du jour comme « 09:00-12:00 / 14:00-17:00 » (un tiret "
                    "entre le début et la fin de chaque plage, une barre « / » entre deux "
                    "plages), ou laissez la case vide si le lieu est fermé ce jour-là. Si toutes "
                    "vos cases d'horaires sont écrites autrement, signalez-le à l'équipe de "
                    "l'agglomération, qui complétera la correspondance prévue pour vos fichiers.")


def _note(line: int | None, column: str, value: str, message: str) -> Problem:
    """What the mapping could not read: a warning, the team completes the mapping."""
    return Problem(line, column, value, message, MAPPING_ADVICE, "avertissement")


# --- applying a mapping -----------------------------------------------------------------------

def _text(value: object) -> str:
    """A cell as text; numbers read from JSON or XLSX lose a spurious ``.0``."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _fold(text: str) -> str:
    """Compare labels without case, accents or repeated spaces."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(plain.casefold().split())


def _items(value: object, separators: str) -> list[str]:
    text = _text(value)
    if not text:
        return []
    return [p.strip() for p in re.split("[" + re.escape(separators) + "]", text) if p.strip()]


def day_slots(text: object) -> str | None:
    """``"9h-12h / 14h-17h30"`` -> ``"09:00-12:00,14:00-17:30"``; ``""`` for closed;
    ``None`` when the cell cannot be read."""
    cell = _text(text)
    if cell.lower() in _CLOSED:
        return ""
    slots = [f"{int(a):02d}:{int(b or 0):02d}-{int(c):02d}:{int(d or 0):02d}"
             for a, b, c, d in _SLOT.findall(cell)]
    leftover = _SLOT.sub("", cell)
    if not slots or re.sub(r"[\s/,;et&+]", "", leftover, flags=re.IGNORECASE):
        return None
    return ",".join(slots)


def _hours(cells: pd.DataFrame, days: dict[str, str], notes: list[Problem],
           lines: list[int]) -> pd.Series:
    """One OpenStreetMap rule per day, whatever the number of columns for that day (morning
    and afternoon): OSM keeps only the last of two rules for the same day, so writing one
    per column would silently drop the mornings."""
    present = [c for c in days if c in cells.columns]
    result = []
    for line, (_, row) in zip(lines, cells[present].iterrows()):
        by_day: dict[str, list[str]] = {}
        readable = True
        for column in present:
            slots = day_slots(row[column])
            if slots is None:
                readable = False
                notes.append(Problem(line, column, _text(row[column]),
                                     "Horaires de ce jour illisibles : la fiche gardera les "
                                     "horaires tels quels.", DAY_HOURS_ADVICE,
                                     "avertissement"))
            elif slots:
                by_day.setdefault(days[column], []).extend(slots.split(","))
        rules = [f"{day} {','.join(sorted(dict.fromkeys(by_day[day])))}"
                 for day in OSM_DAYS if day in by_day]
        result.append("; ".join(rules) if readable else
                      " | ".join(f"{c}: {_text(row[c])}" for c in present if _text(row[c])))
    return pd.Series(result, index=cells.index, dtype=object)


def _terms(cells: pd.DataFrame, rules: tuple[TermRule, ...], separators: str) -> pd.Series:
    columns = sorted({c for rule in rules for c in rule.columns if c in cells.columns})
    folded = [{_fold(t) for t in rule.terms} for rule in rules]
    result = []
    for _, row in cells[columns].iterrows():
        found: list[str] = []
        for rule, terms in zip(rules, folded):
            items = {_fold(i) for c in rule.columns if c in columns
                     for i in _items(row[c], separators)}
            if (items & terms) if terms else items:
                found.append(rule.target)
        result.append("|".join(dict.fromkeys(found)))
    return pd.Series(result, index=cells.index, dtype=object)


def _uncovered_terms(cells: pd.DataFrame, mapping: Mapping, lines: list[int],
                     notes: list[Problem]) -> None:
    """Items of term columns that no rule knows: dropped from the row, so said in the report."""
    known: dict[str, set[str]] = {}
    for rules in mapping.terms.values():
        for rule in rules:
            for column in rule.columns:
                if not rule.terms:
                    known[column] = {"*"}
                elif known.get(column) != {"*"}:
                    known.setdefault(column, set()).update(_fold(t) for t in rule.terms)
    for column, terms in known.items():
        if column not in cells.columns or terms == {"*"}:
            continue
        terms = terms | {_fold(t) for t in mapping.ignored_terms.get(column, ())}
        # Items the same column also hands to another contract column through [columns] and
        # that column's value table are taken there, not lost.
        terms |= {_fold(label) for target in mapping.columns.get(column, ())
                  for label, value in mapping.values.get(target, {}).items() if value}
        for line, value in zip(lines, cells[column].tolist()):
            for item in _items(value, mapping.list_separators):
                if _fold(item) not in terms:
                    notes.append(_note(line, column, item,
                                       "Valeur absente de votre table de correspondance : "
                                       "elle n'a pas été reprise."))


def _join(cells: pd.DataFrame, sources: tuple[str, ...], as_list: bool) -> pd.Series:
    present = [c for c in sources if c in cells.columns]
    glue = "|" if as_list else " "
    return cells[present].apply(
        lambda row: glue.join(dict.fromkeys(t for t in map(_text, row) if t)),
        axis=1, result_type="reduce").astype(object) if present else \
        pd.Series([""] * len(cells), index=cells.index, dtype=object)


def _cell_items(value: object, transform: Transform | None, separators: str | None) -> list[str]:
    """The items of a cell: split on the partner's own separator, on the list separators for
    a list column, or the whole cell for a single value."""
    text = _text(value)
    if transform and transform.split:
        return [p.strip() for p in text.split(transform.split) if p.strip()]
    return _items(text, separators) if separators else ([text] if text else [])


def _transform_cell(value: object, transform: Transform | None, table: dict[str, str] | None,
                    separators: str | None) -> object:
    """Translate and transform each item of a cell (the whole cell for single values)."""
    if not _text(value):
        return value
    out = []
    for item in _cell_items(value, transform, separators):
        item = (table or {}).get(item, item)
        if transform and transform.zero_pad and item.isdigit():
            item = item.zfill(transform.zero_pad)
        if transform and transform.add_scheme and not _HAS_SCHEME.match(item):
            item = transform.add_scheme + item
        if item:  # a value table may map a label to "" to drop it
            out.append(item)
    return "|".join(out)


def _check_values(out: pd.DataFrame, column: str, table: dict[str, str],
                  transform: Transform | None, separators: str | None, lines: list[int],
                  notes: list[Problem]) -> None:
    known = set(table) | set(table.values())
    for line, value in zip(lines, out[column].tolist()):
        for part in _cell_items(value, transform, separators):
            if part not in known:
                notes.append(_note(line, column, part,
                                   "Valeur absente de votre table de correspondance."))


def _missing_sources(cells: pd.DataFrame, mapping: Mapping, notes: list[Problem]) -> None:
    declared = (set(mapping.hours_by_day) | {c for s in mapping.join.values() for c in s}
                | ({mapping.hours_text} if mapping.hours_text else set())
                | {c for rules in mapping.terms.values() for r in rules for c in r.columns})
    for column in sorted(declared - set(cells.columns)):
        notes.append(_note(None, column, "", "Cette colonne prévue par la correspondance "
                                             "est absente du fichier."))


def _adopt(out: pd.DataFrame, column: str,
           recognise: Callable[[str], str | None] | None = None) -> pd.DataFrame:
    """A file column already headed as the contract column ("Code postal" for
    ``code_postal``), or with a header the contract reads as that column (``recognise``: one
    of its aliases, « mail » for ``courriels``), is the one that values, transforms and
    defaults act on: otherwise they would silently miss the column the contract then reads."""
    if column in out.columns:
        return out
    same = [c for c in out.columns if _fold(re.sub(r"[^\w]+", " ", str(c))).replace(" ", "_")
            == column]
    if not same and recognise is not None:
        same = [c for c in out.columns if recognise(str(c)) == column]
    return out.rename(columns={same[0]: column}) if len(same) == 1 else out


def apply_mapping(cells: pd.DataFrame, mapping: Mapping | None, date_columns: set[str],
                  list_columns: set[str] = frozenset(), file_date: date | None = None,
                  closed_columns: set[str] | None = None,
                  lines: list[int] | None = None,
                  recognise: Callable[[str], str | None] | None = None,
                  ) -> tuple[pd.DataFrame, list[Problem]]:
    """The partner's cells laid out as the contract's columns, and what the mapping could not
    cover. ``list_columns`` are the contract's multi-valued columns, ``closed_columns`` those
    with a closed list of values (labels missing from their value table are reported; None:
    every column with a value table); ``file_date`` fills the columns of ``file_date``;
    ``lines`` are the spreadsheet lines of the rows; ``recognise`` the contract column a file
    header is read as (None: none), so that a column headed by an alias gets its values,
    transforms and defaults."""
    if mapping is None:
        return cells, []
    closed_columns = set(mapping.values) if closed_columns is None else closed_columns
    lines = lines if lines is not None else list(range(2, 2 + len(cells)))
    blank = cells.map(_text).eq("").all(axis=1) if len(cells.columns) else \
        pd.Series(True, index=cells.index)
    notes: list[Problem] = []
    _missing_sources(cells, mapping, notes)
    produced = _produce(cells, mapping, list_columns, lines, notes)
    _uncovered_terms(cells, mapping, lines, notes)
    kept = cells.drop(columns=[c for c in cells.columns
                               if c in produced or (c in mapping.source_columns()
                                                    and not _still_read(c, mapping, produced,
                                                                        recognise))])
    out = pd.concat([kept, pd.DataFrame(produced, index=cells.index)], axis=1)
    for column in (set(mapping.values) | set(mapping.transforms) | set(mapping.defaults)
                   | set(mapping.file_date)):
        out = _adopt(out, column, recognise)
    _translate(out, mapping, list_columns, closed_columns, lines, notes)
    _fill(out, mapping, file_date)
    if mapping.date_format:
        for column in date_columns & set(out.columns):
            out[column] = out[column].map(lambda v: _reformat_date(v, mapping.date_format))
    # Rows left empty by spreadsheets stay empty (and skipped), whatever constants fill.
    out.loc[blank, :] = ""
    return out, notes


def _still_read(header: str, mapping: Mapping, produced: dict[str, pd.Series],
                recognise: Callable[[str], str | None] | None) -> bool:
    """A column the mapping only reads into others ([join], [terms], hours) that is also
    headed as a contract column (« nom » joined into an id) still feeds that column, unless
    the mapping renames it, ignores it or fills that column another way."""
    if recognise is None or header in mapping.columns or header in mapping.ignore_columns:
        return False
    target = recognise(str(header))
    renamed = {t for targets in mapping.columns.values() for t in targets}
    return target is not None and target not in produced and target not in renamed


def _produce(cells: pd.DataFrame, mapping: Mapping, list_columns: set[str], lines: list[int],
             notes: list[Problem]) -> dict[str, pd.Series]:
    """The contract columns made from the partner's columns: renamed, hours, joined, terms."""
    produced: dict[str, pd.Series] = {}
    for source, targets in mapping.columns.items():
        if source in cells.columns:
            for target in targets:
                produced[target] = cells[source]
    if mapping.hours_by_day:
        produced["horaires"] = _hours(cells, mapping.hours_by_day, notes, lines)
    if mapping.hours_text in cells.columns:
        # Read only when every word is understood; otherwise kept as written (and the
        # report says the hours are shown as given).
        produced["horaires"] = cells[mapping.hours_text].map(
            lambda v: read_week(v) or _text(v)).astype(object)
    for target, sources in mapping.join.items():
        produced[target] = _join(cells, sources, target in list_columns)
    for target, rules in mapping.terms.items():
        produced[target] = _terms(cells, rules, mapping.list_separators)
    return produced


def _translate(out: pd.DataFrame, mapping: Mapping, list_columns: set[str],
               closed_columns: set[str], lines: list[int], notes: list[Problem]) -> None:
    """Value tables and transforms, item by item, on the contract columns (in place)."""
    for column in set(mapping.values) | set(mapping.transforms):
        if column not in out.columns:
            continue
        transform, table = mapping.transforms.get(column), mapping.values.get(column)
        separators = mapping.list_separators if column in list_columns else None
        if table and column in closed_columns:
            _check_values(out, column, table, transform, separators, lines, notes)
        out[column] = out[column].map(lambda v, t=transform, m=table,
                                      s=separators: _transform_cell(v, t, m, s))


def _fill(out: pd.DataFrame, mapping: Mapping, file_date: date | None) -> None:
    """Constants everywhere, then defaults and the file's date where the file left a gap."""
    for column, value in mapping.constants.items():
        out[column] = value
    fills = dict(mapping.defaults)
    if file_date is not None:
        fills.update({column: file_date.isoformat() for column in mapping.file_date})
    for column, value in fills.items():
        current = out[column] if column in out.columns else pd.Series("", index=out.index)
        out[column] = current.map(lambda v, d=value: d if not _text(v) else v).astype(object)


def _reformat_date(value: object, date_format: str) -> object:
    if not isinstance(value, str) or not value.strip():
        return value
    try:
        return datetime.strptime(value.strip(), date_format).date().isoformat()
    except ValueError:
        return value  # validation will quote it back
