"""Screening one file on its own: size, dataset, reading into its contract, personal data.

Everything here needs no other file and writes nothing; what the batch's validation and the
file's load need comes back as an ``Examination``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from pipeline.check.results import ValidationResult
from pipeline.chunks import FirstLook, LargeFile, first_look, mapped
from pipeline.config import Partner, Territory
from pipeline.contracts.datasets import CONTRACTS, contract_for
from pipeline.contracts.model import Contract
from pipeline.contracts.partner_mapping import Mapping
from pipeline.problems import Problem, file_problem
from pipeline.read.places import place_rows
from pipeline.read.privacy import PRIVACY_ADVICE, personal_headers, personal_values
from pipeline.read.reading import ReadResult, map_headers, open_cells, read_cells_into_contract
from pipeline.read.unreadable import UnreadableFile
from pipeline.receive.filing import SPLIT_ADVICE, detect_dataset, not_allowed, oversize_reason
from pipeline.stages import stage

ASK_STEWARD = ("Vérifiez que vous avez déposé le bon fichier ; sinon, contactez l'équipe de "
               "l'agglomération pour faire évoluer votre convention.")
RETRY = "Déposez à nouveau le fichier une fois corrigé."


@dataclass
class Examination:
    dataset: str
    frame: pd.DataFrame | None = None
    problems: list[Problem] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    # Set once the file is read into its contract and can go on to validation.
    read: ReadResult | None = None
    contract: Contract | None = None
    notes: list[Problem] = field(default_factory=list)  # partner-mapping warnings
    # Set instead of ``read`` for a file of more than one chunk: validated on its own,
    # a chunk at a time, just before its load (pipeline.chunks).
    large: LargeFile | None = None
    # The Great Expectations suite's result on this file, once it ran (kept for stewards).
    validation: ValidationResult | None = None
    # Contract column -> the header the partner's file gives it, where they differ (« mail »
    # for courriels, « commentaire » renamed by a mapping): reports name the partner's column.
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        if self.large is not None:
            return self.large.rows
        return 0 if self.frame is None else len(self.frame)


def refused(dataset: str, rule: str, fix: str) -> Examination:
    """A file that goes no further: its one problem is about the whole file."""
    return Examination(dataset, problems=[file_problem(rule, fix)])


def dataset_from_headers(headers: list[str], allowed: tuple[str, ...]) -> tuple[str | None, int]:
    """The contract whose columns the headers match best, and how many they match."""
    best, best_score = None, 0
    for dataset, contract in CONTRACTS.items():
        score = len(map_headers(headers, contract)[0])
        if score > best_score or (score == best_score and dataset in allowed):
            best, best_score = dataset, score
    return best, best_score


def screen(path: Path, partner: Partner, territory: Territory) -> Examination:
    """Everything about one file that needs no other file: size, dataset, reading, privacy."""
    fallback = partner.datasets[0] if partner.datasets else "inconnu"
    too_big = oversize_reason(path)
    if too_big:
        return refused(fallback, too_big, SPLIT_ADVICE)
    dataset, refusal = detect_dataset(partner, path)
    if refusal:
        return refused(fallback, refusal, ASK_STEWARD)
    with stage("read", file=path.name) as measured:
        exam = _read(path, partner, territory, dataset, fallback)
        measured["rows"] = exam.rows
    return exam


@dataclass
class _Recognised:
    """The dataset a file turned out to hold, or why it is refused."""
    dataset: str
    refusal: Examination | None = None


def _recognise(headers: list[str], partner: Partner, named: str | None,
               fallback: str) -> _Recognised:
    """The dataset from the name when it says, checked against the headers; else from the
    headers alone. A file whose headers are another dataset's, one the partner may not send,
    is refused rather than read as the wrong thing."""
    by_header, score = dataset_from_headers(headers, partner.datasets)
    if named is None:
        if by_header not in partner.datasets or score == 0:
            return _Recognised(fallback, refused(
                fallback, "Le type de données du fichier n'a pas été reconnu.",
                "Mettez le nom des données dans le nom du fichier, par exemple "
                + " ou ".join(f"« {d}_2026.csv »" for d in partner.datasets) + "."))
        return _Recognised(by_header)
    if by_header not in partner.datasets and \
            score > len(map_headers(headers, contract_for(named))[0]):
        return _Recognised(named, refused(named, not_allowed(by_header), ASK_STEWARD))
    return _Recognised(named)


def _personal_columns(headers: list[str], dataset: str) -> Examination | None:
    personal = personal_headers(headers, dataset)
    if not personal:
        return None
    return refused(dataset, "Le fichier contient des colonnes de données personnelles : "
                   + ", ".join(f"« {h} »" for h in personal)
                   + ". Il a été refusé et mis à l'écart.", PRIVACY_ADVICE)


def _read(path: Path, partner: Partner, territory: Territory, named: str | None,
          fallback: str) -> Examination:
    """Reading, dataset recognition and the privacy screen. A file that can go on to
    validation comes back with ``read`` (or ``large``) and ``contract`` set; otherwise with
    its ``problems``."""
    try:  # the first chunk only: a large file is read in full later, a chunk at a time
        look = first_look(open_cells(path, named or fallback))
    except UnreadableFile as exc:
        return refused(named or fallback, str(exc), RETRY)
    file_date = file_date_of(path, territory)
    cells, notes = mapped(look.chunk.cells, partner.mapping, contract_for(named or fallback),
                          file_date, look.chunk.first_line)
    headers = [str(h) for h in cells.columns]
    recognised = _recognise(headers, partner, named, fallback)
    if recognised.refusal is not None:
        return recognised.refusal
    dataset = recognised.dataset
    refusal = _personal_columns(headers, dataset)
    if refusal is not None:
        return refusal
    contract = contract_for(dataset)
    exam = _read_contract(look, cells, contract, partner, territory, notes, file_date)
    exam.headers = partner_headers([str(h) for h in look.chunk.cells.columns], partner.mapping,
                                   contract)
    return exam


def partner_headers(headers: list[str], mapping: Mapping | None,
                    contract: Contract) -> dict[str, str]:
    """Contract column -> the partner's own header for it, where they differ: renamed by the
    mapping (one header to one column), or a header the contract reads as the column (an
    alias). Columns built from several headers (hours by day, joins, terms) keep their name."""
    renamed = dict(mapping.columns) if mapping is not None else {}
    sources = mapping.source_columns() if mapping is not None else set()
    names: dict[str, str] = {}
    for header, targets in renamed.items():
        if header in headers and len(targets) == 1:
            names.setdefault(targets[0], header)
    recognised, _ = map_headers([h for h in headers if h not in sources], contract)
    for header, target in recognised.items():
        names.setdefault(target, header)
    return {column: header for column, header in names.items() if header != column}


def _read_contract(look: FirstLook, cells: pd.DataFrame, contract: Contract, partner: Partner,
                   territory: Territory, notes: list[Problem], file_date: date) -> Examination:
    """The file read into ``contract``: now when it is one chunk, a chunk at a time later."""
    # Venues are placed by pipeline.read.places (names, former names and postal codes); the exact
    # name lookup would place a row whose postal code contradicts its name.
    communes = {} if contract.commune_name_column else territory.insee_by_name
    if look.more:
        return Examination(contract.dataset, contract=contract, large=LargeFile(
            look.source, contract, partner.id, territory.partner_communes(partner), communes,
            partner.mapping, file_date=file_date,
            place=lambda frame: place_rows(frame, contract, territory)))
    return _read_whole(look, cells, contract, communes, territory, notes)


def _read_whole(look: FirstLook, cells: pd.DataFrame, contract: Contract,
                communes: dict[str, str], territory: Territory,
                notes: list[Problem]) -> Examination:
    """A file of one chunk, read into its contract now: it is validated with its batch."""
    read = read_cells_into_contract(cells, contract, communes, first_line=look.chunk.first_line)
    read.encoding, read.delimiter = look.source.encoding, look.source.delimiter
    read.problems += place_rows(read.frame, contract, territory)
    text_columns = [c.name for c in contract.columns if c.type == "text"]
    leaks = personal_values(read.frame, contract.dataset, text_columns)
    if leaks:
        return Examination(contract.dataset, read.frame, leaks, read.unknown_columns)
    return Examination(contract.dataset, read.frame, unknown_columns=read.unknown_columns,
                       read=read, contract=contract, notes=notes)


def file_date_of(path: Path, territory: Territory) -> date:
    """The day the partner saved the file, in the territory's time zone."""
    return datetime.fromtimestamp(path.stat().st_mtime, ZoneInfo(territory.timezone)).date()
