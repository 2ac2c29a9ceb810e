"""The real Airflow scheduler for tests and benchmarks: the API server, scheduler and DAG
processor with the LocalExecutor (what `make airflow` runs, less the triggerer and the UI's
login), on a throw-away data folder and metadata database. Every process started here is
stopped here (whole process groups)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ops.cluster import Processes, free_port  # noqa: F401 - free_port used by the tests

REPO = Path(__file__).resolve().parent.parent
AIRFLOW = str(Path(sys.executable).parent / "airflow")


def scheduler_env(base: dict[str, str], home: Path, data: Path, port: int) -> dict[str, str]:
    """``base`` plus what the processes need: their own home, metadata database and port."""
    return {**base,
            "AIRFLOW_HOME": str(home), "INCLUSION_DATA": str(data),
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
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}


def migrate(env: dict[str, str]) -> None:
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True,
                   timeout=300)


def dag_listed(env: dict[str, str], dag_id: str) -> bool:
    return subprocess.run([AIRFLOW, "dags", "list"], env=env, capture_output=True,
                          text=True).stdout.count(dag_id) == 1


@contextmanager
def airflow_processes(env: dict[str, str], logs: Path) -> Iterator[dict[str, str]]:
    """The API server, scheduler and DAG processor, stopped (whole process groups) on exit."""
    processes = Processes(logs)
    try:
        for command in ("api-server", "scheduler", "dag-processor"):
            processes.start(command, [AIRFLOW, command], env)
        yield env
    finally:
        processes.stop()
