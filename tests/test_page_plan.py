"""pages/page_plan.py helpers: content-hashed asset names, the file listing of a build and a
reproducible sitemap."""

from __future__ import annotations

import hashlib
import os
import xml.etree.ElementTree as ET

from pages.page_plan import asset_urls, files_under, fingerprinted_assets, sitemap

SITE = "https://numerique-pour-tous.example.org"


def tree(root, *names):
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x", encoding="utf-8")


def test_files_under_lists_relative_posix_paths_only_files(tmp_path):
    tree(tmp_path, "index.html", "lieux/lieu-1/index.html", "theme/site.css")
    (tmp_path / "vide").mkdir()
    assert sorted(files_under(tmp_path)) == ["index.html", "lieux/lieu-1/index.html",
                                             "theme/site.css"]
    assert list(files_under(tmp_path / "vide")) == []



def test_files_under_keeps_os_walk_order_and_does_not_follow_folder_links(tmp_path):
    tree(tmp_path, "b/index.html", "a/x/index.html", "a/y.css", "index.html", "c/d/e/f.txt")
    (tmp_path / "lien").symlink_to(tmp_path / "a", target_is_directory=True)
    (tmp_path / "raccourci.css").symlink_to(tmp_path / "a" / "y.css")
    start = len(str(tmp_path)) + 1
    walked = [f"{folder[start:]}/{name}".lstrip("/") for folder, _dirs, names
              in os.walk(tmp_path) for name in names]
    assert list(files_under(tmp_path)) == walked
    assert "raccourci.css" in walked and not any(name.startswith("lien/") for name in walked)
    assert list(files_under(tmp_path / "absent")) == []

def test_sitemap_lists_pages_sorted_as_folders_and_nothing_else(tmp_path):
    tree(tmp_path, "lieux/lieu-2/index.html", "index.html", "ateliers/calendrier.ics",
         "lieux/lieu-1/index.html", "404.html", "donnees/lieux.csv")
    text = sitemap(tmp_path, SITE).decode("utf-8")
    root = ET.fromstring(text.split("\n", 1)[1])
    locs = [e.text for e in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert locs == [f"{SITE}/", f"{SITE}/lieux/lieu-1/", f"{SITE}/lieux/lieu-2/"]
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    assert sitemap(tmp_path, SITE) == sitemap(tmp_path, SITE)  # no dates: reproducible
    # An already listed build gives the same file without walking the folder again.
    assert sitemap(tmp_path / "absent", SITE, files=list(files_under(tmp_path))) == \
        sitemap(tmp_path, SITE)
    assert sitemap(tmp_path, SITE, files=[]).decode().endswith(
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>\n')


def test_asset_names_carry_a_hash_of_their_content(tmp_path):
    css, js = b"body{color:#1e1e1e}", b"document.body"
    (tmp_path / "static" / "css").mkdir(parents=True)
    (tmp_path / "static" / "js").mkdir()
    (tmp_path / "static" / "css" / "site.css").write_bytes(css)
    (tmp_path / "static" / "js" / "filtres.js").write_bytes(js)
    (tmp_path / "static" / "js" / "partage.js").write_bytes(b"document.title")
    (tmp_path / "static" / "js" / "recherche.js").write_bytes(b"document.forms")
    assets = fingerprinted_assets(tmp_path)
    css_hash = hashlib.sha256(css).hexdigest()[:10]
    assert assets["css"] == (tmp_path / "static" / "css" / "site.css",
                             f"theme/css/site.{css_hash}.css")
    assert asset_urls(assets)["js"] == \
        f"/theme/js/filtres.{hashlib.sha256(js).hexdigest()[:10]}.js"
    (tmp_path / "static" / "css" / "site.css").write_bytes(css + b" ")
    assert fingerprinted_assets(tmp_path)["css"][1] != f"theme/css/site.{css_hash}.css"
    assert fingerprinted_assets(tmp_path)["js"] == assets["js"]
