"""What the build does to hold less memory (issue 18, item 4) gives the same data: tables with
their equal strings shared, prescribers counted by the database, one read of each table for
the results and the site data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pages.prescribers import prescribers_by_commune, prescribers_from_counts
from conftest import REFERENCE_RUN
from transforms.results.prepare import shared_text


def _driver_like(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    """A frame as the warehouse gives it: one new string object per cell."""
    return pd.DataFrame([tuple("".join(list(v)) if isinstance(v, str) else v for v in row)
                         for row in rows], columns=columns)


def test_shared_text_keeps_values_dtypes_and_missing_cells():
    rows = [("91377", "2026-01-02", None, 1.0, None), ("91477", "2026-01-02", "L1", None, None),
            ("91377", None, "L2", 3.0, None), ("91377", "2026-01-03", "L1", 4.0, None)]
    columns = ["commune", "date", "lieu", "valeur", "vide"]
    frame = _driver_like(rows, columns)
    expected = frame.copy(deep=True)
    shared = shared_text(frame)
    pd.testing.assert_frame_equal(shared, expected)
    assert list(shared.dtypes) == list(expected.dtypes)
    assert shared["commune"].iat[0] is shared["commune"].iat[2]  # one object per value
    assert shared["lieu"].iat[1] is shared["lieu"].iat[3]
    assert np.isnan(shared["date"].iat[2]) and pd.isna(shared["lieu"].iat[0])


def test_shared_text_of_an_empty_frame():
    frame = pd.DataFrame({"commune": pd.Series([], dtype="str"), "n": pd.Series([], dtype=float)})
    pd.testing.assert_frame_equal(shared_text(frame.copy()), frame)


def test_prescribers_from_the_database_counts_are_those_of_the_rows():
    rows = pd.DataFrame(
        [("91377", "CCAS de Massy")] * 3 + [("91377", "ccas de  massy")] + [
            ("91377", "Mission locale de Massy")] * 2 + [("91377", None)] * 4
        + [("91477", "France Services de Palaiseau")] * 3 + [(None, "CCAS")] * 3,
        columns=["commune", "prescripteur"])
    # What warehouse.current_counts gives: rows per file and value (missing values kept).
    files = np.arange(len(rows)) % 2
    counts = (rows.assign(partner="op", source_sha256=np.where(files, "a", "b"))
              .groupby(["partner", "source_sha256", "commune", "prescripteur"], dropna=False)
              .size().reset_index(name="lignes"))
    communes = {"91377": "Massy", "91477": "Palaiseau"}
    assert prescribers_from_counts(counts, communes) == prescribers_by_commune(rows, communes)
    assert prescribers_from_counts(counts, communes, minimum=2) == prescribers_by_commune(
        rows, communes, minimum=2)
    assert prescribers_from_counts(counts.iloc[0:0], communes) == []


def test_one_read_of_each_table_for_the_results_and_the_site_data(loaded_samples,
                                                                     monkeypatch):
    """The build shares its tables between the results and the site data: each table is read
    once, and both come out as when each read its own."""
    from pages.site_data import build_site_data
    from pipeline.config import load_territory
    from pipeline.load import warehouse
    from transforms.results import build_results
    from transforms.results.prepare import WarehouseTables

    territory = load_territory()
    alone = (build_results(territory, REFERENCE_RUN), build_site_data(territory, REFERENCE_RUN))
    read: list[str] = []
    real = warehouse.current_rows
    monkeypatch.setattr(warehouse, "current_rows",
                        lambda name, columns=None: read.append(name) or real(name, columns))
    tables = WarehouseTables()
    shared = (build_results(territory, REFERENCE_RUN, tables),
              build_site_data(territory, REFERENCE_RUN, tables))
    assert sorted(read) == sorted(set(read))
    downloads = [site.pop("exports") for _results, site in (alone, shared)]
    assert repr(shared) == repr(alone)
    assert {name: (d.key, d.render()) for name, d in downloads[0].items()} == {
        name: (d.key, d.render()) for name, d in downloads[1].items()}
