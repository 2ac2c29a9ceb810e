"""The national benchmark's own parts: its synthetic data goes through the real pipeline, and
its floors (plain pandas, plain Jinja2) do the same work as what they are compared with."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import REFERENCE_DAY

from bench import floors
from bench.national import format_table, run
from demo.samples import write_samples
from pipeline.check.validation import Submission
from pipeline.config import load_territory
from pipeline.contracts.datasets import CONTRACTS
from pipeline.contracts.model import normalize_header
from pipeline.read.reading import read_partner_file

pytestmark = pytest.mark.bench  # the benchmark and its floors: make test, not make test-fast


def _frame(data_dir: Path, partner: str, dataset: str) -> pd.DataFrame:
    write_samples(data_dir / "inbox", REFERENCE_DAY)
    (path,) = (data_dir / "inbox" / partner).iterdir()
    territory = load_territory()
    names = {normalize_header(c.name): c.insee for c in territory.communes}
    return read_partner_file(path, CONTRACTS[dataset], names).frame


def _both(dataset: str, submissions: list[Submission]) -> tuple[set, set]:
    return (floors.gx_batch(dataset, submissions),
            floors.plain_pandas_batch(dataset, submissions))


def test_plain_pandas_floor_flags_the_same_cells_as_great_expectations(data_dir):
    frame = _frame(data_dir, "orange-ateliers", "ateliers")
    communes = sorted(set(frame["commune"]))
    good = Submission(frame, "orange-ateliers", communes)
    assert _both("ateliers", [good]) == (set(), set())  # a good file: nothing
    broken = frame.copy()
    broken.loc[0, "lieu"] = None                                   # required
    broken.loc[1, "duree_minutes"] = 1000                          # bounds
    broken.loc[2, "date"] = "31/01/2026"                           # pattern
    broken.loc[3, "identifiant_seance"] = broken.loc[4, "identifiant_seance"]  # unique
    broken.loc[5, "commune"] = "75056"                             # partner's communes
    broken.loc[6, "inscrits"] = broken.loc[6, "places"] + 3        # pair rule
    done = broken.index[broken["statut"] == "realisee"][0]
    broken.loc[done, "presents"] = None                            # conditional requirement
    # In one batch with the good file (same identifiers: unique per file, not per batch) and
    # another partner's copy, whose agreement does not cover the first commune.
    other = Submission(frame, "autre-partenaire", communes[1:])
    batch = [good, Submission(broken, "orange-ateliers", communes), other]
    gx, plain = _both("ateliers", batch)
    assert gx == plain
    assert {number for _rule, _column, number, _line in gx} == {1, 2}
    assert len({rule for rule, _column, number, _line in gx if number == 1}) >= 7
    assert {column for _rule, column, number, _line in gx if number == 2} == {"commune"}


def test_synthetic_national_data_goes_through_airflow_and_the_figures_are_written(
        tmp_path, monkeypatch):
    monkeypatch.setenv("INCLUSION_DATA", str(tmp_path / "unused"))
    result = run(0.002, tmp_path / "bench", ratios=True)

    written = json.loads((tmp_path / "bench" / "national.json").read_text(encoding="utf-8"))
    assert written["end_to_end_s"] == result["end_to_end_s"] > 0
    # Every file of every format is accepted: the benchmark measures real loads, not refusals.
    assert set(written["ledger"]) == {"accepte"}
    assert sum(written["ledger"].values()) == written["generated"]["files"]
    assert written["generated"]["xlsx_files"] > 0
    stages = {row["stage"]: row for row in written["stages"]}
    assert set(stages) == {"read", "validate", "load", "indicators", "site build", "publish"}
    assert stages["load"]["count"] == sum(written["generated"]["rows"].values())
    assert stages["site build"]["count"] > 100
    incremental = written["incremental"]
    assert incremental["rows"] == 1000 and incremental["seconds"] > 0
    # Both DAG runs in one Airflow process, each timed.
    assert set(incremental["dag_seconds"]) == {"reception_fichiers", "publication_site"}
    assert incremental["one_process"]["seconds"] >= sum(incremental["dag_seconds"].values())
    # Beside its file-system floor: a hard-linked copy of the live tree, measured in the run.
    assert incremental["floor_cp_al_s"] > 0
    assert incremental["vs_floor"] == pytest.approx(
        incremental["seconds"] / incremental["floor_cp_al_s"], rel=0.01)
    assert "`cp -al` du site" in format_table(written)
    # The second build reused the unchanged pages of the first.
    site_build = next(r for r in incremental["stages"] if r["stage"] == "site build")
    assert site_build["count"] >= stages["site build"]["count"]
    ratios = written["ratios"]
    assert ratios["gx_vs_pandas"]["ratio"] > 0 and ratios["gx_vs_pandas"]["files"] >= 5
    pelican = ratios["pelican_vs_jinja2"]
    assert pelican["ratio"] > 0 and pelican["pages"] >= stages["site build"]["count"]
    assert all(seconds <= 5 for seconds in written["dag_parse_s"].values())
    # The largest accepted files, each ingested alone in a child process, with its peak memory.
    largest = written["largest_files"]
    for name in ("csv", "xlsx", "xlsx_formatted"):
        assert largest[name]["status"].startswith("accepte"), largest[name]
        assert largest[name]["rows"] > 0 and largest[name]["peak_mb"] > 0
    assert "XFD1048576" in format_table(written)
    # The published site's weights and search (bench.search); at this scale the directory is
    # not split, so there is no index to time in Chromium.
    searched = written["search"]
    assert searched["largest_list_page"]["bytes"] > 0 and searched["index"]["files"] == 0
    assert searched["browser"]["measured"] is False
    assert "Plus grosse page de liste : /" in format_table(written)



def test_load_floor_holds_the_same_rows_as_the_warehouse(tmp_path, monkeypatch):
    from datetime import date

    from bench import load_floor
    from demo.national_data import NationalWriter, Scale

    monkeypatch.setenv("INCLUSION_DATA", str(tmp_path / "unused"))
    writer = NationalWriter(tmp_path / "source", Scale().times(0.002), date(2026, 11, 25))
    territory = writer.write_all()
    files = [(path.parent.name, path) for path in sorted(writer.files)]
    result = load_floor.load_ratio(files, tmp_path / "mesure", territory)
    assert result["rows"] == sum(writer.rows.values())
    assert result["files"] == len(files)
    assert result["ratio"] > 0 and result["floor_rows_per_s"] > 0
    assert "plancher" in result["detail"]

    # A floor that drops a value is caught, not reported.
    plain = load_floor.floor_rows

    def lossy(*args):
        rows = plain(*args)
        return [rows[0][:-1] + (None,)] + rows[1:] if rows else rows

    monkeypatch.setattr(load_floor, "floor_rows", lossy)
    with pytest.raises(AssertionError, match="pas les mêmes lignes"):
        load_floor.load_ratio(files, tmp_path / "mesure", territory)
