"""pages/search_index.py: the static search index over every venue, built only when the
directory is split by commune, and hard-linked from the live build when no indexed page
changed (never written into: builds share its files)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from pages.page_plan import files_under
from pages.search_index import (END, FOLDER, UNUSED, build_index, index_key, indexed_part,
                                key_of, part_digests, venue_pages)
from pipeline import settings
from publish.build_cache import BuildCache

sys.path.insert(0, str(settings.REPO_ROOT / "site" / "plugins"))
import data_pages  # noqa: E402  (a Pelican plugin is a top-level module of its folder)

VENUES = {"lieu-91477-01": ("Médiathèque George Sand", "91120 Palaiseau"),
          "lieu-91312-01": ("CCAS d'Igny", "91430 Igny")}


def venue_page(name: str, commune: str, workshops: str = "") -> str:
    return (f'<!doctype html><html lang="fr"><head><title>{name}</title></head><body><main>'
            f'<div data-pagefind-body><h1>{name}</h1><p data-pagefind-meta="commune[data-c]" '
            f'data-c="{commune}">{commune}</p></div>{END.decode()}<p>Ateliers : {workshops}</p>'
            '</main></body></html>')


def write_build(root: Path, venues: dict[str, tuple]) -> list[str]:
    """A build's venue pages plus the pages search must leave out; its file list."""
    pages = {f"lieux/{slug}/index.html": venue_page(*venue) for slug, venue in venues.items()}
    pages["lieux/index.html"] = "<html lang=fr><body><h1>Communes</h1></body></html>"
    pages["lieux/commune/91477/index.html"] = venue_page("Lieux à Palaiseau", "91120 Palaiseau")
    for relative, text in pages.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    return sorted(files_under(root))


def cached_build(site: Path, name: str, venues: dict, previous: Path | None) -> tuple[Path,
                                                                                     BuildCache]:
    """One build with a cache, as publish.site does it: the pages, then the index, then the
    manifest."""
    build = site / "builds" / name
    build.mkdir(parents=True)
    cache = BuildCache(previous, "2026-11-25")
    cache.reused_index = build_index(build, write_build(build, venues), cache)
    cache.save(build)
    return build, cache


def test_only_venue_pages_are_indexed():
    files = ["lieux/index.html", "lieux/commune/91477/index.html", "lieux/lieu-1/index.html",
             "lieux/lieu-1/qr.svg", "ateliers/a/index.html", "index.html"]
    assert venue_pages(files) == ["lieux/lieu-1/index.html"]


def test_the_index_key_follows_the_indexed_part_of_every_page(tmp_path: Path):
    write_build(tmp_path, VENUES)
    pages = venue_pages(sorted(files_under(tmp_path)))
    key = index_key(tmp_path, pages)
    assert index_key(tmp_path, pages[:1]) != key
    write_build(tmp_path, {"lieu-91477-01": (*VENUES["lieu-91477-01"], "Smartphone, le 2 déc.")})
    assert index_key(tmp_path, pages) == key  # what is not indexed does not count
    write_build(tmp_path, {"lieu-91477-01": ("Médiathèque George-Sand", "91120 Palaiseau")})
    assert index_key(tmp_path, pages) != key
    assert indexed_part(b"<p>sans marque</p>") == b"<p>sans marque</p>"


def test_pages_linked_from_the_live_build_keep_their_recorded_digest_and_give_the_same_key(
        tmp_path: Path):
    first, cache = cached_build(tmp_path, "b1", VENUES, None)
    assert set(cache.search_parts) == {f"lieux/{slug}/index.html" for slug in VENUES}
    assert BuildCache(first, "2026-11-25").known_search_parts == cache.search_parts
    second = tmp_path / "builds" / "b2"
    pages = venue_pages(write_build(second, VENUES))
    linked = {pages[0]}
    # A linked page is not read again: its recorded digest stands (here, even over other bytes).
    (second / pages[0]).write_text(venue_page("Autre nom", "00000 Ailleurs"), encoding="utf-8")
    digests = part_digests(second, pages, cache.search_parts, linked)
    assert digests[pages[0]] == cache.search_parts[pages[0]]
    assert digests[pages[1]] == cache.search_parts[pages[1]]  # read: the same bytes
    assert key_of(digests) == cache.search_key
    # A page not linked is read, so the change counts.
    assert key_of(part_digests(second, pages, cache.search_parts)) != cache.search_key
    assert key_of(part_digests(first, pages)) == index_key(first, pages) == cache.search_key


def test_without_a_cache_the_index_is_built_without_the_unused_interfaces(tmp_path: Path):
    files = write_build(tmp_path, VENUES)
    assert build_index(tmp_path, files) is False
    index = tmp_path / FOLDER
    assert (index / "pagefind.js").is_file() and (index / "pagefind-entry.json").is_file()
    assert not [name for name in UNUSED if (index / name).exists()]
    assert '"page_count":2' in (index / "pagefind-entry.json").read_text(encoding="utf-8")
    assert not list(index.rglob("*.html"))  # nothing the sitemap or the page count would see


def test_same_venues_link_the_live_index_and_a_changed_venue_indexes_again(tmp_path: Path):
    first, cache = cached_build(tmp_path, "b1", VENUES, None)
    assert cache.search_key is not None and not cache.reused_index
    # new workshops at a venue change its page, not what is indexed
    busier = {**VENUES, "lieu-91477-01": (*VENUES["lieu-91477-01"], "Smartphone, le 2 déc.")}
    second, again = cached_build(tmp_path, "b2", busier, first)
    assert again.search_key == cache.search_key and again.reused_index
    live = sorted(files_under(first / FOLDER))
    assert sorted(files_under(second / FOLDER)) == live
    assert all(os.stat(first / FOLDER / f).st_ino == os.stat(second / FOLDER / f).st_ino
               for f in live)
    changed = {**VENUES, "lieu-91312-01": ("CCAS d'Igny", "91430 Igny (mairie annexe)")}
    third, moved = cached_build(tmp_path, "b3", changed, second)
    assert moved.search_key != again.search_key and not moved.reused_index
    entry = "pagefind-entry.json"
    assert os.stat(third / FOLDER / entry).st_ino != os.stat(second / FOLDER / entry).st_ino
    # the live build's index is untouched by the new one
    assert sorted(files_under(second / FOLDER)) == live


def test_a_live_build_without_its_index_folder_is_indexed_again(tmp_path: Path):
    first, cache = cached_build(tmp_path, "b1", VENUES, None)
    for path in sorted((first / FOLDER).rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (first / FOLDER).rmdir()
    second, _ = cached_build(tmp_path, "b2", VENUES, first)
    assert (second / FOLDER / "pagefind.js").is_file()


@pytest.mark.parametrize("limit, indexed", [(1, True), (2, False)])
def test_the_index_is_built_only_when_the_directory_is_split(tmp_path: Path, monkeypatch,
                                                              limit, indexed):
    monkeypatch.setenv("INCLUSION_LIST_LIMIT", str(limit))
    write_build(tmp_path, VENUES)
    site = {"territory": {"site_url": "https://exemple.fr"}, "venues": list(VENUES)}
    pelican = SimpleNamespace(output_path=str(tmp_path), settings={
        "INCLUSION_SITE": site, "INCLUSION_BUILD_CACHE": None})
    data_pages.write_sitemap(pelican)
    assert (tmp_path / FOLDER / "pagefind.js").is_file() is indexed
    sitemap = (tmp_path / "sitemap.xml").read_text(encoding="utf-8")
    assert "/lieux/lieu-91477-01/" in sitemap and FOLDER not in sitemap
