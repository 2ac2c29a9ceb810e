"""Files that kill the process working on them (the out-of-memory killer, a crash in a C
reader, SIGKILL at the task's timeout): no exception, so nothing counted as a failure, but each
attempt's mark stays behind, and at ``INCLUSION_MAX_INTERRUPTIONS`` the file is quarantined with
a report instead of being retried forever (pipeline/ingest/safety_net.py). Real processes,
killed for real, as the DAG's batches run them."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from test_crash import complete, run, run_and_kill_at
from test_inbox import PARTNER, SESSIONS, env, files_in, inbox  # noqa: F401 (fixture)

from pipeline.load import ledger, warehouse

pytestmark = [pytest.mark.slow, pytest.mark.crash]

# One batch as the DAG plans it, processed with a reader that kills its own process, as the
# kernel's out-of-memory killer or a segfault would, when it reads « enorme.csv ».
KILLING_READER = (
    "import os, signal\n"
    "from pipeline.ingest import screen\n"
    "read = screen._read\n"
    "def killing_read(path, *args):\n"
    "    if path.name == 'enorme.csv':\n"
    "        os.kill(os.getpid(), signal.SIGKILL)\n"
    "    return read(path, *args)\n"
    "screen._read = killing_read\n"
    "from pipeline.ingest.flow import BatchIncomplete, process_files\n"
    "from pipeline.receive.inbox import plan_batches, scan_inboxes\n"
    "for batch in plan_batches(scan_inboxes()):\n"
    "    try:\n"
    "        process_files([(c['partner'], c['path']) for c in batch['fichiers']])\n"
    "    except BatchIncomplete as error:\n"
    "        print(error)\n")
INGEST_ALL = KILLING_READER.replace("'enorme.csv'", "'aucun fichier'")
REPORT = ".rapport.txt"


def killed(data: Path, code: str = KILLING_READER) -> None:
    process = run(code, data)
    assert process.wait(timeout=300) == -signal.SIGKILL


def marks(data: Path) -> list[Path]:
    return files_in(data / "etat" / "pannes" / PARTNER / "essais")


def rows() -> int:
    return sum(len(warehouse.all_rows(name)) for name in warehouse.DATASET_TABLES)


def test_a_file_killing_its_reader_every_time_ends_quarantined_with_a_report(env: Path):
    (inbox(env) / "ateliers.csv").write_text(SESSIONS, encoding="utf-8")  # read before it
    (inbox(env) / "enorme.csv").write_text(SESSIONS.replace("S1;", "S9;"), encoding="utf-8")
    for attempt in range(1, 4):  # INCLUSION_MAX_INTERRUPTIONS: 3
        killed(env)
        assert len(marks(env)) == attempt  # one per killed attempt, on the killer alone
        assert (inbox(env) / "enorme.csv").exists()
        assert not (inbox(env) / ("enorme.csv" + REPORT)).exists()

    complete(KILLING_READER, env)  # the fourth attempt does not read it again: no kill

    assert sorted(p.name for p in files_in(inbox(env))) == ["ateliers.csv" + REPORT,
                                                            "enorme.csv" + REPORT]
    report = (inbox(env) / ("enorme.csv" + REPORT)).read_text(encoding="utf-8")
    assert "NON TRAITÉ, son traitement s'est interrompu 3 fois" in report
    assert "Aucune ligne de ce fichier n'a été enregistrée" in report
    assert "découpez-le en plusieurs fichiers plus petits" in report
    (quarantined,) = files_in(env / "quarantine" / PARTNER)
    assert quarantined.name.endswith("__enorme.csv")
    (alert,) = files_in(env / "alertes")
    text = alert.read_text(encoding="utf-8")
    assert "mis en quarantaine après 3 interruptions" in text and str(quarantined) in text
    assert "Tué pendant : lecture" in text
    assert marks(env) == []  # forgotten: a copy dropped again after a fix gets fresh attempts
    # The file read before it in the batch was never blamed: loaded once the killer was gone.
    (entry,) = ledger.entries()
    assert (entry.original_name, entry.status) == ("ateliers.csv", ledger.STATUS_ACCEPTED)
    assert rows() == 3  # its 3 sessions, nothing of the killer
    assert [p.name.split("__")[1] for p in files_in(env / "archive" / PARTNER)] == [
        "ateliers.csv"]


def test_the_bound_is_the_setting(env: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("INCLUSION_MAX_INTERRUPTIONS", "1")
    (inbox(env) / "enorme.csv").write_text(SESSIONS, encoding="utf-8")
    killed(env)
    complete(KILLING_READER, env)
    assert "s'est interrompu 1 fois" in (inbox(env) / ("enorme.csv" + REPORT)).read_text(
        encoding="utf-8")
    assert ledger.entries() == []


@pytest.mark.parametrize("fault", ["ingest-before-commit", "ingest-after-commit"])
def test_a_file_killed_once_then_processed_is_archived_and_its_mark_forgotten(
        env: Path, tmp_path: Path, fault: str):
    (inbox(env) / "ateliers.csv").write_text(SESSIONS, encoding="utf-8")
    run_and_kill_at(INGEST_ALL, env, fault, tmp_path)  # e.g. a deploy stops the worker
    assert len(marks(env)) == 1
    complete(INGEST_ALL, env)
    assert [p.name for p in files_in(inbox(env))] == ["ateliers.csv" + REPORT]
    assert "NON TRAITÉ" not in (inbox(env) / ("ateliers.csv" + REPORT)).read_text(
        encoding="utf-8")
    (entry,) = ledger.entries()
    assert entry.status == ledger.STATUS_ACCEPTED and rows() == 3
    assert files_in(env / "quarantine") == [] and files_in(env / "alertes") == []
    assert marks(env) == []


def test_a_kill_while_the_batch_is_validated_together_marks_each_of_its_files(env: Path):
    """Which file made the batch's joint validation die cannot be told: each gets a mark, and
    each is processed normally by the next attempt, its mark forgotten."""
    (inbox(env) / "ateliers.csv").write_text(SESSIONS, encoding="utf-8")
    (inbox(env) / "ateliers_bis.csv").write_text(SESSIONS.replace("S1;", "S9;"),
                                                 encoding="utf-8")
    killed(env, "import os, signal\n"
                "from pipeline.ingest import flow\n"
                "flow.validate_screened = lambda *_: os.kill(os.getpid(), signal.SIGKILL)\n"
                + INGEST_ALL)
    assert len(marks(env)) == 2 and len({m.parent.name for m in marks(env)}) == 2
    complete(INGEST_ALL, env)
    assert sorted(e.original_name for e in ledger.entries()) == ["ateliers.csv",
                                                                 "ateliers_bis.csv"]
    assert marks(env) == [] and files_in(env / "quarantine") == []


def test_a_concurrent_attempt_still_running_is_no_interruption(
        env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An attempt paused mid-reading in a live process (another task on the same bytes) left
    its mark: even at a bound of 1, the other attempt processes the file normally."""
    monkeypatch.setenv("INCLUSION_MAX_INTERRUPTIONS", "1")
    (inbox(env) / "ateliers.csv").write_text(SESSIONS, encoding="utf-8")
    marker = tmp_path / "lecture.pid"
    paused = run(INGEST_ALL.replace("os.kill(os.getpid(), signal.SIGKILL)",
                                    "__import__('pipeline.faults').faults.fault_point('lecture')")
                 .replace("'aucun fichier'", "'ateliers.csv'"), env, "lecture", marker)
    try:
        deadline = time.monotonic() + 180
        while not marker.exists():
            assert paused.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        assert len(marks(env)) == 1
        complete(INGEST_ALL, env)
    finally:
        paused.kill()
        paused.wait(timeout=30)
    assert [p.name for p in files_in(inbox(env))] == ["ateliers.csv" + REPORT]
    (entry,) = ledger.entries()
    assert entry.status == ledger.STATUS_ACCEPTED
    assert files_in(env / "quarantine") == []


def test_marks_left_on_another_machine_count_once_older_than_any_attempt(
        env: Path, monkeypatch: pytest.MonkeyPatch):
    """A process id means nothing on another machine: its marks count only after
    ``INCLUSION_ATTEMPT_MINUTES``."""
    monkeypatch.setenv("INCLUSION_MAX_INTERRUPTIONS", "2")
    (inbox(env) / "enorme.csv").write_text(SESSIONS, encoding="utf-8")
    elsewhere = "import socket\nsocket.gethostname = lambda: 'autre-machine'\n" + KILLING_READER
    killed(env, elsewhere)
    killed(env, elsewhere)
    killed(env)  # here: the two young marks from elsewhere are maybe still running
    assert len(marks(env)) == 3 and (inbox(env) / "enorme.csv").exists()
    monkeypatch.setenv("INCLUSION_ATTEMPT_MINUTES", "0")  # now older than any attempt
    complete(KILLING_READER, env)
    assert "s'est interrompu 3 fois" in (inbox(env) / ("enorme.csv" + REPORT)).read_text(
        encoding="utf-8")
