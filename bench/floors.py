"""Ratios for the national benchmark, measured in one run on the same data, so they hold on a
noisy machine:

- Great Expectations vs the same suite rules written in plain pandas (the same failing cells
  are required of both, so the floor cannot cheat);
- the whole-site Pelican build vs rendering the same plan (``pages.page_plan``) with plain
  Jinja2 and the same templates: the floor for a Python generator;
- for the venue pages, Hugo (Debian package ``hugo``) vs plain Jinja2, when Hugo is installed;
- the load into SQLite vs a raw ``executemany`` of the same rows (``bench.load_floor``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd

from bench import thousands as _n
from pipeline.config import REPO_ROOT


# --- Great Expectations vs plain pandas ----------------------------------------------------------

def _resolve(value: object, parameters: dict) -> object:
    if isinstance(value, dict) and "$PARAMETER" in value:
        return parameters[value["$PARAMETER"]]
    return value


def pandas_findings(frame: pd.DataFrame, suite: dict, parameters: dict) -> set[tuple]:
    """The (rule, column, file, line) cells the suite's expectations flag on a batch frame
    (``pipeline.check.validation.batch_frame``), in plain pandas."""
    from pipeline.check.suites import FILE_COLUMN
    from pipeline.check.validation import LINE_COLUMN

    found: set[tuple] = set()
    for expectation in suite["expectations"]:
        kind, kwargs, meta = expectation["type"], expectation["kwargs"], expectation["meta"]
        rule = (meta.get("regle", ""), meta.get("colonne", ""))
        rows = frame.query(kwargs["row_condition"], engine="python") \
            if "row_condition" in kwargs else frame
        if kind == "expect_column_pair_values_a_to_be_greater_than_b":
            a, b = rows[kwargs["column_A"]], rows[kwargs["column_B"]]
            both = a.notna() & b.notna()
            bad = both & ~((a >= b) if kwargs.get("or_equal") else (a > b))
        elif kind == "expect_compound_columns_to_be_unique":
            keys = rows[kwargs["column_list"]]
            complete = keys.notna().all(axis=1)  # ignore_row_if: any_value_is_missing
            bad = pd.Series(False, index=rows.index)
            bad[complete] = keys[complete].duplicated(keep=False)
        else:
            column = rows[kwargs["column"]]
            if kind == "expect_column_values_to_not_be_null":
                bad = column.isna()
            else:
                filled = column.notna()
                if kind == "expect_column_values_to_be_in_set":
                    ok = column.isin(_resolve(kwargs["value_set"], parameters))
                elif kind == "expect_column_values_to_be_between":
                    ok = pd.Series(True, index=column.index)
                    if kwargs.get("min_value") is not None:
                        ok &= column >= kwargs["min_value"]
                    if kwargs.get("max_value") is not None:
                        ok &= column <= kwargs["max_value"]
                elif kind == "expect_column_values_to_match_regex":
                    ok = column.astype(str).str.contains(kwargs["regex"], regex=True)
                elif kind == "expect_column_value_lengths_to_be_between":
                    lengths = column.astype(str).str.len()
                    ok = pd.Series(True, index=column.index)
                    if kwargs.get("min_value") is not None:
                        ok &= lengths >= kwargs["min_value"]
                    if kwargs.get("max_value") is not None:
                        ok &= lengths <= kwargs["max_value"]
                else:
                    raise ValueError(f"expectation non traduite en pandas : {kind}")
                bad = filled & ~ok.fillna(False).astype(bool)
        flagged = rows.loc[bad, [FILE_COLUMN, LINE_COLUMN]]
        found |= {(*rule, int(number), int(line))
                  for number, line in zip(flagged[FILE_COLUMN], flagged[LINE_COLUMN])}
    return found


def plain_pandas_batch(dataset: str, submissions: list) -> set[tuple]:
    """The floor: the same batch frame, the same rules, in plain pandas."""
    from pipeline.check.suites import load_suite
    from pipeline.check.validation import batch_frame, suite_parameters

    return pandas_findings(batch_frame(dataset, submissions), load_suite(dataset),
                           suite_parameters(submissions))


def gx_batch(dataset: str, submissions: list) -> set[tuple]:
    from pipeline.check.validation import run_suite_on_batch

    return {(p.rule, p.column, number, p.line)
            for number, problems in enumerate(run_suite_on_batch(dataset, submissions))
            for p in problems}


def _first_batches(data: Path, territory) -> dict[str, list[tuple[Path, object]]]:
    """Each dataset's first batch of accepted files, as the pipeline plans batches."""
    from pipeline.receive.filing import detect_dataset
    from pipeline.receive.inbox import Candidate, plan_batches

    archived = [Candidate(partner.id, str(path), path.stat().st_size)
                for partner in territory.partners
                for path in sorted((data / "archive" / partner.id).glob("*")) if path.is_file()]
    first: dict[str, list[tuple[Path, object]]] = {}
    for batch in plan_batches(archived, territory):
        files = [(Path(c["path"]), territory.partner(c["partner"])) for c in batch["fichiers"]]
        dataset, _refusal = detect_dataset(files[0][1], files[0][0])
        if dataset and dataset not in first:
            first[dataset] = files
    return first


def validation_ratio(data: Path, repeats: int = 3) -> dict:
    """GX vs the plain-pandas floor on each dataset's first batch. Each side runs ``repeats``
    times, one after the other, and its fastest time counts: on a shared machine a single run
    moved the ratio between 1.1 and 2.0 for the same code (the same on both sides)."""
    from pipeline.check.validation import Submission, _validation_definition
    from pipeline.config import load_territory
    from pipeline.contracts.datasets import CONTRACTS
    from pipeline.read.reading import read_partner_file

    territory = load_territory()
    by_name = territory.insee_by_name
    gx_seconds = pandas_seconds = 0.0
    rows = files = 0
    batches = _first_batches(data, territory)
    for dataset, batch in batches.items():
        _validation_definition(dataset)  # GX's import and context: paid once per process
        submissions = [Submission(read_partner_file(path, CONTRACTS[dataset], by_name).frame,
                                  partner.id, territory.partner_communes(partner))
                       for path, partner in batch]
        fastest = {"gx": float("inf"), "pandas": float("inf")}
        for _ in range(repeats):
            started = time.perf_counter()
            gx = gx_batch(dataset, submissions)
            fastest["gx"] = min(fastest["gx"], time.perf_counter() - started)
            started = time.perf_counter()
            plain = plain_pandas_batch(dataset, submissions)
            fastest["pandas"] = min(fastest["pandas"], time.perf_counter() - started)
        gx_seconds += fastest["gx"]
        pandas_seconds += fastest["pandas"]
        if gx != plain:
            raise AssertionError(f"{dataset} : GX et pandas ne relèvent pas les mêmes cases")
        rows += sum(len(s.frame) for s in submissions)
        files += len(submissions)
    return {"label": "Great Expectations / pandas seul (mêmes règles, mêmes lots de fichiers)",
            "ratio": gx_seconds / pandas_seconds,
            "detail": f"{files} fichiers en {len(batches)} lots, {_n(rows)} lignes : "
                      f"GX {gx_seconds:.2f} s, pandas {pandas_seconds:.2f} s "
                      f"(meilleur de {repeats} passages de chaque côté)",
            "gx_s": round(gx_seconds, 3), "pandas_s": round(pandas_seconds, 3),
            "files": files, "rows": rows}


# --- Pelican vs plain Jinja2 (and Hugo) ---------------------------------------------------------

def _jinja_environment():
    import runpy

    from jinja2 import Environment, FileSystemLoader

    from pages.template_lookup import look_up_dict_items_first

    settings = runpy.run_path(str(REPO_ROOT / "pelican.conf.py"))
    env = Environment(loader=FileSystemLoader(str(REPO_ROOT / "site" / "theme" / "templates")),
                      **settings["JINJA_ENVIRONMENT"])
    env.filters.update(settings["JINJA_FILTERS"])
    # The same lookup as the site's plugins (pages.page_plan.write_plan): the floor is the same
    # template work without Pelican, not a slower engine.
    look_up_dict_items_first(env)
    return env


def render_with_jinja(site_data: dict, results: dict, output: Path,
                      only_template: str | None = None) -> int:
    """The same plan as the Pelican plugins, rendered with plain Jinja2; returns pages."""
    from pages.page_plan import (Page, asset_urls, files_under, fingerprinted_assets,
                                 results_plan, site_plan, sitemap, venues_split, write_file)
    from pages.plan_split import write_items
    from pages.qr_drawing import QrDrawer
    from pages.search_index import build_index

    env = _jinja_environment()
    assets = fingerprinted_assets(REPO_ROOT / "site" / "theme")
    shared = {"site": site_data, "results": results, "asset": asset_urls(assets)}
    pages = 0

    def count(item) -> None:
        nonlocal pages
        pages += isinstance(item, Page) and only_template in (None, item.template)

    def render(item) -> None:
        if isinstance(item, Page):
            if only_template and item.template != only_template:
                return
            html = env.get_template(f"{item.template}.html").render(
                **shared, page_name=item.page_name, breadcrumb=item.breadcrumb, **item.context)
            target = output / item.save_as
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(html, encoding="utf-8")
        elif not only_template:
            write_file(output, item, drawer)

    # QR codes drawn beside the pages, and the plan shared by two processes past its first
    # items, as the plugins do (pages.plan_split): the floor differs only by Pelican.
    drawer = QrDrawer()
    write_items([*site_plan(site_data, assets), *results_plan(results)], render, drawer,
                each=count)
    if not only_template:
        shutil.copytree(REPO_ROOT / "site" / "theme" / "static", output / "theme",
                        dirs_exist_ok=True)  # as Pelican copies the theme's static files
        if venues_split(site_data):  # the same search index as the plugin, on both sides
            build_index(output, list(files_under(output)))
        (output / "sitemap.xml").write_bytes(
            sitemap(output, site_data["territory"].get("site_url", "")))
    return pages


def site_ratios(folder: Path) -> dict:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from pages.data_package import add_open_data
    from pages.results_view import present
    from pages.site_data import build_site_data
    from pipeline.config import load_territory
    from pipeline.load import warehouse
    from publish.site import RESULTS_KEY, render_site
    from transforms.results import build_results

    territory = load_territory()
    now = datetime.now(ZoneInfo(territory.timezone))
    with warehouse.snapshot():
        site_data = build_site_data(territory, now)
        results = add_open_data(present(build_results(territory, now), territory.name),
                                site_data, now)
    out = {}
    timings = {}
    for name, build in (
            ("pelican", lambda target: render_site({**site_data, RESULTS_KEY: results}, target)),
            ("jinja2", lambda target: render_with_jinja(site_data, results, target))):
        target = folder / name
        shutil.rmtree(target, ignore_errors=True)
        started = time.perf_counter()
        build(target)
        timings[name] = time.perf_counter() - started
    pelican_pages = _same_output(folder / "pelican", folder / "jinja2")
    jinja_pages = sum(1 for _ in (folder / "jinja2").rglob("*.html"))
    out["pelican_vs_jinja2"] = {
        "label": "Pelican (site entier) / Jinja2 seul (mêmes pages, mêmes modèles)",
        "ratio": timings["pelican"] / timings["jinja2"],
        "detail": f"{_n(pelican_pages)} pages Pelican (dont 3 en Markdown), {_n(jinja_pages)} "
                  f"Jinja2 : {timings['pelican']:.1f} s contre {timings['jinja2']:.1f} s",
        "pelican_s": round(timings["pelican"], 2), "jinja2_s": round(timings["jinja2"], 2),
        "pages": pelican_pages}
    hugo = hugo_ratio(site_data, results, folder)
    if hugo:
        out["hugo_vs_jinja2"] = hugo
    return out


MARKDOWN_PAGES = {"accessibilite/index.html", "mentions-legales/index.html",
                  "s-equiper/index.html"}


def _same_output(pelican: Path, jinja: Path) -> int:
    """The floor wrote the same files with the same bytes (Pelican's Markdown pages aside);
    returns Pelican's page count."""
    def files(root: Path) -> set[str]:
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}

    made, floor = files(pelican), files(jinja)
    if made - floor != MARKDOWN_PAGES or floor - made:
        raise AssertionError(f"sorties différentes : {sorted((made ^ floor) - MARKDOWN_PAGES)[:5]}")
    # The sitemap lists the Markdown pages; the search index (the same Pagefind run on both
    # sides) names its files by their content, so the same names are the same index.
    different = [name for name in sorted(floor - {"sitemap.xml"})
                 if not name.startswith("pagefind/")
                 and (pelican / name).read_bytes() != (jinja / name).read_bytes()]
    if different:
        raise AssertionError(f"pages différentes entre Pelican et Jinja2 : {different[:5]}")
    return sum(1 for name in made if name.endswith(".html"))


HUGO_LAYOUT = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ .Title }} — {{ .Site.Params.site_title }}</title>
<link rel="stylesheet" href="/theme/css/site.css"></head><body>
<a class="skip-link" href="#contenu">Aller au contenu</a>
<header class="site-header"><div class="wrap"><p class="brand"><a href="/">{{ .Site.Params.site_title }}</a></p>
<nav aria-label="Menu principal" class="main-nav"><ul><li><a href="/">Accueil</a></li><li><a href="/ateliers/">Ateliers</a></li>
<li><a href="/lieux/" aria-current="page">Lieux d'aide</a></li><li><a href="/resultats/">Résultats</a></li><li><a href="/partenaires/">Partenaires</a></li></ul></nav></div></header>
<nav aria-label="Fil d'Ariane" class="breadcrumb wrap"><ol><li><a href="/">Accueil</a></li><li><a href="/lieux/">Lieux d'aide</a></li><li aria-current="page">{{ .Title }}</li></ol></nav>
<main id="contenu" class="wrap" tabindex="-1">{{ $v := .Params.v }}
<h1>{{ $v.nom }}</h1>{{ with $v.presentation }}<p class="lead">{{ . }}</p>{{ end }}
<div class="venue-layout"><section aria-labelledby="adresse"><h2 id="adresse">Adresse et contact</h2>
<p>{{ $v.adresse }}<br>{{ $v.code_postal }} {{ $v.nom_commune }}</p>
{{ with $v.osm }}<p><a href="{{ . }}" rel="noopener">Voir l'emplacement sur OpenStreetMap</a></p>{{ end }}
<ul class="contact">{{ with $v.telephone }}<li>Téléphone : <a href="tel:{{ $v.telephone_lien }}">{{ . }}</a></li>{{ end }}
{{ range $v.courriels }}<li>Courriel : <a href="mailto:{{ . }}">{{ . }}</a></li>{{ end }}
{{ range $v.sites }}<li>Site web : <a href="{{ . }}" rel="noopener">{{ . }}</a></li>{{ end }}</ul></section>
<section aria-labelledby="horaires"><h2 id="horaires">Horaires</h2>
{{ with $v.horaires }}<ul>{{ range . }}<li>{{ . }}</li>{{ end }}</ul>{{ else }}<p>Horaires non communiqués : contactez le lieu.</p>{{ end }}</section></div>
<section aria-labelledby="services"><h2 id="services">Ce que vous pouvez y faire</h2>
{{ with $v.services }}<ul>{{ range . }}<li>{{ . }}</li>{{ end }}</ul>{{ else }}<p>Non renseigné.</p>{{ end }}
<dl class="facts"><div><dt>Publics</dt><dd>{{ with $v.publics }}{{ delimit . ", " }}{{ else }}Tout public{{ end }}</dd></div>
<div><dt>Accompagnement adapté</dt><dd>{{ with $v.prise_en_charge }}{{ delimit . ", " }}{{ else }}Non renseigné{{ end }}</dd></div>
<div><dt>Tarif</dt><dd>{{ with $v.frais }}{{ delimit . ", " }}{{ else }}Non renseigné{{ end }}</dd></div>
<div><dt>Pass numérique</dt><dd>{{ if $v.accepte_pass }}Accepté{{ else }}Non renseigné{{ end }}</dd></div>
<div><dt>Comment venir</dt><dd>{{ with $v.modalites_acces }}{{ delimit . ", " }}{{ else }}Non renseigné{{ end }}</dd></div>
<div><dt>Accompagnement</dt><dd>{{ with $v.accompagnement }}{{ delimit . ", " }}{{ else }}Non renseigné{{ end }}</dd></div></dl></section>
<section aria-labelledby="ateliers-lieu"><h2 id="ateliers-lieu">Prochains ateliers dans ce lieu</h2>
{{ with $v.ateliers }}<div class="sessions">{{ range . }}<article class="session"><h3><a href="/ateliers/{{ .slug }}/">{{ .thematique }}</a></h3>
<p>{{ .date }} à {{ .heure }}, {{ .lieu }} ({{ .nom_commune }}). Public : {{ .public }}. {{ .places_restantes }} places sur {{ .places }}.</p></article>{{ end }}</div>
{{ else }}<p>Aucun atelier programmé ici pour le moment. <a href="/ateliers/">Voir tous les ateliers</a>.</p>{{ end }}</section>
<p class="muted">Fiche mise à jour le {{ $v.date_maj }}.</p></main>
<footer class="site-footer"><div class="wrap"><p>{{ .Site.Params.name }}</p></div></footer></body></html>
"""


def hugo_ratio(site_data: dict, results: dict, folder: Path) -> dict | None:
    """Hugo rendering the venue pages from front matter, vs plain Jinja2 on the same pages."""
    hugo = shutil.which("hugo")
    if not hugo:
        return None
    source = folder / "hugo-source"
    shutil.rmtree(source, ignore_errors=True)
    (source / "layouts" / "_default").mkdir(parents=True)
    (source / "layouts" / "_default" / "single.html").write_text(HUGO_LAYOUT, encoding="utf-8")
    (source / "layouts" / "_default" / "list.html").write_text("", encoding="utf-8")
    territory = site_data["territory"]
    (source / "config.json").write_text(json.dumps({
        "baseURL": territory["site_url"] + "/", "disableKinds": ["taxonomy", "term", "RSS",
                                                                  "sitemap", "robotsTXT", "404"],
        "uglyURLs": False, "params": {"site_title": territory["site_title"],
                                     "name": territory["name"]}}), encoding="utf-8")
    content = source / "content" / "lieux"
    content.mkdir(parents=True)
    for venue in site_data["venues"]:  # JSON front matter: what a data-driven Hugo site reads
        (content / f"{venue['slug']}.md").write_text(
            json.dumps({"title": venue["nom"], "slug": venue["slug"], "v": venue},
                       ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    version = subprocess.run([hugo, "version"], capture_output=True, text=True).stdout.strip()
    target = folder / "hugo-public"
    shutil.rmtree(target, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run([hugo, "--quiet", "-s", str(source), "-d", str(target)], check=True)
    hugo_seconds = time.perf_counter() - started
    jinja_target = folder / "jinja2-venues"
    shutil.rmtree(jinja_target, ignore_errors=True)
    started = time.perf_counter()
    pages = render_with_jinja(site_data, results, jinja_target, only_template="venue")
    jinja_seconds = time.perf_counter() - started
    hugo_pages = sum(1 for _ in (target / "lieux").rglob("index.html"))
    return {"label": "Hugo / Jinja2 seul (pages des lieux)", "ratio": hugo_seconds / jinja_seconds,
            "detail": f"{_n(hugo_pages)} pages Hugo, {_n(pages)} Jinja2 : {hugo_seconds:.1f} s "
                      f"contre {jinja_seconds:.1f} s ; {' '.join(version.split(' ')[:2])}",
            "hugo_s": round(hugo_seconds, 2), "jinja2_s": round(jinja_seconds, 2),
            "pages": hugo_pages}


# At national scale, one accepted file in LOAD_EVERY goes through the load again (about 100
# files, 500,000 rows): enough for a steady rate, without a second full ingest.
LOAD_EVERY = 5


def measure_all(data: Path, folder: Path) -> dict:
    from bench import load_floor, read_floor

    folder.mkdir(parents=True, exist_ok=True)
    ratios = {"gx_vs_pandas": validation_ratio(data)}
    ratios.update(site_ratios(folder))
    files = load_floor.archived_files(data)
    ratios["load_vs_executemany"] = load_floor.load_ratio(
        files[::LOAD_EVERY] if len(files) >= 10 * LOAD_EVERY else files, folder / "chargement",
        data / "territory.toml")
    ratios["read_vs_columnar"] = read_floor.read_ratio(files, folder / "lecture",
                                                       data / "territory.toml")
    return ratios
