"""Issue 16 in Debian's Chromium: « Autour de moi » (geolocation granted and refused), the
distance order against a hand-computed haversine, « ouvert maintenant » at fixed clocks in
Europe/Paris, the filters' state in the address (reload, back button), the lists without
JavaScript, and axe-core on the sorted list at 375 and 1280 px. No network: the demo site
is served on 127.0.0.1 and the position is Playwright's."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import opening_hours
import pytest

from test_browser import CHROMIUM, WCAG, base_url, browser, save_screenshot  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")]
IGNY_TOWN_HALL = {"latitude": 48.7422, "longitude": 2.2261}
DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


def haversine(lat1, lon1, lat2, lon2):
    """Written out again here, not imported: the test checks the site's sums."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((phi2 - phi1) / 2) ** 2
         + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def told(metres):
    if metres < 1000:
        return f"à {max(10, round(metres / 10) * 10)} m"
    if metres < 10_000:
        return f"à {metres / 1000:.1f} km".replace(".", ",")
    return f"à {round(metres / 1000)} km"


def new_page(browser, width=1280, **context_options):  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": 900}, **context_options)
    page = context.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    return context, page, requests


def visible_cards(page):
    return page.locator(".venue-card:visible").evaluate_all(
        """cards => cards.map(c => ({nom: c.querySelector('h3').innerText,
            lat: c.dataset.lat ? Number(c.dataset.lat) : null,
            lon: c.dataset.lon ? Number(c.dataset.lon) : null,
            distance: (c.querySelector('.distance') || {}).innerText || null,
            maintenant: (c.querySelector('.tag-maintenant') || {}).innerText || null}))""")


def test_near_me_sorts_venues_by_distance_from_the_browser_position(browser, base_url):  # noqa: F811
    context, page, requests = new_page(browser, geolocation=IGNY_TOWN_HALL,
                                       permissions=["geolocation"])
    page.goto(f"{base_url}/lieux/")
    total = page.locator(".venue-card").count()
    page.click("#f-autour")
    page.wait_for_function("document.getElementById('f-resultat').innerText.includes('position')")
    cards = visible_cards(page)
    assert len(cards) == total
    placed = [c for c in cards if c["lat"] is not None]
    expected = sorted(placed, key=lambda c: haversine(48.7422, 2.2261, c["lat"], c["lon"]))
    assert [c["nom"] for c in placed] == [c["nom"] for c in expected]
    assert cards[:len(placed)] == placed  # the venue without coordinates comes last
    unplaced = cards[len(placed):]  # in their usual order, without a distance
    assert "Bus numérique" in [c["nom"] for c in unplaced]
    assert all(c["lat"] is None and c["distance"] is None for c in unplaced)
    for card in placed:
        assert card["distance"] == told(haversine(48.7422, 2.2261, card["lat"], card["lon"]))
    assert cards[0]["distance"] == told(min(haversine(48.7422, 2.2261, c["lat"], c["lon"])
                                            for c in placed))
    assert "de votre position" in page.locator("#f-resultat").inner_text()
    # Nothing left the browser: every request went to the site itself.
    assert {urlsplit(r).netloc for r in requests} == {urlsplit(base_url).netloc}
    assert "lat" not in page.url and "48.74" not in page.url
    # Choosing a commune sorts from its town hall instead.
    page.select_option("#f-commune", "91477")
    cards = visible_cards(page)
    placed = [c for c in cards if c["lat"] is not None]
    assert [c["nom"] for c in placed] == [c["nom"] for c in sorted(
        placed, key=lambda c: haversine(48.7144, 2.2458, c["lat"], c["lon"]))]
    assert parse_qs(urlsplit(page.url).query) == {"commune": ["91477"]}
    context.close()


def test_near_me_refused_gives_a_plain_message_and_keeps_the_list(browser, base_url):  # noqa: F811
    context, page, _requests = new_page(browser)  # no permission granted: the browser refuses
    page.goto(f"{base_url}/lieux/")
    total = page.locator(".venue-card:visible").count()
    page.click("#f-autour")
    page.wait_for_function("document.getElementById('f-position').innerText.includes('autoris')")
    assert "Choisissez votre commune ou tapez votre code postal" in page.locator(
        "#f-position").inner_text()
    assert page.locator(".venue-card:visible").count() == total
    assert page.locator(".distance").count() == 0
    # A postal code typed instead sorts from its commune's town hall, without filtering it out.
    page.fill("#f-texte", "91430")
    cards = visible_cards(page)
    placed = [c for c in cards if c["lat"] is not None]
    assert len(cards) == total and [c["nom"] for c in placed] == [c["nom"] for c in sorted(
        placed, key=lambda c: haversine(48.7422, 2.2261, c["lat"], c["lon"]))]
    context.close()


def test_workshops_sort_by_distance_within_each_day(browser, base_url):  # noqa: F811
    context, page, _requests = new_page(browser, geolocation=IGNY_TOWN_HALL,
                                        permissions=["geolocation"])
    page.goto(f"{base_url}/ateliers/")
    page.click("#a-autour")
    page.wait_for_function("document.getElementById('a-resultat').innerText.includes('position')")
    days = page.locator("section.day").evaluate_all(
        """days => days.map(d => [...d.querySelectorAll('article.session')].map(s => ({
            lat: s.dataset.lat ? Number(s.dataset.lat) : null,
            lon: s.dataset.lon ? Number(s.dataset.lon) : null,
            distance: (s.querySelector('.distance') || {}).innerText || null})))""")
    assert sum(map(len, days)) == page.locator("article.session").count()
    for sessions in days:
        placed = [s for s in sessions if s["lat"] is not None]
        metres = [haversine(48.7422, 2.2261, s["lat"], s["lon"]) for s in placed]
        assert metres == sorted(metres)
        assert [s["distance"] for s in placed] == [told(m) for m in metres]
    context.close()


def test_choosing_a_commune_sorts_each_day_s_workshops_from_its_town_hall(browser,  # noqa: F811
                                                                         base_url):
    """Without a position, « Près de quelle commune ? » sorts like « Autour de moi », from the
    commune's town hall (territory.toml), keeps the days in order and lives in the URL."""
    context, page, _requests = new_page(browser)
    page.goto(f"{base_url}/ateliers/")
    dates = page.locator("section.day h2").all_inner_texts()
    page.select_option("#a-pres", "91312")  # Igny
    assert "pres=91312" in page.url
    assert "depuis Igny" in page.locator("#a-resultat").inner_text()
    assert page.locator("section.day h2").all_inner_texts() == dates
    days = page.locator("section.day").evaluate_all(
        """days => days.map(d => [...d.querySelectorAll('article.session')].map(s => ({
            lat: s.dataset.lat ? Number(s.dataset.lat) : null,
            lon: s.dataset.lon ? Number(s.dataset.lon) : null,
            distance: (s.querySelector('.distance') || {}).innerText || null})))""")
    assert sum(map(len, days)) == page.locator("article.session").count()  # nothing hidden
    assert any(len(day) > 1 for day in days)
    for sessions in days:
        placed = [s for s in sessions if s["lat"] is not None]
        metres = [haversine(48.7422, 2.2261, s["lat"], s["lon"]) for s in placed]
        assert metres == sorted(metres)
        assert [s["distance"] for s in placed] == [told(m) for m in metres]
    page.select_option("#a-pres", "")
    page.go_back()  # the shared address restores the sort
    assert page.input_value("#a-pres") == "91312"
    assert page.locator("article.session .distance").count() > 0
    context.close()


def _hours_by_name(page, base_url):  # noqa: F811
    rows = json.loads(page.request.get(f"{base_url}/donnees/lieux.json").body())
    rows = rows["lieux"] if isinstance(rows, dict) and "lieux" in rows else rows
    return {row["nom"]: row.get("horaires") for row in rows}


def _expected(value: str, moment: datetime, holidays: set[str] = frozenset()) -> str:
    """What the badge must say, from opening_hours_py (holidays closed by hand: PH off)."""
    hours = opening_hours.OpeningHours(value)
    spans = [(a, b) for a, b, state, _c in hours.intervals(moment - timedelta(days=1),
                                                          moment + timedelta(days=8))
             if state == opening_hours.State.OPEN and a.date().isoformat() not in holidays]
    for start, end in spans:
        if start <= moment < end:
            clock = "minuit" if (end.hour, end.minute) == (0, 0) else \
                f"{end.hour} h" + (f" {end.minute:02d}" if end.minute else "")
            return f"Ouvert jusqu'à {clock}"
    start = min(a for a, _b in spans if a > moment)
    day = "aujourd'hui" if start.date() == moment.date() else DAYS[start.weekday()]
    return f"Ouvre {day} à {start.hour} h" + (f" {start.minute:02d}" if start.minute else "")


@pytest.mark.parametrize("moment", [datetime(2026, 11, 28, 10, 0),   # a Saturday, 10:00
                                    datetime(2026, 12, 1, 19, 0),    # a Tuesday, 19:00
                                    datetime(2026, 12, 25, 10, 0)])  # Christmas, a Friday
def test_open_now_at_a_fixed_paris_clock(browser, base_url, moment):  # noqa: F811
    context, page, _requests = new_page(browser, timezone_id="America/New_York")
    # The browser's own timezone is New York: the page must still tell Paris time.
    page.clock.set_fixed_time(f"{moment.isoformat()}+01:00")
    page.goto(f"{base_url}/lieux/")
    hours = _hours_by_name(page, base_url)
    holidays = {"2026-12-25"}
    cards = visible_cards(page)
    checked = 0
    for card in cards:
        value = hours[card["nom"]]
        try:
            opening_hours.OpeningHours(value)
        except (opening_hours.ParserError, TypeError):
            assert card["maintenant"] is None  # unreadable hours: no badge, no facet
            continue
        closed_on_holidays = "PH off" in value
        expected = _expected(value, moment, holidays if closed_on_holidays else set())
        assert card["maintenant"] == expected, card["nom"]
        checked += 1
    assert checked >= 15
    open_now = sum(1 for c in cards if (c["maintenant"] or "").startswith("Ouvert"))
    page.check("#f-maintenant")
    assert page.locator(".venue-card:visible").count() == open_now
    if moment.day == 25:  # the venue closed on public holidays is closed today
        assert page.locator(".venue-card", has_text="CCAS d'Igny").locator(
            ".tag-maintenant").inner_text() == "Ouvre samedi à 10 h"
    context.close()


def test_filter_state_lives_in_the_address(browser, base_url):  # noqa: F811
    context, page, _requests = new_page(browser)
    page.goto(f"{base_url}/lieux/")
    total = page.locator(".venue-card:visible").count()
    assert not page.locator("#f-plus").evaluate("d => d.open")
    page.click("#f-plus summary")
    page.check("#f-gratuit")
    page.check("#f-samedi")
    first = page.locator(".venue-card:visible").count()
    page.fill("#f-texte", "Médiathèque")
    shown = page.locator(".venue-card:visible").count()
    assert 0 < shown <= first < total
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"gratuit": ["oui"], "samedi": ["oui"], "texte": ["Médiathèque"]}
    assert page.locator("#f-resultat").get_attribute("aria-live") == "polite"
    assert page.locator("#f-resultat").inner_text().startswith(f"{shown} ")
    page.reload()
    assert page.locator("#f-plus").evaluate("d => d.open")  # opened for the criteria in use
    assert page.is_checked("#f-gratuit") and page.is_checked("#f-samedi")
    assert page.input_value("#f-texte") == "Médiathèque"
    assert page.locator(".venue-card:visible").count() == shown
    page.go_back()  # before the last checkbox: only « gratuit »
    page.wait_for_function("!document.getElementById('f-samedi').checked")
    assert page.is_checked("#f-gratuit")
    assert page.locator(".venue-card:visible").count() > first
    # Accents and case do not matter; postal codes, communes and address words are found.
    for words, expected in (("mediatheque", shown), ("PLACE DE LA FERME", 1), ("igny", 2)):
        page.goto(f"{base_url}/lieux/?texte={words}")
        assert page.locator(".venue-card:visible").count() >= (1 if expected else 0)
    page.goto(f"{base_url}/lieux/?texte=place%20de%20la%20ferme")
    assert [c["nom"] for c in visible_cards(page)] == ["Bus numérique"]
    context.close()


def test_lists_without_javascript(browser, base_url):  # noqa: F811
    context, page, _requests = new_page(browser, java_script_enabled=False)
    page.goto(f"{base_url}/lieux/")
    assert page.locator("#filtres-lieux").is_hidden()
    igny = page.locator("section[data-commune='91312']")
    assert "Bus numérique" in igny.inner_text() and "Lieu itinérant" in igny.inner_text()
    links = igny.locator(".neighbours a")
    assert links.count() == 3
    from pipeline.config import load_territory

    halls = {c.name: (c.latitude, c.longitude) for c in load_territory().communes}
    listed = page.locator("section.commune-group h2").all_inner_texts()
    nearest = sorted((n for n in listed if n != "Igny"),
                     key=lambda n: haversine(*halls["Igny"], *halls[n]))[:3]
    assert links.all_inner_texts() == nearest  # nearest first, from the town halls
    assert links.first.get_attribute("href").startswith("#commune-")
    page.goto(f"{base_url}/lieux/lieu-igny-bus/")
    main = page.locator("main").inner_text()
    assert "le mardi matin sur le marché" in main and "tels que transmis" in main
    assert "Lieu itinérant" in main
    page.goto(f"{base_url}/lieux/lieu-igny-ccas/")
    assert "Fermé les jours fériés." in page.locator("main").inner_text()
    context.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_sorted_list_with_badges_has_no_axe_violation(browser, base_url, width):  # noqa: F811
    from axe_playwright_python.sync_playwright import Axe

    context, page, _requests = new_page(browser, width=width, geolocation=IGNY_TOWN_HALL,
                                        permissions=["geolocation"])
    page.clock.set_fixed_time("2026-11-28T10:00:00+01:00")
    page.goto(f"{base_url}/lieux/")
    page.click("#f-autour")
    page.wait_for_function("document.getElementById('f-resultat').innerText.includes('position')")
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    assert [(v["id"], [n["target"] for n in v["nodes"]][:3])
            for v in results.response["violations"]] == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    save_screenshot(page, f"venues-near-{width}.png", width)
    context.close()
