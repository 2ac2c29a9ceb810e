"""Files larger than one chunk: read, validated and loaded a chunk at a time.

A file of up to ``chunk_rows()`` rows is read whole and validated with the rest of its batch
(one Great Expectations run for many small files). A larger file held whole cost about 25 times
its size in memory (a 200 MB CSV peaked at 5.5 GB: the text, the raw cells, their stripped
copy, the converted frame, the GX batch, the rows to insert). Such a file goes through here:

1. ``LargeFile.validate``, just before the file's own load: each chunk is read, mapped,
   converted into the contract, screened for personal data, validated by the suite and
   cross-checked against the warehouse; while no error is found its converted rows are
   spilled to a temporary folder. Problems keep their spreadsheet lines; per rule only the
   first ``MAX_DETAILS_PER_RULE`` are kept in detail, the others counted. Keys must be unique
   in the whole file, not only in a chunk: earlier chunks' keys are kept as 64-bit hashes.
2. ``LargeFile.load``, inside the file's one transaction, when the file is accepted: the spilled
   chunks are inserted one after the other. A rejected file loads nothing, whichever chunk
   held its error.

The report is the one the whole file would get: problems come out in the order the one-piece
path gives them (mapping notes, reading, missing columns, suite rules in suite order, cross-checks),
each rule's lines in ascending order.
"""

from __future__ import annotations

import pickle
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.check import results
from pipeline.check.crosschecks import run_cross_checks
from pipeline.check.validation import (LINE_COLUMN, file_problems, quote_as_written, rule_order,
                                       uniqueness_rule, validate_chunk)
from pipeline.contracts.model import Contract, normalize_header
from pipeline.contracts.partner_mapping import Mapping
from pipeline.load import warehouse
from pipeline.problems import MAX_DETAILS_PER_RULE, Problem
from pipeline.read.mapping import apply_mapping
from pipeline.read.privacy import personal_values
from pipeline.read.reading import (CellChunk, CellSource, ReadResult, header_lookup,
                                   read_cells_into_contract)

# Where each kind of problem comes in a report, as in the one-piece path.
NOTES, READING, FILE, SUITE, CROSS, PERSONAL = range(6)


@dataclass
class FirstLook:
    """The first chunk of a file, enough to recognise it; ``more`` when others follow."""
    source: CellSource
    chunk: CellChunk
    more: bool


def first_look(source: CellSource) -> FirstLook:
    chunks = source.chunks()
    try:
        first = next(chunks)
        more = next(chunks, None) is not None
    finally:
        chunks.close()  # closes the CSV reader or the workbook
    return FirstLook(source, first, more)


def mapped(cells: pd.DataFrame, mapping: Mapping | None, contract: Contract, file_date: date,
           first_line: int) -> tuple[pd.DataFrame, list[Problem]]:
    """``apply_mapping`` on a chunk, its notes carrying the lines of the whole file."""
    if mapping is None:
        return cells, []
    columns = contract.columns
    return apply_mapping(cells, mapping, {c.name for c in columns if c.type == "date"},
                         {c.name for c in columns if c.multiple}, file_date,
                         {c.name for c in columns if c.choices},
                         lines=list(range(first_line, first_line + len(cells))),
                         recognise=lambda header: header_lookup(contract).get(
                             normalize_header(header)))


@dataclass
class _Group:
    """The problems of one rule as a report lists them (severity, column, rule, fix)."""
    place: tuple[int, int]  # (kind of problem, rank within it): the one-piece path's order
    items: list[Problem] = field(default_factory=list)
    more: int = 0  # problems beyond those kept in detail

    def trim(self) -> None:
        self.items.sort(key=_line)
        self.more += max(0, len(self.items) - MAX_DETAILS_PER_RULE)
        del self.items[MAX_DETAILS_PER_RULE:]


class _Tally:
    """Problems grouped as a report groups them, each group ordered by line, at most
    ``MAX_DETAILS_PER_RULE`` kept in detail: a file with a bad cell on each of its millions of
    rows must not hold millions of problems."""

    def __init__(self) -> None:
        self.groups: dict[tuple[str, str, str, str], _Group] = {}

    def add(self, category: int, rank: int, problems: list[Problem]) -> None:
        for problem in problems:
            key = (problem.severity, problem.column, problem.rule, problem.fix)
            group = self.groups.setdefault(key, _Group((category, rank)))
            if problem.line is None and any(p.line is None for p in group.items):
                continue  # a rule failing on the whole file, once per chunk: report it once
            group.items.append(problem)
            if len(group.items) > 4 * MAX_DETAILS_PER_RULE:
                group.trim()

    def errors(self) -> bool:
        return any(key[0] == "erreur" for key in self.groups)

    def problems(self) -> list[Problem]:
        """Groups in the one-piece path's order; a group's undetailed rest as one problem
        standing for ``count`` lines (the report counts them, lists none)."""
        for group in self.groups.values():
            group.trim()
        out: list[Problem] = []
        ordered = sorted(self.groups.items(), key=lambda item: (
            item[1].place, _line(item[1].items[0]) if item[1].items else -1))
        for (severity, column, rule, fix), group in ordered:
            out += group.items
            if group.more:
                out.append(Problem(None, column, "", rule, fix, severity, count=group.more))
        return out


def _line(problem: Problem) -> int:
    return -1 if problem.line is None else problem.line


class _SeenKeys:
    """Keys of the chunks already validated, as sorted 64-bit hashes with their first line
    (24 MB for 3 million keys), to report a key repeated across chunks as the suite would
    have: every line holding it."""

    def __init__(self, rule: Problem | None, key: str) -> None:
        self.rule, self.key = rule, key
        self.hashes = np.empty(0, dtype=np.uint64)
        self.lines = np.empty(0, dtype=np.int64)
        self.reported: set[int] = set()

    def repeated(self, frame: pd.DataFrame, suite: list[Problem]) -> list[Problem]:
        if self.rule is None or frame.empty:
            return []
        rule = self.rule
        self.reported |= {p.line for p in suite if (p.column, p.rule) == (rule.column, rule.rule)}
        present = frame[frame[self.key].notna()]  # the suite ignores rows without a key
        values = present[self.key].astype(str).to_numpy(dtype=object)
        lines = present[LINE_COLUMN].to_numpy(dtype=np.int64)
        hashes = pd.util.hash_array(values)
        found = []
        if len(self.hashes):
            places = np.minimum(np.searchsorted(self.hashes, hashes), len(self.hashes) - 1)
            for row in np.flatnonzero(self.hashes[places] == hashes):
                for line in (int(self.lines[places[row]]), int(lines[row])):
                    if line not in self.reported:
                        self.reported.add(line)
                        found.append(Problem(line, rule.column, values[row], rule.rule,
                                             rule.fix, rule.severity))
        self._remember(hashes, lines)
        return found

    def _remember(self, hashes: np.ndarray, lines: np.ndarray) -> None:
        """Add the chunk's new keys (their first line), keeping the arrays sorted: a merge,
        not a sort of millions of hashes per chunk."""
        new, first = np.unique(hashes, return_index=True)
        places = np.searchsorted(self.hashes, new)
        if len(self.hashes):
            unseen = self.hashes[np.minimum(places, len(self.hashes) - 1)] != new
            new, first, places = new[unseen], first[unseen], places[unseen]
        self.hashes = np.insert(self.hashes, places, new)
        self.lines = np.insert(self.lines, places, lines[first])


@dataclass
class LargeFile:
    """A file read a chunk at a time (see the module's docstring)."""
    source: CellSource
    contract: Contract
    partner: str
    partner_communes: list[str]
    communes_by_name: dict[str, str]
    mapping: Mapping | None
    file_date: date
    # Rows' communes found from names and postal codes (venues), with a problem for each row
    # that cannot be placed.
    place: Callable[[pd.DataFrame], list[Problem]]
    rows: int = 0
    unknown_columns: list[str] = field(default_factory=list)
    # The suite's result on the whole file, once every chunk was validated (None before, and
    # when personal data stopped the validation).
    validation: results.ValidationResult | None = None
    _spill: tempfile.TemporaryDirectory | None = None
    _spilled: list[Path] = field(default_factory=list)

    def validate(self) -> list[Problem]:
        """Every chunk read and checked; returns the file's problems (see the docstring)."""
        contract, tally, leaks = self.contract, _Tally(), _Tally()
        keys = _SeenKeys(uniqueness_rule(contract.dataset), contract.key)
        self.rows, self._spilled = 0, []
        self.validation, suite_counts = None, Counter()
        missing: list[str] = []
        for number, read, notes in self._reads():
            self.rows += len(read.frame)
            if number == 0:
                missing, self.unknown_columns = read.missing_columns, read.unknown_columns
                tally.add(FILE, 0, [p for p in file_problems(read) if p.line is None
                                    and p.column in missing])
            found = personal_values(read.frame, contract.dataset, self._text_columns())
            if found or leaks.groups:  # the file is refused for personal data: only that counts
                for problem in found:
                    leaks.add(PERSONAL, self._text_columns().index(problem.column), [problem])
                continue
            suite_counts.update(self._check(read, notes, missing, tally, keys))
            if not tally.errors():
                self._keep(read.frame)
        if leaks.groups:
            self.close()
            return leaks.problems()
        if not self.rows:
            tally.add(FILE, 1, [p for p in file_problems(ReadResult(pd.DataFrame()))
                                if not p.column])
        else:
            self.validation = results.summarise(contract.dataset, suite_counts)
        if tally.errors():
            self.close()
        return tally.problems()

    def _reads(self) -> Iterator[tuple[int, ReadResult, list[Problem]]]:
        for number, chunk in enumerate(self.source.chunks()):
            cells, notes = mapped(chunk.cells, self.mapping, self.contract, self.file_date,
                                  chunk.first_line)
            read = read_cells_into_contract(cells, self.contract, self.communes_by_name,
                                            first_line=chunk.first_line)
            read.problems += self.place(read.frame)
            yield number, read, notes

    def _text_columns(self) -> list[str]:
        return [c.name for c in self.contract.columns if c.type == "text"]

    def _check(self, read: ReadResult, notes: list[Problem], missing: list[str],
               tally: _Tally, keys: _SeenKeys) -> Counter[results.RuleKey]:
        """Tallies the chunk's problems; returns the suite's, counted by rule."""
        contract = self.contract
        columns = {name: number for number, name in enumerate(contract.column_names)}
        hours = set(self.mapping.hours_by_day) if self.mapping else set()
        value_columns = list(self.mapping.values) if self.mapping else []
        for problem in notes:
            rank = 0 if problem.column in hours else 1 + (value_columns.index(problem.column)
                                                          if problem.column in value_columns else 0)
            tally.add(NOTES, rank, [problem])
        read.missing_columns = missing  # a chunk's own view is the header's: the same
        reading, suite = validate_chunk(read, contract, self.partner, self.partner_communes)
        for problem in reading:
            tally.add(READING, columns.get(problem.column, len(columns)), [problem])
        order = rule_order(contract.dataset)
        suite += keys.repeated(read.frame, suite)
        for problem in suite:
            tally.add(SUITE, order.get((problem.column, problem.rule, problem.fix), len(order)),
                      [problem])
        if not read.frame.empty and not missing:
            checks = {check.message: number for number, check in enumerate(contract.cross_checks)}
            for problem in quote_as_written(read, run_cross_checks(contract, read.frame,
                                                                   self.partner)):
                tally.add(CROSS, checks.get(problem.rule, len(checks)), [problem])
        return results.tally(suite)

    def _keep(self, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        if self._spill is None:
            self._spill = tempfile.TemporaryDirectory(prefix="inclusion-morceaux-")
        path = Path(self._spill.name) / f"{len(self._spilled):06d}.pickle"
        with path.open("wb") as handle:
            pickle.dump(frame, handle, protocol=pickle.HIGHEST_PROTOCOL)
        self._spilled.append(path)

    def load(self, connection, sha256: str, received_at: str) -> int:
        """Within the caller's transaction, insert every validated chunk; rows inserted."""
        inserted = 0
        # Keys are unique in the file: only rows from before it can be superseded.
        had_rows = warehouse.partner_rows(connection, self.contract, self.partner)
        for path in self._spilled:
            with path.open("rb") as handle:
                frame = pickle.load(handle)  # our own file, written by _keep just before
            inserted += warehouse.supersede_and_insert(connection, self.contract, self.partner,
                                                       sha256, received_at, frame, had_rows)
        return inserted

    def close(self) -> None:
        if self._spill is not None:
            self._spill.cleanup()
        self._spill, self._spilled = None, []
