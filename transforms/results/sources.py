"""Who reports what, from the ledger: each dataset's partners and their latest files, and the
communes whose snapshot data (the venue directory) a partner covers."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.contracts.datasets import CONTRACTS
from transforms.results.prepare import SNAPSHOTS


@dataclass(frozen=True)
class Reporting:
    """What the ledger and territory.toml say about who reports."""

    sources: dict[str, list[dict]]
    # Communes covered by a partner that sent an accepted snapshot file (the venue directory):
    # a commune without a venue there reports zero rather than nothing.
    covered: set[str]
    # Every accepted file by ``(partner, sha256)``: partner, file name as received, reception
    # date (``received_files``), for the provenance of the figures.
    files: dict[tuple[str, str], dict]


def sources(entries: list, partners: dict[str, str],
            coverage: dict[str, list[str]] | None = None) -> dict[str, list[dict]]:
    """Per dataset: each partner with its number of accepted files, the date of its latest
    one (the ledger's reception time) and the communes it reports for (``coverage``; ``*`` for
    all). A dataset completing another (the refurbisher's sorting) counts for that one."""
    coverage = coverage or {}
    out: dict[str, dict[str, dict]] = {}
    for entry in entries:
        if entry.status == "rejete":
            continue
        contract = CONTRACTS.get(entry.dataset)
        dataset = (contract.completes if contract else None) or entry.dataset
        item = out.setdefault(dataset, {}).setdefault(entry.partner, {
            "partenaire": entry.partner, "nom": partners.get(entry.partner, entry.partner),
            "communes": coverage.get(entry.partner, ["*"]), "fichiers": 0, "dernier_fichier": ""})
        item["fichiers"] += 1
        item["dernier_fichier"] = max(item["dernier_fichier"], entry.received_at[:10])
    return {d: sorted(p.values(), key=lambda i: i["nom"]) for d, p in out.items()}


def received_files(entries: list, partners: dict[str, str]) -> dict[tuple[str, str], dict]:
    """``(partner, sha256)`` -> the partner's id and name, the file's name as received and its
    reception date (the ledger's, as in ``sources``), for every file not rejected."""
    return {(e.partner, e.sha256): {"partenaire": e.partner,
                                    "nom": partners.get(e.partner, e.partner),
                                    "fichier": e.original_name, "recu_le": e.received_at[:10]}
            for e in entries if e.status != "rejete"}


def reporting(entries: list, territory) -> Reporting:
    partners = {p.id: p.name for p in territory.partners}
    coverage = {p.id: list(p.communes) for p in territory.partners}
    snapshot_partners = {e.partner for e in entries
                         if e.dataset in SNAPSHOTS and e.status != "rejete"}
    covered = {c for p in territory.partners if p.id in snapshot_partners
               for c in territory.partner_communes(p)}
    return Reporting(sources(entries, partners, coverage), covered,
                     received_files(entries, partners))
