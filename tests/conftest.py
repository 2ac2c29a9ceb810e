"""Test configuration: every test gets its own data folder; Airflow gets a throw-away home and
metadata database for the whole session. The environment is set before Airflow is imported."""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

REPO = Path(__file__).resolve().parent.parent
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="airflow-home-"))
os.environ.update({
    "AIRFLOW_HOME": str(_AIRFLOW_HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__PARALLELISM": "2",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}",
    "GX_ANALYTICS_ENABLED": "False",
    "INCLUSION_SETTLE_SECONDS": "0",  # tests drop files and scan at once
})
os.environ.pop("INCLUSION_WAREHOUSE_URL", None)
# Airflow puts the DAGs folder on sys.path for its processes; do the same for in-process runs.
sys.path.insert(0, str(REPO / "dags"))

PARIS = ZoneInfo("Europe/Paris")
# A fixed reference day, so that sample files and expected answers never depend on the clock.
REFERENCE_DAY = date(2026, 11, 25)
REFERENCE_RUN = datetime(2026, 11, 25, 6, 0, tzinfo=PARIS)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("INCLUSION_DATA", str(folder))
    return folder


@pytest.fixture(scope="session")
def airflow_db() -> None:
    from airflow.utils import db

    db.initdb()


@pytest.fixture(scope="session")
def dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))
