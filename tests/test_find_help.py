"""Issue 16, items 4–7 (fast): the needs of the guided path mapped to the national standard's
services and the workshop topics, the nearest venues of a need, the venue pages' ``mailto:``
links, the steward's address in territory.toml, and the pass numérique's prescribers
(organisations only, rare spellings withheld, hostile text escaped), then the same on the
demo build."""

from __future__ import annotations

import re
import runpy
from urllib.parse import parse_qs, unquote, urlsplit

import pandas as pd
import pytest
from jinja2 import Environment, FileSystemLoader

from pages.find_help import (KNOWN_SERVICES, KNOWN_TOPICS, NEEDS, NEEDS_BY_SLUG,
                             nearest_venues, next_workshops, offered_needs)
from pages.mailto import mailto, report_link, share_link
from pages.prescribers import is_organisation, prescribers_by_commune
from pipeline import settings
from pipeline.config import ConfigError, load_territory

HERE = (48.7144, 2.2458)  # Palaiseau's town hall
CONF = runpy.run_path(str(settings.REPO_ROOT / "pelican.conf.py"))


def venue(name, services, lat=None, lon=None, commune="91477", **extra):
    return {"nom": name, "slug": name.lower(), "services": services, "latitude": lat,
            "longitude": lon, "commune": commune, "id": name, **extra}


def test_every_need_names_known_services_and_topics_and_each_value_has_a_need():
    assert len({n.slug for n in NEEDS}) == len(NEEDS)
    for need in NEEDS:
        assert need.services and set(need.services) <= KNOWN_SERVICES, need
        assert set(need.topics) <= KNOWN_TOPICS, need
        assert re.fullmatch(r"[a-z]+", need.slug)
    assert {s for n in NEEDS for s in n.services} == KNOWN_SERVICES
    assert {t for n in NEEDS for t in n.topics} == KNOWN_TOPICS
    assert NEEDS_BY_SLUG["demarches"].services == ("Aide aux démarches administratives",)
    assert "Prise en main du smartphone" in NEEDS_BY_SLUG["telephone"].topics


def test_only_needs_that_something_answers_are_offered():
    venues = [venue("A", ["Aide aux démarches administratives"])]
    sessions = [{"thematique": "Prise en main du smartphone"}]
    assert [n.slug for n in offered_needs(venues, sessions)] == ["demarches", "telephone"]


def test_nearest_matching_venues_come_first_and_a_mobile_venue_of_the_commune_follows():
    need = NEEDS_BY_SLUG["demarches"]
    venues = [venue("Loin", ["Aide aux démarches administratives"], 48.80, 2.30),
              venue("Près", ["Aide aux démarches administratives"], 48.715, 2.246),
              venue("Autre service", ["Loisirs et créations numériques"], 48.7145, 2.2459),
              venue("Bus", ["Aide aux démarches administratives"]),
              venue("Bus ailleurs", ["Aide aux démarches administratives"], commune="91377")]
    found = nearest_venues(need, "91477", HERE, venues, limit=5)
    assert [f["lieu"]["nom"] for f in found] == ["Près", "Loin", "Bus"]
    assert found[0]["distance"] == "à 70 m"  # 67 m north, 15 m east
    assert found[2]["distance"].startswith("dans la commune")
    assert [f["lieu"]["nom"] for f in nearest_venues(None, "91477", HERE, venues, 1)] == [
        "Autre service", "Bus"]


def test_next_workshops_are_the_soonest_on_the_topics_within_reach():
    need = NEEDS_BY_SLUG["telephone"]
    sessions = [{"thematique": "Prise en main du smartphone", "latitude": 49.5, "longitude": 2.0},
                {"thematique": "Accès aux services en ligne", "latitude": 48.71, "longitude": 2.24},
                *({"thematique": "Prise en main du smartphone", "latitude": 48.72,
                   "longitude": 2.25, "n": i} for i in range(6)),
                {"thematique": "Prise en main du smartphone", "latitude": None}]
    found = next_workshops(need, HERE, sessions, limit=4)
    assert [f["seance"]["n"] for f in found] == [0, 1, 2, 3]
    assert found[0]["distance"] == "à 690 m"  # 623 m north, 308 m east


def test_the_next_workshops_from_many_points_are_those_a_session_by_session_search_finds():
    # NearbySessions measures from each venue once for all the sessions held there; the
    # result must be what measuring every session one by one gives.
    import random

    from pages.find_help import WORKSHOP_RADIUS_M, NearbySessions
    from pages.venues import distance_text, haversine_m

    rng = random.Random(7)
    places = [(round(48.5 + rng.random() * 0.5, 4), round(2.0 + rng.random() * 0.6, 4))
              for _ in range(40)] + [(None, None)]
    topics = sorted(KNOWN_TOPICS)
    sessions = [dict(zip(("latitude", "longitude"), rng.choice(places)),
                     thematique=rng.choice(topics), n=i) for i in range(3000)]
    nearby = NearbySessions(sessions)
    shown = 0
    for point in [(48.7144, 2.2458), (48.6, 2.5), (49.5, 1.0)] + places[:5]:
        if point[0] is None:
            continue
        around = nearby.around(point)
        for need in NEEDS:
            expected = [(s["n"], distance_text(d)) for s in sessions
                        if s["thematique"] in need.topics and s["latitude"] is not None
                        and (d := haversine_m(*point, s["latitude"], s["longitude"]))
                        <= WORKSHOP_RADIUS_M][:5] if need.topics else []
            found = nearby.next(need, around, limit=5)
            assert [(f["seance"]["n"], f["distance"].removeprefix("à ")) for f in found] \
                == expected
            shown += len(found)
    assert shown > 100  # the points do find sessions, near and far


@pytest.mark.parametrize("ranked", [3, 40, 256], ids=["peu", "moyen", "défaut"])
def test_the_nearest_venues_from_many_points_are_those_a_full_sort_finds(monkeypatch, ranked):
    # Nearby orders a point's RANKED nearest venues once and serves each need from them,
    # falling back to every venue for rare needs; the result must be the full sort's.
    import random

    from pages import find_help
    from pages.find_help import Nearby

    monkeypatch.setattr(find_help, "RANKED", ranked)
    rng = random.Random(11)
    services = sorted(KNOWN_SERVICES)
    venues = [venue(f"Lieu {i:03d}", rng.sample(services, rng.choice([1, 1, 2])),
                    round(48.5 + rng.random() * 0.5, 5), round(2.0 + rng.random() * 0.6, 5))
              for i in range(300)]
    venues += [venue("Même endroit A", services[:1], 48.7, 2.3),  # equal distances: by name
               venue("Même endroit B", services[:1], 48.7, 2.3), venue("Bus", services)]
    nearby = Nearby(venues)
    from pages.venues import distance_text

    checked = 0
    for point in [(48.7144, 2.2458), (48.7, 2.3), (49.5, 1.0), (48.51, 2.59)]:
        distances = nearby.distances(point)
        for need in (None, *NEEDS):
            for limit in (1, 5, 8):
                expected = sorted((i for i, v in enumerate(venues) if v["latitude"] is not None
                                   and find_help.matches(need, v)),
                                  key=lambda i: (distances[i], venues[i]["nom"]))[:limit]
                found = nearby.nearest(need, "00000", distances, limit)
                assert [f["lieu"]["nom"] for f in found] == [venues[i]["nom"] for i in expected]
                assert [f["distance"] for f in found] == [
                    f"à {distance_text(float(distances[i]))}" for i in expected]
                checked += len(found)
    assert checked > 300


HOSTILE = 'Café & co ? #1 100% "sûr"\nBcc: pirate@example.org'


def test_mailto_keeps_every_character_as_text_of_its_part():
    link = mailto("annuaire@example.org", HOSTILE, f"{HOSTILE}\nfin")
    assert link.startswith("mailto:annuaire@example.org?subject=")
    assert not re.search(r"[\s\"'<>#&?]", link.split("?", 1)[1].replace("&body=", ""))
    query = parse_qs(urlsplit(link).query, keep_blank_values=True)
    assert set(query) == {"subject", "body"}
    assert query["subject"] == [HOSTILE.replace("\n", "\r\n")]
    assert query["body"] == [f"{HOSTILE}\nfin".replace("\n", "\r\n")]


def test_share_and_report_links_carry_the_venue():
    view = venue(HOSTILE, [], adresse="3 rue & place", complement_adresse=None,
                 code_postal="91120", nom_commune="Palaiseau",
                 horaires=["Du lundi au vendredi de 9 h à 12 h"], telephone="01 69 31 00 00")
    url = "https://exemple.org/lieux/x/"
    shared = unquote(share_link(view, url).split("body=")[1])
    crlf = HOSTILE.replace("\n", "\r\n")
    assert shared == (f"{crlf}\r\n3 rue & place, 91120 Palaiseau\r\n\r\nHoraires :\r\n"
                      "- Du lundi au vendredi de 9 h à 12 h\r\n\r\nTéléphone : 01 69 31 00 00"
                      f"\r\n\r\nPlus d'informations : {url}")
    assert share_link(view, url).startswith("mailto:?subject=")
    report = report_link(view, "annuaire@example.org", url)
    body = parse_qs(urlsplit(report).query)["body"][0]
    assert f"Identifiant : {HOSTILE}".replace("\n", "\r\n") in body and url in body
    assert urlsplit(report).path == "annuaire@example.org"


def _territory_text(extra: str) -> str:
    text = (settings.REPO_ROOT / "territory.toml").read_text(encoding="utf-8")
    return re.sub(r'steward_email = "[^"]*"\n', extra, text)


def test_the_steward_address_is_checked_and_falls_back_to_the_contact(tmp_path):
    path = tmp_path / "territory.toml"
    path.write_text(_territory_text(""), encoding="utf-8")
    assert load_territory(path).steward_email == "inclusion.numerique@example.org"
    path.write_text(_territory_text('steward_email = "annuaire@example.org"\n'), encoding="utf-8")
    assert load_territory(path).steward_email == "annuaire@example.org"
    path.write_text(_territory_text('steward_email = "annuaire at example"\n'), encoding="utf-8")
    with pytest.raises(ConfigError, match="key steward_email"):
        load_territory(path)


@pytest.mark.parametrize("value", [
    "Mme Durand", "M. Jean Martin", "Jean Martin", "Dr Lefèvre, CCAS", "ccas.massy@example.org",
    "CCAS de Massy 01 69 31 00 00", "CCAS — +33169310000", "contact [at] ccas.fr CCAS", "", None,
    "Monsieur le maire", "Sophie"])
def test_people_and_contacts_are_never_prescribers(value):
    assert not is_organisation(value)


@pytest.mark.parametrize("value", ["CCAS de Massy", "France Services des Ulis",
                                   "Mission locale Vallée de Chevreuse", "Maison des solidarités",
                                   "Médiathèque George Sand", "Pôle emploi Massy"])
def test_organisations_are_prescribers(value):
    assert is_organisation(value)


def test_prescribers_per_commune_merge_spellings_and_withhold_rare_ones():
    rows = pd.DataFrame(
        [("91377", "CCAS de Massy")] * 3 + [("91377", "ccas de  massy")] + [
            ("91377", "Mission locale de Massy")] * 2 + [("91377", "Mme Durand")] * 9
        + [("91477", "France Services de Palaiseau")] * 3 + [("99999", "CCAS d'ailleurs")] * 5,
        columns=["commune", "prescripteur"])
    found = prescribers_by_commune(rows, {"91377": "Massy", "91477": "Palaiseau"})
    assert found == [
        {"commune": "91377", "nom_commune": "Massy", "prescripteurs": ["CCAS de Massy"]},
        {"commune": "91477", "nom_commune": "Palaiseau",
         "prescripteurs": ["France Services de Palaiseau"]}]
    assert prescribers_by_commune(rows.iloc[0:0], {"91377": "Massy"}) == []


def test_hostile_prescriber_names_are_escaped_on_the_pass_page():
    env = Environment(loader=FileSystemLoader(settings.REPO_ROOT / "site" / "theme" / "templates"),
                      **CONF["JINJA_ENVIRONMENT"])
    env.filters.update(CONF["JINJA_FILTERS"])
    hostile = "<script>alert('ccas')</script> CCAS"
    rows = pd.DataFrame([("91377", hostile)] * 3, columns=["commune", "prescripteur"])
    site = {"territory": {"name": "T", "site_title": "S", "contact_email": "a@example.org"},
            "today": "2026-11-25", "venues": [],
            "pass_prescribers": prescribers_by_commune(rows, {"91377": "Massy"})}
    page = env.get_template("pass.html").render(site=site, title="Obtenir un pass numérique")
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;ccas&#39;)&lt;/script&gt; CCAS" in page


def test_the_demo_build_has_the_guided_path_the_sheets_and_the_pass_page(demo_site):
    home = (demo_site / "index.html").read_text(encoding="utf-8")
    for link in ('href="/trouver/demarches/"', 'href="/pass-numerique/"', 'href="/fiches/"'):
        assert link in home
    page = (demo_site / "trouver" / "demarches" / "91477" / "index.html").read_text(
        encoding="utf-8")
    assert page.count('class="guide-venue"') == 5
    assert "&lt;script&gt;alert(&#39;nom&#39;)&lt;/script&gt; Médiathèque" in page
    sheet = (demo_site / "fiches" / "91477" / "index.html").read_text(encoding="utf-8")
    slugs = re.findall(r'src="/lieux/([^/]+)/qr.svg"', sheet)
    assert len(slugs) == 8 and all((demo_site / "lieux" / s / "qr.svg").exists() for s in slugs)
    assert len(list((demo_site / "trouver").glob("*/*/index.html"))) <= len(NEEDS) * 15
    venue_page = (demo_site / "lieux" / "lieu-91477-01" / "index.html").read_text(encoding="utf-8")
    assert 'href="mailto:annuaire.inclusion@example.org?subject=Erreur' in venue_page
    assert "Identifiant%20%3A%20lieu-91477-01" in venue_page
    assert 'href="/pass-numerique/"' in venue_page
    pass_page = (demo_site / "pass-numerique" / "index.html").read_text(encoding="utf-8")
    assert "CCAS de Massy" in pass_page and "@" not in pass_page.split("<main")[1].split(
        "Questions")[0]
