"""Withdrawals: the way back for rows a partner sent and that must no longer count.

A partner (or a steward on its behalf, ``python -m pipeline.cli retirer``) drops a file whose
name starts with ``retrait`` (``retrait_lieux.csv``, ``retrait_pass_mars.xlsx``…) with one
column, the dataset's key (``id``, ``numero_pass``, ``identifiant_seance``,
``identifiant_collecte``), listing the rows to withdraw, and optionally a ``motif`` column.

It goes through the inbox like any file: fingerprint, ledger (under the dataset it withdraws
from, status ``retrait_enregistre``), report, archive. In one transaction with its ledger row,
the partner's current rows with those keys become not current, the withdrawal file recorded as
what replaced them (history kept, as for a correction), and every listed key is remembered so
that an older file arriving late cannot bring a withdrawn row back. Only the partner's own rows
are touched. Sending a row with the same key again later puts it back.

An identifier the partner never sent, or already withdrew, is a warning, not an error: it
changes nothing, and refusing the whole list for it would block the other withdrawals.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pandas as pd

from pipeline import storage
from pipeline.config import DataPaths, Partner, Territory
from pipeline.contracts.datasets import CONTRACTS, contract_for
from pipeline.contracts.model import normalize_header
from pipeline.faults import fault_point
from pipeline.ingest.record import Received, finish, outcome_of, stored_path
from pipeline.load import ledger, warehouse
from pipeline.problems import MAX_DETAILS_PER_RULE, Problem, file_problem
from pipeline.read.reading import map_headers, read_cells
from pipeline.read.unreadable import UnreadableFile
from pipeline.receive.filestate import ensure_unchanged
from pipeline.receive.filing import SPLIT_ADVICE, Outcome, oversize_reason
from pipeline.receive.inbox import partner_folder, write_in_inbox
from pipeline.report.reports import problem_section

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

WITHDRAWAL_WORDS = ("retrait", "retraits")
REASON_COLUMN = "motif"
HOW_TO = ("Un fichier de retrait s'appelle « retrait_<données>.csv » (par exemple "
          "« retrait_lieux.csv ») et contient une colonne : l'identifiant des lignes à retirer "
          "(id, numero_pass, identifiant_seance ou identifiant_collecte), avec si vous le "
          "souhaitez une colonne « motif ».")


def is_withdrawal(path: Path) -> bool:
    """A withdrawal file's name starts with ``retrait`` (the word elsewhere in a name, e.g.
    « pass_retraits_guichet », does not make one)."""
    return normalize_header(path.stem).split("_")[0] in WITHDRAWAL_WORDS


@dataclass
class Request:
    """What a withdrawal file asks: the dataset, and each key with its spreadsheet line."""
    dataset: str
    keys: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)


def _error(rule: str, fix: str = HOW_TO) -> Problem:
    return file_problem(rule, fix)


def _dataset_of(partner: Partner, headers: list[str]) -> str | None:
    """When the name does not say: the one dataset of the partner whose key the file has."""
    keyed = [d for d in partner.datasets
             if contract_for(d).key in map_headers(headers, contract_for(d))[0].values()]
    return keyed[0] if len(keyed) == 1 else None


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an identifier typed as a number in Excel
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else \
        str(value).strip()


def read_request(path: Path, partner: Partner) -> Request:
    """The keys a withdrawal file lists, or the French reasons it cannot be used."""
    named, refusal = _named_dataset(path, partner)
    fallback = named or (partner.datasets[0] if partner.datasets else "")
    too_big = oversize_reason(path)
    if too_big:
        return Request(fallback, problems=[_error(too_big, SPLIT_ADVICE)])
    if refusal:
        return Request(fallback, problems=[_error(refusal, "Vérifiez que vous avez déposé le "
                                                  "bon fichier.")])
    try:
        cells, _encoding, _delimiter = read_cells(path, fallback)
    except UnreadableFile as exc:
        return Request(fallback, problems=[_error(str(exc))])
    headers = [str(h) for h in cells.columns]
    dataset = named or _dataset_of(partner, headers)
    if dataset is None:
        return Request(fallback, problems=[_error(
            "Le type de données à retirer n'a pas été reconnu.",
            "Mettez-le dans le nom du fichier : "
            + " ou ".join(f"« retrait_{d}.csv »" for d in partner.datasets) + ".")])
    contract = contract_for(dataset)
    mapping, unknown = map_headers(headers, contract)
    key_header = next((h for h, column in mapping.items() if column == contract.key), None)
    request = Request(dataset, unknown_columns=[
        h for h in [*unknown, *(h for h in mapping if h != key_header)]
        if normalize_header(h) != REASON_COLUMN])
    if key_header is None:
        request.problems.append(_error(
            f"La colonne « {contract.key} » (les identifiants des lignes à retirer) est "
            "absente.", HOW_TO))
        return request
    for offset, value in enumerate(cells[key_header].tolist()):
        key = _cell_text(value)
        if key:
            request.keys.setdefault(key, offset + 2)  # line 1 is the header
    if not request.keys:
        request.problems.append(_error("Le fichier ne contient aucun identifiant à retirer."))
    return request


def _named_dataset(path: Path, partner: Partner) -> tuple[str | None, str | None]:
    """The dataset the name designates and, if the partner may not send it, why not."""
    tokens = set(normalize_header(path.stem).split("_"))
    named = [d for d, c in CONTRACTS.items() if tokens & set(c.file_words)]
    if len(named) != 1:
        return (partner.datasets[0] if len(partner.datasets) == 1 else None), None
    if named[0] not in partner.datasets:
        return named[0], (f"Vous ne pouvez retirer que des lignes que vous avez envoyées ; "
                          f"votre convention ne prévoit pas de données "
                          f"« {CONTRACTS[named[0]].title} ».")
    return named[0], None


def _findings(request: Request, outcome: dict[str, tuple[str, str | None]],
              files: dict[str, tuple[str, str]]) -> list[Problem]:
    """Warnings for the keys the withdrawal left as they were."""
    key = contract_for(request.dataset).key
    said = {
        "inconnu": ("Aucune ligne de vos envois ne porte cet identifiant : rien n'a été retiré.",
                    "Vérifiez l'identifiant, tel qu'il figure dans vos fichiers."),
        "deja_retire": ("Cette ligne avait déjà été retirée{by} : rien de plus à faire.",
                        "Aucune action nécessaire."),
        "plus_recent": ("Cette ligne a été renvoyée dans le fichier « {name} », reçu après ce "
                        "fichier de retrait : elle reste en place.",
                        "Si elle doit être retirée, déposez un nouveau fichier de retrait."),
    }
    problems = []
    for ident, line in request.keys.items():
        state, sha = outcome[ident]
        if state not in said:
            continue
        rule, fix = said[state]
        name, day = files.get(sha, ("", "")) if sha else ("", "")
        by = f" par le fichier « {name} » reçu le {day}" if name else ""
        problems.append(Problem(line, key, ident, rule.format(by=by, name=name), fix,
                                "avertissement"))
    return problems


def _withdrawn_lines(request: Request, outcome: dict[str, tuple[str, str | None]],
                     files: dict[str, tuple[str, str]]) -> list[str]:
    done = [(line, ident, outcome[ident][1]) for ident, line in request.keys.items()
            if outcome[ident][0] == "retire"]
    if not done:
        return []
    lines = ["", f"Lignes retirées ({len(done)}) : elles ne sont plus publiées ni comptées ; "
                 "elles restent dans l'historique. Pour en remettre une, renvoyez-la dans un "
                 "fichier de données."]
    for line, ident, sha in done[:MAX_DETAILS_PER_RULE]:
        name, day = files.get(sha, ("?", "?"))
        lines.append(f"  - ligne {line} : « {ident} » (envoyée dans le fichier « {name} » "
                     f"reçu le {day})")
    if len(done) > MAX_DETAILS_PER_RULE:
        lines.append(f"  … et {len(done) - MAX_DETAILS_PER_RULE} autres lignes retirées.")
    return lines


def _render(territory: Territory, partner: Partner, path: Path, received_at: datetime,
            sha256: str, status: str, request: Request, count: int,
            withdrawn: list[str]) -> str:
    errors = [p for p in request.problems if p.severity == "erreur"]
    warnings = [p for p in request.problems if p.severity != "erreur"]
    title = CONTRACTS[request.dataset].title if request.dataset in CONTRACTS else ""
    verdict = ("Rien n'a été retiré. Corrigez les points ci-dessous puis déposez à nouveau le "
               "fichier." if status == ledger.STATUS_REJECTED else
               "Le retrait a été enregistré.")
    local = received_at.astimezone(ZoneInfo(territory.timezone))
    lines = [f"Rapport de dépôt — {territory.name}", "",
             f"Fichier : {path.name}", f"Partenaire : {partner.name}",
             f"Données : retrait de lignes « {title} »" if title else "Données : retrait",
             f"Reçu le : {local:%d/%m/%Y à %H:%M}",
             f"Empreinte du fichier (SHA-256) : {sha256}", "",
             f"Résultat : {ledger.STATUS_LABELS[status].upper()}", verdict,
             f"Identifiants lus : {len(request.keys)} — lignes retirées : "
             f"{count} — avertissements : {len(warnings)}"]
    lines += withdrawn
    lines += problem_section("Erreurs à corriger (rien n'est retiré tant qu'elles restent)", errors)
    lines += problem_section("Avertissements (le retrait est enregistré)", warnings)
    if request.unknown_columns:
        lines += ["", "Colonnes ignorées : "
                  + ", ".join(f"« {c} »" for c in request.unknown_columns)]
    lines += ["", "Une question ? Écrivez à l'équipe de l'agglomération."]
    return "\n".join(lines) + "\n"


def record(file: Received, territory: Territory, paths: DataPaths) -> Outcome:
    """Read the withdrawal file, apply it and write its ledger row in one transaction, then
    report and file it away like any file (not if it changed since it was fingerprinted:
    still being written)."""
    partner, path, sha256, received_at = file.partner, file.path, file.sha256, file.received_at
    request = read_request(path, partner)
    received = received_at.isoformat(timespec="microseconds")
    with warehouse.engine().begin() as connection:
        outcome: dict[str, tuple[str, str | None]] = {}
        if not request.problems:
            outcome = warehouse.withdraw(connection, request.dataset, partner.id, sha256,
                                         received, list(request.keys))
        named = ledger.files_named({(partner.id, sha) for _s, sha in outcome.values() if sha},
                                   connection)
        files = {sha: (name, f"{when[8:10]}/{when[5:7]}/{when[:4]}")
                 for (_p, sha), (name, when) in named.items()}
        request.problems += _findings(request, outcome, files) if outcome else []
        errors = sum(p.severity == "erreur" for p in request.problems)
        warnings = len(request.problems) - errors
        status = (ledger.STATUS_REJECTED if errors else ledger.STATUS_WITHDRAWN_WITH_WARNINGS
                  if warnings else ledger.STATUS_WITHDRAWN)
        withdrawn = sum(state == "retire" for state, _sha in outcome.values())
        stored = stored_path(paths, partner, sha256, path.name, not errors)
        entry = ledger.LedgerEntry(
            partner=partner.id, sha256=sha256, dataset=request.dataset or "retrait",
            original_name=path.name, received_at=received, status=status,
            rows_total=len(request.keys), rows_loaded=withdrawn, errors=errors,
            warnings=warnings, stored_path=str(stored.relative_to(paths.root)),
            report=_render(territory, partner, path, received_at, sha256, status, request,
                           withdrawn, _withdrawn_lines(request, outcome, files)))
        ledger.insert(connection, entry)
        ensure_unchanged(path, file.signature)  # rolls back if it is still being written
        fault_point("ingest-before-commit")
    fault_point("ingest-after-commit")
    finish(entry, file, paths)
    return outcome_of(entry, file)


def request_file(territory: Territory, paths: DataPaths, partner_id: str, dataset: str,
                 keys: list[str], reason: str, stamp: datetime) -> Path | ObjectStoragePath:
    """A steward's withdrawal on a partner's behalf: a ``retrait_…`` file written into the
    partner's inbox, so that it goes the same way as the partner's own (ledger, report the
    partner sees, archive). Raises ``LookupError`` with a French reason."""
    try:
        partner = territory.partner(partner_id)
    except KeyError:
        raise LookupError(f"partenaire inconnu : {partner_id}") from None
    if dataset not in partner.datasets:
        raise LookupError(f"{partner_id} n'envoie pas de données « {dataset} » "
                          f"(seulement : {', '.join(partner.datasets)})")
    wanted = [k.strip() for k in keys if k.strip()]
    if not wanted:
        raise LookupError("aucun identifiant à retirer")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow([contract_for(dataset).key, REASON_COLUMN])
    writer.writerows([key, reason] for key in wanted)
    name = f"retrait_{dataset}_{stamp:%Y%m%d-%H%M%S}.csv"
    target = (paths.partner_inbox(partner) if storage.is_local("inbox")
              else partner_folder(partner)) / name
    if target.exists():
        raise LookupError(f"{target.name} existe déjà ; réessayez dans une seconde")
    write_in_inbox(partner, name, buffer.getvalue(), paths)
    return target
