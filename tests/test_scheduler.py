"""The real thing: Airflow's scheduler, DAG processor and API server (LocalExecutor) against a
throw-away metadata database. Files dropped in an inbox reach the published site through the
Asset that links the two DAGs; every process the test starts is stopped by the test."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from conftest import REPO

from demo.samples import write_samples

pytestmark = [pytest.mark.slow, pytest.mark.scheduler]
AIRFLOW = str(Path(sys.executable).parent / "airflow")
DEADLINE_SECONDS = 420


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def airflow_env(tmp_path: Path) -> dict[str, str]:
    home, data, port = tmp_path / "airflow", tmp_path / "data", free_port()
    env = {**os.environ,
           "AIRFLOW_HOME": str(home), "INCLUSION_DATA": str(data),
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
           "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
           "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__PARALLELISM": "2",
           "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
           "AIRFLOW__API__PORT": str(port),
           "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
           "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
           "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
           "INCLUSION_SETTLE_SECONDS": "0",
           "INCLUSION_TERRITORY": str(tmp_path / "territory.toml"),
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    # The one-session file dropped after Palaiseau's whole export must not wait for a
    # steward's approval ([publication] min_file_share; tests/test_approval_airflow.py).
    (tmp_path / "territory.toml").write_text(
        (REPO / "territory.toml").read_text(encoding="utf-8").replace(
            "min_file_share = 0.25", "min_file_share = 0.01"), encoding="utf-8")
    home.mkdir()
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True,
                   timeout=300)
    return env


@contextmanager
def airflow_processes(env: dict[str, str], logs: Path) -> Iterator[dict[str, str]]:
    """The API server, scheduler and DAG processor, stopped (whole process groups) on exit."""
    processes = []
    for command in (["api-server"], ["scheduler"], ["dag-processor"]):
        log = open(logs / f"{command[0]}.log", "wb")  # noqa: SIM115 - closed below
        processes.append((subprocess.Popen([AIRFLOW, *command], env=env, stdout=log,
                                           stderr=subprocess.STDOUT, start_new_session=True),
                          log))
    try:
        yield env
    finally:
        for process, log in processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process, log in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
            log.close()


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
    wait_for(lambda: subprocess.run([AIRFLOW, "dags", "list"], env=env, capture_output=True,
                                    text=True).stdout.count("reception_fichiers") == 1,
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
    data, port = tmp_path / "data", free_port()
    home = data / "airflow"  # what the Makefile makes of INCLUSION_DATA
    env = {key: value for key, value in os.environ.items()
           if key != "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"}
    env.update({"INCLUSION_DATA": str(data), "AIRFLOW_HOME": str(home),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__PARALLELISM": "2",
                "AIRFLOW__API__PORT": str(port),
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "INCLUSION_SETTLE_SECONDS": "0",
                "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
    (data / "inbox").mkdir(parents=True)
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True,
                   timeout=300)
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

        # The schedule is every 5 minutes: the next scan, then the processing.
        wait_for(lambda: "ateliers_apres_demo.csv" in ledger_names(),
                 "the next scheduled scan to take the dropped file", tmp_path, seconds=600)
    with sqlite3.connect(home / "airflow.db") as db:
        run_types = {row[0] for row in db.execute(
            "SELECT run_type FROM dag_run WHERE dag_id = 'reception_fichiers'")}
    assert "scheduled" in run_types
    assert not drop.exists()  # archived (or quarantined) with the run, not left in the inbox
    assert dag_pause_states(home) == both_active
