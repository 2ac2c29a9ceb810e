"""The results pages read on a phone (issue 15, item 4), measured in Debian's Chromium at
375 px: every chart's text at 12 CSS px or more, every bar at least 8 px thick, no results page
taller than 6,000 px, and no axe-core violation on a dataset's page at 375 and 1280 px."""

from __future__ import annotations

import pytest

from test_browser import CHROMIUM, WCAG, base_url, browser, open_page  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")]
PHONE = 375
MAX_HEIGHT = 6000
MIN_FONT_PX = 12
MIN_BAR_PX = 8
# Every text node inside a chart, and the size the browser renders it at: its computed
# font-size, scaled by the SVG's own zoom when it is inside a scaled SVG (an old-style chart).
CHART_TEXT = """() => {
  const sizes = [];
  for (const chart of document.querySelectorAll('figure.bar-chart, svg.chart')) {
    const walker = document.createTreeWalker(chart, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode, element = node.parentElement;
      if (!node.textContent.trim() || element.closest('.visually-hidden')) continue;
      let size = parseFloat(getComputedStyle(element).fontSize);
      const svg = element.closest('svg');
      if (svg && svg.viewBox.baseVal && svg.viewBox.baseVal.width)
        size *= svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
      sizes.push([node.textContent.trim(), size]);
    }
  }
  return sizes;
}"""
BARS = """() => [...document.querySelectorAll('svg.bar rect, svg.chart rect')]
  .map(bar => bar.getBoundingClientRect()).map(box => Math.min(box.width, box.height) &&
  (box.width > box.height * 4 ? box.height : box.width))"""


def results_pages(site) -> list[str]:
    """Every page under /resultats/ of the built site: the index, each year, each year's
    datasets and communes, the methodology and its page per dataset."""
    return sorted(p.relative_to(site).parent.as_posix() + "/"
                  for p in site.glob("resultats/**/index.html"))


@pytest.fixture(scope="module")
def phone(browser, base_url):  # noqa: F811 (fixtures from test_browser)
    context, page, *_ = open_page(browser, f"{base_url}/resultats/", PHONE)
    yield page
    context.close()


def test_every_results_page_is_short_and_its_charts_readable_on_a_phone(phone, base_url,
                                                                          demo_site):
    pages = results_pages(demo_site)
    assert {"resultats/2026/", "resultats/2026/ateliers/", "resultats/2026/91477/",
            "resultats/methodologie/", "resultats/methodologie/pass/"} <= set(pages)
    too_tall, small_text, thin_bars, charted = [], [], [], 0
    for path in pages:
        phone.goto(f"{base_url}/{path}")
        height = phone.evaluate("document.documentElement.scrollHeight")
        if height > MAX_HEIGHT:
            too_tall.append((path, height))
        texts = phone.evaluate(CHART_TEXT)
        charted += bool(texts)
        small_text += [(path, text, size) for text, size in texts if size < MIN_FONT_PX]
        thin_bars += [(path, size) for size in phone.evaluate(BARS) if 0 < size < MIN_BAR_PX]
    assert too_tall == []
    assert small_text == []
    assert thin_bars == []
    # The index (years), and each year's four dataset pages (communes), draw charts.
    assert charted >= 1 + 4 * len({p.split("/")[1] for p in pages if p[10:14].isdigit()})


def test_bars_are_drawn_and_every_value_is_text(phone, base_url):
    phone.goto(f"{base_url}/resultats/2026/ateliers/")
    bars = phone.evaluate(BARS)
    assert bars and min(bars) >= MIN_BAR_PX
    chart = phone.locator("figure.bar-chart").first
    items = chart.locator("li").all_inner_texts()
    communes = phone.locator("#table-ateliers-communes tbody th").all_inner_texts()
    values = phone.locator("#table-ateliers-communes tbody td.participants").all_inner_texts()
    lines = [[line.strip() for line in item.splitlines() if line.strip()] for item in items]
    assert [(words[0], words[-1]) for words in lines] == list(zip(communes, values))
    widths = phone.evaluate("""() => [...document.querySelectorAll(
        'figure.bar-chart:first-of-type svg.bar rect')]
        .map(r => r.getBoundingClientRect().width)""")
    track = phone.evaluate("document.querySelector('svg.bar').getBoundingClientRect().width")
    assert max(widths) == pytest.approx(track, abs=1)  # the largest value fills its track


@pytest.mark.parametrize("width", [PHONE, 1280])
def test_dataset_pages_have_no_axe_violation(browser, base_url, width):  # noqa: F811
    from axe_playwright_python.sync_playwright import Axe

    paths = [f"resultats/2026/{dataset}/" for dataset in ("ateliers", "pass", "collecte", "lieux")]
    for path in paths + ["resultats/methodologie/ateliers/"]:
        context, page, *_ = open_page(browser, f"{base_url}/{path}", width)
        results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
        assert [(v["id"], [n["target"] for n in v["nodes"]][:3])
                for v in results.response["violations"]] == [], path
        context.close()


def test_dataset_pages_are_linked_from_the_year_page_and_in_the_sitemap(phone, base_url,
                                                                        demo_site):
    phone.goto(f"{base_url}/resultats/2026/")
    links = phone.evaluate("[...document.querySelectorAll('main a')].map(a => a.pathname)")
    sitemap = (demo_site / "sitemap.xml").read_text(encoding="utf-8")
    for dataset in ("ateliers", "pass", "collecte", "lieux"):
        assert f"/resultats/2026/{dataset}/" in links
        assert f"/resultats/2026/{dataset}/</loc>" in sitemap
