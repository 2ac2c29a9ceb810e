"""Publishing: a fresh folder per build, checks before the atomic swap, rollback, and the
steward's alerts and status."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import REFERENCE_DAY, REFERENCE_RUN, REPO

from demo.samples import write_samples
from pipeline.cli import main as cli
from pipeline.ingest.flow import process_files
from pipeline.receive.inbox import scan_inboxes
from pipeline.alerts import task_failure_alert
from publish import site as publishing


@pytest.fixture
def loaded(loaded_samples: Path) -> Path:
    """The sample drops ingested (a copy of the session's template, conftest.loaded_samples)."""
    return loaded_samples


def live(data_dir: Path) -> Path:
    return (data_dir / "site" / "current").resolve()


def test_failed_build_leaves_the_live_site_untouched(loaded, monkeypatch):
    first = publishing.publish(REFERENCE_RUN)
    assert live(loaded) == Path(first.path)

    def broken(site_data, output, cache=None):
        output.mkdir(parents=True, exist_ok=True)
        (output / "index.html").write_text('<a href="/page-absente/">x</a>')

    monkeypatch.setattr(publishing, "render_site", broken)
    with pytest.raises(publishing.SiteCheckFailed, match="liens cassés"):
        publishing.publish(REFERENCE_RUN + timedelta(hours=1))
    assert live(loaded) == Path(first.path)
    assert not list((loaded / "site" / "builds").glob("*.partial"))


def test_a_large_drop_in_pages_needs_a_flag(loaded, monkeypatch):
    publishing.publish(REFERENCE_RUN)
    real_render = publishing.render_site

    def without_venues(site_data, output, cache=None):
        real_render({**site_data, "venues": [], "venue_groups": [], "upcoming": [],
                     "home_upcoming": []}, output, cache)

    monkeypatch.setattr(publishing, "render_site", without_venues)
    with pytest.raises(publishing.SiteCheckFailed, match="INCLUSION_ALLOW_PAGE_DROP"):
        publishing.publish(REFERENCE_RUN + timedelta(hours=1))
    monkeypatch.setenv("INCLUSION_ALLOW_PAGE_DROP", "1")
    smaller = publishing.publish(REFERENCE_RUN + timedelta(hours=2))
    assert live(loaded) == Path(smaller.path)


def test_rollback_puts_the_previous_build_back(loaded):
    first = publishing.publish(REFERENCE_RUN)
    second = publishing.publish(REFERENCE_RUN + timedelta(days=1))
    assert live(loaded) == Path(second.path)
    assert cli(["rollback"]) == 0
    assert live(loaded) == Path(first.path)


@pytest.mark.heavy  # seven builds of the site
def test_only_the_last_builds_are_kept(loaded):
    # Hourly runs: pruning is the same as on daily ones, and unchanged pages are hard-linked
    # from the live build instead of rendered again (so pruning must not break kept builds).
    for hour in range(publishing.KEEP_BUILDS + 2):
        publishing.publish(REFERENCE_RUN + timedelta(hours=hour))
    builds = sorted(p.name for p in (loaded / "site" / "builds").iterdir())
    assert len(builds) == publishing.KEEP_BUILDS
    assert live(loaded).name == builds[-1]
    for build in builds:  # every kept build is whole: one venue page for instance
        venue = loaded / "site" / "builds" / build / "lieux" / "lieu-91477-01" / "index.html"
        assert venue.is_file()


def test_old_builds_leave_at_the_swap_and_are_deleted_in_the_background(loaded):
    import time

    from pipeline.config import data_paths

    live_build = Path(publishing.publish(REFERENCE_RUN).path)
    builds = loaded / "site" / "builds"
    old = [builds / f"2026010{day}T060000" for day in range(1, 8)]
    for folder in old:  # seven older builds, each with a page hard-linked from the live one
        (folder / "lieux").mkdir(parents=True)
        os.link(live_build / "index.html", folder / "index.html")
    candidate = publishing.prepare(REFERENCE_RUN + timedelta(hours=1))
    assert all(folder.is_dir() for folder in old)  # building drops nothing
    publishing.go_live(candidate.build_id)
    kept = sorted(p.name for p in builds.iterdir())
    assert kept == sorted([f.name for f in old[-3:]] + [live_build.name, candidate.build_id])
    trash = publishing.trash_folder(data_paths())
    deadline = time.monotonic() + 120  # (a bound for a stuck deletion, not a speed target)
    while any(trash.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(trash.iterdir())  # emptied by the background process
    assert live(loaded).name == candidate.build_id
    assert (live_build / "index.html").read_bytes()  # unlinking others' links left it whole
    assert (live_build / "index.html").stat().st_nlink >= 1


def test_an_old_build_that_cannot_leave_stays_and_the_new_one_is_live(loaded, caplog):
    from pipeline.config import data_paths

    live_build = Path(publishing.publish(REFERENCE_RUN).path)
    builds = loaded / "site" / "builds"
    old = [builds / f"2026010{day}T060000" for day in range(1, 5)]
    for folder in old:
        folder.mkdir(parents=True)
        (folder / "index.html").write_text("ancienne", encoding="utf-8")
    trash = publishing.trash_folder(data_paths())
    shutil.rmtree(trash, ignore_errors=True)
    trash.write_text("un fichier à la place du dossier", encoding="utf-8")  # rename impossible
    candidate = publishing.prepare(REFERENCE_RUN + timedelta(hours=1))
    with caplog.at_level(logging.WARNING):
        publishing.go_live(candidate.build_id)
    assert live(loaded).name == candidate.build_id
    assert all(folder.is_dir() for folder in old)  # left for the next prune
    assert "Ancienne version 20260101T060000 laissée en place" in caplog.text
    trash.unlink()
    publishing.publish(REFERENCE_RUN + timedelta(hours=2))  # the next prune takes them
    assert not old[0].exists()
    assert len([p for p in builds.iterdir() if p.is_dir()]) == publishing.KEEP_BUILDS


def test_pages_added_and_removed_are_found_from_the_live_builds_manifest(loaded):
    import json

    from publish.build_cache import manifest_path

    live_build = Path(publishing.publish(REFERENCE_RUN).path)
    assert "Pages : 0 ajoutées, 0 retirées" in publishing.prepare(
        REFERENCE_RUN + timedelta(hours=1)).text  # the manifest's list is the build's own
    manifest = manifest_path(live_build)
    stored = json.loads(manifest.read_text(encoding="utf-8"))
    assert "lieux/index.html" in stored["html"] and "robots.txt" not in stored["html"]
    stored["html"] = [*stored["html"], "fantome/index.html"]
    stored["html"].remove("lieux/index.html")
    manifest.write_text(json.dumps(stored), encoding="utf-8")
    text = publishing.prepare(REFERENCE_RUN + timedelta(hours=2)).text
    assert "Pages : 1 ajoutées, 1 retirées" in text
    assert "- ajoutée : /lieux/" in text and "- retirée : /fantome/" in text


def test_task_failure_writes_a_french_alert(data_dir):
    class FakeTaskInstance:
        dag_id, task_id, map_index, run_id = "reception_fichiers", "traiter_lot", 3, "r1"

    task_failure_alert({"task_instance": FakeTaskInstance(), "exception": OSError("disque plein")})
    (alert,) = (data_dir / "alertes").glob("*.txt")
    text = alert.read_text(encoding="utf-8")
    assert "reception_fichiers.traiter_lot[3]" in text and "disque plein" in text
    assert "Que faire" in text


def test_the_same_failure_in_every_run_alerts_once_in_the_repeat_window(data_dir, monkeypatch):
    # reception_fichiers runs every 30 s: a warehouse left behind the code fails every run.
    class Run:
        dag_id, task_id, map_index = "reception_fichiers", "surveiller_depots", -1

        def __init__(self, run_id: str) -> None:
            self.run_id = run_id

    def fail(run_id: str, message: str = "entrepôt à une version inconnue") -> None:
        task_failure_alert({"task_instance": Run(run_id), "exception": RuntimeError(message)})

    monkeypatch.setenv("INCLUSION_ALERT_REPEAT_HOURS", "1")
    for run in range(5):
        fail(f"scheduled__{run}")
    assert len(list((data_dir / "alertes").glob("*.txt"))) == 1
    fail("scheduled__5", "disque plein")  # another failure is news
    assert len(list((data_dir / "alertes").glob("*.txt"))) == 2
    # Once the window has passed, the same failure alerts again.
    for marker in (data_dir / "etat" / "alertes-envoyees").iterdir():
        os.utime(marker, (marker.stat().st_mtime - 3700,) * 2)
    fail("scheduled__6")
    assert len(list((data_dir / "alertes").glob("*.txt"))) == 3


def test_status_shows_each_partners_last_file(loaded, capsys):
    assert cli(["status"]) == 0
    out = capsys.readouterr().out
    assert "orange-ateliers" in out and "accepté" in out and "ateliers_orange_" in out


def _inode(build: Path, relative: str) -> int:
    return (build / relative).stat().st_ino


@pytest.mark.heavy  # three builds of the site
def test_unchanged_pages_are_reused_from_the_live_build_until_the_next_day(loaded):
    first = Path(publishing.publish(REFERENCE_RUN).path)
    venues = sorted(p.relative_to(first).as_posix() for p in first.glob("lieux/*/index.html"))
    workshop = next(first.glob("ateliers/*/atelier.ics")).relative_to(first).as_posix()
    assert len(venues) > 5

    # The venue partner sends its whole directory again with one venue's hours corrected:
    # only that venue's page is rendered again.
    (archived,) = (loaded / "archive" / "agglo-lieux").glob("*.csv")
    lines = archived.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    hours = header.index("horaires")
    import csv
    import io

    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    rows[1][hours] = "Mo-Sa 08:00-20:00"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path = loaded / "inbox" / "agglo-lieux" / "lieux_correction.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    assert process_files([("agglo-lieux", str(path))])[0].rows_loaded == len(rows) - 1
    second = Path(publishing.publish(REFERENCE_RUN + timedelta(hours=1)).path)

    name = rows[1][header.index("nom")]
    (changed,) = [v for v in venues if f"<h1>{name}</h1>" in (first / v).read_text(encoding="utf-8")
                  .replace("&#39;", "'")]
    assert "Du lundi au samedi de 8 h à 20 h" in (second / changed).read_text(encoding="utf-8")
    assert _inode(second, changed) != _inode(first, changed)
    same = [v for v in venues if v != changed]
    assert all(_inode(second, v) == _inode(first, v) for v in same)  # hard links, not copies
    assert _inode(second, workshop) == _inode(first, workshop)
    # Lists and the home page always come from the new data.
    assert _inode(second, "lieux/index.html") != _inode(first, "lieux/index.html")

    # The next day every page shows the new date, so nothing is reused.
    third = Path(publishing.publish(REFERENCE_RUN + timedelta(days=1)).path)
    assert all(_inode(third, v) != _inode(second, v) for v in venues)
    assert (third / same[0]).read_text(encoding="utf-8") != (second / same[0]).read_text(
        encoding="utf-8")


def test_long_lists_are_split_into_one_page_per_commune(loaded, monkeypatch):
    monkeypatch.setenv("INCLUSION_LIST_LIMIT", "3")
    build = Path(publishing.publish(REFERENCE_RUN).path)
    venues_index = (build / "lieux" / "index.html").read_text(encoding="utf-8")
    assert 'href="/lieux/commune/91477/"' in venues_index and "venue-card" not in venues_index
    assert "(2 lieux)" in venues_index and "lieus" not in venues_index
    palaiseau = (build / "lieux" / "commune" / "91477" / "index.html").read_text(encoding="utf-8")
    assert "Médiathèque George Sand" in palaiseau and "Médiathèque Jean Cocteau" not in palaiseau
    workshops_index = (build / "ateliers" / "index.html").read_text(encoding="utf-8")
    assert 'href="/ateliers/calendrier-91477.ics"' in workshops_index
    communes = sorted(p.parent.name for p in build.glob("ateliers/commune/*/index.html"))
    assert "91477" in communes and "91377" in communes
    massy = (build / "ateliers" / "commune" / "91377" / "index.html").read_text(encoding="utf-8")
    assert 'data-commune="91377"' in massy and 'data-commune="91477"' not in massy
    home = (build / "index.html").read_text(encoding="utf-8")
    assert "Choisir sa commune" in home and "/lieux/#commune-" not in home


# --- venue ids that give the same page path --------------------------------------------------

VENUE_HEADER = ("id,pivot,nom,commune,code_postal,code_insee,adresse,date_maj,services,"
                "modalites_acces,itinerance\n")


def _venue_line(venue_id: str, name: str) -> str:
    return (f"{venue_id},21910477700019,{name},Palaiseau,91120,91477,1 rue de Paris,2026-01-15,"
            "Aide aux démarches administratives,Se présenter,Fixe\n")


def _drop_venues(data_dir: Path, file_name: str, venues: list[tuple[str, str]]) -> None:
    path = data_dir / "inbox" / "agglo-lieux" / file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(VENUE_HEADER + "".join(_venue_line(*v) for v in venues), encoding="utf-8")
    assert process_files([("agglo-lieux", str(path))])[0].status != "rejete"


def _contents(build: Path) -> dict[str, bytes]:
    return {p.relative_to(build).as_posix(): p.read_bytes()
            for p in sorted(build.rglob("*")) if p.is_file()}


def _venue_pages(build: Path) -> dict[str, str]:
    """Venue page path -> the venue name in its heading."""
    import re

    return {p.parent.name: re.search(r"<h1>(.*?)</h1>", p.read_text(encoding="utf-8")).group(1)
            for p in build.glob("lieux/*/index.html") if p.parent.name != "commune"}


def test_colliding_venue_ids_get_their_own_pages_and_the_live_build_never_changes(data_dir):
    _drop_venues(data_dir, "lieux_1.csv", [("Lieu-1", "Médiathèque Aragon")])
    first = Path(publishing.publish(REFERENCE_RUN).path)
    before = _contents(first)
    assert _venue_pages(first) == {"lieu-1": "Médiathèque Aragon"}

    # Same day (pages are reused from the live build), a second venue whose id differs only
    # in case and punctuation, listed after the first (whose page is then linked, not written).
    _drop_venues(data_dir, "lieux_2.csv", [("Lieu-1", "Médiathèque Aragon"),
                                           ("lieu_1", "Relais numérique")])
    second = Path(publishing.publish(REFERENCE_RUN + timedelta(hours=1)).path)
    assert _contents(first) == before  # the kept build did not change by a byte
    pages = _venue_pages(second)
    assert sorted(pages.values()) == ["Médiathèque Aragon", "Relais numérique"]
    assert all(slug.startswith("lieu-1-") for slug in pages)
    listing = (second / "lieux" / "index.html").read_text(encoding="utf-8")
    assert all(f'href="/lieux/{slug}/"' in listing for slug in pages)

    # Stable: the next build gives each venue the same path, and reuses the unchanged pages.
    third = Path(publishing.publish(REFERENCE_RUN + timedelta(hours=2)).path)
    assert _venue_pages(third) == pages
    assert all(_inode(third, f"lieux/{s}/index.html") == _inode(second, f"lieux/{s}/index.html")
               for s in pages)
    assert _contents(first) == before


def test_colliding_venue_ids_build_on_a_fresh_site(data_dir):
    _drop_venues(data_dir, "lieux.csv", [("Lieu-1", "Médiathèque Aragon"),
                                         ("lieu_1", "Maison France Services"),
                                         ("LIEU 1", "Espace public numérique")])
    build = Path(publishing.publish(REFERENCE_RUN).path)
    assert sorted(_venue_pages(build).values()) == [
        "Espace public numérique", "Maison France Services", "Médiathèque Aragon"]


def test_two_plan_items_on_one_path_fail_the_build_and_leave_the_live_site_alone(
        data_dir, monkeypatch):
    """Should two pages ever get one path again, the build fails instead of writing the second
    over the first, which may be a hard link into the live build."""
    from pages import venues

    _drop_venues(data_dir, "lieux_1.csv", [("Lieu-1", "Médiathèque Aragon")])
    first = Path(publishing.publish(REFERENCE_RUN).path)
    before = _contents(first)
    _drop_venues(data_dir, "lieux_2.csv", [("lieu_1", "Maison France Services")])
    monkeypatch.setattr(venues, "unique_slugs", lambda bases, _ids, _fallback: bases)
    with pytest.raises(ValueError, match="même chemin : lieux/lieu-1/index.html"):
        publishing.publish(REFERENCE_RUN + timedelta(hours=1))
    assert live(data_dir) == first and _contents(first) == before


def test_no_writer_of_the_build_writes_through_a_hard_link(tmp_path, monkeypatch):
    """Pelican's writer, the plan's files and Pelican's theme copies replace a file that is a
    hard link to another build instead of writing into the shared bytes."""
    import pelican.utils
    from jinja2 import Template

    from pages.page_plan import File, write_file
    from pipeline.files import replace_file

    monkeypatch.syspath_prepend(str(REPO / "site" / "plugins"))  # as Pelican's plugin loader
    import data_pages

    live_build, new_build = tmp_path / "live", tmp_path / "new"
    names = ("page/index.html", "qr.svg", "sitemap.xml", "theme/site.css")
    for name in names:
        (live_build / name).parent.mkdir(parents=True, exist_ok=True)
        (live_build / name).write_text("en ligne", encoding="utf-8")
        (new_build / name).parent.mkdir(parents=True, exist_ok=True)
        os.link(live_build / name, new_build / name)
    data_pages.register()
    writer = data_pages.LinkSafeWriter(str(new_build), settings={"RELATIVE_URLS": False})
    with writer._open_w(str(new_build / names[0]), "utf-8") as handle:
        handle.write(Template("nouveau").render())
    write_file(new_build, File(names[1], lambda: b"nouveau"))
    replace_file(new_build / names[2], b"nouveau")
    source = tmp_path / "site.css"
    source.write_text("nouveau", encoding="utf-8")
    pelican.utils.copy_file(str(source), str(new_build / names[3]))
    for name in names:
        assert (live_build / name).read_text(encoding="utf-8") == "en ligne", name
        assert (new_build / name).read_text(encoding="utf-8") == "nouveau", name


def _insert_venues(rows: list[dict], partner: str = "agglo-lieux") -> None:
    """Venue rows straight into the warehouse, as an ingest that let them through would."""
    import pandas as pd

    from pipeline.contracts.venues import VENUES
    from pipeline.load import warehouse

    frame = pd.DataFrame(rows).reindex(columns=VENUES.column_names)
    frame["_ligne"] = range(2, len(frame) + 2)
    with warehouse.engine().begin() as connection:
        warehouse.supersede_and_insert(connection, VENUES, partner, "f" * 64,
                                       "2026-11-25T05:00:00+01:00", frame)


def test_a_venue_whose_commune_the_territory_does_not_know_does_not_freeze_publication(loaded):
    import csv
    import io

    stray = {"id": "lieu-inconnu", "pivot": "21910477700019", "nom": "Tiers-lieu d'Atlantis",
             "commune": "Atlantis", "code_postal": "91120", "code_insee": None,
             "adresse": "1 rue de la Mer", "date_maj": "2026-01-15",
             "services": "Aide aux démarches administratives", "modalites_acces": "Se présenter",
             "itinerance": "Fixe"}
    elsewhere = {**stray, "id": "lieu-paris", "nom": "Espace numérique parisien",
                 "commune": "Paris", "code_postal": "75001", "code_insee": "75056"}
    _insert_venues([stray, elsewhere])
    build = Path(publishing.publish(REFERENCE_RUN).path)

    pages = [p for p in build.glob("lieux/*/index.html")]
    names = " ".join(p.read_text(encoding="utf-8") for p in pages)
    assert "Atlantis" not in names and "parisien" not in names
    home = (build / "index.html").read_text(encoding="utf-8")
    assert f"{len(pages)} lieux vous accompagnent" in home  # the count matches the pages
    # Counted in no commune, and the territory total is the sum of the communes.
    table = list(csv.DictReader(io.StringIO((build / "donnees" / "resultats" / str(
        REFERENCE_RUN.year) / "lieux-communes.csv").read_text(encoding="utf-8"))))
    communes = [row for row in table if row["niveau"] == "commune"]
    (territory,) = [row for row in table if row["niveau"] != "commune"]
    assert "75056" not in {row["code_insee"] for row in communes}
    assert int(territory["lieux_recenses"]) == sum(int(r["lieux_recenses"]) for r in communes)
    assert int(territory["lieux_recenses"]) == len(pages)
    # The export back to the national directory keeps the partner's rows as sent.
    exported = list(csv.DictReader(io.StringIO(
        (build / "donnees" / "lieux.csv").read_text(encoding="utf-8"))))
    assert {"lieu-inconnu", "lieu-paris"} <= {row["id"] for row in exported}


class _PublicationTask:
    dag_id, task_id, map_index, run_id = "publication_site", "construire_et_publier", -1, "r2"


def _alert_text(data_dir: Path) -> str:
    (alert,) = (data_dir / "alertes").glob("*.txt")
    return alert.read_text(encoding="utf-8")


def test_a_failed_publication_alert_names_the_error_and_the_step_not_a_guess(
        loaded, monkeypatch):
    from transforms import catalogue

    def negative_count(self, mask=None):  # what the unknown commune used to cause
        raise ValueError("'list' argument must have no negative elements")

    monkeypatch.setattr(catalogue.Groups, "count", negative_count)
    with pytest.raises(ValueError) as failure:
        publishing.publish(REFERENCE_RUN)
    task_failure_alert({"task_instance": _PublicationTask(), "exception": failure.value})
    text = _alert_text(loaded)
    assert text.startswith("Échec publication_site.construire_et_publier (calcul des indicateurs)")
    assert "Étape : calcul des indicateurs" in text
    assert "Erreur : ValueError : 'list' argument must have no negative elements" in text
    assert "Endroit : tests/test_publish.py" in text and "negative_count" in text
    assert not any(guess in text for guess in ("disque plein", "base indisponible",
                                                "configuration"))  # no generic guess
    assert "ni le disque ni la base ne sont en cause" in text and "Que faire" in text


def test_a_failed_site_check_alert_names_the_check(loaded, monkeypatch):
    def broken(site_data, output, cache=None):
        output.mkdir(parents=True, exist_ok=True)
        (output / "index.html").write_text('<a href="/page-absente/">x</a>')

    monkeypatch.setattr(publishing, "render_site", broken)
    with pytest.raises(publishing.SiteCheckFailed) as failure:
        publishing.publish(REFERENCE_RUN)
    task_failure_alert({"task_instance": _PublicationTask(), "exception": failure.value})
    text = _alert_text(loaded)
    assert "Étape : contrôle du site construit" in text
    assert "SiteCheckFailed : liens cassés : index.html -> /page-absente/" in text
    assert "le site en ligne n'a pas changé" in text


@pytest.mark.parametrize("error, advice", [
    (OSError(28, "No space left on device"), "espace disque"),
    (sqlite3.OperationalError("database is locked"), "base de l'entrepôt"),
    (type("AirflowTaskTimeout", (Exception,), {})("Timeout, PID: 12"), "délai d'exécution"),
    (KeyError("code_insee"), "ni le disque ni la base ne sont en cause"),
    (type("SiteStoreUnreachable", (ConnectionError,), {})("le stockage ne répond pas"),
     "vérifiez qu'il est joignable"),
])
def test_alert_advice_follows_the_kind_of_error(data_dir, error, advice):
    task_failure_alert({"task_instance": _PublicationTask(), "exception": error})
    text = _alert_text(data_dir)
    assert f"Erreur : {type(error).__name__} : {error}" in text and advice in text


# --- What changed, and the steward's approval (issue 17, publish.changes) ---------------------

def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _drop_one_venue(loaded: Path) -> str:
    """The venue partner sends a directory of one venue instead of its whole directory."""
    (archived,) = (loaded / "archive" / "agglo-lieux").glob("*.csv")
    lines = archived.read_text(encoding="utf-8").splitlines()
    path = loaded / "inbox" / "agglo-lieux" / "lieux_un_seul.csv"
    path.write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")
    assert process_files([("agglo-lieux", str(path))])[0].rows_loaded == 1
    return path.name


def test_a_usual_publication_goes_online_without_waiting_and_is_recorded(loaded):
    from publish.changes import recent_publications

    first = publishing.publish(REFERENCE_RUN)
    candidate = publishing.prepare(REFERENCE_RUN + timedelta(hours=1))
    assert not candidate.needs_approval and candidate.partners == []
    assert live(loaded) == Path(first.path)  # preparing never swaps
    assert "Fichiers reçus depuis la version en ligne : 0" in candidate.text
    publishing.go_live(candidate.build_id)
    assert live(loaded).name == candidate.build_id
    listed = recent_publications(5)
    assert [(p["build_id"], p["status"]) for p in listed] == [
        (candidate.build_id, "publiee"), (first.build_id, "publiee")]
    assert listed[1]["live_build_id"] is None and listed[0]["live_build_id"] == first.build_id
    assert listed[1]["files"] and listed[1]["rows"]["ateliers"]["added"] > 0


def test_an_unusual_publication_waits_and_goes_online_once_approved(loaded):
    from publish.changes import recent_publications

    first = publishing.publish(REFERENCE_RUN)
    name = _drop_one_venue(loaded)
    candidate = publishing.prepare(REFERENCE_RUN + timedelta(hours=1))
    assert candidate.needs_approval and candidate.partners == ["agglo-lieux"]
    assert f"« {name} »" in candidate.anomalies[0]
    assert "À vérifier avant la mise en ligne" in candidate.text
    assert f"agglo-lieux : « {name} » (Lieux de médiation numérique" in candidate.text
    assert Path(candidate.path).parent.name == "attente"
    assert live(loaded) == Path(first.path)  # waiting: nothing swapped
    assert recent_publications(1)[0]["status"] == "en_attente"

    published = publishing.go_live(candidate.build_id, decision="« Publier » par admin")
    assert live(loaded) == Path(published.path) == loaded / "site" / "builds" / candidate.build_id
    assert not Path(candidate.path).exists()
    (record,) = recent_publications(1)
    assert record["status"] == "publiee" and record["decision"] == "« Publier » par admin"
    assert publishing.go_live(candidate.build_id).build_id == candidate.build_id  # a retry


def test_a_refused_publication_leaves_the_live_site_byte_for_byte(loaded):
    from publish.changes import recent_publications

    first = publishing.publish(REFERENCE_RUN)
    before = _tree(live(loaded))
    name = _drop_one_venue(loaded)
    candidate = publishing.prepare(REFERENCE_RUN + timedelta(hours=1))
    assert candidate.needs_approval

    aside = publishing.set_aside(candidate.build_id, decision="« Écarter » par admin")
    assert live(loaded) == Path(first.path) and _tree(live(loaded)) == before
    assert aside == loaded / "site" / "ecartees" / candidate.build_id
    assert (aside / "index.html").is_file()  # kept whole, aside
    assert not (loaded / "site" / "builds" / candidate.build_id).exists()
    assert not Path(candidate.path).exists()
    report = (loaded / "inbox" / "agglo-lieux" / f"publication-{candidate.build_id}.rapport.txt")
    text = report.read_text(encoding="utf-8")
    assert f"« {name} »" in text and "Que faire" in text
    (alert,) = (loaded / "alertes").glob("*.txt")
    assert "écartée" in alert.read_text(encoding="utf-8")
    assert recent_publications(1)[0]["status"] == "ecartee"
    # The refused build is never a rollback target, and the next publication still compares
    # with the live site.
    with pytest.raises(publishing.SiteCheckFailed):
        publishing.rollback()
    assert publishing.prepare(REFERENCE_RUN + timedelta(hours=2)).needs_approval


def test_an_old_run_cleared_again_never_takes_the_place_of_a_newer_live_site(loaded):
    """A steward clears a publication that failed yesterday, after today's went online: the
    live site stays today's (the task is skipped, not failed), and rollback is the only way
    back."""
    yesterday = publishing.prepare(REFERENCE_RUN)
    today = publishing.publish(REFERENCE_RUN + timedelta(days=1))
    with pytest.raises(publishing.StaleBuild, match=f"{today.build_id}.*make rollback"):
        publishing.go_live(yesterday.build_id)
    assert live(loaded) == Path(today.path)
    assert Path(yesterday.path).exists()  # left as it was
