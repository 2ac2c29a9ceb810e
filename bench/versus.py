"""End to end against an earlier commit, on the same national files, runs alternated.

    .venv/bin/python -m bench.versus                      # 65b392f, scale 1, 2 rounds
    .venv/bin/python -m bench.versus --base 65b392f --scale 0.5 --rounds 3

Issue 18 asks for the end-to-end time at national scale to be at most half that of the code as
it was at commit 65b392f. These machines vary two to three times from one day to the next, so
both versions run here, one after the other, on copies of the same partner files, in
alternating order (base then current, then current then base…): a slow period of the machine
weighs on both sides alike.

1. The base commit is extracted with ``git archive`` into the work folder and installed in its
   own virtual environment with its own lock file (its ``make install``).
2. The national files are written once, from the fixed seed, by the current generator
   (``demo.national_data``); each run gets a fresh copy of the inbox, a fresh data folder and a
   fresh Airflow metadata database.
3. Each run times ``airflow dags test reception_fichiers`` then ``publication_site`` with that
   side's own Airflow, DAGs and code, as ``make bench`` times its end to end.
4. Both sides must reach the same result: the same files archived and quarantined, and the same
   number of rows in every warehouse table both versions have.

Prints one line per run and the ratio of the medians; writes ``<folder>/versus.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench import national
from pipeline import settings
from pipeline.config import DEFAULT_TIMEZONE

REPO = Path(__file__).resolve().parent.parent
DEFAULT_BASE = "65b392f"
TARGET_RATIO = 0.5


@dataclass(frozen=True)
class Side:
    name: str
    root: Path  # the code: its dags/, its pelican.conf.py
    python: Path  # its virtual environment's interpreter

    @property
    def airflow(self) -> Path:
        return self.python.parent / "airflow"


def extract_base(commit: str, folder: Path) -> Side:
    """The base commit's tree, installed in its own environment (uv: seconds when cached)."""
    root = folder / f"code-{commit}"
    if not (root / "Makefile").exists():
        root.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", commit],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    environment = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    subprocess.run(["make", "--no-print-directory", "install"], cwd=root, check=True,
                   env=environment, stdout=subprocess.DEVNULL)
    return Side(commit, root, root / ".venv" / "bin" / "python")


def write_files(folder: Path, scale_factor: float) -> Path:
    """The national partner files and their territory, once for every run."""
    from demo.national_data import NationalWriter, Scale

    source = folder / "source"
    shutil.rmtree(source, ignore_errors=True)
    today = datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).date()
    NationalWriter(source, Scale().times(scale_factor), today).write_all()
    return source


def _environment(side: Side, run: Path) -> dict[str, str]:
    """``make bench``'s environment for a run folder (same layout), with that side's DAGs;
    nothing of the caller's own data folder, Airflow or virtual environment."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("INCLUSION_", "AIRFLOW")) and k != "VIRTUAL_ENV"}
    return base | national.environment(run) | {
        "AIRFLOW__CORE__DAGS_FOLDER": str(side.root / "dags")}


def run_once(side: Side, source: Path, run: Path) -> dict:
    shutil.rmtree(run, ignore_errors=True)
    (run / "data").mkdir(parents=True)
    shutil.copytree(source / "inbox", run / "data" / "inbox")
    shutil.copy2(source / "territory.toml", run / "data" / "territory.toml")
    environment, log = _environment(side, run), run / "airflow.log"

    def airflow(*args: str) -> dict:
        return national.timed_airflow(side.airflow, args, log, side.root, environment)

    airflow("db", "migrate")
    ingest = airflow("dags", "test", "reception_fichiers")
    publish = airflow("dags", "test", "publication_site")
    return {"side": side.name, "end_to_end_s": round(ingest["seconds"] + publish["seconds"], 2),
            "reception_fichiers": ingest, "publication_site": publish,
            "outcome": outcome(run / "data")}


def outcome(data: Path) -> dict:
    """What a run leaves that both versions must agree on."""
    def files(area: str) -> list[str]:
        folder = data / area
        return sorted(p.name.split("__", 1)[-1] for p in folder.glob("*/*")
                      if p.is_file() and not p.name.endswith((".rapport.txt", ".json")))

    tables: dict[str, int] = {}
    for database in sorted((data / "warehouse").glob("*.sqlite")):
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
            names = [row[0] for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'alembic%'")]
            for name in names:
                tables[name] = connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
    return {"archived": files("archive"), "quarantined": files("quarantine"), "tables": tables}


def differences(first: dict, second: dict) -> list[str]:
    problems = [f"{area} : {len(first[area])} fichiers contre {len(second[area])}"
                for area in ("archived", "quarantined") if first[area] != second[area]]
    for table in sorted(set(first["tables"]) & set(second["tables"])):
        if first["tables"][table] != second["tables"][table]:
            problems.append(f"table {table} : {first['tables'][table]} lignes contre "
                            f"{second['tables'][table]}")
    return problems


def compare(base: Side, current: Side, source: Path, folder: Path, rounds: int) -> dict:
    runs: list[dict] = []
    for number in range(rounds):
        order = (base, current) if number % 2 == 0 else (current, base)
        for side in order:
            print(f"==> Tour {number + 1}/{rounds} : {side.name}", flush=True)
            result = run_once(side, source, folder / f"run-{side.name}")
            print(f"    {result['end_to_end_s']:.1f} s de bout en bout", flush=True)
            runs.append(result)
    by_side = {side.name: [r for r in runs if r["side"] == side.name] for side in (base, current)}
    problems = differences(by_side[base.name][0]["outcome"], by_side[current.name][0]["outcome"])
    medians = {name: statistics.median(r["end_to_end_s"] for r in mine)
               for name, mine in by_side.items()}
    return {"measured_at": datetime.now(ZoneInfo(DEFAULT_TIMEZONE)).isoformat(timespec="seconds"),
            "base": base.name, "rounds": rounds, "runs": runs, "medians_s": medians,
            "ratio": round(medians[current.name] / medians[base.name], 3),
            "target": TARGET_RATIO, "same_outcome": not problems, "differences": problems}


def format_lines(result: dict) -> list[str]:
    lines = [f"{r['side']:>10} : {r['end_to_end_s']:7.1f} s (réception "
             f"{r['reception_fichiers']['seconds']:.1f} s, publication "
             f"{r['publication_site']['seconds']:.1f} s, pic "
             f"{max(r['reception_fichiers']['peak_mb'], r['publication_site']['peak_mb']):.0f} Mo)"
             for r in result["runs"]]
    base, medians = result["base"], result["medians_s"]
    lines.append(f"Bout en bout, médianes : actuel {medians['actuel']:.1f} s, {base} "
                 f"{medians[base]:.1f} s : {result['ratio']:.2f}× (cible ≤ {TARGET_RATIO}×)")
    lines.append("Même résultat des deux côtés : " + (
        "oui (fichiers archivés et mis en quarantaine, lignes de chaque table)"
        if result["same_outcome"] else "NON — " + " ; ".join(result["differences"])))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=DEFAULT_BASE, help="commit de référence")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=2, help="tours (chaque côté une fois)")
    parser.add_argument("--folder", type=Path, default=None,
                        help="dossier de travail (défaut : <dossier de données>/versus)")
    args = parser.parse_args()
    folder = (args.folder or settings.get("INCLUSION_DATA") / "versus").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    base = extract_base(args.base, folder)
    current = Side("actuel", REPO, Path(sys.executable))
    print(f"==> Fichiers nationaux (échelle {args.scale:g}) dans {folder / 'source'}", flush=True)
    source = write_files(folder, args.scale)
    result = compare(base, current, source, folder, args.rounds) | {"scale": args.scale}
    (folder / "versus.json").write_text(json.dumps(result, indent=2, ensure_ascii=False),
                                        encoding="utf-8")
    print()
    print("\n".join(format_lines(result)))
    print(f"\nRésultats complets : {folder / 'versus.json'}")
    if not result["same_outcome"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
