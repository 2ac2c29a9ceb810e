"""The publication records shared by workers that share no disk (issue 19): with the site on
the object store, a build prepared on one worker is set aside or put online from another, its
summary compares with the live build whichever worker published it (key figures and file list
from the records on the store, page count from the pointer), and every worker lists the same
history. Two workers are two data folders with the same bucket and the same warehouse."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import REFERENCE_RUN
from test_publish import _drop_one_venue

from pipeline.load import warehouse
from pipeline.config import data_paths
from pipeline.storage import AREAS
from publish import site as publishing
from publish.changes import recent_publications


@pytest.fixture
def workers(loaded_samples: Path, object_store, tmp_path, monkeypatch):
    """Worker A (the ingested samples' data folder) and worker B (an empty one), the site
    area in a fresh bucket, one warehouse for both (A's file, named by its URL)."""
    for area, (setting, _folder) in AREAS.items():
        if area != "site":
            monkeypatch.delenv(setting)
    shared = loaded_samples / "warehouse" / "warehouse.sqlite"
    monkeypatch.setenv("INCLUSION_WAREHOUSE_URL", f"sqlite:///{shared}")
    other = tmp_path / "travail-b"
    other.mkdir()
    yield loaded_samples, other
    warehouse.engine().dispose()


def on_worker(monkeypatch, folder: Path) -> None:
    monkeypatch.setenv("INCLUSION_DATA", str(folder))


def record(store, build_id: str) -> dict:
    return json.loads(store.get(f"site/publications/{build_id}.json"))


def pointer(store) -> dict:
    return json.loads(store.get("site/current.json"))


@pytest.mark.heavy  # four builds of the site on two workers
def test_a_publication_prepared_on_one_worker_is_decided_on_the_other(workers, object_store,
                                                                        monkeypatch):
    a, b = workers
    first = publishing.publish(REFERENCE_RUN)  # worker A: online, recorded on the store
    assert record(object_store, first.build_id)["status"] == "publiee"
    name = _drop_one_venue(a)  # a partner sends a far smaller file (shared warehouse)

    # Worker B has no copy of the live build: the page-drop check reads the pointer's count.
    on_worker(monkeypatch, b)
    assert not (b / "site" / "current").exists()
    real_render = publishing.render_site

    def without_venues(site_data, output, cache=None):
        real_render({**site_data, "venues": [], "venue_groups": [], "upcoming": [],
                     "home_upcoming": []}, output, cache)

    with monkeypatch.context() as patched:
        patched.setattr(publishing, "render_site", without_venues)
        with pytest.raises(publishing.SiteCheckFailed,
                           match=f"pages contre {pointer(object_store)['pages']} en ligne"):
            publishing.prepare(REFERENCE_RUN + timedelta(minutes=30))

    # ... and its summary compares with A's live build: figures and files from its record.
    refused = publishing.prepare(REFERENCE_RUN + timedelta(hours=1))
    assert refused.needs_approval and refused.partners == ["agglo-lieux"]
    assert f"comparée à la version en ligne {first.build_id}" in refused.text
    assert "Fichiers reçus depuis la version en ligne : 1" in refused.text
    assert f"« {name} »" in refused.anomalies[0]
    stored = record(object_store, refused.build_id)
    assert stored["status"] == "en_attente" and stored["live_build_id"] == first.build_id
    # Pages compared with the live build's sealed inventory (with nothing to compare, every
    # page would be listed as added).
    assert stored["pages_added"] == [] and stored["pages_removed"] == []
    assert pointer(object_store)["build_id"] == first.build_id

    # Set aside on worker A, which never had that build.
    on_worker(monkeypatch, a)
    publishing.set_aside(refused.build_id, decision="« Écarter » par marie")
    assert object_store.keys(f"site/builds/{refused.build_id}/") == []
    stored = record(object_store, refused.build_id)
    assert stored["status"] == "ecartee" and stored["decision"] == "« Écarter » par marie"
    report = a / "inbox" / "agglo-lieux" / f"publication-{refused.build_id}.rapport.txt"
    assert f"« {name} »" in report.read_text(encoding="utf-8")
    (alert,) = (a / "alertes").glob("*.txt")
    assert "retirée du stockage objet" in alert.read_text(encoding="utf-8")

    # Prepared on A, approved and put online from B.
    approved = publishing.prepare(REFERENCE_RUN + timedelta(hours=2))
    assert approved.needs_approval  # still compared with the first, still live
    assert f"comparée à la version en ligne {first.build_id}" in approved.text
    on_worker(monkeypatch, b)
    published = publishing.go_live(approved.build_id, decision="« Publier » par paul")
    assert published.build_id == pointer(object_store)["build_id"] == approved.build_id
    stored = record(object_store, approved.build_id)
    assert stored["status"] == "publiee" and stored["decision"] == "« Publier » par paul"

    # The same history on both workers; no worker keeps records of its own.
    listed = recent_publications(5)
    assert [(p["build_id"], p["status"]) for p in listed] == [
        (approved.build_id, "publiee"), (refused.build_id, "ecartee"),
        (first.build_id, "publiee")]
    on_worker(monkeypatch, a)
    assert recent_publications(5) == listed
    for worker in (a, b):
        assert not (worker / "site" / "publications").exists()

    # The next build on B compares with the build B put online (no anomaly left).
    on_worker(monkeypatch, b)
    usual = publishing.prepare(REFERENCE_RUN + timedelta(hours=3))
    assert not usual.needs_approval
    assert f"comparée à la version en ligne {approved.build_id}" in usual.text
    assert "Fichiers reçus depuis la version en ligne : 0" in usual.text


def test_two_workers_changing_one_record_at_once_lose_nothing(object_store, data_dir,
                                                              monkeypatch):
    """A status change is written only over the version it read (``If-Match``): a change made
    by another worker in between is read again and kept, never overwritten by a stale copy."""
    from publish import changes

    folder = changes.records_folder()
    assert folder.path == f"{object_store.bucket}/site/publications"
    summary = changes.ChangeSummary("20260401T050000", None)
    changes.write_publication(folder, summary, {}, [], changes.PENDING, REFERENCE_RUN)
    real_read = changes.read_publication
    meddled = []

    def read_then_other_worker_writes(where, build_id):
        found = real_read(where, build_id)
        if not meddled:  # another worker records the steward's decision meanwhile
            meddled.append(1)
            changes.set_status(where, build_id, changes.PENDING, "« Publier » par paul")
        return found

    monkeypatch.setattr(changes, "read_publication", read_then_other_worker_writes)
    changes.set_status(folder, summary.build_id, changes.PUBLISHED)
    stored = json.loads(object_store.get(f"site/publications/{summary.build_id}.json"))
    assert stored["status"] == "publiee" and stored["decision"] == "« Publier » par paul"
    assert [p["build_id"] for p in recent_publications(5)] == [summary.build_id]
    assert not (data_dir / "site" / "publications").exists()


def test_a_set_aside_report_reaches_an_inbox_on_the_object_store(object_store, data_dir):
    """With the inboxes on the store, the report of a build set aside is written beside the
    partner's files there, not in the deciding worker's own folder, which no partner sees."""
    from pipeline.config import load_territory

    territory = load_territory()
    partner = territory.partners[0]
    anomalies = [{"message": "Les lieux passent de 40 à 1.", "partners": [partner.id]}]
    publishing._tell_partners("20261125-060000", anomalies, territory, data_paths())
    key = f"inbox/{partner.inbox}/publication-20261125-060000.rapport.txt"
    assert object_store.keys("inbox/") == [key]
    assert "Les lieux passent de 40 à 1." in object_store.get(key).decode("utf-8")
    assert not (data_dir / "inbox").exists()
