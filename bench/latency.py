"""Partner latency under the real scheduler: from a file's drop to its report beside it.

    make bench-latency             # or: .venv/bin/python -m bench.latency [--drops 5 --spacing 20]

1. Starts Airflow as ``make airflow`` does (API server, scheduler and DAG processor, the
   LocalExecutor, the Makefile's settings; ``bench.scheduler``) on a fresh temporary data
   folder with the sample territory, and lets it process the demo's sample files first, so that
   the site publications the drops trigger are of a realistic size.
2. Drops ``--drops`` small valid workshop files (one session each, unique ids) into Palaiseau's
   inbox, one every ``--spacing`` seconds: each is written under a hidden temporary name, then
   renamed into the inbox, so that the drop time is when the file is complete.
3. For each, the latency is the report's modification time minus the drop time.
4. Waits ``--idle`` seconds with no drop, for the runs the check stops.
5. Prints p50, p95 and max with the settle time and schedule that bound them, what an idle
   check costs (from Airflow's metadata database), and writes everything as JSON to
   ``<data folder>/bench/latency.json``.

The settle time is the production default (``INCLUSION_SETTLE_SECONDS``) unless ``--settle``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.scheduler import airflow_processes, dag_listed, free_port, migrate, scheduler_env
from demo.samples import write_samples
from pipeline import settings
from pipeline.config import DEFAULT_TIMEZONE, DataPaths
from pipeline.files import report_name
from pipeline.receive.watch import FULL_SCAN_SECONDS, POLL_SECONDS, state_file

PARTNER_FOLDER = "ville-palaiseau"
TARGET_P95_S = 60
HEADER = ("identifiant_seance;commune;lieu;date;heure_debut;duree_minutes;thematique;public;"
          "places;inscrits;presents;statut;inscription\n")


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (a missing report counts as infinite)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def drop(inbox: Path, number: int, tag: str) -> Path:
    """One small valid workshop file, complete when it appears under its name."""
    name = f"latence_{tag}_{number:02d}.csv"
    hidden = inbox / f".{name}.tmp"  # a name the scan ignores
    hidden.write_text(HEADER + (
        f"PAL-LAT-{tag}-{number:02d};91477;Salle de la mesure {number};"
        f"{date.today().year + 1}-01-15;10h;60;Prise en main du smartphone;Seniors;10;1;;"
        "Prévue;CCAS\n"), encoding="utf-8")
    target = inbox / name
    os.replace(hidden, target)
    return target


def wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(1)
    raise TimeoutError(f"délai dépassé : {what}")


def measure(data: Path, drops: int, spacing: float, timeout: float) -> list[dict]:
    inbox = data / "inbox" / PARTNER_FOLDER
    inbox.mkdir(parents=True, exist_ok=True)
    tag = time.strftime("%H%M%S")
    pending: dict[Path, float] = {}
    results: list[dict] = []
    start = time.monotonic()
    dropped = 0
    while dropped < drops or pending:
        if dropped < drops and time.monotonic() >= start + dropped * spacing:
            path = drop(inbox, dropped + 1, tag)
            pending[path] = path.stat().st_mtime
            dropped += 1
            print(f"  dépôt {dropped}/{drops} : {path.name}", flush=True)
        for path, dropped_at in list(pending.items()):
            report = path.with_name(report_name(path.name))
            if report.exists():
                seconds = report.stat().st_mtime - dropped_at
                results.append({"file": path.name, "latency_s": round(seconds, 2)})
                print(f"  rapport de {path.name} : {seconds:.1f} s", flush=True)
                del pending[path]
            elif time.time() - dropped_at > timeout:
                results.append({"file": path.name, "latency_s": None})
                print(f"  rapport de {path.name} : absent après {timeout:.0f} s", flush=True)
                del pending[path]
        time.sleep(0.25)
    return results


def idle_cost(home: Path) -> dict:
    """Runs that the check short-circuited: how many, and how long their check took."""
    with sqlite3.connect(home / "airflow.db") as db:
        runs = db.execute("SELECT COUNT(*) FROM dag_run WHERE dag_id = 'reception_fichiers'"
                          ).fetchone()[0]
        rows = db.execute(
            "SELECT check_ti.duration, "
            "       (julianday(run.end_date) - julianday(run.start_date)) * 86400 "
            "FROM task_instance check_ti "
            "JOIN task_instance pull ON pull.run_id = check_ti.run_id "
            "     AND pull.dag_id = check_ti.dag_id AND pull.task_id = 'recuperer_sources' "
            "JOIN dag_run run ON run.run_id = check_ti.run_id AND run.dag_id = check_ti.dag_id "
            "WHERE check_ti.dag_id = 'reception_fichiers' "
            "AND check_ti.task_id = 'surveiller_depots' AND pull.state = 'skipped' "
            "AND check_ti.duration IS NOT NULL AND run.end_date IS NOT NULL").fetchall()
        instances = db.execute("SELECT COUNT(*) FROM task_instance "
                               "WHERE dag_id = 'reception_fichiers'").fetchone()[0]
    return {"runs": runs, "task_instances": instances, "skipped_runs": len(rows),
            "check_task_median_s": round(statistics.median(r[0] for r in rows), 2)
            if rows else None,
            "skipped_run_median_s": round(statistics.median(r[1] for r in rows), 2)
            if rows else None}


def run(drops: int, spacing: float, settle: float, timeout: float, idle: float,
        keep: bool) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    data, home = folder / "data", folder / "data" / "airflow"
    # What `make airflow` sets (Makefile), on this throw-away folder.
    env = scheduler_env(dict(os.environ), home, data, free_port())
    env.update({"AIRFLOW__CORE__PARALLELISM": "4",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "AIRFLOW__CORE__DEFAULT_TIMEZONE": DEFAULT_TIMEZONE,
                "GX_ANALYTICS_ENABLED": "False", "NO_PROXY": "*",
                "INCLUSION_SETTLE_SECONDS": str(settle)})
    for key in ("AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL", "INCLUSION_TERRITORY"):
        env.pop(key, None)  # the Airflow defaults, as in `make airflow`; the sample territory
    write_samples(data / "inbox", date.today())
    migrate(env)
    started = time.monotonic()
    try:
        with airflow_processes(env, folder):
            wait_until(lambda: dag_listed(env, "reception_fichiers"), 300, "analyse des DAG")
            paths = DataPaths(data)
            samples = [p for p in (data / "inbox").glob("*/*")
                       if not p.name.endswith(".rapport.txt")]
            print(f"Airflow prêt en {time.monotonic() - started:.0f} s ; traitement des "
                  f"{len(samples)} fichiers d'exemple…", flush=True)
            wait_until(lambda: state_file(paths).exists() and not any(p.exists()
                                                                      for p in samples),
                       600, "traitement des fichiers d'exemple")
            print(f"Mesure : {drops} dépôts, un toutes les {spacing:.0f} s", flush=True)
            results = measure(data, drops, spacing, timeout)
            print(f"Inactivité : {idle:.0f} s sans dépôt (coût des vérifications)", flush=True)
            time.sleep(idle)
        cost = idle_cost(home)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    latencies = [r["latency_s"] if r["latency_s"] is not None else math.inf for r in results]
    return {
        "drops": drops, "spacing_s": spacing, "settle_s": settle, "schedule_s": POLL_SECONDS,
        "full_scan_s": FULL_SCAN_SECONDS,
        # A file is complete at its drop; the check sees it within one schedule period, waits
        # for its settle time, then the batch task writes its report.
        "bound_before_processing_s": max(settle, POLL_SECONDS),
        "p50_s": percentile(latencies, 0.50), "p95_s": percentile(latencies, 0.95),
        "max_s": max(latencies), "target_p95_s": TARGET_P95_S,
        "missing_reports": sum(r["latency_s"] is None for r in results),
        "idle": cost, "results": results, "folder": str(folder) if keep else None}


def format_summary(result: dict) -> str:
    idle = result["idle"]
    return "\n".join([
        f"Latence dépôt → rapport ({result['drops']} dépôts, un toutes les "
        f"{result['spacing_s']:.0f} s)",
        f"  délai de stabilisation (INCLUSION_SETTLE_SECONDS) : {result['settle_s']:.0f} s ; "
        f"vérification toutes les {result['schedule_s']} s ; borne avant traitement : "
        f"{result['bound_before_processing_s']:.0f} s",
        f"  p50 {result['p50_s']:.1f} s   p95 {result['p95_s']:.1f} s   max "
        f"{result['max_s']:.1f} s   (objectif p95 < {result['target_p95_s']} s)"
        + (f"   rapports absents : {result['missing_reports']}"
           if result["missing_reports"] else ""),
        f"  exécutions de reception_fichiers : {idle['runs']} dont {idle['skipped_runs']} "
        f"arrêtées par la vérification (tâche : {idle['check_task_median_s']} s, exécution : "
        f"{idle['skipped_run_median_s']} s en médiane) ; {idle['task_instances']} instances "
        "de tâches"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drops", type=int, default=20)
    parser.add_argument("--spacing", type=float, default=30.0, help="secondes entre deux dépôts")
    parser.add_argument("--settle", type=float,
                        default=float(settings.SETTINGS["INCLUSION_SETTLE_SECONDS"].default))
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="secondes d'attente au plus pour un rapport")
    parser.add_argument("--idle", type=float, default=120.0,
                        help="secondes sans dépôt à la fin (coût des exécutions à vide)")
    parser.add_argument("--keep", action="store_true", help="garder le dossier temporaire")
    args = parser.parse_args()
    result = run(args.drops, args.spacing, args.settle, args.timeout, args.idle,
                 args.keep)
    print(format_summary(result))
    out = settings.get("INCLUSION_DATA") / "bench" / "latency.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    finite = {k: (None if isinstance(v, float) and math.isinf(v) else v)
              for k, v in result.items()}  # a missing report: no figure, not Infinity
    out.write_text(json.dumps(finite, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"Résultats : {out}")


if __name__ == "__main__":
    main()
