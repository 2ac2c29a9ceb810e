"""Building the public site into a fresh folder and swapping it in atomically.

Residents always see ``<data>/site/current``, a symlink to one complete build. A new build is
written to ``builds/<id>.partial``, checked, renamed to ``builds/<id>``, and only then does the
symlink change (``os.replace`` of a new link over the old one is atomic). A failed build or
check leaves ``current`` untouched. The last ``KEEP_BUILDS`` builds are kept for rollback.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

from pipeline.config import REPO_ROOT, DataPaths, Territory, data_paths, load_territory
from pipeline.faults import fault_point

KEEP_BUILDS = 5
# A build with this share fewer pages than the live one is refused unless
# INCLUSION_ALLOW_PAGE_DROP=1 says the drop is expected (e.g. after removing a partner).
MAX_PAGE_DROP = float(os.environ.get("INCLUSION_MAX_PAGE_DROP", "0.3"))
PELICAN_SETTINGS = REPO_ROOT / "pelican.conf.py"
# Key of the site data carrying transforms.results.build_results(...) to the INCLUSION_RESULTS
# Pelican setting (kept inside site_data so render_site keeps its two-argument signature).
RESULTS_KEY = "inclusion_results"


class SiteCheckFailed(Exception):
    pass


@dataclass
class Published:
    build_id: str
    path: str
    pages: int


def build_id_for(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%S")


def render_site(site_data: dict, output: Path) -> None:
    from pelican import Pelican
    from pelican.settings import read_settings

    settings = read_settings(str(PELICAN_SETTINGS), override={
        "OUTPUT_PATH": str(output), "INCLUSION_SITE": site_data,
        # Yearly results, methodology and open data (transforms.results, results_pages plugin).
        "INCLUSION_RESULTS": site_data.get(RESULTS_KEY),
        "SITENAME": site_data["territory"]["site_title"]})
    Pelican(settings).run()


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)


def _target_exists(root: Path, link: str) -> bool:
    path = link.split("#", 1)[0].split("?", 1)[0]
    if not path:
        return True
    target = root / path.lstrip("/")
    return target.is_file() or (target / "index.html").is_file()


def check_site(root: Path) -> int:
    """Every page parses and every internal link or asset resolves; returns the page count."""
    pages = sorted(root.rglob("*.html"))
    if not (root / "index.html").is_file():
        raise SiteCheckFailed("la page d'accueil manque")
    broken = []
    for page in pages:
        collector = _LinkCollector()
        collector.feed(page.read_text(encoding="utf-8"))
        for link in collector.links:
            if link.startswith("/") and not link.startswith("//") and not _target_exists(root, link):
                broken.append(f"{page.relative_to(root)} -> {link}")
    if broken:
        raise SiteCheckFailed("liens cassés : " + "; ".join(broken[:20]))
    return len(pages)


def _check_page_count(paths: DataPaths, pages: int) -> None:
    live = paths.site_current
    if not live.exists() or os.environ.get("INCLUSION_ALLOW_PAGE_DROP") == "1":
        return
    before = sum(1 for _ in live.resolve().rglob("*.html"))
    if before and pages < before * (1 - MAX_PAGE_DROP):
        raise SiteCheckFailed(
            f"le nouveau site a {pages} pages contre {before} en ligne (baisse de plus de "
            f"{MAX_PAGE_DROP:.0%}) ; relancez avec INCLUSION_ALLOW_PAGE_DROP=1 si c'est voulu")


def _swap_current(paths: DataPaths, build: Path) -> None:
    link = paths.site_current
    tmp = link.with_name(".current.tmp")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(build.relative_to(link.parent), target_is_directory=True)
    os.replace(tmp, link)


def _prune(paths: DataPaths, keep: int) -> None:
    current = paths.site_current.resolve() if paths.site_current.exists() else None
    builds = sorted(p for p in paths.site_builds.iterdir() if p.is_dir())
    for stale in builds[:-keep]:
        if stale.resolve() != current:
            shutil.rmtree(stale, ignore_errors=True)


def publish(now: datetime, territory: Territory | None = None,
            paths: DataPaths | None = None) -> Published:
    from transforms.results import build_results
    from transforms.site_data import build_site_data

    territory = territory or load_territory()
    paths = paths or data_paths()
    build_id = build_id_for(now)
    final = paths.site_builds / build_id
    partial = paths.site_builds / f"{build_id}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    try:
        render_site({**build_site_data(territory, now),
                     RESULTS_KEY: build_results(territory, now)}, partial)
        pages = check_site(partial)
        _check_page_count(paths, pages)
    except Exception:
        shutil.rmtree(partial, ignore_errors=True)  # residents keep seeing `current`
        raise
    fault_point("publish-before-swap")
    if final.exists():  # a retry of the same run: replace that build, never the live one's path
        if paths.site_current.exists() and paths.site_current.resolve() == final.resolve():
            _swap_current(paths, partial)
        shutil.rmtree(final)
    os.replace(partial, final)
    _swap_current(paths, final)
    _prune(paths, KEEP_BUILDS)
    return Published(build_id, str(final), pages)


def rollback(paths: DataPaths | None = None) -> Path:
    """Point ``current`` back at the build before it."""
    paths = paths or data_paths()
    builds = sorted(p for p in paths.site_builds.iterdir()
                    if p.is_dir() and not p.name.endswith(".partial"))
    current = paths.site_current.resolve()
    older = [b for b in builds if b.resolve() != current and b.name < current.name]
    if not older:
        raise SiteCheckFailed("aucune version précédente du site n'est disponible")
    _swap_current(paths, older[-1])
    return older[-1]
