"""Issue 16, items 4–7 in Debian's Chromium (marker ``browser``): the guided path walked with
plain links and no JavaScript, the referrers' sheet printed on A4 (Chromium's print
emulation and its PDF: every venue whole on one page, nothing wider than the paper, every QR
code drawn), the venue page's « Copier le lien » (with and without JavaScript) and its print
view. The axe-core checks of the new templates are in test_browser.TEMPLATES."""

from __future__ import annotations

import re

import pytest

from test_browser import CHROMIUM, base_url, browser, open_page, save_screenshot  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")]
# A4 at 96 px per inch, less the sheet's 15 mm margins (site.css, @page).
A4_WIDTH_PX = round((210 - 30) / 25.4 * 96)
A4_HEIGHT_PX = round((297 - 30) / 25.4 * 96)


def test_the_guided_path_is_plain_links_without_javascript(browser, base_url):  # noqa: F811
    context, page, requests, *_ = open_page(browser, f"{base_url}/", 375, javascript=False)
    page.get_by_role("link", name="Apprendre à me servir de mon téléphone").click()
    assert page.locator("h1").inner_text() == "Dans quelle commune habitez-vous ?"
    requests.clear()  # what the last page weighs
    page.get_by_role("link", name="Palaiseau", exact=True).click()
    assert page.url.endswith("/trouver/telephone/91477/")
    venues = page.locator("li.guide-venue")
    assert 1 <= venues.count() <= 5
    distances = [float(re.sub(r"[^\d,]", "", d).replace(",", ".")) * (1 if "km" in d else 0.001)
                 for d in page.locator("li.guide-venue .distance").all_inner_texts()
                 if d.startswith("À")]
    assert distances == sorted(distances)
    assert "Prise en main du smartphone" in page.locator("#ateliers-proches ~ ul").inner_text()
    size = sum(len(page.request.get(url).body()) for url in set(requests))
    assert size < 25_000, f"the venues of a need weigh {size} bytes"
    save_screenshot(page, "guide_results-nojs-375.png", 375)
    context.close()


def test_the_referral_sheet_prints_on_a4_with_nothing_cut(browser, base_url):  # noqa: F811
    context, page, *_ = open_page(browser, f"{base_url}/fiches/91477/", A4_WIDTH_PX)
    page.set_viewport_size({"width": A4_WIDTH_PX, "height": A4_HEIGHT_PX})
    page.emulate_media(media="print")
    assert page.locator("nav.main-nav").is_hidden()
    assert page.locator(".no-print").is_hidden()
    items = page.locator("li.guide-venue")
    assert items.count() == 8
    # Every QR code is drawn, and every venue fits inside the paper's width and on one page.
    assert page.locator("img.qr").evaluate_all(
        "imgs => imgs.map(i => i.complete && i.naturalWidth > 0)") == [True] * 8
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the sheet is {overflow} px wider than A4"
    for box in items.evaluate_all("els => els.map(e => e.getBoundingClientRect().toJSON())"):
        assert box["left"] >= 0 and box["right"] <= A4_WIDTH_PX
        assert box["height"] < A4_HEIGHT_PX  # « break-inside: avoid » can keep it whole
    pdf = page.pdf(format="A4", print_background=False)
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert 1 <= pages <= 2, f"the sheet prints on {pages} A4 pages"
    save_screenshot(page, "sheet-print.png", A4_WIDTH_PX)
    context.close()


def test_a_bin_poster_prints_on_one_a4_page_with_its_qr_code(browser, base_url):  # noqa: F811
    context, page, *_ = open_page(browser, f"{base_url}/telephones/palaiseau-mairie/affiche/",
                                  A4_WIDTH_PX)
    page.set_viewport_size({"width": A4_WIDTH_PX, "height": A4_HEIGHT_PX})
    page.emulate_media(media="print")
    assert page.locator("nav.main-nav").is_hidden() and page.locator(".no-print").is_hidden()
    assert page.locator("h1").inner_text() == "Déposez ici vos vieux téléphones"
    assert "91 rue de Paris" in page.locator(".poster-where").inner_text()
    assert page.locator(".poster img").evaluate("i => i.complete && i.naturalWidth > 0")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the poster is {overflow} px wider than A4"
    pdf = page.pdf(format="A4", print_background=False)
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages == 1, f"the poster prints on {pages} A4 pages"
    save_screenshot(page, "phone_poster-print.png", A4_WIDTH_PX)
    context.close()


def test_copy_the_link_with_javascript_and_read_it_without(browser, base_url):  # noqa: F811
    url = "https://numerique-pour-tous.example.org/lieux/lieu-91477-01/"
    context, page, *_ = open_page(browser, f"{base_url}/lieux/lieu-91477-01/", 375,
                                  javascript=False)
    assert page.locator("button.copy").is_hidden()
    assert page.locator("#adresse-page").inner_text() == url
    context.close()
    context = browser.new_context(viewport={"width": 375, "height": 900},
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(f"{base_url}/lieux/lieu-91477-01/")
    page.get_by_role("button", name="Copier le lien").click()
    page.wait_for_function("document.querySelector('.copy-status').innerText.length > 0")
    assert page.locator(".copy-status").inner_text() == "Lien copié."
    assert page.evaluate("navigator.clipboard.readText()") == url
    context.close()


def test_the_venue_page_prints_without_menus_and_with_its_address(browser, base_url):  # noqa: F811
    context, page, *_ = open_page(browser, f"{base_url}/lieux/lieu-91477-01/", A4_WIDTH_PX)
    page.emulate_media(media="print")
    assert page.locator("nav.main-nav").is_hidden()
    assert page.get_by_role("link", name="Envoyer par courriel").is_hidden()
    assert page.locator("#adresse-page").is_visible()
    assert page.get_by_role("link", name="Signaler une erreur").is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    context.close()
