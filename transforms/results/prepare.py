"""Typed rows per published dataset, as the indicators read them: numbers as numbers, the
commune in ``COMMUNE`` whatever the contract calls it, the calendar year of the contract's date
column in ``annee``, the rows of the datasets that complete it joined in (the refurbisher's
sorting on its pickup), and the columns the catalogue derives once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

import pandas as pd

from pipeline.contracts.datasets import CONTRACTS
from pipeline.contracts.model import Contract
from transforms.catalogue import DATASETS
from transforms.memo import ResultsMemo, dataset_versions

T = TypeVar("T")

# The prepared frames' commune column (the code of the tables' rows).
COMMUNE = "commune"
# Datasets placed in calendar years by their date, and those published as they stand today.
DATED = tuple(d for d, published in DATASETS.items() if published.date_column)
SNAPSHOTS = tuple(d for d, published in DATASETS.items() if not published.date_column)


def inputs_of(dataset: str) -> tuple[str, ...]:
    """The tables a dataset's prepared rows come from: its own, then those completing it."""
    return (dataset,) + tuple(c.dataset for c in CONTRACTS.values() if c.completes == dataset)


def inputs_version(dataset: str, versions: dict[str, str]) -> str:
    """The version of everything a dataset's prepared rows are made from ("-": no file)."""
    names = inputs_of(dataset) + tuple(name for name, _ in DATASETS[dataset].also_reads)
    return "+".join(versions.get(name, "-") for name in names)


def _source(frames, name: str) -> pd.DataFrame:
    try:
        return frames[name]  # a lazy mapping reads the table here
    except KeyError:
        return pd.DataFrame()


def _distinct(frames, name: str, column: str) -> set:
    """The distinct values of another table's column: one query when the frames come from the
    warehouse, so the largest table is not read for a few values."""
    if hasattr(frames, "distinct"):
        return frames.distinct(name, column)
    rows = _source(frames, name)
    return set(rows[column].dropna()) if column in rows else set()


def file_counts(frames, name: str, columns: tuple[str, ...],
                year_of: str | None = None) -> pd.DataFrame:
    """Current rows per source file (``partner``, ``source_sha256``) and value of ``columns``
    (and calendar year of ``year_of``, ``annee``), in ``lignes``: counted by the database when
    the frames come from the warehouse, so the largest table is not read for it; grouped here
    otherwise (frames without their source columns give none)."""
    if hasattr(frames, "file_counts"):
        return frames.file_counts(name, columns, year_of)
    rows = _source(frames, name)
    keys = ["partner", "source_sha256", *columns]
    if rows.empty or not set(keys) <= set(rows.columns):
        return pd.DataFrame(columns=keys + (["annee"] if year_of else []) + ["lignes"])
    if year_of:
        rows = rows.assign(annee=pd.to_numeric(rows[year_of].astype(str).str.slice(0, 4),
                                               errors="coerce"))
        keys.append("annee")
    return rows.groupby(keys, sort=False).size().reset_index(name="lignes")


def _typed(frames, dataset: str) -> pd.DataFrame:
    """The dataset's rows, its contract's integer and decimal columns as numbers."""
    frame = _source(frames, dataset).copy()
    for column in CONTRACTS[dataset].numeric_columns:
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def _join(frame: pd.DataFrame, completing: Contract, rows: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the sums of ``completing``'s counts per key (empty when none arrived)."""
    counts = list(completing.numeric_columns)
    if rows.empty:
        return frame.assign(**{column: float("nan") for column in counts})
    sums = rows.groupby(completing.key, as_index=False)[counts].sum(min_count=1)
    return frame.merge(sums, how="left", on=completing.key)


def prepare(dataset: str, frames) -> pd.DataFrame:
    frame = _typed(frames, dataset)
    if frame.empty:
        return frame
    for other in inputs_of(dataset)[1:]:
        frame = _join(frame, CONTRACTS[other], _typed(frames, other))
    published = DATASETS[dataset]
    if published.derived:
        other = {(name, column): _distinct(frames, name, column)
                 for name, column in published.also_reads}
        frame = frame.assign(**published.derived(frame, other))
    commune = published.contract.commune_column
    if commune and commune != COMMUNE:
        frame[COMMUNE] = frame[commune]
    if published.date_column:
        frame["annee"] = frame[published.date_column].astype(str).str.slice(0, 4).astype(int)
    return frame


class Prepared(dict):
    """Current rows per dataset -> prepared frames (``prepare``), each prepared (and its table
    read) on first use only. With ``communes``, rows whose commune is unknown or outside the
    territory are left out: they count in no commune, and the territory's totals stay the sum
    of its communes."""

    def __init__(self, frames, communes: dict[str, str] | None = None) -> None:
        super().__init__()
        self.frames = frames
        self.communes = communes

    def __missing__(self, dataset: str) -> pd.DataFrame:
        frame = prepare(dataset, self.frames)
        if self.communes is not None and not frame.empty:
            frame = frame[frame[COMMUNE].isin(self.communes)]
        self[dataset] = frame
        return frame


def shared_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each text column's equal values held as one string object: the same
    values and dtypes. The driver makes a new string for every cell: 2,000,000 passes' six
    columns are 12 million strings (about 600 MB) holding some 230,000 distinct values. Every
    value kept is a copy, so that all the driver's strings are freed together and their memory
    can go back to the system (strings kept here and there would hold most of it)."""
    for name in frame.columns:
        column = frame[name]
        if column.dtype == object:  # e.g. a column without any value: it may be a view of
            frame[name] = column.copy()  # the driver's rows as one array, holding every cell
        if not isinstance(column.dtype, pd.StringDtype) or column.empty:
            continue
        codes, uniques = pd.factorize(column)
        fresh = pd.array([value.encode().decode() for value in uniques], dtype=column.dtype)
        frame[name] = pd.Series(fresh.take(codes, allow_fill=True), index=frame.index)
    return frame


class WarehouseTables(dict):
    """Each table's current rows, read from the warehouse on first use only (with only the
    columns the catalogue uses when it says which), equal strings shared (``shared_text``).
    One instance may serve a whole build: the site data and the results read the same
    tables.

    With a ``memo`` and the datasets' ``versions`` (``remembering_tables``), what the database
    counts (``file_counts``) or lists (``distinct``) over a dataset that has not changed since
    the last build is read back instead of queried again: a new workshop file no longer
    scans the 2,000,000 passes twice (their prescribers and their redemption venues)."""

    def __init__(self, memo: ResultsMemo | None = None,
                 versions: dict[str, str] | None = None) -> None:
        super().__init__()
        self.memo = memo if memo is not None else ResultsMemo(None)
        self.versions = versions or {}

    def _remembered(self, key: tuple, name: str, compute: Callable[[], T]) -> T:
        version = self.versions.get(name)
        if version is None:  # no accepted file: nothing to key it on (and nothing to count)
            return compute()
        return self.memo.get((*key, version), compute)

    def remember(self, key: tuple, names: tuple[str, ...], compute: Callable[[], T]) -> T:
        """A value made from the datasets ``names`` alone (and the code of
        ``memo.COMPUTING_SOURCES``), read back while none of them has a new file: the 30,000
        venue views do not change with a workshop file. Computed when one of them has no
        accepted file in the ledger: nothing to key it on."""
        versions = tuple(self.versions.get(name) for name in names)
        if None in versions:
            return compute()
        return self.memo.get((*key, *versions), compute)

    def __missing__(self, name: str) -> pd.DataFrame:
        from pipeline.load import warehouse

        published = DATASETS.get(name)
        frame = self[name] = shared_text(warehouse.current_rows(
            name, published.read_columns if published else None))
        return frame

    def distinct(self, name: str, column: str) -> set:
        from pipeline.load import warehouse

        return self._remembered(("distinct", name, column), name,
                                lambda: warehouse.distinct_current(name, column))

    def file_counts(self, name: str, columns: tuple[str, ...],
                    year_of: str | None = None) -> pd.DataFrame:
        from pipeline.load import warehouse

        return self._remembered(("file_counts", name, columns, year_of), name,
                                lambda: warehouse.current_counts(name, columns, year_of))


def remembering_tables(root: Path, entries: Iterable) -> WarehouseTables:
    """A build's tables whose counts and distinct values are kept in ``<root>/cache/entrepot``
    from one build to the next, keyed on each dataset's accepted files (``entries``: the
    ledger's) and the code (``memo.COMPUTING_SOURCES``, the warehouse's queries included).
    The caller prunes ``tables.memo`` once the build has asked everything."""
    return WarehouseTables(ResultsMemo(root / "cache" / "entrepot"), dataset_versions(entries))
