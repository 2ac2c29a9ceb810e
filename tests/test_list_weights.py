"""Long lists at national scale (issue 16, item 9: no list page over 500 KB with 30,000
venues). Above ``INCLUSION_LIST_LIMIT`` entries the pass numérique page keeps its explanation
and an index of communes, each commune on a page of its own; above
``INCLUSION_RESULTS_COMMUNE_LIMIT`` communes a results dataset page charts the communes with
the highest values and its table by commune is split into one page per département. Both
limits are forced down on the demo data here, and every organisation, venue and figure of the
one-page version must be on exactly one of the split pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import REFERENCE_RUN, _release_warehouse
from pages.page_plan import _results_departments
from pages.results_view import CHART_COMMUNES, leading_chart
from transforms.catalogue import DATASETS

ROW = re.compile(r'<tr data-commune="(\d+)">.*?</tr>', re.DOTALL)
PASS_LINK = re.compile(r'<a href="/pass-numerique/commune/(\w+)/">([^<]+)</a>')
VENUE = re.compile(r'<li><a href="/lieux/([^/"]+)/">([^<]+)</a>')


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict, dict]:
    """The demo site built with both limits at 3, and the site data and results it shows."""
    from pages.results_view import present
    from pages.site_data import build_site_data
    from pipeline.config import load_territory
    from pipeline.load import warehouse
    from site_fixture import build_demo_site
    from transforms.results import build_results

    data = tmp_path_factory.mktemp("split-site") / "data"
    data.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INCLUSION_DATA", str(data))
        patch.setenv("INCLUSION_LIST_LIMIT", "3")
        patch.setenv("INCLUSION_RESULTS_COMMUNE_LIMIT", "3")
        root = build_demo_site(data).resolve()
        territory = load_territory()
        with warehouse.snapshot():
            site = build_site_data(territory, REFERENCE_RUN)
            results = present(build_results(territory, REFERENCE_RUN), territory.name)
        _release_warehouse()
    return root, site, results


@pytest.fixture(scope="module")
def split_site(built) -> Path:
    return built[0]


def _read(root: Path, page: str) -> str:
    return (root / page).read_text(encoding="utf-8")


def _section(html: str, section_id: str) -> str:
    """The text of ``<section aria-labelledby="section_id">`` up to its end."""
    start = html.index(f'<section aria-labelledby="{section_id}">')
    return html[start:html.index("</section>", start)]


def test_pass_page_lists_each_commune_and_each_commune_page_its_own_entries(demo_site,
                                                                            split_site):
    whole = _read(demo_site, "pass-numerique/index.html")
    prescribers = dict(re.findall(r"<div><dt>([^<]+)</dt><dd>([^<]+)</dd></div>", whole))
    venues: dict[str, set] = {}
    for slug, name, commune in re.findall(r'<li><a href="/lieux/([^/"]+)/">([^<]+)</a>, ([^<]+)'
                                          r"</li>", _section(whole, "ou-utiliser")):
        venues.setdefault(commune, set()).add((slug, name))
    assert prescribers and venues  # the one-page version has both lists to compare with

    index = _read(split_site, "pass-numerique/index.html")
    main = index[index.index("<main"):index.index("</main>")]
    assert "Pour qui ?" in main and "/lieux/" not in main and "<dd>" not in main
    linked = dict((name, code) for code, name in PASS_LINK.findall(index))
    assert set(linked) == set(prescribers) | set(venues)
    pages = sorted(p.parent.name for p in split_site.glob("pass-numerique/commune/*/index.html"))
    assert pages == sorted(linked.values())
    for name, code in linked.items():
        page = _read(split_site, f"pass-numerique/commune/{code}/index.html")
        assert f"<h1>Obtenir un pass numérique à {name}</h1>" in page
        listed = re.findall(r"<li>([^<]+)</li>", _section(page, "ou-obtenir"))
        assert ", ".join(listed) == prescribers.get(name, ""), name
        assert set(VENUE.findall(_section(page, "ou-utiliser"))) == venues.get(name, set()), name


def test_results_tables_are_split_by_departement_with_every_row_once(demo_site, split_site):
    datasets = sorted(p.parent.parent.name
                      for p in demo_site.glob("resultats/2026/*/origine/index.html"))
    assert len(datasets) == 4
    for dataset in datasets:
        folder = f"resultats/2026/{dataset}"
        whole = [m.group(0) for m in ROW.finditer(_read(demo_site, f"{folder}/index.html"))]
        assert len(whole) > 3
        page = _read(split_site, f"{folder}/index.html")
        assert ROW.search(page) is None  # the table by commune is no longer on this page
        assert "toutes les communes dans les tableaux par département" in page
        assert page.count('<li><span class="bar-label">') <= CHART_COMMUNES
        links = re.findall(rf'<a href="/{folder}/departement/(\w+)/">', page)
        assert links == ["91"]  # the demo territory is in one département
        split_rows = []
        for code in links:
            part = _read(split_site, f"{folder}/departement/{code}/index.html")
            assert f"département {code}</caption>" in part and "<tfoot>" not in part
            split_rows += [m.group(0) for m in ROW.finditer(part)]
        assert split_rows == whole  # the same rows, byte for byte, in the same order
    commune = _read(split_site, "resultats/2026/91477/index.html")
    assert 'href="/resultats/2026/ateliers/departement/91/"' in commune


def test_results_rows_are_grouped_by_departement_only_above_the_limit(monkeypatch):
    codes = ["01004", "2A004", "01001", "97105", "2B033", "97411"]
    result = {"sections": [{"rows": [{"commune": code} for code in codes]}]}
    monkeypatch.setenv("INCLUSION_RESULTS_COMMUNE_LIMIT", "6")
    assert _results_departments(result) == {}
    monkeypatch.setenv("INCLUSION_RESULTS_COMMUNE_LIMIT", "5")
    assert _results_departments(result) == {"01": [0, 2], "2A": [1], "2B": [4], "971": [3],
                                            "974": [5]}


def test_leading_chart_shows_the_highest_published_values_first():
    headline = DATASETS["ateliers"].headline
    rows = [{"nom_commune": f"Commune {n:02}", "published": {headline: None if n % 7 == 0 else n},
             "display": {headline: "secret" if n % 7 == 0 else str(n)}} for n in range(40)]
    chart = leading_chart({"dataset": "ateliers", "rows": rows}, 2026)
    shown = [bar["label"] for bar in chart["bars"]]
    expected = [f"Commune {n:02}" for n in range(39, -1, -1) if n % 7][:CHART_COMMUNES]
    assert shown == expected and chart["bars"][0]["percent"] == 100.0
    assert f"les {CHART_COMMUNES} communes aux valeurs les plus élevées" in chart["title"]
    assert chart["title"].endswith("toutes les communes dans les tableaux par département")


# --- national scale ---------------------------------------------------------------------------

NATIONAL_COMMUNES, DEPARTMENTS, NATIONAL_VENUES = 1000, 20, 30_000
MAX_BYTES = 500_000


def _national(site: dict, results: dict) -> tuple[dict, dict]:
    """The demo data stretched to the benchmark's size (``demo.national_data``): 1,000
    communes in 20 départements, 30,000 venues all accepting the pass, four prescribers per
    commune, and every results table with 1,000 commune rows (copies of the demo's rows)."""
    codes = [f"{10 + n % DEPARTMENTS:02}{n // DEPARTMENTS + 1:03}" for n in range(NATIONAL_COMMUNES)]
    names = {code: f"Saint-Exemple-{code}-sur-Loire" for code in codes}
    model = site["venues"][0]
    venues = [{**model, "slug": f"lieu-{n:05}", "nom": f"Médiathèque intercommunale n° {n}",
               "commune": codes[n % len(codes)], "nom_commune": names[codes[n % len(codes)]],
               "accepte_pass": True} for n in range(NATIONAL_VENUES)]
    prescribers = [{"commune": code, "nom_commune": names[code], "prescripteurs": [
        f"{kind} de {names[code]}" for kind in ("CCAS", "France Services", "Mission locale",
                                                "Centre social")]} for code in codes]
    points = [{"commune": code, "nom_commune": names[code], "codes_postaux": [],
               "latitude": 44 + n / 400, "longitude": 1 + (n % 37) / 10}
              for n, code in enumerate(codes)]
    big_site = {**site, "venues": venues, "pass_prescribers": prescribers,
                "venue_communes": points}
    big_results = {**results, "by_year": {}}
    for year, result in results["by_year"].items():
        sections = [{**table, "rows": [{**table["rows"][n % len(table["rows"])], "commune": code,
                                        "nom_commune": names[code]}
                                       for n, code in enumerate(codes)]}
                    for table in result["sections"]]
        big_results["by_year"][year] = {**result, "sections": sections}
    return big_site, big_results


def test_no_list_page_weighs_more_than_500_kb_at_national_scale(built):
    """Issue 16, item 9, with the default limits: the pass pages and the results dataset
    pages rendered (plain Jinja2, as the benchmark's floor) from national-sized data."""
    from bench.floors import _jinja_environment
    from pages.page_plan import Page, asset_urls, fingerprinted_assets, results_plan, site_plan
    from pipeline.settings import REPO_ROOT

    site, results = _national(built[1], built[2])
    env = _jinja_environment()
    assets = fingerprinted_assets(REPO_ROOT / "site" / "theme")
    shared = {"site": site, "results": results, "asset": asset_urls(assets)}
    templates = {"pass", "pass_commune", "results_dataset", "results_department"}
    sizes: dict[str, list[int]] = {}
    for item in [*site_plan(site, assets), *results_plan(results)]:
        if isinstance(item, Page) and item.template in templates:
            html = env.get_template(f"{item.template}.html").render(
                **shared, page_name=item.page_name, breadcrumb=item.breadcrumb, **item.context)
            sizes.setdefault(item.template, []).append(len(html.encode("utf-8")))
    assert len(sizes["pass"]) == 1 and len(sizes["pass_commune"]) == NATIONAL_COMMUNES
    years, datasets = len(results["years"]), len(results["datasets"])
    assert len(sizes["results_dataset"]) == years * datasets
    assert len(sizes["results_department"]) == years * datasets * DEPARTMENTS
    assert {template: max(found) for template, found in sizes.items()
            if max(found) > MAX_BYTES} == {}
    # 25 bars and a link per département rather than 1,000 rows (480 KB here, 710 KB with the
    # benchmark's data): the dataset page no longer grows with the number of communes.
    assert max(sizes["results_dataset"]) < MAX_BYTES / 10
