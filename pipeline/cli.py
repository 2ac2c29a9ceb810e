"""Steward commands: ``python -m pipeline.cli ledger [--json]``, ``status``, ``reprocess``,
``retirer`` (drops a withdrawal file in a partner's inbox), ``rollback``, and
``essayer <partner> <file>`` (a dry run of a file through its partner's mapping and the
validation, printing the French report without touching anything)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.ingest.reprocess import reprocess_quarantined
from pipeline.load import ledger
from pipeline.load.migrate import WarehouseVersionError
from publish.bucket import SiteStoreUnreachable
from publish.site import SiteCheckFailed, rollback


def print_ledger(as_json: bool) -> None:
    items = ledger.entries()
    if as_json:
        if items:
            print(ledger.as_json_lines(items))
        return
    if not items:
        print("Le registre est vide : aucun fichier reçu.")
        return
    header = f"{'reçu le (UTC)':<26}{'partenaire':<20}{'données':<10}{'statut':<30}{'lignes':>7}  fichier"
    print(header)
    print("-" * len(header))
    for e in items:
        label = ledger.STATUS_LABELS.get(e.status, e.status)
        print(f"{e.received_at[:19].replace('T', ' '):<26}{e.partner:<20}{e.dataset:<10}{label:<30}{e.rows_loaded:>7}  "
              f"{e.original_name}")


def print_status() -> None:
    """Per partner: the last file received, its outcome, and the alerts waiting in the alerts
    area (the data folder's ``alertes/``, or ``INCLUSION_ALERTS_URL`` on an object store)."""
    from pipeline.config import load_territory

    items = ledger.entries()
    print(f"{'partenaire':<20}{'dernier fichier reçu (UTC)':<28}{'statut':<30}fichier")
    for partner in load_territory().partners:
        mine = [e for e in items if e.partner == partner.id]
        if not mine:
            print(f"{partner.id:<20}{'aucun fichier reçu':<28}")
            continue
        last = max(mine, key=lambda e: e.received_at)
        label = ledger.STATUS_LABELS.get(last.status, last.status)
        print(f"{partner.id:<20}{last.received_at[:19].replace('T', ' '):<28}{label:<30}{last.original_name}")
    for where, names in _alerts():
        print(f"\n{len(names)} alerte(s) dans {where} ; la plus récente : {names[-1]}")


def _alerts() -> list[tuple[str, list[str]]]:
    """(where, alert names sorted oldest first) of each place holding alerts: the alerts area,
    and the data folder's ``alertes/`` when the area is on an object store (an alert written
    while the store could not be reached)."""
    from pipeline import storage
    from pipeline.alerts import alerts_folder

    found = []
    if not storage.in_data_folder("alerts"):
        from pipeline.storage import objects

        try:
            names = sorted(item.name for item in objects.list_objects(storage.area("alerts"))
                           if "/" not in item.name and item.name.endswith(".txt"))
        except Exception as error:  # the store down: say so, and still show the local ones
            print(f"\nAlertes illisibles dans {storage.area_url('alerts')} : "
                  f"{type(error).__name__} ({error}).")
            names = []
        if names:
            found.append((storage.area_url("alerts"), names))
    local = sorted(p.name for p in alerts_folder().glob("*.txt")) if alerts_folder().exists() \
        else []
    if local:
        found.append((str(alerts_folder()), local))
    return found


@contextmanager
def _environ(**values: str) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _print_dry_run(partner_id: str, file_path: str) -> int:
    if not Path(file_path).is_file():
        print(f"Impossible : {file_path} n'est pas un fichier.", file=sys.stderr)
        return 1
    from pipeline.config import load_territory

    if partner_id not in {p.id for p in load_territory().partners}:
        print(f"Impossible : partenaire inconnu {partner_id!r} (voir territory.toml).",
              file=sys.stderr)
        return 1
    _status, report = dry_run(partner_id, file_path)
    print("Essai à blanc : rien n'a été enregistré ni déplacé.\n")
    print(report)
    return 0


def dry_run(partner_id: str, file_path: str) -> tuple[str, str]:
    """The status and French report a file would get from ``partner_id``, read through its
    mapping and validated, without loading, moving or recording anything (cross-checks only
    read the warehouse)."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from pipeline.config import data_paths, load_territory, warehouse_url
    from pipeline.contracts.datasets import CONTRACTS
    from pipeline.files import sha256_of
    from pipeline.ingest.screen import screen
    from pipeline.ingest.validate import cross_check, validate_screened
    from pipeline.report.reports import render_report

    territory = load_territory()
    partner = territory.partner(partner_id)
    path = Path(file_path)
    exam = screen(path, partner, territory)
    validate_screened([(exam, partner)], territory)
    if not warehouse_url().startswith("sqlite:///") or data_paths().warehouse_file.exists():
        cross_check(exam, partner, path)
    else:  # no warehouse yet: check against an empty throw-away one, as a first file would be
        with tempfile.TemporaryDirectory() as folder, _environ(
                INCLUSION_WAREHOUSE_URL=f"sqlite:///{folder}/essai.sqlite"):
            cross_check(exam, partner, path)
    errors = sum(p.severity == "erreur" for p in exam.problems)
    status = (ledger.STATUS_REJECTED if errors else ledger.STATUS_ACCEPTED_WITH_WARNINGS
              if exam.problems else ledger.STATUS_ACCEPTED)
    report = render_report(
        territory_name=territory.name, partner_name=partner.name, original_name=path.name,
        dataset_title=CONTRACTS[exam.dataset].title if exam.dataset in CONTRACTS
        else exam.dataset,
        received_at=datetime.fromtimestamp(path.stat().st_mtime, UTC).astimezone(
            ZoneInfo(territory.timezone)),
        sha256=sha256_of(path), status=status,
        rows_total=0 if exam.frame is None else len(exam.frame), problems=exam.problems,
        unknown_columns=exam.unknown_columns, headers=exam.headers)
    return status, report


def _request_withdrawal(partner: str, dataset: str, ids: list[str], reason: str) -> int:
    from datetime import datetime

    from pipeline.config import data_paths, load_territory
    from pipeline.ingest.withdrawals import request_file

    try:
        # The wall clock only names the file; its reception time is the file's own.
        target = request_file(load_territory(), data_paths(), partner, dataset, ids, reason,
                              datetime.now())
    except (KeyError, LookupError) as exc:
        print(f"Impossible : {exc}.", file=sys.stderr)
        return 1
    print(f"Fichier de retrait déposé : {target}\nIl sera traité au prochain passage "
          "(rapport à côté, dans le dossier du partenaire).")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.cli",
                                     description="Commandes des gestionnaires de données.")
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("ledger", help="liste les fichiers reçus (registre)")
    show.add_argument("--json", action="store_true", help="une ligne JSON par fichier")
    sub.add_parser("rollback", help="remet en ligne la version précédente du site")
    sub.add_parser("status", help="dernier fichier reçu et son statut, par partenaire")
    again = sub.add_parser("reprocess", help="remet un fichier refusé dans le dossier de dépôt")
    again.add_argument("partner", help="identifiant du partenaire")
    again.add_argument("sha256", help="début de l'empreinte SHA-256 du fichier (voir ledger)")
    trial = sub.add_parser("essayer", help="essai à blanc : affiche le rapport qu'un fichier "
                                           "recevrait, sans rien enregistrer ni déplacer")
    trial.add_argument("partner", help="identifiant du partenaire (territory.toml)")
    trial.add_argument("file", help="chemin du fichier à essayer")
    withdraw = sub.add_parser(
        "retirer", help="dépose dans le dossier d'un partenaire un fichier de retrait de lignes "
                        "(traité, enregistré et rapporté comme ses propres fichiers)")
    withdraw.add_argument("partner", help="identifiant du partenaire qui a envoyé les lignes")
    withdraw.add_argument("dataset", help="données : ateliers, pass, collecte, tri ou lieux")
    withdraw.add_argument("ids", nargs="+", help="identifiants (clé du jeu de données) à retirer")
    withdraw.add_argument("--motif", default="retrait demandé par l'équipe de l'agglomération",
                          help="motif, écrit dans le fichier que le partenaire verra")
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except WarehouseVersionError as error:  # make migrate not run, or a bad warehouse URL
        print(f"Impossible : {error}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "essayer":
        return _print_dry_run(args.partner, args.file)
    if args.command == "retirer":
        return _request_withdrawal(args.partner, args.dataset, args.ids, args.motif)
    if args.command == "ledger":
        print_ledger(args.json)
    elif args.command == "status":
        print_status()
    elif args.command == "reprocess":
        try:
            target = reprocess_quarantined(args.partner, args.sha256)
        except LookupError as exc:
            print(f"Impossible : {exc}.", file=sys.stderr)
            return 1
        print(f"Fichier remis dans le dossier de dépôt : {target}")
    elif args.command == "rollback":
        try:
            print(f"Site remis à la version {rollback().name}.")
        except (SiteCheckFailed, SiteStoreUnreachable) as exc:
            print(f"Impossible : {exc}.", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
