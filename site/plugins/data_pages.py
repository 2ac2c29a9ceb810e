"""Pelican plugin: pages generated from the site data computed by ``transforms.site_data``.

Pages come from data, not from Markdown files, so partner text is never parsed as Markdown and
always goes through Jinja's autoescaping.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from pelican import signals
from pelican.generators import Generator

from pipeline.contracts import CONTRACTS


FINGERPRINTED = {"css": "css/site.css", "js": "js/filtres.js"}


class DataPagesGenerator(Generator):
    def generate_context(self) -> None:
        data = self.settings.get("INCLUSION_SITE")
        if data is None:
            raise RuntimeError("INCLUSION_SITE is not set: build the site with pipeline.publish")
        self.context["site"] = data
        # Asset names carry a hash of their content so they can be cached forever.
        self.assets = {}
        for key, relative in FINGERPRINTED.items():
            source = Path(self.theme) / "static" / relative
            digest = hashlib.sha256(source.read_bytes()).hexdigest()[:10]
            stem, suffix = relative.rsplit(".", 1)
            self.assets[key] = (source, f"theme/{stem}.{digest}.{suffix}")
        self.context["asset"] = {key: "/" + target for key, (_s, target) in self.assets.items()}

    def _write(self, writer, save_as: str, template: str, breadcrumb: list, **context) -> None:
        writer.write_file(save_as, self.get_template(template), self.context,
                          relative_urls=False, page_name=save_as.removesuffix("index.html"),
                          breadcrumb=breadcrumb, **context)

    def _write_assets_and_indexes(self, writer, site: dict) -> None:
        output = Path(self.output_path)
        for source, target in self.assets.values():
            (output / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, output / target)
        self._write(writer, "404.html", "not_found", [], title="Page introuvable")
        (output / "robots.txt").write_text(
            f"User-agent: *\nAllow: /\nSitemap: {site['territory'].get('site_url', '')}/sitemap.xml\n",
            encoding="utf-8")

    def generate_output(self, writer) -> None:
        site = self.context["site"]
        self._write_assets_and_indexes(writer, site)
        home = ("Accueil", "/")
        self._write(writer, "index.html", "home", [])
        self._write_templates()
        self._write(writer, "partenaires/index.html", "partners", [home],
                    title="Espace partenaires : envoyer vos données",
                    contracts=list(CONTRACTS.values()))
        self._write(writer, "ateliers/index.html", "workshops", [home],
                    title="Prochains ateliers numériques")
        self._write_venues(writer, site, home)
        self._write_workshops(writer, site, home)
        self._write(writer, "telephones/index.html", "phones", [home],
                    title="Où déposer un vieux téléphone")

    def _write_workshops(self, writer, site: dict, home: tuple) -> None:
        """A page, a printable poster, a QR code and an .ics file per upcoming workshop, and
        calendar feeds for the territory and each commune."""
        from datetime import datetime

        from transforms.calendar import calendar
        from transforms.posters import qr_svg

        territory = site["territory"]
        base = territory.get("site_url", "")
        domain = base.split("//")[-1] or "localhost"
        stamp = datetime.fromisoformat(site["generated_at"])
        output = Path(self.output_path) / "ateliers"
        crumb = ("Ateliers", "/ateliers/")
        for session in site["upcoming"]:
            folder = output / session["slug"]
            folder.mkdir(parents=True, exist_ok=True)
            title = f"{session['thematique']} — {session['nom_commune']}"
            self._write(writer, f"ateliers/{session['slug']}/index.html", "workshop",
                        [home, crumb], title=title, s=session)
            (folder / "qr.svg").write_text(qr_svg(f"{base}/ateliers/{session['slug']}/"),
                                           encoding="utf-8")
            self._write(writer, f"ateliers/{session['slug']}/affiche/index.html", "poster",
                        [home, crumb, (title, f"/ateliers/{session['slug']}/")],
                        title=f"Affiche : {title}", s=session)
            (folder / "atelier.ics").write_bytes(
                calendar([session], title, "Europe/Paris", domain, stamp))
        (output / "calendrier.ics").write_bytes(calendar(
            site["upcoming"], f"Ateliers numériques — {territory['short_name']}",
            "Europe/Paris", domain, stamp))
        for commune, name in site["workshop_communes"]:
            sessions = [s for s in site["upcoming"] if s["commune"] == commune]
            (output / f"calendrier-{commune}.ics").write_bytes(calendar(
                sessions, f"Ateliers numériques — {name}", "Europe/Paris", domain, stamp))

    def _write_templates(self) -> None:
        from pipeline.templates import template_csv, template_xlsx

        folder = Path(self.output_path) / "partenaires" / "modeles"
        folder.mkdir(parents=True, exist_ok=True)
        for contract in CONTRACTS.values():
            (folder / f"{contract.dataset}.csv").write_bytes(template_csv(contract))
            (folder / f"{contract.dataset}.xlsx").write_bytes(template_xlsx(contract))

    def _write_venues(self, writer, site: dict, home: tuple) -> None:
        venues = site["venues"]
        self._write(writer, "lieux/index.html", "venues", [home],
                    title="Lieux d'aide au numérique",
                    services=sorted({s for v in venues for s in v["services"]}),
                    publics=sorted({p for v in venues for p in v["publics"]}))
        crumb = ("Lieux d'aide", "/lieux/")
        for venue in venues:
            self._write(writer, f"lieux/{venue['slug']}/index.html", "venue", [home, crumb],
                        title=venue["nom"], v=venue)
        exports = site.get("exports", {})
        folder = Path(self.output_path) / "donnees"
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in exports.items():
            (folder / name).write_text(text, encoding="utf-8")


def get_generators(_pelican):
    return DataPagesGenerator


def write_sitemap(pelican) -> None:
    """After every page is written: list them all (no dates, so the file is reproducible)."""
    output = Path(pelican.output_path)
    base = pelican.settings["INCLUSION_SITE"]["territory"].get("site_url", "")
    pages = sorted(p.relative_to(output).as_posix() for p in output.rglob("index.html"))
    urls = "".join(f"<url><loc>{base}/{p.removesuffix('index.html')}</loc></url>" for p in pages)
    (output / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n',
        encoding="utf-8")


def register() -> None:
    signals.get_generators.connect(get_generators)
    signals.finalized.connect(write_sitemap)
