"""Every page template in Debian's Chromium, driven by Playwright, checked by axe-core:
no WCAG 2.0/2.1 A or AA violation at 375 px and 1280 px, main content without JavaScript, no
request leaving the site, a light home page, no script from partner data. Screenshots of the
main pages are written to the git-ignored build/screenshots/ for review, or to the tracked
docs/screenshots/ when INCLUSION_SCREENSHOTS=docs (to refresh the README's pictures)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from conftest import REPO
from pages.page_plan import files_under
from site_fixture import build_demo_site, serve

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")]
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TEMPLATES = {  # template -> a page built from it, and text its main content must show
    "home": ("", "Les prochains ateliers"),
    "workshops": ("ateliers/", "séance"),
    "venues": ("lieux/", "Palaiseau"),
    "workshop": ("ateliers/ville-palaiseau-pal-x1/", "S'inscrire"),
    "poster": ("ateliers/ville-palaiseau-pal-x1/affiche/", "Inscription obligatoire"),
    "venue": ("lieux/lieu-91477-01/", "Horaires"),
    "results_index": ("resultats/", "Résultats 2026"),
    "results_year": ("resultats/2026/", "Ateliers numériques en 2026 : chaque commune"),
    "results_dataset": ("resultats/2026/ateliers/", "Participations en 2026, par commune"),
    "results_commune": ("resultats/2026/91477/", "Palaiseau"),
    "results_targets": ("resultats/objectifs/", "non mesurable avec les données reçues"),
    "results_origin": ("resultats/2026/ateliers/origine/", "Les fichiers utilisés"),
    "methodology": ("resultats/methodologie/", "Secret statistique"),
    "opendata": ("donnees/", "datapackage.json"),
    "phones": ("telephones/", "Emmaüs International"),
    "phone_poster": ("telephones/palaiseau-mairie/affiche/", "Déposez ici vos vieux téléphones"),
    "partners": ("partenaires/", "Colonnes du fichier"),
    "page": ("accessibilite/", "partiellement conforme"),
    "equip": ("s-equiper/", "169 euros"),
    "not_found": ("404.html", "Page introuvable"),
    "guide_needs": ("trouver/", "Apprendre à me servir de mon téléphone"),
    "guide_communes": ("trouver/demarches/", "Palaiseau"),
    "guide_results": ("trouver/demarches/91477/", "Prochains ateliers près de chez vous"),
    "sheets": ("fiches/", "une fiche A4 par commune"),
    "sheet": ("fiches/91477/telephone/", "Scannez le code QR"),
    "pass": ("pass-numerique/", "CCAS de Massy"),
}
SCREENSHOTS = ("home", "venues", "venue", "workshops", "results_year", "results_dataset",
               "guide_needs", "guide_results", "sheet", "pass", "phones")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def base_url(demo_site):
    """The session's demo site (conftest.demo_site, read-only) served on 127.0.0.1."""
    with serve(demo_site) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


def open_page(browser, url: str, width: int, javascript: bool = True, bypass_csp: bool = False):
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  java_script_enabled=javascript, bypass_csp=bypass_csp)
    page = context.new_page()
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    response = page.goto(url)
    page.wait_for_load_state("load")
    return context, page, requests, dialogs, response


def _screenshot_folder():
    """Tracked pictures change only when asked for, so a test run leaves the tree clean."""
    if os.environ.get("INCLUSION_SCREENSHOTS") == "docs":
        return REPO / "docs" / "screenshots"
    return REPO / "build" / "screenshots"


def save_screenshot(page, name: str, width: int) -> None:
    """The top of the page (at most 2,400 px) into the screenshot folder."""
    folder = _screenshot_folder()
    folder.mkdir(parents=True, exist_ok=True)
    height = min(page.evaluate("document.documentElement.scrollHeight"), 2400)
    page.screenshot(path=str(folder / name), full_page=True,
                    clip={"x": 0, "y": 0, "width": width, "height": height})


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("template", list(TEMPLATES))
def test_template_has_no_axe_violation_and_stays_on_the_site(browser, base_url, template, width):
    from axe_playwright_python.sync_playwright import Axe

    path, _text = TEMPLATES[template]
    context, page, requests, dialogs, _ = open_page(browser, f"{base_url}/{path}", width)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    violations = [(v["id"], [n["target"] for n in v["nodes"]][:3])
                  for v in results.response["violations"]]
    assert violations == []
    origin = urlsplit(base_url).netloc
    assert [r for r in requests if urlsplit(r).netloc not in (origin, "")] == []
    assert dialogs == []
    assert context.cookies() == []
    if template in SCREENSHOTS:
        save_screenshot(page, f"{template}-{width}.png", width)
    context.close()


@pytest.mark.parametrize("template", list(TEMPLATES))
def test_template_main_content_is_there_without_javascript(browser, base_url, template):
    path, text = TEMPLATES[template]
    context, page, _requests, _dialogs, _ = open_page(browser, f"{base_url}/{path}", 375,
                                                      javascript=False)
    main = page.locator("main").inner_text()
    assert text in main
    assert page.locator("h1").count() == 1
    context.close()


def test_venue_filters_work_with_javascript(browser, base_url):
    context, page, *_ = open_page(browser, f"{base_url}/lieux/", 1280)
    total = page.locator(".venue-card:visible").count()
    page.click("#f-plus summary")  # the less used criteria are folded away
    page.check("#f-pass")
    page.check("#f-samedi")
    shown = page.locator(".venue-card:visible").count()
    assert 0 < shown < total
    assert "correspond" in page.locator("#f-resultat").inner_text()
    page.fill("#f-texte", "aucun lieu ne porte ce nom")
    assert page.locator(".venue-card:visible").count() == 0
    context.close()


def test_workshop_filters_work_with_javascript(browser, base_url):
    context, page, *_ = open_page(browser, f"{base_url}/ateliers/", 1280)
    total = page.locator("article.session:visible").count()
    page.select_option("#a-commune", "91477")
    shown = page.locator("article.session:visible").count()
    assert 0 < shown < total
    assert all(c == "91477" for c in page.locator("article.session:visible").evaluate_all(
        "nodes => nodes.map(n => n.dataset.commune)"))
    context.close()


def test_home_page_is_light(browser, base_url):
    context, page, requests, _dialogs, _ = open_page(browser, f"{base_url}/", 375)
    total = sum(len(page.request.get(url).body()) for url in set(requests))
    assert 0 < total <= 50_000, f"home page weighs {total} bytes"  # issue 16: under 50 KB
    context.close()


def test_no_script_from_partner_data_runs(browser, base_url):
    for path in ("ateliers/", "lieux/lieu-hostile/", "lieux/"):
        context, page, _requests, dialogs, _ = open_page(browser, f"{base_url}/{path}", 1280)
        page.mouse.move(10, 10)
        page.hover("main")
        assert dialogs == []
        main = page.locator("main").inner_text()
        if path == "lieux/lieu-hostile/":
            assert "<script>alert('nom')</script> Médiathèque" in main
            assert "<img src=x onerror=alert(1)> 3 rue **gras**" in main
        context.close()


@pytest.mark.parametrize("template", list(TEMPLATES))
def test_template_reflows_at_320_px_and_at_200_percent_text(browser, base_url, template):
    """No horizontal scrolling of the page at 320 px (WCAG 1.4.10; wide tables scroll inside
    their own labelled region), nor when text is doubled on a 640 px screen (WCAG 1.4.4)."""
    path, text = TEMPLATES[template]
    for width, zoom in ((320, "100%"), (640, "200%")):
        # The test's own style tag is inline, which the site's CSP rightly forbids.
        context, page, *_ = open_page(browser, f"{base_url}/{path}", width, bypass_csp=True)
        page.add_style_tag(content=f"html {{ font-size: {zoom}; }}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{template} scrolls sideways by {overflow} px at {width} px, text {zoom}"
        assert text in page.locator("main").inner_text()
        context.close()


SPLIT_PAGES = {  # a region-sized site: lists split by commune (forced with a limit of 3)
    "communes (lieux)": ("lieux/", "Département 91"),
    "communes (ateliers)": ("ateliers/", "Département 91"),
    "venues (une commune)": ("lieux/commune/91477/", "Médiathèque George Sand"),
    "workshops (une commune)": ("ateliers/commune/91477/", "séance"),
    "pass (communes)": ("pass-numerique/", "Département 91"),
    "pass (une commune)": ("pass-numerique/commune/91477/", "France Services de Palaiseau"),
    # Results with more communes than INCLUSION_RESULTS_COMMUNE_LIMIT (forced to 3).
    "results_dataset (tableaux par département)": (
        "resultats/2026/ateliers/", "toutes les communes dans les tableaux par département"),
    "results_department": ("resultats/2026/ateliers/departement/91/", "Palaiseau"),
}

SPLIT_SCREENSHOTS = {"pass (une commune)": "pass_commune",
                     "results_department": "results_department"}


@pytest.fixture(scope="module")
def split_site(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        data_dir = tmp_path_factory.mktemp("browser-split") / "data"
        patch.setenv("INCLUSION_DATA", str(data_dir))
        patch.setenv("INCLUSION_LIST_LIMIT", "3")
        patch.setenv("INCLUSION_RESULTS_COMMUNE_LIMIT", "3")
        return build_demo_site(data_dir).resolve()


@pytest.fixture(scope="module")
def split_url(split_site):
    with serve(split_site) as url:
        yield url


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("name", list(SPLIT_PAGES))
def test_split_lists_have_no_axe_violation_and_work_without_javascript(browser, split_url, name,
                                                                       width):
    from axe_playwright_python.sync_playwright import Axe

    path, text = SPLIT_PAGES[name]
    context, page, requests, *_ = open_page(browser, f"{split_url}/{path}", width)
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    assert [v["id"] for v in results.response["violations"]] == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    origin = urlsplit(split_url).netloc
    assert [r for r in requests if urlsplit(r).netloc not in (origin, "")] == []
    if name in SPLIT_SCREENSHOTS:
        save_screenshot(page, f"{SPLIT_SCREENSHOTS[name]}-{width}.png", width)
    context.close()
    context, page, *_ = open_page(browser, f"{split_url}/{path}", width, javascript=False)
    assert text in page.locator("main").inner_text()
    context.close()


# The search over every venue of the split directory (pages/search_index.py, recherche.js).
SAID = "document.getElementById('r-statut').textContent"


def search_venues(page, text: str) -> list[str]:
    """Type a query on /lieux/; the names of the venues listed once the count is said."""
    page.fill("#r-texte", text)
    return shown_results(page, text)


def shown_results(page, text: str) -> list[str]:
    page.wait_for_function(f"q => {SAID}.includes('\\u00ab\\u00a0' + q + '\\u00a0\\u00bb')",
                           arg=text)
    return page.locator("#r-liste h3 a").all_inner_texts()


def directory(page, url: str) -> list[dict]:
    """The venues as the site publishes them (its open-data export)."""
    return page.request.get(f"{url}/donnees/lieux.json").json()["lieux"]


def test_split_search_finds_venues_of_the_whole_territory(browser, split_url):
    context, page, requests, dialogs, _ = open_page(browser, f"{split_url}/lieux/", 1280)
    venues = directory(page, split_url)
    queries = {  # query -> venues it must find, read from the published directory
        "Orsay": {v["nom"] for v in venues if v["commune"] == "Orsay"},
        "91430": {v["nom"] for v in venues if v["code_postal"] == "91430"},
        "médiathèque": {v["nom"] for v in venues if "Médiathèque" in v["nom"]},
    }
    for text, expected in queries.items():
        assert len(expected) >= 2, text
        found = search_venues(page, text)
        assert expected <= set(found), text
        assert len(found) <= 10 and page.locator("#r-plus").is_hidden()
        said = page.evaluate(SAID)
        assert said == f"{len(found)} lieux trouvés pour \u00ab\u00a0{text}\u00a0\u00bb."
        assert page.get_attribute("#r-statut", "aria-live") == "polite"
        assert all(href.startswith("/lieux/") for href in
                   page.locator("#r-liste h3 a").evaluate_all("a => a.map(x => x.getAttribute('href'))"))
    assert search_venues(page, "xqzw") == []
    assert page.evaluate(SAID).startswith("Aucun lieu trouvé pour")
    assert page.locator("#r-resultats").is_hidden()
    page.locator("#r-texte").fill("Palaiseau")
    shown_results(page, "Palaiseau")
    page.locator("#r-liste h3 a", has_text="George Sand").click()
    page.wait_for_url("**/lieux/lieu-91477-01/")
    origin = urlsplit(split_url).netloc
    assert [r for r in requests if urlsplit(r).netloc not in (origin, "")] == []
    assert any("/pagefind/" in r for r in requests)
    assert dialogs == [] and context.cookies() == []
    context.close()


def test_split_search_query_lives_in_the_address(browser, split_url):
    context, page, *_ = open_page(browser, f"{split_url}/lieux/?q=Palaiseau", 1280)
    assert "George Sand" in " ".join(shown_results(page, "Palaiseau"))  # restored on load
    assert page.input_value("#r-texte") == "Palaiseau"
    page.fill("#r-texte", "Igny")
    page.press("#r-texte", "Enter")
    assert "CCAS d'Igny" in shown_results(page, "Igny")
    assert page.url.endswith("/lieux/?q=Igny")
    page.go_back()
    assert "George Sand" in " ".join(shown_results(page, "Palaiseau"))
    assert page.url.endswith("/lieux/?q=Palaiseau") and page.input_value("#r-texte") == "Palaiseau"
    page.go_forward()
    assert "CCAS d'Igny" in shown_results(page, "Igny")
    context.close()


@pytest.mark.parametrize("width", [375, 1280])
def test_split_search_results_have_no_axe_violation(browser, split_url, width):
    from axe_playwright_python.sync_playwright import Axe

    context, page, *_ = open_page(browser, f"{split_url}/lieux/?q=m%C3%A9diath%C3%A8que", width)
    assert len(shown_results(page, "médiathèque")) >= 2
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    assert [v["id"] for v in results.response["violations"]] == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    save_screenshot(page, f"venues-search-{width}.png", width)
    context.close()


def test_split_search_is_hidden_without_javascript_and_the_communes_stay(browser, split_url):
    context, page, *_ = open_page(browser, f"{split_url}/lieux/", 375, javascript=False)
    assert page.locator("#recherche-lieux").is_hidden()
    page.click("a[href='/lieux/commune/91477/']")
    assert "Médiathèque George Sand" in page.locator("main").inner_text()
    context.close()


def test_split_search_says_so_when_its_index_cannot_be_loaded(browser, split_url):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.route("**/pagefind/**", lambda route: route.abort())
    page.goto(f"{split_url}/lieux/?q=Orsay")
    page.wait_for_function(f"{SAID}.includes('pas pu être chargée')")
    assert page.locator("#r-resultats").is_hidden()
    assert page.locator("a[href='/lieux/commune/91471/']").is_visible()
    context.close()


def test_a_commune_page_offers_the_whole_territory_when_its_filter_finds_nothing(browser,
                                                                                  split_url):
    context, page, *_ = open_page(browser, f"{split_url}/lieux/commune/91477/", 1280)
    assert page.locator("#f-ailleurs").is_hidden()
    page.fill("#f-texte", "Igny")
    offer = page.locator("#f-ailleurs a")
    assert offer.inner_text() == "Chercher \u00ab\u00a0Igny\u00a0\u00bb dans tout le territoire"
    offer.click()
    page.wait_for_url("**/lieux/?q=Igny")
    assert "CCAS d'Igny" in shown_results(page, "Igny")
    page.go_back()
    page.fill("#f-texte", "George")
    assert page.locator("#f-ailleurs").is_hidden()
    context.close()


def test_split_search_runs_on_the_main_thread_under_the_pages_csp(browser, split_url):
    """Pagefind falls back to the page's thread without Web Workers; WebAssembly there needs
    the 'wasm-unsafe-eval' that only /lieux/ of a split directory allows."""
    context, page, *_ = open_page(browser, f"{split_url}/lieux/", 1280)
    assert "'wasm-unsafe-eval'" in page.get_attribute(
        "meta[http-equiv='Content-Security-Policy']", "content")
    page.add_init_script("window.Worker = undefined;")
    page.reload()
    assert "CCAS d'Igny" in search_venues(page, "Igny")
    context.close()
    context, page, *_ = open_page(browser, f"{split_url}/lieux/commune/91477/", 1280)
    assert "wasm" not in page.get_attribute("meta[http-equiv='Content-Security-Policy']",
                                            "content")
    context.close()


def test_the_benchmark_measures_the_search_of_a_split_site(split_site):
    """``bench.search`` as ``make bench`` runs it on the national site, in its own process
    (its Playwright cannot run inside this module's)."""
    from bench import search

    run = subprocess.run([sys.executable, "-m", "bench.search", str(split_site)], cwd=REPO,
                         capture_output=True, text=True, check=True, timeout=300)
    result, end = json.JSONDecoder().raw_decode(run.stdout)
    assert result["index"]["files"] > 5 and result["index"]["bytes"] > 0
    pages = [f"{folder}/{name}" for folder in search.LIST_FOLDERS
             if (split_site / folder).is_dir() for name in files_under(split_site / folder)]
    assert result["largest_list_page"]["bytes"] == max(
        (split_site / f).stat().st_size for f in pages if f.endswith(".html"))
    browser = result["browser"]
    assert browser["measured"] and browser["requests_elsewhere"] == 0, browser
    assert browser["first_s"] > 0 and browser["second_s"] > 0
    assert browser["first_query_bytes"] > 0
    assert "Recherche dans Chromium : premier résultat en" in run.stdout[end:]
