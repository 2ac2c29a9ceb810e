"""Building the public site into a fresh folder and swapping it in atomically.

Residents always see ``<data>/site/current``, a symlink to one complete build. A new build is
written to ``builds/<id>.partial``, checked, moved to ``attente/<id>`` (``prepare``) with a
summary of what it changes against the live site (``publish.changes``), renamed to
``builds/<id>``, and only then does the symlink change (``go_live``; ``os.replace`` of a new
link over the old one is atomic). The ``publication_site`` DAG waits for a steward's approval
between the two when the summary finds anomalies; ``set_aside`` moves a refused build to
``ecartees/<id>``, never online. A failed build or
check leaves ``current`` untouched. The last ``KEEP_BUILDS`` builds are kept for rollback: after
each swap, older ones move to ``corbeille/`` and a background process deletes them.

When the site area is an object store (``INCLUSION_SITE_STORE_URL``), the build is made and
checked in the worker's own data folder as above; ``prepare`` then sends it under its own
prefix and checks it there (never online: readers follow the pointer), ``go_live`` switches the
pointer ``current.json`` (``publish.bucket``) before mirroring the swap locally, and
``set_aside`` removes it from the store. The publication records are then on the store too
(``changes.records_folder``), and a new build is compared with the build the pointer names
(its page count, its sealed inventory, its record), so each step may run on another worker.
"""

from __future__ import annotations

import html
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pages.page_plan import files_under
from pipeline.config import REPO_ROOT, DataPaths, Territory, data_paths, load_territory
from pipeline import settings
from pipeline.faults import fault_point
from pipeline.load import warehouse
from pipeline.alerts import failing_step
from pipeline.load import ledger
from pipeline.receive.inbox import write_in_inbox
from pipeline.stages import stage
from pipeline import storage
from publish import bucket, changes
from publish.build_cache import BuildCache, manifest_path, recorded_pages

KEEP_BUILDS = 5
# A build with this share fewer pages than the live one is refused unless
# INCLUSION_ALLOW_PAGE_DROP=1 says the drop is expected (e.g. after removing a partner).
PELICAN_SETTINGS = REPO_ROOT / "pelican.conf.py"
# Key of the site data carrying the results (``pages.results_view.present``) to the
# INCLUSION_RESULTS Pelican setting (kept inside site_data so render_site keeps its two-argument signature).
RESULTS_KEY = "inclusion_results"


class SiteCheckFailed(Exception):
    pass


class StaleBuild(Exception):
    """A build older than the live one was asked to go online (an old run re-run): nothing
    changes; not a failure to retry."""


@dataclass
class Published:
    build_id: str
    path: str
    pages: int


def build_id_for(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%S")


def render_site(site_data: dict, output: Path, cache: BuildCache | None = None) -> None:
    from pelican import Pelican
    from pelican.settings import read_settings

    pelican_settings = read_settings(str(PELICAN_SETTINGS), override={
        "OUTPUT_PATH": str(output), "INCLUSION_SITE": site_data,
        # Yearly results, methodology and open data (transforms.results, results_pages plugin).
        "INCLUSION_RESULTS": site_data.get(RESULTS_KEY),
        "INCLUSION_BUILD_CACHE": cache,
        "SITENAME": site_data["territory"]["site_title"],
        "TIMEZONE": site_data["territory"]["timezone"]})
    # One "Writing ..." line per page would fill the task log with 100,000 lines.
    logging.getLogger("pelican.writers").setLevel(logging.WARNING)
    Pelican(pelican_settings).run()


def site_wide_values(site_data: dict) -> object:
    """What every reusable page shows besides its own data (see publish.build_cache)."""
    return (site_data["territory"], site_data["today"])


# Our templates always quote attributes with double quotes (Jinja escapes any in values).
LINK = re.compile(r'\s(?:href|src)="(/[^/"][^"]*|/)"')


class _TargetCheck:
    """Whether an internal link resolves; each distinct target is looked up once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.known: dict[str, bool] = {}

    def __call__(self, link: str) -> bool:
        path = html.unescape(link).split("#", 1)[0].split("?", 1)[0]
        if path not in self.known:
            target = self.root / path.lstrip("/")
            self.known[path] = target.is_file() or (target / "index.html").is_file()
        return self.known[path]


def count_pages(root: Path) -> int:
    return sum(1 for name in files_under(root) if name.endswith(".html"))


def check_site(root: Path, reused: frozenset[str] = frozenset(),
               files: list[str] | None = None) -> int:
    """Every internal link or asset of every page resolves; returns the page count. Pages
    reused unchanged from the live build (``reused``) were checked when first written and
    link only to pages their own data names, so they are not read again. ``files``: the
    build's files, when already listed."""
    if not (root / "index.html").is_file():
        raise SiteCheckFailed("la page d'accueil manque")
    exists = _TargetCheck(root)
    broken, pages = [], 0
    for relative in files if files is not None else files_under(root):
        if not relative.endswith(".html"):
            continue
        pages += 1
        if relative in reused:
            continue
        for link in LINK.findall((root / relative).read_text(encoding="utf-8")):
            if not exists(link):
                broken.append(f"{relative} -> {link}")
    if broken:
        raise SiteCheckFailed("liens cassés : " + "; ".join(sorted(broken)[:20]))
    return pages


def _check_page_count(paths: DataPaths, pages: int, live: LiveBuild | None = None) -> None:
    """A build with far fewer pages than the live one is refused. ``live``: the live build as
    the object store's pointer names it (its page count is in ``current.json``), when the site
    is published there; else this worker's ``current``."""
    if settings.get("INCLUSION_ALLOW_PAGE_DROP"):
        return
    if bucket.is_remote():
        if live is None:
            return
        before = live.pages
    else:
        current = paths.site_current
        if not current.exists():
            return
        before = recorded_pages(current.resolve())
        if before is None:
            before = count_pages(current.resolve())
    max_drop = settings.get("INCLUSION_MAX_PAGE_DROP")
    if before and pages < before * (1 - max_drop):
        raise SiteCheckFailed(
            f"le nouveau site a {pages} pages contre {before} en ligne (baisse de plus de "
            f"{max_drop:.0%}) ; relancez avec INCLUSION_ALLOW_PAGE_DROP=1 si c'est voulu")


@dataclass(frozen=True)
class LiveBuild:
    """The live build a new one is compared with: its id, its files (relative paths) and its
    page count."""
    build_id: str
    files: list[str]
    pages: int


def _live_on_store() -> LiveBuild | None:
    """The live build as every worker sees it: the object store's pointer and the sealed
    inventory of the build it names (no local copy needed)."""
    with _on_store("lecture de la version en ligne (stockage objet)"):
        found = bucket.live()
    if found is None:
        return None
    pointer, files = found
    return LiveBuild(pointer["build_id"], sorted(files), pointer["pages"])


def _records_on_store(step: str):
    """A step reading or writing the publication records: on the object store when the site
    is published there (``_on_store``), else in the data folder as before."""
    return _on_store(step) if bucket.is_remote() else nullcontext()


def _swap_current(paths: DataPaths, build: Path) -> None:
    link = paths.site_current
    tmp = link.with_name(".current.tmp")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(build.relative_to(link.parent), target_is_directory=True)
    os.replace(tmp, link)


def _prune(paths: DataPaths, keep: int) -> None:
    """Take the builds older than the last ``keep`` (never the live one) out of ``builds/``
    at once, by renaming them into the trash folder, and drop their manifests; a background
    process deletes them (some 270,000 links each at national scale, 16 to 54 s that used to
    hold up the go-live task)."""
    if not paths.site_builds.is_dir():
        return
    current = paths.site_current.resolve() if paths.site_current.exists() else None
    builds = sorted(p for p in paths.site_builds.iterdir() if p.is_dir())
    trash = trash_folder(paths)
    for stale in builds[:-keep]:
        if stale.resolve() != current:
            _to_trash(stale, trash)
    if trash.is_dir() and any(trash.iterdir()):
        _empty_in_background(trash)


def _to_trash(stale: Path, trash: Path) -> None:
    """Rename an old build into a slot of its own in the trash. The new build is already
    live when this runs: a rename that fails (a full or read-only disk) leaves the old build
    in ``builds/`` for the next prune, with a warning, instead of failing the go-live task."""
    try:
        trash.mkdir(parents=True, exist_ok=True)
        slot = Path(tempfile.mkdtemp(prefix=f"{stale.name}.", dir=trash))
        os.replace(stale, slot / stale.name)
    except OSError as error:
        logging.getLogger(__name__).warning(
            "Ancienne version %s laissée en place (%s) : elle sera retirée à la prochaine "
            "publication.", stale.name, error)
        return
    manifest_path(stale).unlink(missing_ok=True)


def trash_folder(paths: DataPaths) -> Path:
    """Old builds waiting to be deleted; never served, never a rollback target."""
    return paths.site_root / "corbeille"


# Run by a detached, lowest-priority Python: what is in the trash when it starts. Another build
# may rename more into it meanwhile; the next prune's process deletes those.
_EMPTY_TRASH = ("import os, shutil, sys\n"
                "os.nice(19)\n"
                "for entry in os.scandir(sys.argv[1]):\n"
                "    shutil.rmtree(entry.path, ignore_errors=True)\n")


def _empty_in_background(trash: Path) -> None:
    """Delete the trash's builds in a detached process at the lowest priority: the task ends
    without waiting, the build's processes keep the cores, and a deletion cut short (the task's
    machine stopped) is finished by the next one."""
    try:
        subprocess.Popen([sys.executable, "-c", _EMPTY_TRASH, str(trash)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError as error:
        logging.getLogger(__name__).warning(
            "Suppression des anciennes versions remise à la prochaine publication : %s", error)


@dataclass
class Candidate:
    """A checked build waiting in ``<site>/attente/<id>`` to go online, with its summary."""
    build_id: str
    path: str
    pages: int
    anomalies: list[str]
    partners: list[str]
    text: str

    @property
    def needs_approval(self) -> bool:
        return bool(self.anomalies)


def pending_folder(paths: DataPaths) -> Path:
    """Checked builds waiting to go online (a steward's decision); never served."""
    return paths.site_root / "attente"


def set_aside_folder(paths: DataPaths) -> Path:
    """Builds a steward refused: kept for reading, never online, never a rollback target."""
    return paths.site_root / "ecartees"


def prepare(now: datetime, territory: Territory | None = None,
            paths: DataPaths | None = None) -> Candidate:
    """Build and check a new site into ``<site>/attente/<id>`` and write what it changes
    against the live site (``publish.changes``); the live site is not touched."""
    from pages.data_package import add_open_data
    from pages.results_view import present
    from pages.site_data import build_site_data
    from transforms.results import build_results
    from transforms.results.prepare import remembering_tables

    territory = territory or load_territory()
    paths = paths or data_paths()
    build_id = build_id_for(now)
    pending = pending_folder(paths) / build_id
    partial = paths.site_builds / f"{build_id}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    try:
        with failing_step("calcul des indicateurs"), stage("indicators"):
            # Each table read once for the results and the site data; the results first, so
            # that the largest table (2,000,000 passes) is read while little else is held.
            tables = remembering_tables(paths.root, ledger.entries())
            results = build_results(territory, now, tables)
            site_data = build_site_data(territory, now, tables)
            tables.memo.prune()
            del tables
            figures = changes.key_figures(results)
            site_data[RESULTS_KEY] = add_open_data(
                present(results, territory.name), site_data, now)
            received = [changes.ReceivedFile.from_entry(e) for e in ledger.entries()]
        # On an object store the live build is the pointer's, whichever worker published it;
        # this worker's ``current`` (when it has one) only lends unchanged pages.
        remote_live = _live_on_store() if bucket.is_remote() else None
        with failing_step("construction du site (Pelican)"), stage("site build") as measured:
            live = paths.site_current.resolve() if paths.site_current.exists() else None
            cache = BuildCache(live, site_wide_values(site_data))
            render_site(site_data, partial, cache)
            del site_data
            measured["pages"] = cache.pages
            measured["reused_files"] = len(cache.reused)
            if cache.search_key:  # the venue search index (pages.search_index)
                measured["search_index"] = "reused" if cache.search_reused else "built"
        with failing_step("contrôle du site construit"), stage("publish", pages=cache.pages):
            pages = check_site(partial, frozenset(cache.reused), cache.files)
            _check_page_count(paths, pages, remote_live)
            cache.checked_pages = pages
            cache.save(pending)
        if bucket.is_remote():
            compared = remote_live
        else:  # this worker's ``current`` (its page count was checked above, not needed here);
            # its pages as its manifest lists them, rather than walking 270,000 files again
            compared = live and LiveBuild(live.name, cache.known_html if cache.known_html
                                          is not None else files_under(live), 0)
        with failing_step("relevé des changements"), \
                _records_on_store("relevé des changements (stockage objet)"):
            records = changes.records_folder(paths)
            summary = _summarise(records, build_id, compared,
                                 cache.files or files_under(partial), figures, received,
                                 territory)
            status = changes.PENDING if summary.anomalies else changes.READY
            text = changes.write_publication(records, summary, figures,
                                             [f.key for f in received], status, now)
        shutil.rmtree(pending, ignore_errors=True)  # a retry of the same run
        pending.parent.mkdir(parents=True, exist_ok=True)
        os.replace(partial, pending)
    except Exception:
        shutil.rmtree(partial, ignore_errors=True)  # residents keep seeing `current`
        raise
    if bucket.is_remote():  # sent and sealed now, so any worker can put it online later
        with _on_store("envoi vers le stockage objet"), stage("publish", step="upload"):
            bucket.upload(build_id, pending)
    return Candidate(build_id, str(pending), pages, [a.message for a in summary.anomalies],
                     sorted({p for a in summary.anomalies for p in a.partners}), text)


def _summarise(folder, build_id: str, live: LiveBuild | None, files: list[str],
               figures: dict[str, float], received: list,
               territory: Territory) -> changes.ChangeSummary:
    stored = changes.read_figures(folder, live.build_id) if live else None
    # A live build without a record (made before records existed): nothing to compare with,
    # so no file is listed as new and no figure as moved.
    before, known = stored if stored else ({}, {f.key for f in received} if live else None)
    new_files = changes.files_since(received, known)
    superseded = warehouse.rows_superseded_by(f.sha256 for f in new_files)
    added, removed = changes.page_changes(live.files if live else [], files)
    moves = changes.figure_moves(before, figures, territory.commune_names) if stored else []
    scopes = {p.id: None if "*" in p.communes else set(p.communes) for p in territory.partners}
    anomalies = (changes.find_anomalies(moves, new_files, received, territory.publication,
                                        scopes) if live else [])
    return changes.ChangeSummary(build_id, live.build_id if live else None, new_files,
                                 changes.rows_by_dataset(new_files, superseded), added, removed,
                                 moves, anomalies)


def go_live(build_id: str, paths: DataPaths | None = None, decision: str | None = None,
            history: int | None = None) -> Published:
    """Put a prepared build online (atomic swap), then prune old builds (``_prune``) and the
    history. A retry after it went online only points ``current`` at it again."""
    paths = paths or data_paths()
    newer = _newer_live_build(build_id, paths)
    if newer is not None:
        raise StaleBuild(
            f"la version {build_id} n'est pas mise en ligne : une version construite après "
            f"elle ({newer}) est déjà en ligne, et une version en ligne ne revient jamais en "
            "arrière d'elle-même (une ancienne publication relancée, par exemple). Pour "
            "remettre une version antérieure, utilisez make rollback.")
    pending = pending_folder(paths) / build_id
    final = paths.site_builds / build_id
    remote = None
    if bucket.is_remote():
        remote = _go_live_on_store(build_id, pending if pending.exists() else final)
    with failing_step("mise en ligne (échange du lien current)"), \
            stage("publish", step="swap"):
        if pending.exists():
            _swap_in(paths, pending, final)
        elif final.exists():
            _swap_current(paths, final)
        elif remote is None:  # (online from the store: this worker has no copy to mirror)
            raise SiteCheckFailed(f"la version {build_id} n'existe plus (ni en attente ni "
                                  "parmi les versions construites)")
    with _records_on_store("relevé de la publication (stockage objet)"):
        folder = changes.records_folder(paths)
        if changes.read_publication(folder, build_id) is not None:
            changes.set_status(folder, build_id, changes.PUBLISHED, decision)
        changes.prune_history(folder, history or load_territory().publication.history,
                              {build_id})
    if remote is not None:
        return Published(build_id, remote["url"], remote["pages"])
    return Published(build_id, str(final), recorded_pages(final) or count_pages(final))


def _newer_live_build(build_id: str, paths: DataPaths) -> str | None:
    """The live build (or, after a rollback, the build rolled back from) when it was built
    after ``build_id``: ids are the runs' times, so they sort in build order."""
    if bucket.is_remote():
        with _on_store("lecture du pointeur (stockage objet)"):
            found = bucket.live()
        pointer = found[0] if found else {}
        ids = [pointer.get("build_id"), pointer.get("rolled_back_from")]
    else:
        current = paths.site_current
        ids = [current.resolve().name] if current.exists() else []
    newer = [i for i in ids if i and i > build_id]
    return max(newer) if newer else None


def _go_live_on_store(build_id: str, build: Path) -> dict:
    """The site area is an object store (``publish.bucket``): make sure the build is whole
    under its own prefix (sent by ``prepare``; completed here if not), then switch the pointer
    in one write and prune old builds. The worker's local ``current`` follows afterwards, as
    its mirror of the live build."""
    fault_point("publish-before-go-live")  # the cluster's drill cuts the store here
    with _on_store("mise en ligne (pointeur du stockage objet)"), \
            stage("publish", step="upload"):
        if build.exists():
            bucket.upload(build_id, build)
        pointer = bucket.switch(build_id, KEEP_BUILDS)
        bucket.prune(KEEP_BUILDS)
    return {"url": f"{storage.area_url('site')}/{pointer['prefix']}", "pages": pointer["pages"]}


@contextmanager
def _on_store(step: str) -> Iterator[None]:
    """A step on the object store: refusals become ``SiteCheckFailed``, a store that does not
    answer ``SiteStoreUnreachable`` (retried by the task); the live pointer never moves."""
    with failing_step(step):
        try:
            yield
        except bucket.BucketError as error:
            raise SiteCheckFailed(str(error)) from error
        except Exception as error:
            if bucket.unreachable(error):
                raise bucket.SiteStoreUnreachable(
                    f"le stockage objet du site ({storage.area_url('site')}) ne répond pas "
                    f"({type(error).__name__}) ; le site en ligne n'a pas changé. La tâche "
                    "est retentée tant qu'il lui reste des essais ; après le dernier, relancez-la "
                    "une fois le stockage revenu") from error
            raise


def set_aside(build_id: str, territory: Territory | None = None,
              paths: DataPaths | None = None, decision: str | None = None) -> Path:
    """A steward refused the build: it moves to ``<site>/ecartees/<id>`` (the live site does
    not change), and each partner whose file caused an anomaly gets a French report in its
    inbox; the stewards get an alert."""
    territory = territory or load_territory()
    paths = paths or data_paths()
    pending = pending_folder(paths) / build_id
    aside = set_aside_folder(paths) / build_id
    if pending.exists():
        shutil.rmtree(aside, ignore_errors=True)
        aside.parent.mkdir(parents=True, exist_ok=True)
        os.replace(pending, aside)
    if bucket.is_remote():  # sent by prepare, never online: off the store
        with _on_store("mise à l'écart (stockage objet)"):
            bucket.discard(build_id)
    with _records_on_store("relevé de la publication (stockage objet)"):
        record = changes.set_status(changes.records_folder(paths), build_id, changes.SET_ASIDE,
                                    decision)
    if aside.parent.is_dir():  # (a worker that did not build it has none set aside)
        for stale in sorted(p for p in aside.parent.iterdir() if p.is_dir())[:-KEEP_BUILDS]:
            shutil.rmtree(stale, ignore_errors=True)
            manifest_path(stale).unlink(missing_ok=True)
    _tell_partners(build_id, record["anomalies"], territory, paths)
    from pipeline.alerts import raise_alert

    kept = (f"La version écartée est gardée dans {aside}." if aside.is_dir() else
            "La version écartée a été retirée du stockage objet ; son relevé reste dans "
            "l'historique des publications.")
    raise_alert(f"Publication {build_id} écartée",
                f"La publication {build_id} a été écartée : le site en ligne n'a pas changé. "
                f"{kept}\n\n{record['text']}")
    return aside


def _tell_partners(build_id: str, anomalies: list[dict], territory: Territory,
                   paths: DataPaths) -> None:
    for partner_id in sorted({p for a in anomalies for p in a["partners"]}):
        try:
            partner = territory.partner(partner_id)
        except KeyError:  # a partner removed from territory.toml since
            continue
        mine = [f"- {a['message']}" for a in anomalies if partner_id in a["partners"]]
        write_in_inbox(partner, f"publication-{build_id}.rapport.txt", (
            f"Rapport pour {partner.name}\n\n"
            "Vos derniers fichiers ont été acceptés, mais les chiffres qu'ils donnent "
            "s'écartent beaucoup de ceux publiés jusqu'ici. L'équipe qui gère le site a "
            "donc choisi de ne pas les publier pour le moment :\n\n" + "\n".join(mine) +
            "\n\nQue faire : vérifiez que votre export est complet (toutes les lignes, "
            "toutes les communes, toute la période). S'il manquait des lignes, déposez le "
            "fichier complet : il remplacera le précédent. Si ces chiffres sont justes, "
            "dites-le à l'équipe qui gère le site, qui pourra les publier.\n"))


def publish(now: datetime, territory: Territory | None = None,
            paths: DataPaths | None = None) -> Published:
    """Prepare a build and put it online without waiting for anyone (``make``, tests; the
    ``publication_site`` DAG instead waits for a steward when ``prepare`` finds anomalies)."""
    territory = territory or load_territory()
    candidate = prepare(now, territory, paths)
    return go_live(candidate.build_id, paths, history=territory.publication.history)


def _swap_in(paths: DataPaths, partial: Path, final: Path) -> None:
    fault_point("publish-before-swap")
    if final.exists():  # a retry of the same run: replace that build, never the live one's path
        if paths.site_current.exists() and paths.site_current.resolve() == final.resolve():
            _swap_current(paths, partial)
        shutil.rmtree(final)
    os.replace(partial, final)
    _swap_current(paths, final)
    _prune(paths, KEEP_BUILDS)


def rollback(paths: DataPaths | None = None) -> Path:
    """Point ``current`` back at the build before it; on an object store, the pointer
    ``current.json`` (and the worker's local mirror when it holds that build)."""
    paths = paths or data_paths()
    if bucket.is_remote():
        with _on_store("retour arrière (stockage objet)"):
            pointer = bucket.rollback(KEEP_BUILDS)
        local = paths.site_builds / pointer["build_id"]
        if local.is_dir():
            _swap_current(paths, local)
        return storage.area("site") / bucket.BUILDS / pointer["build_id"]
    builds = sorted(p for p in paths.site_builds.iterdir()
                    if p.is_dir() and not p.name.endswith(".partial"))
    current = paths.site_current.resolve()
    older = [b for b in builds if b.resolve() != current and b.name < current.name]
    if not older:
        raise SiteCheckFailed("aucune version précédente du site n'est disponible")
    _swap_current(paths, older[-1])
    return older[-1]
