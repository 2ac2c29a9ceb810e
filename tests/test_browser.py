"""Every page template in Debian's Chromium, driven by Playwright, checked by axe-core:
no WCAG 2.0/2.1 A or AA violation at 375 px and 1280 px, main content without JavaScript, no
request leaving the site, a light home page, no script from partner data. Screenshots of the
main pages are written to the git-ignored build/screenshots/ for review, or to the tracked
docs/screenshots/ when INCLUSION_SCREENSHOTS=docs (to refresh the README's pictures)."""

from __future__ import annotations

import os
import shutil
from urllib.parse import urlsplit

import pytest

from conftest import REPO
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


@pytest.fixture(scope="module")
def split_url(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        data_dir = tmp_path_factory.mktemp("browser-split") / "data"
        patch.setenv("INCLUSION_DATA", str(data_dir))
        patch.setenv("INCLUSION_LIST_LIMIT", "3")
        patch.setenv("INCLUSION_RESULTS_COMMUNE_LIMIT", "3")
        root = build_demo_site(data_dir)
    with serve(root) as url:
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
    context.close()
    context, page, *_ = open_page(browser, f"{split_url}/{path}", width, javascript=False)
    assert text in page.locator("main").inner_text()
    context.close()
