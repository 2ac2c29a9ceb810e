"""The Pelican plugins on their own (site/plugins/): a page or theme file reused from the live
build is a hard link, and writing this build's version must never write through it; the
generators refuse to build without their data; the stewards' Data Docs make no request
elsewhere."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pelican.settings import DEFAULT_CONFIG

from pipeline import settings
from pipeline.check.datadocs import offline

sys.path.insert(0, str(settings.REPO_ROOT / "site" / "plugins"))
import data_pages  # noqa: E402  (a Pelican plugin is a top-level module of its folder)
import results_pages  # noqa: E402


def linked_pair(tmp_path: Path) -> tuple[Path, Path]:
    """A live page and this build's hard link to it, as publish.build_cache leaves them."""
    live = tmp_path / "live" / "index.html"
    live.parent.mkdir()
    live.write_text("page publiée", encoding="utf-8")
    build = tmp_path / "build"
    build.mkdir()
    (build / "index.html").hardlink_to(live)
    return live, build / "index.html"


def test_the_writer_replaces_a_reused_page_instead_of_writing_through_its_link(tmp_path):
    live, page = linked_pair(tmp_path)
    writer = data_pages.LinkSafeWriter(str(page.parent), settings=dict(DEFAULT_CONFIG))
    with writer._open_w(str(page), "utf-8") as handle:
        handle.write("nouvelle version")
    assert page.read_text(encoding="utf-8") == "nouvelle version"
    assert live.read_text(encoding="utf-8") == "page publiée"  # the live build is untouched
    assert page.stat().st_ino != live.stat().st_ino


def test_a_theme_file_copied_over_a_reused_one_leaves_the_live_one_alone(tmp_path):
    live, copy = linked_pair(tmp_path)
    source = tmp_path / "site.css"
    source.write_text("body{}", encoding="utf-8")
    data_pages._copy_file_to_new_file(str(source), str(copy))
    assert copy.read_text(encoding="utf-8") == "body{}"
    assert live.read_text(encoding="utf-8") == "page publiée"


@pytest.mark.parametrize(("module", "generator", "setting"), [
    (data_pages, "DataPagesGenerator", "INCLUSION_SITE"),
    (results_pages, "ResultsPagesGenerator", "INCLUSION_RESULTS")])
def test_a_generator_without_its_data_stops_the_build_and_says_how_to_build(
        module, generator, setting):
    instance = object.__new__(getattr(module, generator))
    instance.settings, instance.context = {}, {}
    with pytest.raises(RuntimeError, match=f"{setting} is not set: build the site with "
                                           "publish.site"):
        instance.generate_context()


def test_data_docs_keep_local_links_and_lose_every_request_elsewhere():
    page = ('<html><head><link rel="stylesheet" href="https://cdn.example/bootstrap.css">'
            '<script src="https://code.jquery.com/jquery.js"></script>'
            '<link rel="stylesheet" href="local.css"></head><body>'
            '<img src="http://tracker.example/p.gif"><a href="https://greatexpectations.io">GX</a>'
            '</body></html>')
    html = offline(page)
    assert "cdn.example" not in html and "jquery" not in html and "tracker" not in html
    assert 'href="local.css"' in html and 'href="https://greatexpectations.io"' in html
    assert html.count("<style>") == 1 and html.index("<style>") < html.index("</head>")
