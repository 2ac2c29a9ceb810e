"""Pelican plugin: the pages generated from the site data computed by ``pages.site_data``.

Which page renders what is decided by ``pages.page_plan``; this plugin writes that plan
through Pelican's writer, then the sitemap once every page exists.
"""

from __future__ import annotations

from pathlib import Path

import pelican.utils
from pelican import signals
from pelican.generators import Generator
from pelican.writers import Writer

from pages.page_plan import (asset_urls, files_under, fingerprinted_assets, site_plan, sitemap,
                             venues_split, write_plan)
from pages.search_index import FOLDER, build_index
from pipeline.files import drop_link, replace_file


class DataPagesGenerator(Generator):
    def generate_context(self) -> None:
        data = self.settings.get("INCLUSION_SITE")
        if data is None:
            raise RuntimeError("INCLUSION_SITE is not set: build the site with publish.site")
        self.context["site"] = data
        self.assets = fingerprinted_assets(Path(self.theme))
        self.context["asset"] = asset_urls(self.assets)

    def generate_output(self, writer) -> None:
        write_plan(self, writer, site_plan(self.context["site"], self.assets,
                                           self.settings.get("INCLUSION_BUILD_CACHE")))


def get_generators(_pelican):
    return DataPagesGenerator


class LinkSafeWriter(Writer):
    """Pelican's writer opens the output path for writing; a page reused from the live build
    is a hard link to it there, so drop this build's link first (``publish.build_cache``).
    It also keeps the paths of every plan written (``pages.page_plan.write_plan``), so
    that no two items of the site and results plans share one."""

    def __init__(self, output_path, settings=None):
        super().__init__(output_path, settings=settings)
        self.planned_paths: set[str] = set()

    def _open_w(self, filename, encoding, override=False):
        if filename not in self._written_files:  # else it is this writer's own new file
            drop_link(filename)
        return super()._open_w(filename, encoding, override)


def get_writer(_pelican):
    return LinkSafeWriter


_pelican_copy_file = getattr(pelican.utils.copy_file, "pelican_original", pelican.utils.copy_file)


def _copy_file_to_new_file(source: str, destination: str) -> None:
    """Pelican copies theme files with ``shutil.copyfile``, which writes into an existing
    destination: drop it first, for the same reason as ``LinkSafeWriter``."""
    drop_link(destination)
    _pelican_copy_file(source, destination)


_copy_file_to_new_file.pelican_original = _pelican_copy_file


def write_sitemap(pelican) -> None:
    """The venue search index when the directory is split (``pages.search_index``: it reads
    the written venue pages), then the sitemap of the finished build."""
    output = Path(pelican.output_path)
    site = pelican.settings["INCLUSION_SITE"]
    base = site["territory"].get("site_url", "")
    files = list(files_under(output))
    cache = pelican.settings.get("INCLUSION_BUILD_CACHE")
    if venues_split(site):
        build_index(output, files, cache)
        files += [f"{FOLDER}/{name}" for name in files_under(output / FOLDER)]
    if cache is not None:  # the site checks read the same list instead of walking again
        cache.files = [*files, "sitemap.xml"]
    replace_file(output / "sitemap.xml", sitemap(output, base, files))


def register() -> None:
    pelican.utils.copy_file = _copy_file_to_new_file
    signals.get_writer.connect(get_writer)
    signals.get_generators.connect(get_generators)
    signals.finalized.connect(write_sitemap)
