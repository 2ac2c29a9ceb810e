"""publish/site.py's check before a swap: every internal link of every page resolves (to a
file or a folder's index), pages reused unchanged are not read again, and the home page
must exist."""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import PARIS

from publish.site import SiteCheckFailed, build_id_for, check_site, count_pages


def page(root, name, body=""):
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(f"<html><body>{body}</body></html>", encoding="utf-8")


@pytest.fixture
def build(tmp_path):
    page(tmp_path, "index.html",
         '<a href="/lieux/">Lieux</a> <a href="/lieux/lieu-1/#horaires">Horaires</a> '
         '<link href="/theme/site.css"> <a href="/ateliers/?commune=91477&amp;x=1">Ateliers</a> '
         '<a href="https://www.openstreetmap.org/">Carte</a> <a href="//cdn.example/x.js">x</a>')
    page(tmp_path, "lieux/index.html", '<a href="/">Accueil</a>')
    page(tmp_path, "lieux/lieu-1/index.html", '<img src="/theme/logo.svg">')
    page(tmp_path, "ateliers/index.html")
    (tmp_path / "theme").mkdir()
    (tmp_path / "theme" / "site.css").write_text("body{}")
    (tmp_path / "theme" / "logo.svg").write_text("<svg/>")
    return tmp_path


def test_a_complete_build_passes_and_counts_its_pages(build):
    assert check_site(build) == 4 == count_pages(build)


def test_broken_internal_links_are_named_with_their_page(build):
    page(build, "lieux/lieu-2/index.html",
         '<a href="/ateliers/atelier-absent/">x</a> <img src="/theme/absent.png">')
    with pytest.raises(SiteCheckFailed) as failure:
        check_site(build)
    assert str(failure.value) == ("liens cassés : lieux/lieu-2/index.html -> "
                                  "/ateliers/atelier-absent/; lieux/lieu-2/index.html -> "
                                  "/theme/absent.png")


def test_reused_pages_are_not_read_again_but_still_counted(build):
    page(build, "lieux/lieu-2/index.html", '<a href="/absent/">x</a>')
    assert check_site(build, reused=frozenset({"lieux/lieu-2/index.html"})) == 5


def test_a_given_file_list_is_used_instead_of_walking_the_folder(build):
    page(build, "orphelin/index.html", '<a href="/absent/">x</a>')
    listed = ["index.html", "lieux/index.html", "theme/site.css"]
    assert check_site(build, files=listed) == 2


def test_a_build_without_home_page_is_refused(tmp_path):
    page(tmp_path, "lieux/index.html")
    with pytest.raises(SiteCheckFailed, match="la page d'accueil manque"):
        check_site(tmp_path)


def test_build_ids_sort_in_time_order():
    ids = [build_id_for(datetime(2026, 11, 25, 6, 0, tzinfo=PARIS)),
           build_id_for(datetime(2026, 11, 25, 6, 0, 1, tzinfo=PARIS)),
           build_id_for(datetime(2026, 12, 1, 5, 0, tzinfo=PARIS))]
    assert ids == ["20261125T060000", "20261125T060001", "20261201T050000"] == sorted(ids)
