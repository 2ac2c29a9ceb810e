"""Partner inboxes, archive, quarantine, reports and alerts on an object store (issue 19), against
the local S3 server: what a partner drops into the bucket ends archived or quarantined in the
bucket with its report beside the dropped key, exactly as through the local inbox."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import REFERENCE_DAY, REFERENCE_RUN

from demo.samples import write_samples
from pipeline.alerts import raise_alert
from pipeline.config import load_territory
from pipeline.ingest.objects import process_batch
from pipeline.load import ledger, warehouse
from pipeline.receive import watch
from pipeline.receive.inbox import plan_batches, report_refusals, scan_inboxes, split_waves
from pipeline.storage import AREAS

REPORT = ".rapport.txt"
# Two tiny workshop files of one partner (the first and the second version of one file).
HEADER = ("identifiant_seance;commune;lieu;date;heure_debut;duree_minutes;thematique;public;"
          "places;inscrits;presents;statut;inscription\n")
ROW = ("PAL-{n:04d};91477;Médiathèque George Sand;12/01/2026;14h;60;Accès aux services en ligne;"
       "Jeunes;10;8;{p};Réalisée;CCAS\n")


def workshops(*presents: int) -> bytes:
    return (HEADER + "".join(ROW.format(n=n, p=p) for n, p in enumerate(presents, 1))
            ).encode("utf-8")


def ingest_all() -> list:
    """What one run of reception_fichiers does after its watch: refusals reported, then the
    batches of each wave processed in order."""
    refusals: list = []
    candidates = scan_inboxes(refusals=refusals)
    report_refusals(refusals)
    references, others = split_waves(candidates)
    outcomes = []
    for batch in plan_batches(references) + plan_batches(others):
        outcomes += process_batch(batch["fichiers"])
    return outcomes


def drop_samples(store, folder: Path) -> dict[str, bytes]:
    """The sample files put into the bucket's inbox; key -> bytes."""
    dropped = {}
    for path in write_samples(folder, REFERENCE_DAY):
        key = f"inbox/{path.relative_to(folder).as_posix()}"
        dropped[key] = path.read_bytes()
        store.put(key, dropped[key])
    return dropped


def warehouse_state() -> tuple[dict[str, pd.DataFrame], list[tuple]]:
    """Every table without its reception times (a local file's is its mtime, an object's its
    LastModified), and the ledger."""
    tables = {}
    for name in warehouse.DATASET_TABLES:
        rows = warehouse.all_rows(name).drop(columns=["source_received_at"])
        tables[name] = rows.sort_values(list(rows.columns[:3])).reset_index(drop=True)
    entries = sorted((e.partner, e.sha256, e.dataset, e.original_name, e.status, e.rows_loaded,
                      e.stored_path, e.report.split("Reçu le")[0]) for e in ledger.entries())
    return tables, entries


def same_tables(left: dict, right: dict) -> bool:
    return left.keys() == right.keys() and all(left[k].equals(right[k]) for k in left)


@pytest.fixture(scope="module")
def local_run(tmp_path_factory) -> tuple:
    """The same sample files through the local inbox (every area in the data folder)."""
    data = tmp_path_factory.mktemp("local-run") / "data"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INCLUSION_DATA", str(data))
        for setting, _folder in AREAS.values():
            patch.delenv(setting, raising=False)
        write_samples(data / "inbox", REFERENCE_DAY)
        ingest_all()
        state = warehouse_state()
        warehouse.engine().dispose()
    return state


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_files_dropped_in_the_bucket_end_like_local_ones(object_store, data_dir, tmp_path,
                                                         local_run):
    dropped = drop_samples(object_store, tmp_path / "drops")
    outcomes = ingest_all()
    assert len(outcomes) == len(dropped) == 8 and not any(o.duplicate for o in outcomes)
    tables, entries = warehouse_state()
    assert same_tables(tables, local_run[0])
    assert entries == local_run[1]  # same fingerprints, statuses, stored names and reports
    # Each dropped object is gone, its report lies beside its key, its bytes are archived.
    inbox = object_store.keys("inbox/")
    assert inbox == sorted(f"{key}{REPORT}" for key in dropped)
    for key in dropped:
        assert "fichier ACCEPTÉ" in object_store.get(f"{key}{REPORT}").decode("utf-8")
    archived = {f"archive/{e.partner}/{Path(e.stored_path).name}": e for e in ledger.entries()}
    assert object_store.keys("archive/") == sorted(archived)
    assert sorted(object_store.get(k) for k in archived) == sorted(dropped.values())
    # The worker's working folder keeps no copy of any partner file.
    for folder in ("inbox", "archive", "quarantine"):
        assert files_under(data_dir / folder) == []
    # The listing of the next run finds nothing, and a re-drop changes nothing.
    assert scan_inboxes() == []
    key = next(iter(dropped))
    object_store.put(key, dropped[key])
    (again,) = ingest_all()
    assert again.duplicate and warehouse_state()[1] == entries
    assert key not in object_store.keys("inbox/")


def test_a_rejected_file_goes_to_the_quarantine_area(object_store, data_dir):
    key = "inbox/ville-palaiseau/ateliers_faux.csv"
    object_store.put(key, workshops(8).replace(b"12/01/2026", b"32/01/2026"))
    (outcome,) = ingest_all()
    assert outcome.status == ledger.STATUS_REJECTED
    (entry,) = ledger.entries()
    assert object_store.keys("quarantine/") == [f"quarantine/ville-palaiseau/"
                                                f"{Path(entry.stored_path).name}"]
    report = object_store.get(key + REPORT).decode("utf-8")
    assert "Résultat : fichier REFUSÉ" in report and "32/01/2026" in report
    assert object_store.keys("inbox/") == [key + REPORT]


def test_an_object_too_big_is_refused_and_quarantined_without_being_read(
        object_store, data_dir, monkeypatch):
    monkeypatch.setenv("INCLUSION_MAX_CSV_MB", "0.0001")  # 100 bytes
    key = "inbox/ville-palaiseau/ateliers_2026.csv"
    object_store.put(key, workshops(*range(1, 20)))
    assert ingest_all() == []
    report = object_store.get(key + REPORT).decode("utf-8")
    assert "REFUSÉ sans être lu, car le fichier est trop gros" in report
    assert "Découpez le fichier" in report
    assert object_store.keys("inbox/") == [key + REPORT]
    (quarantined,) = object_store.keys("quarantine/ville-palaiseau/")
    assert quarantined.endswith("__ateliers_2026.csv")
    assert object_store.get(quarantined) == workshops(*range(1, 20))
    assert ledger.entries() == [] and files_under(data_dir / "inbox") == []


def test_a_json_object_too_big_is_refused_by_its_own_limit_before_being_read(
        object_store, data_dir, monkeypatch):
    monkeypatch.setenv("INCLUSION_MAX_JSON_MB", "0.0001")
    key = "inbox/ville-palaiseau/ateliers.json"
    object_store.put(key, b'[{"identifiant_seance": "PAL-0001"}' + b", {}" * 100 + b"]")
    assert ingest_all() == []
    assert "au plus 0 Mo pour un fichier JSON" in object_store.get(key + REPORT).decode("utf-8")
    assert object_store.keys("inbox/") == [key + REPORT]


def test_a_key_in_a_sub_folder_is_refused_with_a_report(object_store, data_dir):
    object_store.put("inbox/ville-palaiseau/2026/ateliers.csv", workshops(8))
    object_store.put("inbox/ville-palaiseau/2026/ateliers_bis.csv", workshops(7))
    object_store.put("inbox/ville-palaiseau/ateliers.csv.part", workshops(7))  # still uploading
    assert ingest_all() == []
    report = object_store.get("inbox/ville-palaiseau/2026.rapport.txt").decode("utf-8")
    assert "REFUSÉ sans être lu, car c'est un dossier" in report
    assert object_store.keys("inbox/") == ["inbox/ville-palaiseau/2026.rapport.txt",
                                           "inbox/ville-palaiseau/2026/ateliers.csv",
                                           "inbox/ville-palaiseau/2026/ateliers_bis.csv",
                                           "inbox/ville-palaiseau/ateliers.csv.part"]
    assert ledger.entries() == []


def test_a_long_name_is_processed_and_its_report_fits_beside_it(object_store, data_dir):
    name = "ateliers " + "é" * 140 + ".csv"  # 290 bytes: no local file could have this name
    key = f"inbox/ville-palaiseau/{name}"
    object_store.put(key, workshops(8))
    (outcome,) = ingest_all()
    assert outcome.status == ledger.STATUS_ACCEPTED and len(os.fsencode(outcome.file)) <= 250
    (report,) = [k for k in object_store.keys("inbox/") if k.endswith(REPORT)]
    assert len(os.fsencode(report.rsplit("/", 1)[1])) <= 255 and "…" in report
    assert object_store.keys("inbox/") == [report]


def test_settle_time_is_measured_from_the_objects_last_modified(object_store, data_dir,
                                                                monkeypatch):
    monkeypatch.setenv("INCLUSION_SETTLE_SECONDS", "600")
    object_store.put("inbox/ville-palaiseau/ateliers.csv", workshops(8))
    assert scan_inboxes() == []
    decision = watch.decide()
    assert not decision.proceed or "périodique" in decision.reason
    assert "ville-palaiseau/ateliers.csv" not in decision.ready
    later = watch.decide(now=time.time() + 601)
    assert later.proceed and "ville-palaiseau/ateliers.csv" in later.ready
    monkeypatch.setenv("INCLUSION_SETTLE_SECONDS", "0")
    (candidate,) = scan_inboxes()
    assert candidate.path == "ville-palaiseau/ateliers.csv" and len(candidate.etag) >= 32


def test_the_watch_sees_new_and_replaced_objects_only(object_store, data_dir):
    first = watch.decide()
    assert first.proceed  # the first run is a full run
    watch.record(first)
    object_store.put("inbox/ville-palaiseau/ateliers.csv", workshops(8))
    new = watch.decide()
    assert new.proceed and "ville-palaiseau/ateliers.csv" in new.reason
    watch.record(new)
    assert not watch.decide().proceed
    object_store.put("inbox/ville-palaiseau/ateliers.csv.rapport.txt", b"rapport")
    assert not watch.decide().proceed  # a report never triggers a run
    object_store.put("inbox/ville-palaiseau/ateliers.csv", workshops(7))  # same size, new ETag
    assert watch.decide().proceed


def test_an_object_replaced_during_its_processing_stays_for_the_next_run(
        object_store, data_dir, monkeypatch):
    from pipeline.ingest import record

    key = "inbox/ville-palaiseau/ateliers.csv"
    object_store.put(key, workshops(8))

    def partner_drops_again(point: str) -> None:
        if point == "ingest-after-commit":
            object_store.put(key, workshops(6, 5))

    unchanged = record.fault_point
    monkeypatch.setattr(record, "fault_point", partner_drops_again)
    (first,) = ingest_all()
    assert first.rows_loaded == 1
    assert object_store.get(key) == workshops(6, 5)  # the new version was not deleted
    assert key + REPORT in object_store.keys("inbox/")
    monkeypatch.setattr(record, "fault_point", unchanged)
    (second,) = ingest_all()
    assert second.rows_loaded == 2 and not second.duplicate
    assert object_store.keys("inbox/") == [key + REPORT]
    assert len(object_store.keys("archive/")) == 2
    current = warehouse.current_rows("ateliers")
    assert sorted(current["presents"]) == [5, 6]


def test_an_object_replaced_after_its_listing_is_left_for_the_next_run(object_store, data_dir):
    key = "inbox/ville-palaiseau/ateliers.csv"
    object_store.put(key, workshops(8))
    (batch,) = plan_batches(scan_inboxes())
    object_store.put(key, workshops(7))
    assert process_batch(batch["fichiers"]) == []
    assert ledger.entries() == [] and object_store.get(key) == workshops(7)
    (outcome,) = ingest_all()
    assert outcome.rows_loaded == 1 and object_store.keys("inbox/") == [key + REPORT]


def test_a_local_inbox_can_file_into_an_archive_on_the_object_store(object_store, data_dir,
                                                                    monkeypatch):
    monkeypatch.delenv("INCLUSION_INBOX_URL")
    dropped = data_dir / "inbox" / "ville-palaiseau" / "ateliers.csv"
    dropped.parent.mkdir(parents=True)
    dropped.write_bytes(workshops(8))
    (outcome,) = ingest_all()
    assert outcome.status == ledger.STATUS_ACCEPTED and not dropped.exists()
    assert "fichier ACCEPTÉ" in (dropped.parent / f"ateliers.csv{REPORT}").read_text("utf-8")
    (entry,) = ledger.entries()
    assert object_store.keys("archive/") == [entry.stored_path]
    assert object_store.get(entry.stored_path) == workshops(8)
    assert files_under(data_dir / "archive") == []


def test_a_stewards_withdrawal_is_dropped_into_the_bucket_inbox(object_store, data_dir):
    from datetime import datetime

    from pipeline.config import data_paths
    from pipeline.ingest.withdrawals import request_file

    object_store.put("inbox/ville-palaiseau/ateliers.csv", workshops(8, 7))
    ingest_all()
    time.sleep(1.1)  # LastModified counts whole seconds: the withdrawal comes after the file
    target = request_file(load_territory(), data_paths(), "ville-palaiseau", "ateliers",
                          ["PAL-0001"], "saisie en double", datetime(2026, 11, 25, 9, 0))
    key = f"inbox/ville-palaiseau/{target.name}"
    assert key in object_store.keys("inbox/")
    (outcome,) = ingest_all()
    assert outcome.status == ledger.STATUS_WITHDRAWN
    assert list(warehouse.current_rows("ateliers")["identifiant_seance"]) == ["PAL-0002"]
    assert key not in object_store.keys("inbox/") and key + REPORT in object_store.keys("inbox/")


def test_an_object_that_keeps_crashing_ends_in_the_quarantine_area_with_a_report(
        object_store, data_dir, monkeypatch):
    from pipeline.ingest import screen
    from pipeline.ingest.flow import BatchIncomplete

    def read(*_args):
        raise RuntimeError("bogue de lecture")

    monkeypatch.setattr(screen, "_read", read)
    key = "inbox/ville-palaiseau/ateliers.csv"
    object_store.put(key, workshops(8))
    (batch,) = plan_batches(scan_inboxes())
    with pytest.raises(BatchIncomplete, match="ville-palaiseau/ateliers.csv"):
        process_batch(batch["fichiers"])
    assert object_store.keys("inbox/") == [key]  # first failure: left for the retry
    assert files_under(data_dir / "inbox") == []
    with pytest.raises(BatchIncomplete, match="mis en quarantaine après 2 pannes"):
        process_batch(batch["fichiers"])  # the retry
    (quarantined,) = object_store.keys("quarantine/")
    assert object_store.get(quarantined) == workshops(8)
    assert object_store.keys("inbox/") == [key + REPORT]
    assert "NON TRAITÉ" in object_store.get(key + REPORT).decode("utf-8")
    (alert,) = object_store.keys("alertes/")
    text = object_store.get(alert).decode("utf-8")
    assert f"/quarantine/{quarantined.split('/', 1)[1]}" in text
    assert f"recopiez le fichier dans s3://{object_store.bucket}/inbox/ville-palaiseau ;" in text
    with pytest.raises(BatchIncomplete, match="mis en quarantaine"):
        process_batch(batch["fichiers"])  # the task's last retry still fails: the run shows it
    assert process_batch(batch["fichiers"]) == [] and ledger.entries() == []


def test_alerts_are_written_to_the_alerts_area(object_store, data_dir):
    path = raise_alert("Échec d'essai", "Le détail.")
    (key,) = object_store.keys("alertes/")
    assert key.endswith("-Échec-d-essai.txt") and path.name == key.rsplit("/", 1)[1]
    assert object_store.get(key).decode("utf-8") == "Échec d'essai\n\nLe détail.\n"
    assert files_under(data_dir / "alertes") == []


def test_an_unreachable_alerts_area_falls_back_to_the_data_folder(object_store, data_dir,
                                                                  monkeypatch):
    monkeypatch.setenv("INCLUSION_ALERTS_URL", "s3://inclusion-absent/alertes")
    path = raise_alert("Échec d'essai", "Le détail.")
    assert path.parent == data_dir / "alertes" and path.read_text(encoding="utf-8")


def test_partners_in_the_territory_have_an_inbox_folder_name():
    assert all(p.inbox for p in load_territory().partners)


# The crash drills: killed after the commit (before the object leaves the inbox), then run
# again: the warehouse and the ledger are those of a run never interrupted.
INGEST_BUCKET = (
    "from pipeline.receive.inbox import plan_batches, report_refusals, scan_inboxes, split_waves\n"
    "from pipeline.ingest.objects import process_batch\n"
    "refusals = []\ncandidates = scan_inboxes(refusals=refusals)\nreport_refusals(refusals)\n"
    "for wave in split_waves(candidates):\n"
    "    for batch in plan_batches(wave):\n"
    "        process_batch(batch['fichiers'])\n")


@pytest.mark.slow
@pytest.mark.crash
@pytest.mark.parametrize("fault", ["ingest-after-commit", "inbox-before-delete"])
def test_killed_after_the_commit_then_rerun_counts_nothing_twice(
        object_store, data_dir, tmp_path, local_run, monkeypatch, fault):
    from test_crash import complete, run_and_kill_at

    dropped = drop_samples(object_store, tmp_path / "drops")
    run_and_kill_at(INGEST_BUCKET, data_dir, fault, tmp_path)
    assert len(ledger.entries()) >= 1  # killed after a commit
    assert len([k for k in object_store.keys("inbox/") if not k.endswith(REPORT)]) >= 1
    complete(INGEST_BUCKET, data_dir)
    tables, entries = warehouse_state()
    assert same_tables(tables, local_run[0]) and entries == local_run[1]
    assert object_store.keys("inbox/") == sorted(f"{key}{REPORT}" for key in dropped)
    assert len(object_store.keys("archive/")) == len(dropped)


@pytest.mark.slow
@pytest.mark.airflow
def test_reception_dag_run_with_every_area_on_the_object_store(object_store, data_dir,
                                                               tmp_path, dagbag, local_run):
    from datetime import timedelta

    dropped = drop_samples(object_store, tmp_path / "drops")
    dag_run = dagbag.get_dag("reception_fichiers").test(
        run_after=REFERENCE_RUN + timedelta(minutes=7))
    assert dag_run.state == "success"
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert states["signaler_changements"] == "success"
    tables, entries = warehouse_state()
    assert same_tables(tables, local_run[0]) and entries == local_run[1]
    assert object_store.keys("inbox/") == sorted(f"{key}{REPORT}" for key in dropped)
    assert len(object_store.keys("archive/")) == len(dropped)
    assert files_under(data_dir / "inbox") == [] and files_under(data_dir / "archive") == []
