"""Storage areas: the data folder by default, an object store when a base URL is given."""

from __future__ import annotations

from pathlib import Path

from pipeline import storage


def test_areas_default_to_the_data_folder(data_dir: Path):
    inbox = storage.area("inbox")
    assert storage.is_local("inbox")
    assert Path(inbox.path) == data_dir / "inbox"
    (data_dir / "inbox").mkdir()
    (inbox / "commune-a").mkdir()
    assert (data_dir / "inbox" / "commune-a").is_dir()


def test_an_area_on_the_object_store_is_read_and_written_there(object_store):
    assert not storage.is_local("archive")
    target = storage.area("archive") / "commune-a" / "ateliers.csv"
    target.write_bytes(b"date;commune\n")
    assert object_store.keys("archive/") == ["archive/commune-a/ateliers.csv"]
    assert object_store.get("archive/commune-a/ateliers.csv") == b"date;commune\n"
    assert [p.name for p in (storage.area("archive") / "commune-a").iterdir()] == ["ateliers.csv"]
