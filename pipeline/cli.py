"""Steward commands: ``python -m pipeline.cli ledger [--json]`` and ``... rollback``."""

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
        print(f"{e.received_at:<26}{e.partner:<20}{e.dataset:<10}{label:<30}{e.rows_loaded:>7}  "
              f"{e.original_name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.cli",
                                     description="Commandes des gestionnaires de données.")
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("ledger", help="liste les fichiers reçus (registre)")
    show.add_argument("--json", action="store_true", help="une ligne JSON par fichier")
    sub.add_parser("rollback", help="remet en ligne la version précédente du site")
    again = sub.add_parser("reprocess", help="remet un fichier refusé dans le dossier de dépôt")
    again.add_argument("partner", help="identifiant du partenaire")
    again.add_argument("sha256", help="début de l'empreinte SHA-256 du fichier (voir ledger)")
    args = parser.parse_args(argv)
    if args.command == "ledger":
        print_ledger(args.json)
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
