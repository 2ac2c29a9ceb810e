"""pipeline/stages.py: each stage is timed, gets its own memory peak and, when asked, one
JSON line in the stage log, also when the stage fails."""

from __future__ import annotations

import json

import pytest

from pipeline.stages import STAGE_LOG, stage


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_each_stage_appends_one_json_line_with_its_fields_and_counts(tmp_path, monkeypatch):
    target = tmp_path / "etapes.jsonl"
    monkeypatch.setenv(STAGE_LOG, str(target))
    with stage("lecture", fichier="ateliers_orange.csv") as record:
        record["rows"] = 1250
    with stage("publication"):
        bytearray(20 * 1024 * 1024)  # a peak of its own
    first, second = lines(target)
    assert {k: first[k] for k in ("stage", "fichier", "rows")} == {
        "stage": "lecture", "fichier": "ateliers_orange.csv", "rows": 1250}
    assert second["stage"] == "publication" and "rows" not in second
    for record in (first, second):
        assert set(record) >= {"seconds", "peak_mb"}
        assert 0 <= record["seconds"] < 60 and record["peak_mb"] > 0
    assert second["peak_mb"] >= 20  # the 20 MB buffer counted in this stage's peak


def test_a_failing_stage_is_still_recorded_and_the_error_goes_through(tmp_path, monkeypatch):
    target = tmp_path / "etapes.jsonl"
    monkeypatch.setenv(STAGE_LOG, str(target))
    with pytest.raises(RuntimeError, match="disque plein"), stage("chargement", lot="lot-1"):
        raise RuntimeError("disque plein")
    (record,) = lines(target)
    assert (record["stage"], record["lot"]) == ("chargement", "lot-1")


def test_accented_names_are_written_as_text(tmp_path, monkeypatch):
    target = tmp_path / "etapes.jsonl"
    monkeypatch.setenv(STAGE_LOG, str(target))
    with stage("indicateurs", commune="Épinay-sur-Orge"):
        pass
    assert "Épinay-sur-Orge" in target.read_text(encoding="utf-8")


def test_without_a_stage_log_nothing_is_written_but_the_record_is_complete(tmp_path,
                                                                           monkeypatch, caplog):
    monkeypatch.delenv(STAGE_LOG, raising=False)
    monkeypatch.chdir(tmp_path)
    caplog.set_level("INFO", logger="pipeline.stages")
    with stage("construction") as record:
        record["pages"] = 42
    assert record["pages"] == 42 and "seconds" in record and "peak_mb" in record
    assert list(tmp_path.iterdir()) == []
    assert "étape construction" in caplog.text
