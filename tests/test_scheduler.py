"""The real thing: Airflow's scheduler, DAG processor and API server (LocalExecutor) against a
throw-away metadata database. Files dropped in an inbox reach the published site through the
Asset that links the two DAGs; every process the test starts is stopped by the test."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from conftest import REPO

from bench.scheduler import (AIRFLOW, airflow_processes, dag_listed, free_port, migrate,
                             scheduler_env)
from demo.samples import write_samples

pytestmark = [pytest.mark.slow, pytest.mark.scheduler]
DEADLINE_SECONDS = 420


@pytest.fixture
def airflow_env(tmp_path: Path) -> dict[str, str]:
    env = {**scheduler_env(dict(os.environ), tmp_path / "airflow", tmp_path / "data", free_port()),
           "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
           "INCLUSION_TERRITORY": str(tmp_path / "territory.toml")}
    # The one-session file dropped after Palaiseau's whole export must not wait for a
    # steward's approval ([publication] min_file_share; tests/test_approval_airflow.py).
    (tmp_path / "territory.toml").write_text(
        (REPO / "territory.toml").read_text(encoding="utf-8").replace(
            "min_file_share = 0.25", "min_file_share = 0.01"), encoding="utf-8")
    migrate(env)
    return env


@pytest.fixture
def running_airflow(airflow_env, tmp_path):
    with airflow_processes(airflow_env, tmp_path) as env:
        yield env


def wait_for(condition, what: str, logs: Path, seconds: float = DEADLINE_SECONDS) -> None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return
        time.sleep(3)
    tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                      for p in sorted(logs.glob("*.log")))
    pytest.fail(f"timed out waiting for {what}\n{tails}")


def trigger(env: dict[str, str], dag_id: str) -> None:
    subprocess.run([AIRFLOW, "dags", "trigger", dag_id], env=env, check=True,
                   capture_output=True, timeout=120)


def test_dropped_files_reach_the_site_under_the_real_scheduler(running_airflow, tmp_path):
    from datetime import date

    env = running_airflow
    data = Path(env["INCLUSION_DATA"])
    wait_for(lambda: dag_listed(env, "reception_fichiers"),
             "the DAG processor to parse the DAGs", tmp_path)
    write_samples(data / "inbox", date.today())
    started = time.monotonic()
    trigger(env, "reception_fichiers")
    inbox_files = lambda: [p for p in (data / "inbox").glob("*/*")  # noqa: E731
                           if not p.name.endswith(".rapport.txt")]
    wait_for(lambda: not inbox_files(), "every sample file to be processed", tmp_path)
    # The daily schedule may publish once before the files land; wait for the publication
    # the warehouse Asset triggers, which shows venues from Orsay's mapped export.
    home = data / "site" / "current" / "index.html"
    orsay = data / "site" / "current" / "lieux" / "ors-1" / "index.html"
    wait_for(orsay.exists, "the publication triggered by the warehouse Asset", tmp_path)
    first_build = home.resolve().parent
    assert "Les prochains ateliers" in home.read_text(encoding="utf-8")

    extra = data / "inbox" / "ville-palaiseau" / "ateliers_supplementaires.csv"
    extra.write_text(
        "identifiant_seance;commune;lieu;date;heure_debut;duree_minutes;thematique;public;"
        "places;inscrits;presents;statut;inscription\n"
        f"PAL-SCHED;91477;Salle du planificateur;{date.today().year + 1}-01-15;10h;60;"
        "Prise en main du smartphone;Seniors;10;1;;Prévue;CCAS\n", encoding="utf-8")
    trigger(env, "reception_fichiers")
    page = data / "site" / "current" / "ateliers" / "index.html"
    wait_for(lambda: "Salle du planificateur" in page.read_text(encoding="utf-8"),
             "the site to show the new workshop", tmp_path)
    assert home.resolve().parent != first_build  # a new build was swapped in
    print(f"\ndrop to published site under the scheduler: {time.monotonic() - started:.0f} s")


def dag_pause_states(home: Path) -> dict[str, bool]:
    with sqlite3.connect(home / "airflow.db") as db:
        return {dag_id: bool(paused) for dag_id, paused in db.execute(
            "SELECT dag_id, is_paused FROM dag")}


def make(env: dict[str, str], *arguments: str) -> None:
    done = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(REPO), *arguments],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def test_make_airflow_after_make_pipeline_picks_up_a_dropped_file(tmp_path):
    """`make pipeline` runs the DAGs once with `airflow dags test`; `make airflow` afterwards
    must find both DAGs active, so that a file dropped later is taken at the next scheduled
    scan, with nobody triggering anything."""
    data = tmp_path / "data"
    home = data / "airflow"  # what the Makefile makes of INCLUSION_DATA
    env = scheduler_env({key: value for key, value in os.environ.items()
                         if key != "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"},
                        home, data, free_port())
    (data / "inbox").mkdir(parents=True)
    migrate(env)
    # The DAG test exactly as `make pipeline` runs it (its macro, with the Makefile's variables).
    make(env, "--eval", "dag-test-only: ; @$(call dag_test,reception_fichiers)", "dag-test-only")
    both_active = {"reception_fichiers": False, "publication_site": False,
                   "relance_partenaires": False}
    assert dag_pause_states(home) == both_active

    # A data folder from before the fix: the DAG test had left both DAGs paused.
    for dag_id in both_active:
        subprocess.run([AIRFLOW, "dags", "pause", dag_id], env=env, check=True,
                       capture_output=True, timeout=120)
    assert dag_pause_states(home) == dict.fromkeys(both_active, True)
    make(env, "airflow-db")  # what `make airflow` does before starting Airflow
    assert dag_pause_states(home) == both_active

    with airflow_processes(env, tmp_path):
        drop = data / "inbox" / "ville-palaiseau" / "ateliers_apres_demo.csv"
        drop.parent.mkdir(parents=True, exist_ok=True)
        drop.write_text(
            "identifiant_seance;commune;lieu;date;heure_debut;duree_minutes;thematique;public;"
            "places;inscrits;presents;statut;inscription\n"
            f"PAL-APRES;91477;Salle après la démo;{date.today().year + 1}-01-15;10h;60;"
            "Prise en main du smartphone;Seniors;10;1;;Prévue;CCAS\n", encoding="utf-8")

        def ledger_names() -> list[str]:
            out = subprocess.run([sys.executable, "-m", "pipeline.cli", "ledger", "--json"],
                                 env=env, cwd=REPO, capture_output=True, text=True).stdout
            return [json.loads(line)["original_name"] for line in out.splitlines() if line]

        # The next scheduled check (every 30 s) sees the new file, then the processing.
        wait_for(lambda: "ateliers_apres_demo.csv" in ledger_names(),
                 "the next scheduled scan to take the dropped file", tmp_path, seconds=600)
    with sqlite3.connect(home / "airflow.db") as db:
        run_types = {row[0] for row in db.execute(
            "SELECT run_type FROM dag_run WHERE dag_id = 'reception_fichiers'")}
    assert "scheduled" in run_types
    assert not drop.exists()  # archived (or quarantined) with the run, not left in the inbox
    assert dag_pause_states(home) == both_active
