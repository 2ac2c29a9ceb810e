"""The state that workers sharing no disk must share (issue 19), against the local S3 server: the
safety net's failure counts and the alerts' repeat markers in the state area
(``INCLUSION_STATE_URL``), the steward commands ``reprocess`` and ``status`` on the object
store, and the conditional delete of an inbox object. Two workers are two data folders with the
same object store and the same warehouse."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_object_inbox import REPORT, files_under, ingest_all, workshops

from pipeline.alerts import raise_alert
from pipeline.cli import main as cli
from pipeline.files import sha256_of
from pipeline.ingest.flow import BatchIncomplete
from pipeline.ingest.objects import process_batch
from pipeline.load import ledger, warehouse
from pipeline.receive.inbox import plan_batches, scan_inboxes

PARTNER = "ville-palaiseau"
KEY = f"inbox/{PARTNER}/ateliers.csv"


@pytest.fixture
def two_workers(object_store, tmp_path, monkeypatch):
    """Two working folders sharing the bucket and one warehouse (outside both); the first is
    the current one."""
    monkeypatch.setenv("INCLUSION_WAREHOUSE_URL", f"sqlite:///{tmp_path / 'entrepot.sqlite'}")
    folders = [tmp_path / "travail-a", tmp_path / "travail-b"]
    for folder in folders:
        folder.mkdir()
    monkeypatch.setenv("INCLUSION_DATA", str(folders[0]))
    yield folders
    warehouse.engine().dispose()


def on_worker(monkeypatch, folder: Path) -> None:
    monkeypatch.setenv("INCLUSION_DATA", str(folder))


def crash_on_read(monkeypatch, message: str = "bogue de lecture") -> None:
    from pipeline.ingest import screen

    def read(*_args):
        raise RuntimeError(message)

    monkeypatch.setattr(screen, "_read", read)


def failure_records(store) -> list[str]:
    """One object per failed attempt, under ``pannes/<partner>/<fingerprint>/``."""
    return [key for key in store.keys(f"etat/pannes/{PARTNER}/") if key.count("/") == 4]


# 1. The safety net's failure counts ----------------------------------------------------------

# A worker whose reading fails once (counted), then is killed with SIGKILL while it reads the
# same object again, in the middle of its retry.
FAIL_THEN_KILLED = (
    "from pipeline.ingest import screen\n"
    "from pipeline.faults import fault_point\n"
    "calls = []\n"
    "def read(*_args):\n"
    "    calls.append(1)\n"
    "    if len(calls) > 1:\n"
    "        fault_point('lecture-relancee')\n"
    "    raise RuntimeError('bogue de lecture')\n"
    "screen._read = read\n"
    "from pipeline.ingest.flow import BatchIncomplete\n"
    "from pipeline.ingest.objects import process_batch\n"
    "from pipeline.receive.inbox import plan_batches, scan_inboxes\n"
    "(batch,) = plan_batches(scan_inboxes())\n"
    "for attempt in range(2):\n"
    "    try:\n"
    "        process_batch(batch['fichiers'])\n"
    "    except BatchIncomplete:\n"
    "        pass\n")


@pytest.mark.crash
def test_a_failure_counted_by_a_worker_killed_since_counts_on_the_other_worker(
        object_store, two_workers, tmp_path, monkeypatch):
    from test_crash import run_and_kill_at

    first, second = two_workers
    object_store.put(KEY, workshops(8))
    run_and_kill_at(FAIL_THEN_KILLED, first, "lecture-relancee", tmp_path)
    assert len(failure_records(object_store)) == 1  # the failure, not the kill
    assert object_store.keys("inbox/") == [KEY] and object_store.keys("quarantine/") == []
    shutil.rmtree(first)  # the killed worker's disk is gone with it

    on_worker(monkeypatch, second)
    crash_on_read(monkeypatch)
    (batch,) = plan_batches(scan_inboxes())
    with pytest.raises(BatchIncomplete, match="mis en quarantaine après 2 pannes"):
        process_batch(batch["fichiers"])  # the second failure of the file, on another worker
    (quarantined,) = object_store.keys("quarantine/")
    assert object_store.get(quarantined) == workshops(8)
    assert "NON TRAITÉ" in object_store.get(KEY + REPORT).decode("utf-8")
    (alert,) = object_store.keys("alertes/")
    assert f"s3://{object_store.bucket}/etat/pannes/{PARTNER}/" in \
        object_store.get(alert).decode("utf-8")
    assert files_under(second / "etat") == []  # nothing of it kept on the worker's disk


def test_the_retry_on_the_other_worker_is_told_the_file_was_quarantined(
        object_store, two_workers, monkeypatch):
    first, second = two_workers
    object_store.put(KEY, workshops(8))
    crash_on_read(monkeypatch)
    (batch,) = plan_batches(scan_inboxes())
    for folder in (first, second):  # two failures, one on each worker: quarantined
        on_worker(monkeypatch, folder)
        with pytest.raises(BatchIncomplete):
            process_batch(batch["fichiers"])
    assert len(object_store.keys("quarantine/")) == 1
    on_worker(monkeypatch, first)  # the task's last retry, back on the first worker
    with pytest.raises(BatchIncomplete, match="mis en quarantaine"):
        process_batch(batch["fichiers"])
    on_worker(monkeypatch, second)
    assert process_batch(batch["fichiers"]) == []  # told once only


def test_a_success_on_one_worker_forgets_the_failures_of_the_other(
        object_store, two_workers, monkeypatch):
    first, second = two_workers
    object_store.put(KEY, workshops(8))
    (batch,) = plan_batches(scan_inboxes())
    with monkeypatch.context() as patch:
        crash_on_read(patch)
        with pytest.raises(BatchIncomplete):
            process_batch(batch["fichiers"])
    assert len(failure_records(object_store)) == 1
    on_worker(monkeypatch, second)
    (outcome,) = process_batch(batch["fichiers"])  # the retry goes through
    assert outcome.status == ledger.STATUS_ACCEPTED
    assert failure_records(object_store) == []  # forgotten by the worker that succeeded
    assert object_store.keys("quarantine/") == []


# A worker whose reader kills its own process (the out-of-memory killer, a segfault) on the
# batch's object.
KILLED_READING = (
    "import os, signal\n"
    "from pipeline.ingest import screen\n"
    "def read(*_args):\n"
    "    os.kill(os.getpid(), signal.SIGKILL)\n"
    "screen._read = read\n"
    "from pipeline.ingest.objects import process_batch\n"
    "from pipeline.receive.inbox import plan_batches, scan_inboxes\n"
    "(batch,) = plan_batches(scan_inboxes())\n"
    "process_batch(batch['fichiers'])\n")


@pytest.mark.crash
def test_an_object_killing_workers_on_two_machines_is_quarantined_by_the_next_one(
        object_store, two_workers, monkeypatch):
    """Each killed attempt leaves its mark on the store, whichever worker it ran on (and its
    disk lost); the next attempt counts them all and quarantines the object without reading
    it."""
    import signal

    from test_crash import run

    first, second = two_workers
    object_store.put(KEY, workshops(8))
    for folder in (first, second, first):
        assert run(KILLED_READING, folder).wait(timeout=300) == -signal.SIGKILL
        shutil.rmtree(folder / "inbox")  # the killed worker's copy, lost with its disk
    assert len(object_store.keys(f"etat/pannes/{PARTNER}/essais/")) == 3
    assert failure_records(object_store) == []  # killed, not failed
    assert object_store.keys("inbox/") == [KEY]

    on_worker(monkeypatch, second)
    (batch,) = plan_batches(scan_inboxes())
    with pytest.raises(BatchIncomplete, match="mis en quarantaine après 3 interruptions"):
        process_batch(batch["fichiers"])
    (quarantined,) = object_store.keys("quarantine/")
    assert object_store.get(quarantined) == workshops(8)
    report = object_store.get(KEY + REPORT).decode("utf-8")
    assert "son traitement s'est interrompu 3 fois" in report
    assert object_store.keys("inbox/") == [KEY + REPORT]
    (alert,) = object_store.keys("alertes/")
    assert f"s3://{object_store.bucket}/quarantine/" in object_store.get(alert).decode("utf-8")
    assert object_store.keys(f"etat/pannes/{PARTNER}/essais/") == []
    assert ledger.entries() == []
    assert files_under(second / "etat") == []  # nothing of it kept on the worker's disk


# 2. The alerts' repeat markers ---------------------------------------------------------------

def test_the_same_alert_from_two_workers_goes_out_once_in_the_repeat_window(
        object_store, two_workers, monkeypatch):
    first, second = two_workers
    monkeypatch.setenv("INCLUSION_ALERT_REPEAT_HOURS", "1")
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    def alert(folder: Path, when: datetime, error: str = "entrepôt injoignable"):
        on_worker(monkeypatch, folder)
        return raise_alert("Échec reception_fichiers.traiter_lot", error, now=when,
                           repeat_key=f"traiter_lot\n{error}")

    assert alert(first, now) is not None
    assert alert(second, now + timedelta(minutes=5)) is None  # the other worker: a repeat
    assert alert(first, now + timedelta(minutes=10)) is None
    assert len(object_store.keys("alertes/")) == 1
    assert alert(second, now + timedelta(minutes=11), "disque plein") is not None  # news
    assert len(object_store.keys("alertes/")) == 2
    assert alert(second, now + timedelta(minutes=70)) is not None  # the window has passed
    assert alert(first, now + timedelta(minutes=75)) is None  # and the new one is shared
    assert len(object_store.keys("alertes/")) == 3
    assert files_under(first / "etat") == files_under(second / "etat") == []


def test_a_store_that_does_not_answer_gets_the_alert_in_the_data_folder_in_time(
        object_store, data_dir, monkeypatch):
    """Airflow kills a failure callback 20 s after the task reported its failure: an alert the
    store holds longer than STORE_SECONDS goes to the worker's own folder instead."""
    import time

    from pipeline import alerts
    from pipeline.storage import objects

    monkeypatch.setattr(alerts, "STORE_SECONDS", 0.5)
    monkeypatch.setattr(objects, "stat_object", lambda _path: time.sleep(30))
    started = time.monotonic()
    path = raise_alert("Échec d'essai", "Le détail.", repeat_key="essai")
    assert time.monotonic() - started < 5
    assert path.parent == data_dir / "alertes"
    assert path.read_text(encoding="utf-8") == "Échec d'essai\n\nLe détail.\n"
    assert object_store.keys("alertes/") == []


def test_markers_are_written_only_on_a_condition(object_store, data_dir):
    from pipeline import storage
    from pipeline.storage import objects

    marker = storage.area("state") / "alertes-envoyees" / "essai"
    assert objects.create_exclusive(marker, b"premier")
    assert not objects.create_exclusive(marker, b"second")  # another worker was first
    seen = objects.stat_object(marker)
    assert objects.replace_if_unchanged(marker, b"renouvele", seen.etag)
    assert not objects.replace_if_unchanged(marker, b"en retard", seen.etag)
    assert objects.read_bytes(marker) == b"renouvele"


def refuse_conditions(monkeypatch, method: str) -> list[str]:
    """The store answers 501 to ``method`` with a condition, as a store without conditional
    requests does; returns the keys it was asked for."""
    from botocore.exceptions import ClientError
    from s3fs import S3FileSystem

    real = S3FileSystem.call_s3
    asked = []

    def without_conditions(self, called, *args, **kwargs):
        if called == method and {"IfMatch", "IfNoneMatch"} & set(kwargs):
            asked.append(kwargs["Key"])
            raise ClientError({"Error": {"Code": "NotImplemented", "Message": "condition"},
                               "ResponseMetadata": {"HTTPStatusCode": 501}}, called)
        return real(self, called, *args, **kwargs)

    monkeypatch.setattr(S3FileSystem, "call_s3", without_conditions)
    return asked


def test_a_store_without_conditional_writes_still_shares_the_markers(
        object_store, two_workers, monkeypatch):
    first, second = two_workers
    asked = refuse_conditions(monkeypatch, "put_object")
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    for folder, minutes, sent in ((first, 0, True), (second, 5, False), (second, 400, True),
                                  (first, 405, False)):
        on_worker(monkeypatch, folder)
        alert = raise_alert("Échec", "Le détail.", now=now + timedelta(minutes=minutes),
                            repeat_key="même")
        assert (alert is not None) == sent, minutes
    assert len(asked) == 2 and len(object_store.keys("alertes/")) == 2


def test_an_unreachable_state_area_still_alerts_once_per_worker(object_store, data_dir,
                                                                monkeypatch):
    monkeypatch.setenv("INCLUSION_STATE_URL", "s3://inclusion-absent/etat")
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert raise_alert("Échec", "Le détail.", now=now, repeat_key="même") is not None
    assert raise_alert("Échec", "Le détail.", now=now, repeat_key="même") is None
    assert len(object_store.keys("alertes/")) == 1
    assert len(files_under(data_dir / "etat" / "alertes-envoyees")) == 1  # kept locally


def test_inboxes_on_the_store_without_the_shared_state_stop_the_dag_at_its_start(
        object_store, monkeypatch):
    from pipeline.storage.check import StorageError, check_storage

    check_storage()
    monkeypatch.delenv("INCLUSION_STATE_URL")
    with pytest.raises(StorageError, match="^INCLUSION_STATE_URL : les dossiers de dépôt sont "
                                           "sur un stockage objet"):
        check_storage()
    monkeypatch.delenv("INCLUSION_INBOX_URL")  # one machine, files filed into the store: fine
    check_storage()


def test_a_late_partner_is_reminded_once_whichever_worker_runs_the_days_task(
        object_store, two_workers, monkeypatch):
    from test_deposits import NOW, _entry

    from pipeline.config import DEFAULT_TERRITORY_FILE, data_paths, load_territory
    from pipeline.reminders import remind_late_partners

    territory = load_territory(DEFAULT_TERRITORY_FILE)
    late = [_entry(p.id, NOW + timedelta(days=7), sha=f"{n:064x}")  # on time all along
            for n, p in enumerate(territory.partners) if p.id != "operateur-pass"]
    late.append(_entry("operateur-pass", NOW - timedelta(days=8), original_name="pass.csv"))

    def remind(folder: Path, days_later: int) -> list[str]:
        on_worker(monkeypatch, folder)
        return [r.partner for r in remind_late_partners(
            territory, data_paths(), late, NOW + timedelta(days=days_later))]

    first, second = two_workers
    assert remind(first, 0) == ["operateur-pass"]
    assert remind(second, 1) == []  # the same overdue period, the other worker
    assert remind(second, 7) == ["operateur-pass"]  # the next period
    assert remind(first, 8) == []
    assert len(object_store.keys("alertes/")) == 2
    assert object_store.keys("etat/relances.json") == ["etat/relances.json"]
    assert files_under(first / "etat") == files_under(second / "etat") == []


# 3. The steward commands on the object store -------------------------------------------------

def test_reprocess_puts_a_rejected_object_back_into_the_inbox_area(object_store, data_dir,
                                                                   capsys):
    key = f"inbox/{PARTNER}/ateliers_faux.csv"
    wrong = workshops(8).replace(b"12/01/2026", b"32/01/2026")
    object_store.put(key, wrong)
    (outcome,) = ingest_all()
    assert outcome.status == ledger.STATUS_REJECTED
    (entry,) = ledger.entries()
    assert object_store.keys("inbox/") == [key + REPORT]

    assert cli(["reprocess", PARTNER, entry.sha256[:10]]) == 0
    assert f"s3://{object_store.bucket}/{key}" in capsys.readouterr().out
    assert object_store.get(key) == wrong and ledger.entries() == []
    quarantined = f"quarantine/{PARTNER}/{Path(entry.stored_path).name}"
    assert object_store.get(quarantined + REPORT).decode("utf-8") == entry.report
    (again,) = ingest_all()  # examined again: refused again, by the same rule
    assert again.status == ledger.STATUS_REJECTED and not again.duplicate
    assert key not in object_store.keys("inbox/")
    assert cli(["reprocess", PARTNER, "0" * 10]) == 1  # nothing matches: said, not guessed


def test_reprocess_puts_an_object_quarantined_by_the_net_back_with_fresh_attempts(
        object_store, data_dir, monkeypatch):
    object_store.put(KEY, workshops(8))
    with monkeypatch.context() as patch:
        crash_on_read(patch)
        for _ in range(2):
            with pytest.raises(BatchIncomplete):
                ingest_all()
        assert len(object_store.keys("quarantine/")) == 1 and ledger.entries() == []
        local = data_dir / "essai.csv"
        local.write_bytes(workshops(8))
        assert cli(["reprocess", PARTNER, sha256_of(local)[:10]]) == 0
        assert object_store.get(KEY) == workshops(8)
        assert failure_records(object_store) == []  # the count is reset
        with pytest.raises(BatchIncomplete) as failed:
            ingest_all()
        assert "après" not in str(failed.value)  # a first failure again: left in the inbox
        assert KEY in object_store.keys("inbox/")
    (outcome,) = ingest_all()  # the bug fixed, it goes through
    assert outcome.status == ledger.STATUS_ACCEPTED
    assert object_store.keys("inbox/") == [KEY + REPORT]


def test_status_counts_the_alerts_of_the_alerts_area(object_store, data_dir, capsys,
                                                     monkeypatch):
    raise_alert("Échec un", "Le détail.", now=datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    last = raise_alert("Échec deux", "Le détail.", now=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    assert cli(["status"]) == 0
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if "alerte(s) dans" in line] == [
        f"2 alerte(s) dans s3://{object_store.bucket}/alertes ; la plus récente : {last.name}"]
    monkeypatch.setenv("INCLUSION_ALERTS_URL", "s3://inclusion-absent/alertes")
    raise_alert("Échec trois", "Le détail.")  # no such bucket: written in the data folder
    assert cli(["status"]) == 0
    out = capsys.readouterr().out
    assert f"1 alerte(s) dans {data_dir / 'alertes'}" in out


# 4. The conditional delete of an inbox object ------------------------------------------------

def test_a_version_dropped_just_before_the_delete_is_kept_by_the_store(
        object_store, data_dir, monkeypatch):
    from pipeline.ingest import objects as ingest_objects
    from pipeline.storage import objects

    object_store.put(KEY, workshops(8))
    checked = objects.stat_object
    armed = []

    def partner_drops_again_after_the_check(path):
        seen = checked(path)
        if armed and path.path.endswith(KEY):
            armed.clear()
            object_store.put(KEY, workshops(6, 5))  # between the ETag check and the delete
        return seen

    with monkeypatch.context() as patch:
        patch.setattr(ingest_objects, "fault_point",
                      lambda point: armed.append(point == "inbox-before-delete"))
        patch.setattr(objects, "stat_object", partner_drops_again_after_the_check)
        (first,) = ingest_all()
    assert first.rows_loaded == 1
    assert object_store.get(KEY) == workshops(6, 5)  # the new version was not deleted
    (second,) = ingest_all()
    assert second.rows_loaded == 2 and object_store.keys("inbox/") == [KEY + REPORT]
    assert sorted(warehouse.current_rows("ateliers")["presents"]) == [5, 6]


def test_a_store_without_conditional_delete_gets_the_plain_delete(object_store, data_dir,
                                                                   monkeypatch):
    asked = refuse_conditions(monkeypatch, "delete_object")
    object_store.put(KEY, workshops(8))
    (outcome,) = ingest_all()
    assert outcome.status == ledger.STATUS_ACCEPTED and asked == ["inbox/" + KEY.split("/", 1)[1]]
    assert object_store.keys("inbox/") == [KEY + REPORT]
