"""pages/plan_split.py: a site plan shared with a forked second process gives the same build,
byte for byte, as one process; the second build reuses what either process wrote; a failure
in either process fails the build and leaves the live site as it was."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import REFERENCE_RUN

from pages import page_plan
from pages.page_plan import File
from publish.build_cache import manifest_path
from publish.site import publish


def tree(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def one_process(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo site built in one process (the split disabled)."""
    from site_fixture import build_demo_site

    data = tmp_path_factory.mktemp("un-processus")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INCLUSION_DATA", str(data))
        patch.setenv("INCLUSION_SITE_SPLIT_AFTER", "0")
        return build_demo_site(data).resolve()


def build_split(data: Path, monkeypatch: pytest.MonkeyPatch, after: int = 7) -> Path:
    from site_fixture import build_demo_site

    monkeypatch.setenv("INCLUSION_DATA", str(data))
    monkeypatch.setenv("INCLUSION_SITE_SPLIT_AFTER", str(after))
    return build_demo_site(data).resolve()


def test_a_split_build_is_byte_identical_to_a_one_process_build(one_process: Path, tmp_path,
                                                               monkeypatch):
    split = build_split(tmp_path / "data", monkeypatch)
    assert tree(split) == tree(one_process)
    alone = json.loads(manifest_path(one_process).read_text(encoding="utf-8"))
    shared = json.loads(manifest_path(split).read_text(encoding="utf-8"))
    # Every fingerprint and memoised text of the child's share came back to the parent.
    assert shared["keys"] == alone["keys"] and shared["memo"] == alone["memo"]
    assert shared["pages"] == alone["pages"]


def linked_by_next_build(data: Path, monkeypatch, after: int) -> set[str]:
    """The files the next run's build (an hour later, same data) hard-links from the first."""
    first = build_split(data, monkeypatch, after)
    second = Path(publish(REFERENCE_RUN + timedelta(hours=1)).path)
    return {name for name in tree(second) if (second / name).samefile(first / name)}


def test_the_next_split_build_reuses_what_both_processes_wrote(tmp_path, monkeypatch):
    shared = linked_by_next_build(tmp_path / "partage", monkeypatch, after=7)
    alone = linked_by_next_build(tmp_path / "seul", monkeypatch, after=0)
    assert shared == alone and len(shared) > 300


def failing_plan(plan, position: int):
    """The plan with one more file, whose content cannot be made, at ``position``."""
    def broken() -> bytes:
        raise ValueError("contenu impossible à produire (test)")

    for index, item in enumerate(plan):
        if index == position:
            yield File("cassé/fichier.txt", broken)
        yield item


@pytest.mark.parametrize("position", [7 + 64 + 3, 7 + 3],
                         ids=["part du second processus", "part du premier processus"])
def test_a_failure_in_either_process_fails_the_build_and_keeps_the_live_site(
        tmp_path, monkeypatch, position: int):
    live = build_split(tmp_path / "data", monkeypatch)
    before = tree(live)
    site_plan = page_plan.site_plan
    import data_pages  # Pelican's plugin module, as Pelican imported it

    monkeypatch.setattr(data_pages, "site_plan",
                        lambda *a, **k: failing_plan(site_plan(*a, **k), position))
    with pytest.raises(ValueError, match="contenu impossible à produire") as raised:
        publish(REFERENCE_RUN + timedelta(hours=1))
    notes = "".join(getattr(raised.value, "__notes__", []))
    assert ("second processus" in notes) == (position > 7 + 64)
    assert (tmp_path / "data" / "site" / "current").resolve() == live
    assert tree(live) == before
    assert not [p for p in (tmp_path / "data" / "site" / "builds").iterdir()
                if p.name.endswith(".partial")]
    assert children() == []  # the second process was stopped and reaped


def children() -> list[int]:
    """This process's child processes, zombies included."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            found.append(int(stat.parent.name))
    return found


def test_no_split_below_the_threshold_or_when_disabled(monkeypatch):
    from pages.plan_split import split_after

    monkeypatch.setenv("INCLUSION_SITE_SPLIT_AFTER", "0")
    assert split_after() == 0
    monkeypatch.setenv("INCLUSION_SITE_SPLIT_AFTER", "3000")
    assert split_after() == (3000 if (os.cpu_count() or 1) >= 2 else 0)
