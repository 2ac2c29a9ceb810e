"""Pelican plugin: the pages generated from the site data computed by ``transforms.site_data``.

Which page renders what is decided by ``transforms.page_plan``; this plugin writes that plan
through Pelican's writer, then the sitemap once every page exists.
"""

from __future__ import annotations

from pathlib import Path

from pelican import signals
from pelican.generators import Generator

from transforms.page_plan import (asset_urls, files_under, fingerprinted_assets, site_plan,
                                  sitemap, write_plan)


class DataPagesGenerator(Generator):
    def generate_context(self) -> None:
        data = self.settings.get("INCLUSION_SITE")
        if data is None:
            raise RuntimeError("INCLUSION_SITE is not set: build the site with pipeline.publish")
        self.context["site"] = data
        self.assets = fingerprinted_assets(Path(self.theme))
        self.context["asset"] = asset_urls(self.assets)

    def generate_output(self, writer) -> None:
        write_plan(self, writer, site_plan(self.context["site"], self.assets,
                                           self.settings.get("INCLUSION_BUILD_CACHE")))


def get_generators(_pelican):
    return DataPagesGenerator


def write_sitemap(pelican) -> None:
    output = Path(pelican.output_path)
    base = pelican.settings["INCLUSION_SITE"]["territory"].get("site_url", "")
    files = list(files_under(output))
    cache = pelican.settings.get("INCLUSION_BUILD_CACHE")
    if cache is not None:  # the site checks read the same list instead of walking again
        cache.files = [*files, "sitemap.xml"]
    (output / "sitemap.xml").write_bytes(sitemap(output, base, files))


def register() -> None:
    signals.get_generators.connect(get_generators)
    signals.finalized.connect(write_sitemap)
