"""The growth path: the same DAGs, unchanged, with the warehouse and Airflow's metadata on
PostgreSQL, chosen by configuration only. The test creates a throw-away cluster (Debian's
PostgreSQL 15, initdb in a temporary folder, run as the `postgres` user) and stops it."""

from __future__ import annotations

import os
import subprocess

import pytest
from conftest import REFERENCE_DAY, REPO
from sqlalchemy import create_engine, text

from demo.samples import write_samples
from ops.cluster import AIRFLOW, postgres_available, postgres_server

pytestmark = [pytest.mark.slow, pytest.mark.postgres,
              pytest.mark.skipif(not postgres_available(),
                                 reason="PostgreSQL 15 server binaries are not installed")]


@pytest.fixture
def postgres():
    with postgres_server("entrepot", "airflow") as server:
        yield server.url


def test_pipeline_runs_unchanged_on_postgresql(postgres, tmp_path):
    data = tmp_path / "data"
    write_samples(data / "inbox", REFERENCE_DAY)
    env = {**os.environ, "INCLUSION_DATA": str(data), "INCLUSION_SETTLE_SECONDS": "0",
           "INCLUSION_WAREHOUSE_URL": f"{postgres}/entrepot",
           "AIRFLOW_HOME": str(tmp_path / "airflow"),
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"{postgres}/airflow",
           "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    for command in (["db", "migrate"], ["dags", "test", "reception_fichiers"],
                    ["dags", "test", "publication_site"]):
        done = subprocess.run([AIRFLOW, *command], env=env, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    warehouse_db, metadata_db = (create_engine(f"{postgres}/entrepot"),
                                 create_engine(f"{postgres}/airflow"))
    with warehouse_db.connect() as connection:
        files = connection.execute(text("SELECT count(*) FROM ledger")).scalar_one()
        sessions = connection.execute(
            text("SELECT count(*) FROM ateliers WHERE current = 1")).scalar_one()
    with metadata_db.connect() as connection:
        metadata_runs = connection.execute(
            text("SELECT count(*) FROM dag_run WHERE state = 'success'")).scalar_one()
    warehouse_db.dispose()
    metadata_db.dispose()
    assert files == 8 and sessions == 165 and metadata_runs == 2
    assert not (data / "warehouse" / "warehouse.sqlite").exists()  # nothing went to SQLite
    assert "Les prochains ateliers" in (data / "site" / "current" / "index.html").read_text(
        encoding="utf-8")


def test_copy_stores_what_the_row_by_row_insert_stored(postgres, data_dir, tmp_path,
                                                       monkeypatch):
    from test_bulk_insert import check_against_row_by_row

    from pipeline.load import warehouse

    monkeypatch.setenv("INCLUSION_WAREHOUSE_URL", f"{postgres}/entrepot")
    try:
        check_against_row_by_row(tmp_path)  # tabs, newlines, backslashes, NULLs through COPY
    finally:
        warehouse.engine().dispose()
