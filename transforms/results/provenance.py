"""Where each figure comes from: for a dataset and a year, the received files its rows come
from, each with the number of its rows the figures use (its current rows whose date falls in
that year and whose commune is in the territory; a corrected row counts for the file that holds
its current version). The phone collection's figures also use the refurbisher's sorting files
(the dataset completing it): a sorting row counts where its pickup counts. The venue directory,
a snapshot, uses the venue files whose rows are current today.

Figures only, grouped by file on an integer key (``prepare.file_counts``): never a row's
contents. The ledger gives each file's partner, name as received and reception date.
"""

from __future__ import annotations

import pandas as pd

from pipeline.contracts.datasets import CONTRACTS
from transforms.catalogue import DATASETS
from transforms.results.prepare import Prepared, file_counts, inputs_of

FILE = ["partner", "source_sha256"]


def file_rows(dataset: str, data: Prepared, communes: dict[str, str]) -> pd.DataFrame:
    """Rows used per file: ``donnees`` (the file's own dataset), ``partner``,
    ``source_sha256``, ``annee`` (a dated dataset only) and ``lignes``. What the dataset's
    inputs alone determine (with the territory's communes), so it can be kept between builds."""
    published = DATASETS[dataset]
    dated = published.date_column is not None
    commune = published.contract.commune_column
    counts = file_counts(data.frames, dataset, (commune,), published.date_column)
    parts = [counts[counts[commune].isin(communes)].assign(donnees=dataset)]
    for other in inputs_of(dataset)[1:]:
        key = CONTRACTS[other].key
        placed = data[dataset]  # prepared rows, in the territory: where a pickup counts
        if placed.empty:
            continue
        where = placed[[key] + (["annee"] if dated else [])].drop_duplicates()
        parts.append(file_counts(data.frames, other, (key,)).merge(where, on=key)
                     .assign(donnees=other))
    keys = ["donnees", *FILE] + (["annee"] if dated else [])
    rows = pd.concat([p[keys + ["lignes"]] for p in parts], ignore_index=True)
    if rows.empty:
        return pd.DataFrame(columns=keys + ["lignes"])
    rows["lignes"] = rows["lignes"].astype("int64")
    return rows.groupby(keys, as_index=False, sort=False)["lignes"].sum()


def provenance(dataset: str, rows: pd.DataFrame, received: dict[tuple[str, str], dict],
               year: int | None = None) -> list[dict]:
    """The files of ``dataset`` used for ``year`` (every file of a snapshot), grouped by the
    files' own dataset (the pickups, then their sorting): each group with its title, its files
    (partner, file name as received, reception date, rows used; oldest first) and its rows."""
    if year is not None and "annee" in rows:
        rows = rows[rows["annee"] == year]
    groups = []
    for name in inputs_of(dataset):
        files = [{**received[(partner, sha)], "lignes": int(count)}
                 for partner, sha, count in rows.loc[rows["donnees"] == name,
                                                     [*FILE, "lignes"]].itertuples(index=False)
                 if (partner, sha) in received]  # every loaded file is in the ledger
        files.sort(key=lambda f: (f["recu_le"], f["nom"], f["fichier"]))
        groups.append({"donnees": name, "titre": CONTRACTS[name].title, "fichiers": files,
                       "lignes": sum(f["lignes"] for f in files)})
    return groups


def provenance_records(origins: dict[str, list[dict]], year: int | None) -> list[dict]:
    """The files of one year's datasets (``year`` None: a snapshot's) as flat records."""
    return [{"jeu_de_donnees": dataset, "annee": year, "donnees_du_fichier": group["donnees"],
             **{k: f[k] for k in ("partenaire", "nom", "fichier", "recu_le", "lignes")}}
            for dataset, groups in origins.items() for group in groups
            for f in group["fichiers"]]
