"""publish/build_cache.py: unchanged pages are hard-linked from the live build, and nothing
ever writes through a link into the live build."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipeline.files import drop_link, replace_file
from publish import build_cache
from publish.build_cache import BuildCache, manifest_path, recorded_pages, rendering_version


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "builds").mkdir()
    return tmp_path


def first_build(site: Path, site_wide="2026-11-25") -> tuple[Path, BuildCache]:
    build = site / "builds" / "b1"
    cache = BuildCache(None, site_wide)
    key = cache.page_key("venue.html", ["Lieux"], {"venue": {"id": "lieu-1", "nom": "Médiathèque"}})
    assert cache.reuse("lieux/lieu-1/index.html", key, build) is False  # nothing to reuse yet
    replace_file(build / "lieux" / "lieu-1" / "index.html", b"<h1>M\xc3\xa9diath\xc3\xa8que</h1>")
    cache.checked_pages = 1
    cache.save(build)
    return build, cache


def test_replace_file_never_writes_through_a_hard_link(tmp_path: Path):
    live = tmp_path / "live.html"
    live.write_bytes(b"live")
    new = tmp_path / "new" / "page.html"
    new.parent.mkdir()
    os.link(live, new)
    replace_file(new, b"changed")
    assert live.read_bytes() == b"live" and new.read_bytes() == b"changed"
    assert not live.samefile(new)
    assert sorted(p.name for p in new.parent.iterdir()) == ["page.html"]  # no temporary left


def test_replace_file_creates_missing_folders(tmp_path: Path):
    replace_file(tmp_path / "a" / "b" / "c.txt", b"x")
    assert (tmp_path / "a" / "b" / "c.txt").read_bytes() == b"x"


def test_drop_link_removes_only_this_name(tmp_path: Path):
    live = tmp_path / "live.html"
    live.write_bytes(b"live")
    os.link(live, tmp_path / "linked.html")
    drop_link(tmp_path / "linked.html")
    drop_link(tmp_path / "absent.html")  # no error for a missing file
    assert live.read_bytes() == b"live" and not (tmp_path / "linked.html").exists()


def test_manifest_lives_outside_the_served_build(site: Path):
    build = site / "builds" / "20261125T060000"
    assert manifest_path(build) == site / "manifests" / "20261125T060000.json"
    assert recorded_pages(build) is None  # no manifest yet
    manifest_path(build).parent.mkdir()
    manifest_path(build).write_text("{not json", encoding="utf-8")
    assert recorded_pages(build) is None


def test_a_page_with_the_same_fingerprint_is_hard_linked_from_the_live_build(site: Path):
    first, _ = first_build(site)
    assert recorded_pages(first) == 1
    second = site / "builds" / "b2"
    cache = BuildCache(first, "2026-11-25")
    key = cache.page_key("venue.html", ["Lieux"], {"venue": {"id": "lieu-1", "nom": "Médiathèque"}})
    assert cache.reuse("lieux/lieu-1/index.html", key, second) is True
    page = second / "lieux" / "lieu-1" / "index.html"
    assert page.samefile(first / "lieux" / "lieu-1" / "index.html")
    assert cache.reused == {"lieux/lieu-1/index.html"}
    assert cache.keys == {"lieux/lieu-1/index.html": key}


@pytest.mark.parametrize("change", ["context", "template", "site_wide", "breadcrumb"])
def test_any_change_to_what_a_page_is_made_from_renders_it_again(site: Path, change: str):
    first, _ = first_build(site)
    context = {"venue": {"id": "lieu-1", "nom": "Médiathèque"}}
    template, breadcrumb, site_wide = "venue.html", ["Lieux"], "2026-11-25"
    if change == "context":
        context = {"venue": {"id": "lieu-1", "nom": "Médiathèque George Sand"}}
    elif change == "template":
        template = "workshop.html"
    elif change == "site_wide":
        site_wide = "2026-11-26"  # the next day renders and checks every page
    else:
        breadcrumb = ["Lieux", "Palaiseau"]
    cache = BuildCache(first, site_wide)
    second = site / "builds" / "b2"
    assert cache.reuse("lieux/lieu-1/index.html",
                       cache.page_key(template, breadcrumb, context), second) is False
    assert not (second / "lieux" / "lieu-1" / "index.html").exists()


def test_a_page_gone_from_the_live_build_is_rendered_instead(site: Path):
    first, old = first_build(site)
    (first / "lieux" / "lieu-1" / "index.html").unlink()
    cache = BuildCache(first, "2026-11-25")
    key = old.keys["lieux/lieu-1/index.html"]
    assert cache.reuse("lieux/lieu-1/index.html", key, site / "builds" / "b2") is False
    assert cache.keys == {"lieux/lieu-1/index.html": key}  # recorded for the next build anyway


def test_value_keys_follow_content_not_identity():
    cache = BuildCache(None, "x")
    assert cache.value_key({"a": [1, 2]}) == cache.value_key({"a": [1, 2]})
    assert cache.value_key({"a": [1, 2]}) != cache.value_key({"a": [2, 1]})
    assert cache.value_key([1, 2]) != cache.value_key((1, 2))  # the type is part of it
    assert cache.value_key({"a": 1, "b": 2}) != cache.value_key({"a": 1, "b": 3})
    assert cache.value_key(1) != cache.value_key("1")


def test_page_keys_do_not_depend_on_context_order():
    cache = BuildCache(None, "x")
    assert (cache.page_key("t.html", [], {"a": 1, "b": [2]})
            == cache.page_key("t.html", [], {"b": [2], "a": 1}))


def test_remembered_text_is_reused_only_for_the_same_key(site: Path):
    build = site / "builds" / "b1"
    cache = BuildCache(None, "x")
    text = "BEGIN:VEVENT é".encode()
    assert cache.remember("event:PAL-1", lambda: text) == text
    cache.save(build)
    again = BuildCache(build, "x")
    calls = []

    def compute():
        calls.append(1)
        return b"new"

    assert again.remember("event:PAL-1", compute) == text
    assert calls == []
    assert again.remember("event:PAL-2", compute) == b"new" and calls == [1]
    # a new day (site-wide value) computes everything again
    assert BuildCache(build, "y").remember("event:PAL-1", compute) == b"new"


def test_saved_manifest_holds_keys_memo_and_page_count(site: Path):
    build, cache = first_build(site)
    stored = json.loads(manifest_path(build).read_text(encoding="utf-8"))
    assert stored == {"pages": 1, "keys": cache.keys, "memo": {}, "search": None,
                      "search_parts": {}, "html": None}  # (files not listed by this build)
    cache.files = ["index.html", "lieux/lieu-1/index.html", "robots.txt"]
    cache.save(build)
    assert BuildCache(build, "2026-11-25").known_html == ["index.html", "lieux/lieu-1/index.html"]


def test_a_manifest_without_a_search_key_still_loads(site: Path):
    """Manifests written before the venue search index existed (pages.search_index)."""
    build, cache = first_build(site)
    manifest_path(build).write_text(json.dumps({"pages": 1, "keys": cache.keys, "memo": {}}),
                                    encoding="utf-8")
    again = BuildCache(build, "2026-11-25")
    assert again.known == cache.keys and again.known_search_key is None


def test_rendering_version_changes_with_any_rendering_source(tmp_path: Path, monkeypatch):
    (tmp_path / "theme" / "templates").mkdir(parents=True)
    (tmp_path / "theme" / "templates" / "base.html").write_text("<html>", encoding="utf-8")
    (tmp_path / "conf.py").write_text("A = 1\n", encoding="utf-8")
    monkeypatch.setattr(build_cache, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(build_cache, "RENDERING_SOURCES", ("theme", "conf.py"))
    before = rendering_version()
    assert rendering_version() == before
    (tmp_path / "conf.py").write_text("A = 2\n", encoding="utf-8")
    changed_file = rendering_version()
    assert changed_file != before
    (tmp_path / "theme" / "templates" / "venue.html").write_text("", encoding="utf-8")
    assert rendering_version() != changed_file  # a new, even empty, template counts


def test_the_real_rendering_sources_exist():
    root = build_cache.REPO_ROOT
    assert all((root / name).exists() for name in build_cache.RENDERING_SOURCES)


def test_a_qr_code_is_reused_the_next_day_but_a_dated_file_is_redrawn(site: Path, monkeypatch):
    first = site / "builds" / "b1"
    cache = BuildCache(None, "2026-11-25")
    for name, dated in (("qr.svg", False), ("atelier.ics", True)):
        cache.reuse(f"ateliers/a/{name}", cache.file_key("https://x.fr/ateliers/a/", dated),
                    first)
        replace_file(first / "ateliers" / "a" / name, b"x")
    cache.save(first)
    next_day = BuildCache(first, "2026-11-26")  # the date is a site-wide value
    second = site / "builds" / "b2"
    assert next_day.reuse("ateliers/a/qr.svg",
                          next_day.file_key("https://x.fr/ateliers/a/", dated=False), second)
    assert not next_day.reuse("ateliers/a/atelier.ics",
                              next_day.file_key("https://x.fr/ateliers/a/"), second)
    # A change to the rendering code (posters.py is part of it) redraws the QR codes too.
    monkeypatch.setattr(build_cache, "rendering_version", lambda: "posters.py changed")
    new_code = BuildCache(first, "2026-11-26")
    assert not new_code.reuse("ateliers/a/qr.svg",
                              new_code.file_key("https://x.fr/ateliers/a/", dated=False),
                              site / "builds" / "b3")


def test_value_keys_of_shared_or_large_containers_follow_content():
    cache = BuildCache(None, "x")
    shared = {"commune": "Palaiseau", "lat": 48.71}
    assert cache.value_key([shared, shared]) == cache.value_key([dict(shared), dict(shared)])
    # Beyond PICKLED_LIMIT a container is walked item by item; still content, not identity.
    venues = [{"id": n, "nom": f"Lieu {n}", "ouvert": n % 2 == 0} for n in range(5000)]
    again = [dict(venue) for venue in venues]
    assert cache.value_key({"lieux": venues}) == BuildCache(None, "x").value_key({"lieux": again})
    again[-1]["nom"] = "Lieu renommé"
    assert cache.value_key({"lieux": again}) != cache.value_key({"lieux": venues})
    assert cache.value_key({"n": 1}) != cache.value_key({"n": True})
    assert cache.value_key({"n": 0.0}) != cache.value_key({"n": -0.0})
    # What cannot be pickled is walked: a function's repr names its address, never reused.
    assert cache.value_key({"f": lambda: 1}) != BuildCache(None, "x").value_key({"f": lambda: 1})
