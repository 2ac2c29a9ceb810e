"""The growth path: the same DAGs, unchanged, with the warehouse and Airflow's metadata on
PostgreSQL, chosen by configuration only. The test creates a throw-away cluster (Debian's
PostgreSQL 15, initdb in a temporary folder, run as the `postgres` user) and stops it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import REFERENCE_DAY, REPO
from sqlalchemy import create_engine, text

from demo.samples import write_samples

BIN = Path("/usr/lib/postgresql/15/bin")
pytestmark = [pytest.mark.slow, pytest.mark.postgres,
              pytest.mark.skipif(not (BIN / "initdb").exists() or shutil.which("runuser") is None,
                                 reason="PostgreSQL 15 server binaries are not installed")]
AIRFLOW = str(Path(sys.executable).parent / "airflow")


def as_postgres(*command: str) -> None:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)


@pytest.fixture
def postgres():
    # Not under pytest's tmp_path: its parents are private to root, and the server runs as
    # the `postgres` user.
    folder = Path(tempfile.mkdtemp(prefix="pg-test-"))
    os.chmod(folder, 0o755)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    as_postgres(str(BIN / "initdb"), "-D", str(folder / "data"), "-U", "postgres",
                "--auth=trust", "--encoding=UTF8", "--locale=C")
    as_postgres(str(BIN / "pg_ctl"), "-D", str(folder / "data"), "-w", "-l",
                str(folder / "server.log"), "-o",
                f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start")
    try:
        for database in ("entrepot", "airflow"):
            as_postgres(str(BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), database)
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}"
    finally:
        as_postgres(str(BIN / "pg_ctl"), "-D", str(folder / "data"), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


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
