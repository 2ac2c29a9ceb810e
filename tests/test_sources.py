"""Pulled sources over HTTP on 127.0.0.1: only changed content is ingested, and an unreachable
source raises a steward alert instead of failing the pipeline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from site_fixture import serve

from pipeline.ingest.flow import process_files
from pipeline.load import ledger, warehouse
from pipeline.receive.inbox import scan_inboxes
from pipeline.receive.sources import pull_sources

HEADER = ("identifiant_collecte;date;commune;point_collecte;telephones_collectes\n")


@pytest.fixture
def published(tmp_path, data_dir, monkeypatch):
    site = tmp_path / "partenaire"
    site.mkdir()
    (site / "collecte.csv").write_text(HEADER + "COL-1;01/03/2026;91477;Mairie;12\n")
    with serve(site) as url:
        territory = tmp_path / "territory.toml"
        territory.write_text(
            '[territory]\nname = "Essai"\n\n[[communes]]\ninsee = "91477"\nname = "Palaiseau"\n\n'
            '[[partners]]\nid = "collecte-web"\nname = "Collecte publiée"\ncommunes = ["*"]\n'
            f'datasets = ["collecte"]\nsource_url = "{url}/collecte.csv"\n\n'
            '[[partners]]\nid = "collecte-hs"\nname = "Source en panne"\ncommunes = ["*"]\n'
            'datasets = ["collecte"]\nsource_url = "http://127.0.0.1:9/collecte.csv"\n',
            encoding="utf-8")
        monkeypatch.setenv("INCLUSION_TERRITORY", str(territory))
        monkeypatch.setenv("INCLUSION_PULL_TIMEOUT", "3")
        yield site


def ingest_all() -> None:
    for candidate in scan_inboxes():
        process_files([(candidate.partner, candidate.path)])[0]


def test_only_changed_content_is_ingested_and_failures_alert(published, data_dir):
    results = {r.partner: r.status for r in pull_sources()}
    assert results == {"collecte-web": "nouveau", "collecte-hs": "erreur"}
    ingest_all()
    assert [(e.partner, e.rows_loaded) for e in ledger.entries()] == [("collecte-web", 1)]
    (alert,) = (data_dir / "alertes").glob("*.txt")
    assert "Source injoignable collecte-hs" in alert.read_text(encoding="utf-8")

    assert {r.partner: r.status for r in pull_sources()}["collecte-web"] == "inchange"
    ingest_all()
    assert len(ledger.entries()) == 1  # unchanged content, nothing new

    changed = published / "collecte.csv"
    changed.write_text(HEADER + "COL-1;01/03/2026;91477;Mairie;15\nCOL-2;02/03/2026;91477;"
                                "Médiathèque;4\n")
    later = changed.stat().st_mtime + 5  # Last-Modified has one-second resolution
    os.utime(changed, (later, later))
    assert {r.partner: r.status for r in pull_sources()}["collecte-web"] == "nouveau"
    ingest_all()
    assert sorted(e.rows_loaded for e in ledger.entries()) == [1, 2]
    current = warehouse.current_rows("collecte").set_index("identifiant_collecte")
    assert current["telephones_collectes"].to_dict() == {"COL-1": 15, "COL-2": 4}
    report = Path(data_dir / "inbox" / "collecte-web" / "collecte.csv.rapport.txt")
    assert "fichier ACCEPTÉ" in report.read_text(encoding="utf-8")
