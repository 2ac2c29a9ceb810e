"""The cheap check that starts every run of reception_fichiers (pipeline.receive.watch): an
unchanged inbox stops the run, a new complete file lets it go on, a file still arriving is taken
once complete (never skipped for good), and the pipeline's own writes never start another run."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.files import report_name
from pipeline.receive import watch
from pipeline.receive.watch import FULL_SCAN_SECONDS, POLL_SECONDS, check_inboxes, decide, record

CORPUS = Path(__file__).parent / "corpus"
PARTNER = "ville-palaiseau"


@pytest.fixture
def inbox(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INCLUSION_TERRITORY", str(CORPUS / "territory.toml"))
    monkeypatch.setenv("INCLUSION_SETTLE_SECONDS", "30")
    folder = data_dir / "inbox" / PARTNER
    folder.mkdir(parents=True)
    return folder


def dropped(folder: Path, name: str = "ateliers.csv", age: float = 60) -> Path:
    path = folder / name
    path.write_text("identifiant_seance;commune\nS1;91477\n", encoding="utf-8")
    os.utime(path, (time.time() - age, time.time() - age))
    return path


def full_run(now: float) -> None:
    """What a run that goes on leaves behind: the listing it started from."""
    decision = decide(now=now)
    assert decision.proceed
    record(decision, now=now)


def test_an_unchanged_inbox_stops_the_run(inbox: Path):
    dropped(inbox)
    now = time.time()
    full_run(now)
    decision = decide(now=now + POLL_SECONDS)
    assert not decision.proceed and decision.wait_seconds == 0
    assert "rien de nouveau" in decision.reason


def test_a_new_complete_file_lets_the_run_go_on(inbox: Path):
    now = time.time()
    full_run(now)  # the first run of all is a full one
    assert not decide(now=now + 1).proceed
    dropped(inbox, "nouveau.csv")
    decision = decide(now=now + 2)
    assert decision.proceed and f"{PARTNER}/nouveau.csv" in decision.reason


def test_a_file_still_settling_is_taken_once_settled_not_skipped_for_good(inbox: Path):
    now = time.time()
    full_run(now)
    path = dropped(inbox, age=0)
    decision = decide(now=now + 5)
    assert not decision.proceed
    assert 20 < decision.wait_seconds <= 30  # the check waits for it rather than the next run
    path.write_text(path.read_text(encoding="utf-8") + "S2;91477\n", encoding="utf-8")  # grows
    assert not decide(now=time.time() + 10).proceed  # nothing recorded meanwhile
    assert decide(now=time.time() + 31).proceed


def test_the_check_waits_for_a_file_about_to_settle(inbox: Path,
                                                     monkeypatch: pytest.MonkeyPatch):
    full_run(time.time())
    monkeypatch.setenv("INCLUSION_SETTLE_SECONDS", "0.5")
    dropped(inbox, age=0)
    waits: list[float] = []
    assert check_inboxes(sleep=lambda s: (waits.append(s), time.sleep(s)))
    assert len(waits) == 1 and waits[0] <= 1.0
    assert not check_inboxes(sleep=lambda s: pytest.fail("nothing to wait for"))


def test_a_file_held_open_for_writing_is_not_recorded(inbox: Path):
    now = time.time()
    full_run(now)
    path = dropped(inbox)
    with open(path, "a", encoding="utf-8"):  # a writer that paused longer than the settle time
        assert not decide(now=now + 1).proceed
    assert decide(now=now + 2).proceed


def test_reports_and_archived_files_start_no_other_run(inbox: Path):
    path = dropped(inbox)
    now = time.time()
    full_run(now)
    path.unlink()  # archived by the run
    (inbox / report_name(path.name)).write_text("Rapport de dépôt\n", encoding="utf-8")
    (inbox / ".ateliers.csv.tmp").write_text("en cours\n", encoding="utf-8")
    assert not decide(now=now + POLL_SECONDS).proceed


def test_the_same_file_dropped_again_is_new(inbox: Path, data_dir: Path):
    """Copied again with its times kept (rsync -a): only the inode tells it apart."""
    path = dropped(inbox)
    before = path.stat()
    now = time.time()
    full_run(now)
    (data_dir / "archive").mkdir()
    path.rename(data_dir / "archive" / path.name)  # archived: its inode stays in use
    dropped(inbox)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert decide(now=now + 1).proceed


def test_a_file_left_by_a_failed_run_is_tried_again_at_the_periodic_full_scan(inbox: Path):
    dropped(inbox)
    now = time.time()
    full_run(now)  # the run failed: the file is still there
    assert not decide(now=now + FULL_SCAN_SECONDS - 1).proceed
    decision = decide(now=now + FULL_SCAN_SECONDS)
    assert decision.proceed and "périodique" in decision.reason


def test_a_run_started_by_hand_is_always_a_full_one(inbox: Path):
    now = time.time()
    full_run(now)
    assert decide(now=now + 1, full=True).proceed


def test_a_missing_or_damaged_state_means_a_full_run(inbox: Path, data_dir: Path):
    now = time.time()
    full_run(now)
    watch.state_file(watch.DataPaths(data_dir)).write_text("{", encoding="utf-8")
    assert decide(now=now + 1).proceed


def test_the_dag_checks_first_on_the_schedule_the_check_assumes(dagbag):
    dag = dagbag.get_dag("reception_fichiers")
    assert dag.timetable.delta == timedelta(seconds=POLL_SECONDS)
    first = dag.get_task("surveiller_depots")
    assert first.upstream_task_ids == set()
    assert first.downstream_task_ids == {"recuperer_sources"}
    assert first.ignore_downstream_trigger_rules  # also skips the all_done tasks
