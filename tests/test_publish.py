"""Publishing: a fresh folder per build, checks before the atomic swap, rollback, and the
steward's alerts and status."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from conftest import REFERENCE_RUN
from pipeline import publish as publishing
from pipeline.alerts import task_failure_alert
from pipeline.cli import main as cli
from pipeline.inbox import scan_inboxes
from pipeline.ingest import process_file
from pipeline.samples import write_samples
from conftest import REFERENCE_DAY


@pytest.fixture
def loaded(data_dir: Path) -> Path:
    write_samples(data_dir / "inbox", REFERENCE_DAY)
    for candidate in scan_inboxes():
        process_file(candidate.partner, candidate.path)
    return data_dir


def live(data_dir: Path) -> Path:
    return (data_dir / "site" / "current").resolve()


def test_failed_build_leaves_the_live_site_untouched(loaded, monkeypatch):
    first = publishing.publish(REFERENCE_RUN)
    assert live(loaded) == Path(first.path)

    def broken(site_data, output):
        output.mkdir(parents=True, exist_ok=True)
        (output / "index.html").write_text('<a href="/page-absente/">x</a>')

    monkeypatch.setattr(publishing, "render_site", broken)
    with pytest.raises(publishing.SiteCheckFailed, match="liens cassés"):
        publishing.publish(REFERENCE_RUN + timedelta(hours=1))
    assert live(loaded) == Path(first.path)
    assert not list((loaded / "site" / "builds").glob("*.partial"))


def test_a_large_drop_in_pages_needs_a_flag(loaded, monkeypatch):
    publishing.publish(REFERENCE_RUN)
    real_render = publishing.render_site

    def without_venues(site_data, output):
        real_render({**site_data, "venues": [], "venue_groups": [], "upcoming": [],
                     "home_upcoming": []}, output)

    monkeypatch.setattr(publishing, "render_site", without_venues)
    with pytest.raises(publishing.SiteCheckFailed, match="INCLUSION_ALLOW_PAGE_DROP"):
        publishing.publish(REFERENCE_RUN + timedelta(hours=1))
    monkeypatch.setenv("INCLUSION_ALLOW_PAGE_DROP", "1")
    smaller = publishing.publish(REFERENCE_RUN + timedelta(hours=2))
    assert live(loaded) == Path(smaller.path)


def test_rollback_puts_the_previous_build_back(loaded):
    first = publishing.publish(REFERENCE_RUN)
    second = publishing.publish(REFERENCE_RUN + timedelta(days=1))
    assert live(loaded) == Path(second.path)
    assert cli(["rollback"]) == 0
    assert live(loaded) == Path(first.path)


def test_only_the_last_builds_are_kept(loaded):
    for day in range(publishing.KEEP_BUILDS + 2):
        publishing.publish(REFERENCE_RUN + timedelta(days=day))
    builds = sorted(p.name for p in (loaded / "site" / "builds").iterdir())
    assert len(builds) == publishing.KEEP_BUILDS
    assert live(loaded).name == builds[-1]


def test_task_failure_writes_a_french_alert(data_dir):
    class FakeTaskInstance:
        dag_id, task_id, map_index, run_id = "reception_fichiers", "traiter_fichier", 3, "r1"

    task_failure_alert({"task_instance": FakeTaskInstance(), "exception": OSError("disque plein")})
    (alert,) = (data_dir / "alertes").glob("*.txt")
    text = alert.read_text(encoding="utf-8")
    assert "reception_fichiers.traiter_fichier[3]" in text and "disque plein" in text
    assert "Que faire" in text


def test_status_shows_each_partners_last_file(loaded, capsys):
    assert cli(["status"]) == 0
    out = capsys.readouterr().out
    assert "orange-ateliers" in out and "accepté" in out and "ateliers_orange_" in out
