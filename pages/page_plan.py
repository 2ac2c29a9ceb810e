"""Every page and file of the public site, as a plan: which template renders which data to which
path. The Pelican plugins (``site/plugins``) write this plan; the national benchmark renders the
same plan with plain Jinja2 to measure what Pelican costs on top of the floor.

Pages come from data, not from Markdown files, so partner text is never parsed as Markdown and
always goes through Jinja's autoescaping.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pipeline import settings
from pipeline.contracts.datasets import CONTRACTS
from pipeline.files import replace_file
from pages.search_index import SCRIPT as SEARCH_SCRIPT

FINGERPRINTED = {"css": "css/site.css", "js": "js/filtres.js", "share": "js/partage.js",
                 "search": "js/recherche.js"}
# Above this many venues or upcoming workshops a single list page would weigh megabytes (a
# region: 30,000 venues, 26 MB): the list is then split into one page per commune, reached
# from an index of communes by département. INCLUSION_LIST_LIMIT changes it (tests use 3).
HOME = ("Accueil", "/")


@dataclass(frozen=True)
class Page:
    save_as: str
    template: str
    breadcrumb: list[tuple[str, str]]
    context: dict = field(default_factory=dict)
    # A page whose template reads nothing of the site data but ``site.territory`` and
    # ``site.today`` (and the ``depends`` values): the live build's copy can be reused when its
    # context is unchanged (``publish.build_cache``). Lists and home pages read everything,
    # so are always rendered.
    reusable: bool = False
    depends: tuple = ()

    @property
    def page_name(self) -> str:
        """The page's folder, used by the menu to mark the current section."""
        return self.save_as.removesuffix("index.html")


@dataclass(frozen=True)
class File:
    path: str
    content: Callable[[], bytes]  # called when the file is written, so plans stay light
    # Everything the content depends on, when it is cheap to say: the live build's copy is
    # then reused when the key is unchanged. None: always written.
    key: str | None = None
    # False for a file made from its key and the rendering code alone (a QR code): the live
    # build's copy is reused on the first build of a new day too (publish.build_cache).
    dated: bool = True
    # (url, title) of a QR code: drawn by ``pages.qr_drawing`` (in a second process when a
    # build has many), ``content`` gives the same bytes.
    qr: tuple[str, str] | None = None


Item = Page | File


def qr_file(path: str, url: str, title: str, key: str) -> File:
    from pages.posters import qr_svg

    return File(path, lambda: qr_svg(url, title).encode("utf-8"), key=key, dated=False,
                qr=(url, title))


def fingerprinted_assets(theme: Path) -> dict[str, tuple[Path, str]]:
    """Asset names carry a hash of their content so they can be cached forever."""
    assets = {}
    for key, relative in FINGERPRINTED.items():
        source = theme / "static" / relative
        digest = hashlib.sha256(source.read_bytes()).hexdigest()[:10]
        stem, suffix = relative.rsplit(".", 1)
        assets[key] = (source, f"theme/{stem}.{digest}.{suffix}")
    return assets


def asset_urls(assets: dict[str, tuple[Path, str]]) -> dict[str, str]:
    return {key: "/" + target for key, (_source, target) in assets.items()}


def site_plan(site: dict, assets: dict[str, tuple[Path, str]], cache=None) -> Iterator[Item]:
    """Home, workshops, venues, phones, partners' space, 404, robots and the data exports."""
    for source, target in assets.values():
        yield File(target, source.read_bytes)
    yield Page("404.html", "not_found", [], {"title": "Page introuvable"})
    robots = (f"User-agent: *\nAllow: /\n"
              f"Sitemap: {site['territory'].get('site_url', '')}/sitemap.xml\n")
    yield File("robots.txt", robots.encode)
    yield Page("index.html", "home", [], {"list_limit": settings.get("INCLUSION_LIST_LIMIT")})
    yield from _partner_space()
    yield from _workshop_lists(site)
    yield from _venues(site)
    yield from _guide(site)
    yield from _pass(site)
    yield from _workshops(site, cache)
    yield from _phones(site)


def _phones(site: dict) -> Iterator[Item]:
    """/telephones/, and for each declared bin its A4 poster and the QR code printed on it,
    which leads back to the bin on /telephones/ (the other points, what becomes of phones)."""

    phones = ("Où déposer un téléphone", "/telephones/")
    yield Page("telephones/index.html", "phones", [HOME], {"title": "Où déposer un vieux téléphone"})
    base = site["territory"].get("site_url", "")
    for group in site["phone_points"]:
        for point in (p for p in group["points"] if p["affiche"]):
            yield Page(f"telephones/{point['id']}/affiche/index.html", "phone_poster",
                       [HOME, phones], {"title": f"Affiche du collecteur : {point['nom']}",
                                        "point": point}, reusable=True)
            url = f"{base}/telephones/#{point['ancre']}"
            yield qr_file(f"telephones/{point['id']}/qr.svg", url,
                          "Code QR vers les points de collecte de téléphones",
                          key=f"collecteur:{url}")


def _partner_space() -> Iterator[Item]:
    from pipeline.contracts.templates import template_csv, template_xlsx

    yield Page("partenaires/index.html", "partners", [HOME],
               {"title": "Espace partenaires : envoyer vos données",
                "contracts": list(CONTRACTS.values())})
    for contract in CONTRACTS.values():
        folder = "partenaires/modeles"
        yield File(f"{folder}/{contract.dataset}.csv", lambda c=contract: template_csv(c))
        yield File(f"{folder}/{contract.dataset}.xlsx", lambda c=contract: template_xlsx(c))


def _department(insee: str) -> str:
    return insee[:3] if insee.startswith("97") else insee[:2]


def _commune_index(entries: list[tuple[str, str, int]], section: str,
                   feeds: bool = False) -> list[dict]:
    """(code, name, count) per commune -> communes grouped by département, with their page."""
    departments: dict[str, list[dict]] = {}
    for code, name, count in sorted(entries, key=lambda entry: (entry[0], entry[1])):
        departments.setdefault(_department(code), []).append({
            "commune": code, "nom_commune": name, "nombre": count,
            "url": f"/{section}/commune/{code}/",
            "calendrier": f"/ateliers/calendrier-{code}.ics" if feeds else None})
    return [{"code": code, "communes": sorted(communes, key=lambda c: c["nom_commune"])}
            for code, communes in sorted(departments.items())]


def _venue_filters(venues: list[dict], site: dict) -> dict:
    """What the filters of a venue list offer; also what its script reads (communes to sort
    from, public holidays, the territory's timezone), so a reused page stays right."""
    return {"services": sorted({s for v in venues for s in v["services"]}),
            "publics": sorted({p for v in venues for p in v["publics"]}),
            "dispositifs": sorted({d for v in venues for d in v["dispositifs"]}),
            **_distance_context(site)}


def _distance_context(site: dict) -> dict:
    return {"places": site.get("venue_communes", []),
            "feries": " ".join(site.get("public_holidays", [])),
            "timezone": site["territory"]["timezone"]}


def venues_split(site: dict) -> bool:
    """Whether the venue directory is split by commune (and so gets a search index,
    ``pages.search_index``)."""
    return len(site["venues"]) > settings.get("INCLUSION_LIST_LIMIT")


def _venues(site: dict) -> Iterator[Item]:
    venues, groups = site["venues"], site["venue_groups"]
    title = "Lieux d'aide au numérique"
    if not venues_split(site):
        yield Page("lieux/index.html", "venues", [HOME],
                   {"title": title, "groups": groups, "count": len(venues),
                    **_venue_filters(venues, site)})
    else:
        yield Page("lieux/index.html", "communes", [HOME], {
            "title": title, "section": "lieux", "count": len(venues), "nouns": ("lieu", "lieux"),
            "search": SEARCH_SCRIPT, "departements": _commune_index(
                [(g["commune"], g["nom_commune"], len(g["lieux"])) for g in groups], "lieux")})
        for group in groups:
            yield Page(f"lieux/commune/{group['commune']}/index.html", "venues",
                       [HOME, ("Lieux d'aide", "/lieux/")],
                       {"title": f"{title} à {group['nom_commune']}", "groups": [group],
                        "count": len(group["lieux"]), "split": True,
                        **_venue_filters(group["lieux"], site)},
                       reusable=True)
    crumb = ("Lieux d'aide", "/lieux/")
    base = site["territory"].get("site_url", "")
    for venue in venues:  # (its mailto links: filters of venue.html, from v and page_url)
        url = f"{base}/lieux/{venue['slug']}/"
        yield Page(f"lieux/{venue['slug']}/index.html", "venue", [HOME, crumb],
                   {"title": venue["nom"], "v": venue, "page_url": url}, reusable=True)
    for name, download in site.get("exports", {}).items():
        yield File(f"donnees/{name}", lambda d=download: d.render().encode("utf-8"),
                   key=download.key)


def _guide(site: dict) -> Iterator[Item]:
    """The guided path (``/trouver/``: need, then commune, then the nearest venues and next
    workshops) and the referrers' A4 sheets (``/fiches/``: per commune, and per commune and
    need), with a QR code file for each venue a sheet shows (``pages.find_help``)."""
    from pages.find_help import (NEAREST_VENUES, SHEET_VENUES, Nearby, NearbySessions)

    guide, venues = site["guide"], site["venues"]
    needs, communes = guide["needs"], guide["communes"]
    if not venues or not communes:
        return
    find = ("Trouver de l'aide", "/trouver/")
    sheets = ("Fiches à imprimer", "/fiches/")
    yield Page("trouver/index.html", "guide_needs", [HOME],
               {"title": "De quoi avez-vous besoin ?", "needs": needs})
    for need in needs:
        yield Page(f"trouver/{need.slug}/index.html", "guide_communes", [HOME, find],
                   {"title": "Dans quelle commune habitez-vous ?", "need": need,
                    "communes": communes}, reusable=True)
    yield Page("fiches/index.html", "sheets", [HOME],
               {"title": "Fiches à imprimer pour orienter les habitants", "communes": communes,
                "needs": needs})
    nearby, upcoming = Nearby(venues), NearbySessions(site["upcoming"])
    shown: dict[str, dict] = {}
    for commune in communes:  # distances from the commune's point, once for all its pages
        code, name = commune["commune"], commune["nom_commune"]
        to_venues, to_sessions = nearby.distances(commune["point"]), upcoming.around(
            commune["point"])
        for need in needs:
            yield Page(f"trouver/{need.slug}/{code}/index.html", "guide_results",
                       [HOME, find, (need.label, f"/trouver/{need.slug}/")],
                       {"title": f"{need.label} : près de {name}", "need": need,
                        "commune": commune,
                        "venues": nearby.nearest(need, code, to_venues, NEAREST_VENUES),
                        "sessions": upcoming.next(need, to_sessions)}, reusable=True)
        for need in (None, *needs):
            found = nearby.nearest(need, code, to_venues, SHEET_VENUES)
            shown.update((item["lieu"]["slug"], item["lieu"]) for item in found)
            yield Page(f"fiches/{code}/" + (f"{need.slug}/" if need else "") + "index.html",
                       "sheet", [HOME, sheets] + ([(name, f"/fiches/{code}/")] if need else []),
                       {"title": f"{need.label if need else 'Aide au numérique'} : près de {name}",
                        "need": need, "needs": needs if need is None else [],
                        "commune": commune, "venues": found}, reusable=True)
    base = site["territory"].get("site_url", "")
    for slug in sorted(shown):
        url = f"{base}/lieux/{slug}/"
        yield qr_file(f"lieux/{slug}/qr.svg", url, "Code QR vers la page du lieu",
                      key=f"lieu:{url}")


def _pass(site: dict) -> Iterator[Item]:
    """The pass numérique: what it is, who hands it out in each commune and the venues
    accepting it. Above INCLUSION_LIST_LIMIT entries (a national territory: 3 MB on one page)
    the page keeps the explanation and an index of communes by département, and each commune
    has its page: its prescribers, its venues accepting the pass and the nearest communes
    where it is accepted (for a commune with none, where to go)."""
    from pages.venues import NearestCommunes

    title = "Obtenir un pass numérique"
    prescribers = {c["commune"]: c["prescripteurs"] for c in site.get("pass_prescribers", [])}
    accepting: dict[str, list[dict]] = {}
    for venue in site["venues"]:
        if venue["accepte_pass"]:
            accepting.setdefault(venue["commune"], []).append(venue)
    if len(prescribers) + sum(map(len, accepting.values())) <= settings.get(
            "INCLUSION_LIST_LIMIT"):
        yield Page("pass-numerique/index.html", "pass", [HOME], {"title": title})
        return
    names = {c["commune"]: c["nom_commune"] for c in site.get("pass_prescribers", [])}
    names.update((code, venues[0]["nom_commune"]) for code, venues in accepting.items())
    departements = _commune_index([(code, name, len(accepting.get(code, [])))
                                   for code, name in names.items()], "pass-numerique")
    for department in departements:
        for commune in department["communes"]:
            commune["structures"] = len(prescribers.get(commune["commune"], []))
    yield Page("pass-numerique/index.html", "pass", [HOME],
               {"title": title, "departements": departements,
                "count": sum(map(len, accepting.values()))})
    points = {p["commune"]: (p["latitude"], p["longitude"]) for p in site.get("venue_communes", [])}
    neighbours = NearestCommunes([(code, names[code]) for code in accepting], points)
    for code, name in names.items():
        yield Page(f"pass-numerique/commune/{code}/index.html", "pass_commune",
                   [HOME, ("Pass numérique", "/pass-numerique/")],
                   {"title": f"{title} à {name}", "nom_commune": name,
                    "prescripteurs": prescribers.get(code, []),
                    "lieux": [{"slug": v["slug"], "nom": v["nom"]}
                              for v in accepting.get(code, [])],
                    "voisines": neighbours(code)}, reusable=True)


def _by_commune(sessions: list[dict]) -> dict[str, list[dict]]:
    """Sessions per commune code, in their order (soonest first)."""
    grouped: dict[str, list[dict]] = {}
    for session in sessions:
        grouped.setdefault(session["commune"], []).append(session)
    return grouped


def _workshop_filters(sessions: list[dict]) -> dict:
    return {"communes": sorted({(s["commune"], s["nom_commune"]) for s in sessions},
                               key=lambda item: item[1]),
            "topics": sorted({s["thematique"] for s in sessions}),
            "audiences": sorted({s["public"] for s in sessions})}


def _workshop_lists(site: dict) -> Iterator[Item]:
    upcoming = site["upcoming"]
    title = "Prochains ateliers numériques"
    if len(upcoming) <= settings.get("INCLUSION_LIST_LIMIT"):
        yield Page("ateliers/index.html", "workshops", [HOME],
                   {"title": title, "sessions": upcoming, **_workshop_filters(upcoming),
                    **_distance_context(site)})
        return
    by_commune = _by_commune(upcoming)
    yield Page("ateliers/index.html", "communes", [HOME], {
        "title": title, "section": "ateliers", "count": len(upcoming), "nouns": ("séance", "séances"),
        "departements": _commune_index([(code, sessions[0]["nom_commune"], len(sessions))
                                        for code, sessions in by_commune.items()],
                                       "ateliers", feeds=True)})
    for code, sessions in by_commune.items():
        yield Page(f"ateliers/commune/{code}/index.html", "workshops",
                   [HOME, ("Ateliers", "/ateliers/")],
                   {"title": f"{title} à {sessions[0]['nom_commune']}", "sessions": sessions,
                    **_workshop_filters(sessions), **_distance_context(site)}, reusable=True)


def _workshops(site: dict, cache=None) -> Iterator[Item]:
    """A page, a printable poster, a QR code and an .ics file per upcoming workshop, and
    calendar feeds for the territory and each commune. With a build cache
    (``publish.build_cache``), events serialised by an earlier build are reused."""
    from pages.calendar import assemble, event_ical

    territory = site["territory"]
    zone = territory["timezone"]
    base = territory.get("site_url", "")
    domain = base.split("//")[-1] or "localhost"
    stamp = datetime.fromisoformat(site["generated_at"])
    events: dict[str, bytes] = {}  # each event serialised once, for its file and the feeds

    def event(session: dict) -> bytes:
        if session["slug"] not in events:
            def compute() -> bytes:
                return event_ical(session, zone, domain, stamp)
            events[session["slug"]] = compute() if cache is None else cache.remember(
                f"ics:{domain}:{session.get('modifie_le') or stamp}:{cache.value_key(session)}",
                compute)
        return events[session["slug"]]

    def feed(sessions: list[dict], name: str) -> bytes:
        return assemble([event(s) for s in sessions], name, zone, stamp.year)

    crumb = ("Ateliers", "/ateliers/")
    for session in site["upcoming"]:
        folder = f"ateliers/{session['slug']}"
        title = f"{session['thematique']} — {session['nom_commune']}"
        yield Page(f"{folder}/index.html", "workshop", [HOME, crumb],
                   {"title": title, "s": session}, reusable=True)
        url = f"{base}/{folder}/"
        yield qr_file(f"{folder}/qr.svg", url, "Code QR vers la page de l'atelier", key=url)
        yield Page(f"{folder}/affiche/index.html", "poster",
                   [HOME, crumb, (title, f"/{folder}/")],
                   {"title": f"Affiche : {title}", "s": session}, reusable=True)
        yield File(f"{folder}/atelier.ics", lambda s=session, t=title: feed([s], t),
                   key=repr((session, title, stamp.year)))
    yield File("ateliers/calendrier.ics", lambda: feed(
        site["upcoming"], f"Ateliers numériques — {territory['short_name']}"))
    by_commune = _by_commune(site["upcoming"])
    for commune, name in site["workshop_communes"]:
        yield File(f"ateliers/calendrier-{commune}.ics",
                   lambda s=by_commune.get(commune, []), n=name: feed(
                       s, f"Ateliers numériques — {n}"))


def results_plan(results: dict) -> Iterator[Item]:
    """Yearly results (territory and each commune), methodology, open data and its files."""
    crumb = ("Résultats", "/resultats/")
    # What a commune's page reads of the whole results besides its year (labels, threshold).
    shared = ({k: results.get(k) for k in ("threshold", "secret_text", "datasets", "catalogue",
                                           "breakdown_labels", "citation")},)
    for relative, content in results.get("files", {}).items():  # text, or bytes (workbooks)
        yield File(relative, content.encode if isinstance(content, str) else lambda c=content: c)
    yield Page("resultats/index.html", "results_index", [HOME], {"title": "Résultats par année"})
    yield Page("resultats/objectifs/index.html", "results_targets", [HOME, crumb],
               {"title": "Objectifs des programmes"})
    yield Page("resultats/methodologie/index.html", "methodology", [HOME, crumb],
               {"title": "Méthodologie des indicateurs"})
    # The definitions of each dataset on a page of their own: the whole catalogue on one page
    # is more than 8,000 px tall on a phone.
    for dataset in results["datasets"].values():
        yield Page(f"resultats/methodologie/{dataset.id}/index.html", "methodology",
                   [HOME, crumb, ("Méthodologie", "/resultats/methodologie/")],
                   {"title": f"Méthodologie : {dataset.title.lower()}", "dataset": dataset})
    yield Page("donnees/index.html", "opendata", [HOME],
               {"title": "Données ouvertes", "opendata_tables": results.get("tables", []),
                "open_data": results.get("open_data", {})})
    for year in results["years"]:
        result = results["by_year"][year]
        yield Page(f"resultats/{year}/index.html", "results_year", [HOME, crumb],
                   {"title": f"Résultats {year}", "result": result})
        year_crumb = (f"Résultats {year}", f"/resultats/{year}/")
        yield from _dataset_pages(results, result, [HOME, crumb, year_crumb])
        split = bool(_results_departments(result))
        for index, row in enumerate(result["sections"][0]["rows"]):
            rows = [(table, table["rows"][index], _covering(table.get("source", []), row["commune"]))
                    for table in result["sections"]]
            # Split tables: the commune's « dans chaque commune » link goes to its département's.
            yield Page(f"resultats/{year}/{row['commune']}/index.html", "results_commune",
                       [HOME, crumb, year_crumb],
                       {"title": f"{row['nom_commune']} : résultats {year}", "result": result,
                        "commune": row, "rows": rows,
                        **({"departement": _department(row["commune"])} if split else {})},
                       reusable=True, depends=shared)


def _dataset_pages(results: dict, result: dict, breadcrumb: list) -> Iterator[Item]:
    """One page per dataset and year (``resultats/<année>/<données>/``): its chart and tables
    by commune, its breakdowns and the territory year by year; the year page keeps the key
    figures, so it stays short on a phone. Above INCLUSION_RESULTS_COMMUNE_LIMIT communes (a
    national territory: 700 KB a page) the chart shows the communes with the highest values
    and the table by commune is on one page per département
    (``resultats/<année>/<données>/departement/<code>/``)."""
    from pages.results_view import leading_chart

    year = result["annee"]
    by_department = _results_departments(result)
    for table in result["sections"]:
        dataset = table["dataset"]
        folder = f"resultats/{year}/{dataset}"
        title = results["datasets"][dataset].title
        context = {"title": f"{title} : résultats {year}", "result": result, "table": table,
                   "breakdowns": [b for b in result["breakdowns"] if b["dataset"] == dataset],
                   "series": next((s for s in results["series"] if s["dataset"] == dataset),
                                  None)}
        if by_department:
            context.update(top_chart=leading_chart(table, year), departements=[
                {"code": code, "communes": len(indexes), "url": f"/{folder}/departement/{code}/"}
                for code, indexes in by_department.items()])
        yield Page(f"{folder}/index.html", "results_dataset", breadcrumb, context)
        for code, indexes in by_department.items():
            yield Page(f"{folder}/departement/{code}/index.html", "results_department",
                       breadcrumb + [(f"{title} en {year}", f"/{folder}/")],
                       {"title": f"{title} : résultats {year}, département {code}",
                        "result": result, "table": table, "departement": code,
                        "rows": [table["rows"][index] for index in indexes],
                        "departements": context["departements"]})
        yield from _origin_page(results, result, table, breadcrumb)


def _results_departments(result: dict) -> dict[str, list[int]]:
    """The indexes of the commune rows of each département, in their order, when a year has
    more communes than INCLUSION_RESULTS_COMMUNE_LIMIT; empty otherwise (one table per
    dataset page). Every table of a year has the same communes in the same order."""
    rows = result["sections"][0]["rows"] if result["sections"] else []
    if len(rows) <= settings.get("INCLUSION_RESULTS_COMMUNE_LIMIT"):
        return {}
    found: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        found.setdefault(_department(row["commune"]), []).append(index)
    return dict(sorted(found.items()))


def _origin_page(results: dict, result: dict, table: dict, breadcrumb: list) -> Iterator[Item]:
    """« D'où vient ce chiffre ? » (``resultats/<année>/<données>/origine/``): each indicator of
    a dataset (anchored by its id) with its definition and formula, and the files of that year
    it was computed from, as the ledger knows them."""
    dataset, year = table["dataset"], result["annee"]
    title = results["datasets"][dataset].title
    yield Page(f"resultats/{year}/{dataset}/origine/index.html", "results_origin",
               breadcrumb + [(f"{title} en {year}", f"/resultats/{year}/{dataset}/")],
               {"title": f"D'où viennent les chiffres : {title.lower()} en {year}",
                "dataset": dataset, "year": year,
                "indicators": [i for i in results["catalogue"] if i.dataset == dataset],
                "origins": result["origins"][dataset]})


def _covering(sources: list[dict], commune: str) -> list[dict]:
    """The sources that report for one commune (a commune page lists only its own partners)."""
    return [s for s in sources if "*" in s.get("communes", ["*"]) or commune in s["communes"]]


def write_plan(generator, writer, plan: Iterator[Item]) -> None:
    """From a Pelican generator: every page through Pelican's writer (its templates, context
    and signals), every file as is; unchanged reusable ones are taken from the live build when
    the build has a cache (``INCLUSION_BUILD_CACHE``, a ``publish.build_cache.BuildCache``).
    A large plan is shared with a second, forked process after its first items
    (``pages.plan_split``)."""
    from pages.plan_split import write_items
    from pages.qr_drawing import QrDrawer
    from pages.template_lookup import look_up_dict_items_first

    look_up_dict_items_first(generator.env)
    output = Path(generator.output_path)
    cache = generator.settings.get("INCLUSION_BUILD_CACHE")
    # Shared by every plan the writer writes (site and results), when it keeps the set.
    planned: set[str] = getattr(writer, "planned_paths", set())

    def claim_and_count(item: Item) -> None:
        _claim(planned, item.save_as if isinstance(item, Page) else item.path)
        if cache and isinstance(item, Page):
            cache.pages += 1

    drawer = QrDrawer()
    write_items(plan, lambda item: _write_item(generator, writer, output, cache, drawer, item),
                drawer, cache, claim_and_count)


def _write_item(generator, writer, output: Path, cache, drawer, item: Item) -> None:
    if isinstance(item, Page):
        if cache and item.reusable and cache.reuse(
                item.save_as, cache.page_key(item.template, item.breadcrumb,
                                             {**item.context, "_depends": item.depends}),
                output):
            return
        writer.write_file(item.save_as, generator.get_template(item.template),
                          generator.context, relative_urls=False, page_name=item.page_name,
                          breadcrumb=item.breadcrumb, **item.context)
    elif cache and item.key is not None and cache.reuse(
            item.path, cache.file_key(item.key, item.dated), output):
        return
    else:
        write_file(output, item, drawer)


def _claim(planned: set[str], path: str) -> None:
    """A path is written once per build: a second item there would replace the first (or,
    reused from the live build, write into its shared file). Fail the build instead."""
    if path in planned:
        raise ValueError(f"deux pages ou fichiers du site ont le même chemin : {path}")
    planned.add(path)


def files_under(root: Path) -> Iterator[str]:
    """Every file below ``root`` as a relative POSIX path, in ``os.walk``'s order (a folder's
    files, then its folders), not following links to folders; nothing when ``root`` is
    missing. ``os.scandir`` entries know their type, where ``os.walk`` asks the file system
    again for each folder whether it is a link: 2.0 s against 3.0 s on a national build's
    300,000 files (a fifth of ``Path.rglob``'s time)."""
    return _files_in(str(root), "")


def _files_in(folder: str, prefix: str) -> Iterator[str]:
    folders = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if not entry.is_dir():
                    yield prefix + entry.name
                elif not entry.is_symlink():
                    folders.append((entry.path, f"{prefix}{entry.name}/"))
    except OSError:  # gone or unreadable, as os.walk skips it
        return
    for path, inner in folders:
        yield from _files_in(path, inner)


def write_file(output: Path, item: File, drawer=None) -> None:
    """``drawer`` (a ``pages.qr_drawing.QrDrawer``): QR codes go to it, written by its
    ``finish``."""
    if drawer is not None and item.qr is not None:
        drawer.add(output / item.path, *item.qr)
    else:
        replace_file(output / item.path, item.content())


def sitemap(output: Path, site_url: str, files: list[str] | None = None) -> bytes:
    """Every page of a finished build (no dates, so the file is reproducible); ``files``
    when the build's files were already listed."""
    pages = sorted(name for name in (files if files is not None else files_under(output))
                   if name.endswith("index.html"))
    urls = "".join(f"<url><loc>{site_url}/{p.removesuffix('index.html')}</loc></url>"
                   for p in pages)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n'
            ).encode("utf-8")
