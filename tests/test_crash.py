"""Crash safety: a process killed with SIGKILL at any fault point, then the same work run
again, leaves the warehouse, the ledger and the site exactly as a run never interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import REFERENCE_DAY, REFERENCE_RUN, REPO

from demo.samples import write_samples
from pipeline.load import ledger, warehouse

pytestmark = [pytest.mark.slow, pytest.mark.crash]
# As the DAG does it: the files in batches, each batch validated at once, then loaded file by
# file (a kill lands between two files' commits of one batch).
INGEST_ALL = ("from pipeline.receive.inbox import plan_batches, scan_inboxes\n"
              "from pipeline.ingest.flow import process_files\n"
              "for batch in plan_batches(scan_inboxes()):\n"
              "    process_files([(c['partner'], c['path']) for c in batch['fichiers']])\n")
PUBLISH = (f"from datetime import datetime\nfrom zoneinfo import ZoneInfo\n"
           f"from publish.site import publish\n"
           f"publish(datetime.fromisoformat('{REFERENCE_RUN.isoformat()}'))\n")


def drop_samples(data: Path) -> None:
    """The same sample files with the same times, so both runs receive identical drops."""
    moment = REFERENCE_RUN.timestamp() - 3600
    for path in write_samples(data / "inbox", REFERENCE_DAY):
        os.utime(path, (moment, moment))


def run(code: str, data: Path, fault: str | None = None, marker: Path | None = None):
    env = {**os.environ, "INCLUSION_DATA": str(data), "INCLUSION_SETTLE_SECONDS": "0",
           "PYTHONPATH": str(REPO)}
    if fault:
        env.update(INCLUSION_FAULT_PAUSE=fault, INCLUSION_FAULT_MARKER=str(marker))
    return subprocess.Popen([sys.executable, "-c", code], env=env)


def run_and_kill_at(code: str, data: Path, fault: str, tmp_path: Path) -> None:
    marker = tmp_path / f"{fault}.pid"
    process = run(code, data, fault, marker)
    deadline = time.monotonic() + 180
    while not marker.exists():
        assert process.poll() is None, "the process ended before reaching the fault point"
        assert time.monotonic() < deadline, "fault point never reached"
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def complete(code: str, data: Path) -> None:
    assert run(code, data).wait(timeout=300) == 0


def state(data: Path, monkeypatch) -> tuple:
    monkeypatch.setenv("INCLUSION_DATA", str(data))
    tables = {name: warehouse.all_rows(name).drop(columns=["source_received_at"])
              .sort_values(list(warehouse.all_rows(name).columns[:3])).reset_index(drop=True)
              for name in warehouse.DATASET_TABLES}
    entries = sorted((e.partner, e.sha256, e.status, e.rows_loaded) for e in ledger.entries())
    current = data / "site" / "current"
    site = ({str(p.relative_to(current)): p.read_bytes() for p in sorted(current.rglob("*"))
             if p.is_file()} if current.exists() else {})
    inbox = sorted(p.name for p in (data / "inbox").rglob("*") if p.is_file())
    return tables, entries, site, inbox


def same(left: dict, right: dict) -> bool:
    return left.keys() == right.keys() and all(
        left[k].equals(right[k]) if isinstance(left[k], pd.DataFrame) else left[k] == right[k]
        for k in left)


@pytest.fixture(scope="module")
def clean_state(tmp_path_factory):
    """The uninterrupted run every crashed run is compared with, made once for the module."""
    data = tmp_path_factory.mktemp("crash") / "clean"
    drop_samples(data)
    complete(INGEST_ALL, data)
    complete(PUBLISH, data)
    with pytest.MonkeyPatch.context() as patch:
        return state(data, patch)


@pytest.mark.parametrize("fault", ["ingest-before-commit", "ingest-after-commit"])
def test_killed_load_then_rerun_equals_a_clean_run(clean_state, tmp_path, monkeypatch, fault):
    data = tmp_path / "crashed"
    drop_samples(data)
    run_and_kill_at(INGEST_ALL, data, fault, tmp_path)
    complete(INGEST_ALL, data)  # what Airflow's retry or a re-run does
    complete(PUBLISH, data)
    tables, entries, site, inbox = state(data, monkeypatch)
    clean_tables, clean_entries, clean_site, clean_inbox = clean_state
    assert same(tables, clean_tables)
    assert [e[1:] for e in entries] == [e[1:] for e in clean_entries]
    assert site.keys() == clean_site.keys() and site == clean_site
    assert inbox == clean_inbox  # the same reports, no file left behind


def test_killed_publication_leaves_the_live_site_then_rerun_equals_a_clean_run(
        clean_state, tmp_path, monkeypatch):
    data = tmp_path / "crashed"
    drop_samples(data)
    complete(INGEST_ALL, data)
    run_and_kill_at(PUBLISH, data, "publish-before-swap", tmp_path)
    assert not (data / "site" / "current").exists()  # nothing half-built was ever shown
    complete(PUBLISH, data)
    assert state(data, monkeypatch)[2] == clean_state[2]
