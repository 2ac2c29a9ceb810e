"""The load into SQLite beside its floor, measured in one run on the same rows:

- the project's load (``stage("load")`` of ``pipeline.ingest.record``: supersede logic, ledger
  row, bulk insert, commit) of a set of national files into a fresh warehouse;
- the floor: the same rows, as tuples prepared beforehand, inserted with a raw ``sqlite3``
  ``executemany`` into empty tables with the same columns, keys and indexes, one transaction
  per file as the project (crash safety needs one per file); and, for information, into bare
  tables (no key, no index).

The floor must hold the same rows as the warehouse (count and hash of the sorted data columns),
so it cannot win by leaving work out.

    .venv/bin/python -m bench.load_floor --scale 0.05
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sqlite3
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench import thousands as _n

TARGET_ROWS_PER_S = 300_000
TARGET_RATIO = 1.5
BOOKKEEPING = ("current", "superseded_by")  # decided by the supersede logic, not sent


def archived_files(data: Path, every: int = 1) -> list[tuple[str, Path]]:
    """(partner, path) of the files accepted into ``data``'s archive, one in ``every``."""
    files = sorted((path.parent.name, path) for path in (data / "archive").glob("*/*")
                   if path.is_file())
    return files[::every]


def _drop(files: list[tuple[str, Path]], inbox: Path) -> list[tuple[str, str]]:
    """Copies of the files in a fresh inbox, under the names their partners gave them."""
    dropped = []
    for partner, path in files:
        target = inbox / partner / path.name.split("__", 1)[-1]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)  # same time: same received_at
        dropped.append((partner, str(target)))
    return dropped


def floor_rows(table, key: str, frame, partner: str, sha256: str, received_at: str
               ) -> list[tuple]:
    """The plain conversion of a loaded frame to the table's rows (every key new, current)."""
    import pandas as pd

    fixed = {"partner": partner, "source_sha256": sha256, "source_received_at": received_at,
             "current": 1, "superseded_by": None}
    columns = []
    for column in table.columns:
        if column.name in fixed:
            columns.append([fixed[column.name]] * len(frame))
        elif column.name == "source_line":
            columns.append([int(v) for v in frame["_ligne"]])
        elif column.name == key:
            columns.append([str(v) for v in frame[key]])
        else:
            columns.append([None if pd.isna(v) else v for v in frame[column.name]])
    return list(zip(*columns))


def project_load(files: list[tuple[str, Path]], folder: Path, territory: Path
                 ) -> tuple[dict, list]:
    """The pipeline on copies of the files, in a fresh data folder; the load stage's seconds
    and rows, and each loaded frame (dataset, rows as the floor builds them)."""
    from unittest import mock

    from pipeline.ingest.flow import process_files
    from pipeline.load import warehouse

    data = folder / "data"
    data.mkdir(parents=True)
    shutil.copy2(territory, data / "territory.toml")
    dropped = _drop(files, data / "inbox")
    inserted: list = []
    original = warehouse.supersede_and_insert

    def recording(connection, contract, partner, sha256, received_at, frame, *args):
        # Only a reference inside the timed stage: the floor's rows are made after the run,
        # so the project's load is not charged for the bench's own conversion.
        inserted.append((contract, partner, sha256, received_at, frame))
        return original(connection, contract, partner, sha256, received_at, frame, *args)

    # Its own data folder, territory and stage log; the caller's environment given back after.
    environment = {"INCLUSION_DATA": str(data), "INCLUSION_TERRITORY": str(data / "territory.toml"),
                   "INCLUSION_STAGE_LOG": str(folder / "stages.jsonl"),
                   "INCLUSION_SETTLE_SECONDS": "0", "GX_ANALYTICS_ENABLED": "False"}
    with mock.patch.dict("os.environ", environment):
        warehouse.supersede_and_insert = recording
        try:
            process_files(dropped)
        finally:
            warehouse.supersede_and_insert = original
        loaded = _per_file(inserted)
        loads = [record for record in map(json.loads, (folder / "stages.jsonl").read_text(
            encoding="utf-8").splitlines()) if record["stage"] == "load"]
        found = _table_digests(data / "warehouse" / "warehouse.sqlite",
                               {dataset for dataset, _rows in loaded})
        warehouse.engine().dispose()
        # Its engine (cached by URL) made the tables once: a second measure in the same
        # folder, deleted in between, needs a new one.
        warehouse._engine_for.cache_clear()
    return {"seconds": sum(r["seconds"] for r in loads), "rows": sum(r["rows"] for r in loads),
            "files": len(loads), "digests": found}, loaded


def _per_file(inserted: list) -> list[tuple[str, list[tuple]]]:
    """(dataset, rows) per file: a large file's chunks, inserted by several calls in one
    transaction, are one transaction of the floor too."""
    from pipeline.load.warehouse import DATASET_TABLES

    loaded: list[tuple[str, list[tuple]]] = []
    last = None
    for contract, partner, sha256, received_at, frame in inserted:
        rows = floor_rows(DATASET_TABLES[contract.dataset], contract.key, frame, partner,
                          sha256, received_at)
        if sha256 == last:
            loaded[-1][1].extend(rows)
        else:
            loaded.append((contract.dataset, rows))
        last = sha256
    return loaded


def _connect(path: Path) -> sqlite3.Connection:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")  # as the warehouse (_sqlite_pragmas)
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def raw_floor(loaded: list, path: Path, keyed: bool) -> dict:
    """The same rows, prepared beforehand, by a raw executemany: one transaction per file."""
    from sqlalchemy import create_engine

    from pipeline.load.warehouse import DATASET_TABLES, metadata

    datasets = sorted({dataset for dataset, _rows in loaded})
    tables = [DATASET_TABLES[d] for d in datasets]
    if keyed:  # the warehouse's own DDL: columns, primary key, indexes
        engine = create_engine(f"sqlite:///{path}")
        _connect(path).close()
        metadata.create_all(engine, tables=tables)
        engine.dispose()
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("PRAGMA synchronous=NORMAL")  # per connection, as the warehouse's
    else:
        connection = _connect(path)
        for table in tables:
            connection.execute(f'CREATE TABLE "{table.name}" '
                               f'({", ".join(chr(34) + c.name + chr(34) for c in table.columns)})')
    inserts = {t.name: f'INSERT INTO "{t.name}" VALUES ({", ".join("?" * len(t.columns))})'
               for t in tables}
    started = time.perf_counter()
    for dataset, rows in loaded:
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(inserts[dataset], rows)
        connection.execute("COMMIT")
    seconds = time.perf_counter() - started
    connection.close()
    return {"seconds": seconds, "rows": sum(len(rows) for _dataset, rows in loaded),
            "digests": _table_digests(path, set(datasets))}


def _table_digests(path: Path, datasets: set[str]) -> dict[str, tuple[int, str]]:
    """Per table: rows, and a hash of the sorted data columns (bookkeeping left out)."""
    from pipeline.load.warehouse import DATASET_TABLES

    connection = sqlite3.connect(path)
    digests = {}
    try:
        for dataset in sorted(datasets):
            columns = [c.name for c in DATASET_TABLES[dataset].columns
                       if c.name not in BOOKKEEPING]
            rows = sorted(connection.execute(
                f'SELECT {", ".join(chr(34) + c + chr(34) for c in columns)} FROM "{dataset}"'),
                key=repr)
            digests[dataset] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    finally:
        connection.close()
    return digests


def load_ratio(files: list[tuple[str, Path]], folder: Path, territory: Path) -> dict:
    """The project's load and its floors on the same files; raises if they differ."""
    shutil.rmtree(folder, ignore_errors=True)
    project, loaded = project_load(files, folder / "projet", territory)
    floor = raw_floor(loaded, folder / "plancher.sqlite", keyed=True)
    bare = raw_floor(loaded, folder / "plancher-nu.sqlite", keyed=False)
    for name, measured in (("plancher", floor), ("plancher sans index", bare)):
        if measured["digests"] != project["digests"]:
            raise AssertionError(f"{name} : pas les mêmes lignes que l'entrepôt "
                                 f"({measured['digests']} contre {project['digests']})")
    rows, seconds = project["rows"], project["seconds"]
    speed, floor_speed = rows / seconds, rows / floor["seconds"]
    bare_speed = rows / bare["seconds"]
    return {"label": "Chargement SQLite / executemany brut (mêmes lignes, mêmes tables)",
            "ratio": seconds / floor["seconds"],
            "detail": f"{project['files']} fichiers, {_n(rows)} lignes : chargement "
                      f"{seconds:.2f} s ({_n(speed)} lignes/s, cible {_n(TARGET_ROWS_PER_S)}), "
                      f"plancher {floor['seconds']:.2f} s ({_n(floor_speed)} lignes/s), "
                      f"plancher sans clé ni index {bare['seconds']:.2f} s "
                      f"({_n(bare_speed)} lignes/s) ; cible ≤ {TARGET_RATIO:g}×",
            "load_s": round(seconds, 3), "floor_s": round(floor["seconds"], 3),
            "bare_floor_s": round(bare["seconds"], 3), "rows": rows, "files": project["files"],
            "rows_per_s": round(speed), "floor_rows_per_s": round(floor_speed),
            "bare_floor_rows_per_s": round(bare_speed),
            "target_rows_per_s": TARGET_ROWS_PER_S, "target_ratio": TARGET_RATIO}


def main() -> None:
    from demo.national_data import NationalWriter, Scale
    from pipeline.config import DEFAULT_TIMEZONE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.05,
                        help="fraction des volumes nationaux (défaut : 0,05)")
    parser.add_argument("--folder", type=Path, default=Path("/tmp/inclusion-plancher-chargement"),
                        help="dossier de travail (effacé au départ)")
    args = parser.parse_args()
    folder = args.folder.resolve()
    shutil.rmtree(folder, ignore_errors=True)
    source = folder / "source"
    print(f"==> Données synthétiques (échelle {args.scale:g}) dans {source}", flush=True)
    writer = NationalWriter(source, Scale().times(args.scale),
                            datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date())
    writer.write_all()
    files = [(path.parent.name, path) for path in sorted(writer.files)]
    print("==> Chargement par le projet, puis executemany brut des mêmes lignes", flush=True)
    result = load_ratio(files, folder / "mesure", source / "territory.toml")
    print(f"{result['label']} : {result['ratio']:.2f}× ({result['detail']})")
    (folder / "load_floor.json").write_text(json.dumps(result, indent=2, ensure_ascii=False),
                                            encoding="utf-8")


if __name__ == "__main__":
    main()
