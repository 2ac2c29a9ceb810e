"""Steward commands: ``python -m pipeline.cli ledger [--json]``, ``... status``,
``... reprocess``, ``... retirer`` and ``... rollback``."""

from __future__ import annotations

import argparse
import sys

from pipeline import ledger
from pipeline.ingest import reprocess_quarantined
from pipeline.publish import SiteCheckFailed, rollback


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
    """Per partner: the last file received, its outcome, and alerts waiting in the data folder."""
    from pipeline.alerts import alerts_folder
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
    alerts = sorted(alerts_folder().glob("*.txt")) if alerts_folder().exists() else []
    if alerts:
        print(f"\n{len(alerts)} alerte(s) dans {alerts_folder()} ; la plus récente : "
              f"{alerts[-1].name}")


def _request_withdrawal(partner: str, dataset: str, ids: list[str], reason: str) -> int:
    from datetime import datetime

    from pipeline.config import data_paths, load_territory
    from pipeline.withdrawals import request_file

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
    withdraw = sub.add_parser(
        "retirer", help="dépose dans le dossier d'un partenaire un fichier de retrait de lignes "
                        "(traité, enregistré et rapporté comme ses propres fichiers)")
    withdraw.add_argument("partner", help="identifiant du partenaire qui a envoyé les lignes")
    withdraw.add_argument("dataset", help="données : ateliers, pass, collecte, tri ou lieux")
    withdraw.add_argument("ids", nargs="+", help="identifiants (clé du jeu de données) à retirer")
    withdraw.add_argument("--motif", default="retrait demandé par l'équipe de l'agglomération",
                          help="motif, écrit dans le fichier que le partenaire verra")
    args = parser.parse_args(argv)
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
        except SiteCheckFailed as exc:
            print(f"Impossible : {exc}.", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
