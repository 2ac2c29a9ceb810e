"""Build a site from sample data plus hostile partner text, without Airflow (the DAG path is
covered by test_end_to_end.py), and serve it on 127.0.0.1 for browser tests.

Built once per session as conftest's ``demo_site``; the golden pages (test_golden.py) are
this build's bytes, so everything that reaches a page is fixed: the reference day, the run
and the files' reception times (their modification times)."""

from __future__ import annotations

import functools
import http.server
import os
import threading
from contextlib import contextmanager
from pathlib import Path

from conftest import REFERENCE_DAY, REFERENCE_RUN

from demo.samples import write_samples
from pipeline.ingest.flow import process_files
from pipeline.receive.inbox import scan_inboxes
from publish.site import publish

HOSTILE_VENUE = (
    "id,pivot,nom,commune,code_postal,code_insee,adresse,latitude,longitude,telephone,"
    "site_web,horaires,date_maj,services,presentation_resume\n"
    'lieu-hostile,21910477700019,"<script>alert(\'nom\')</script> Médiathèque",Palaiseau,91120,'
    '91477,"<img src=x onerror=alert(1)> 3 rue **gras**",48.71,2.24,+33169310000,'
    'https://example.org/"><script>alert(2)</script>,Mo-Fr 09:00-12:00,2026-01-15,'
    'Aide aux démarches administratives,"[lien](javascript:alert(3)) <b>gras</b>"\n')
HOSTILE_WORKSHOP = (
    "identifiant_seance;commune;lieu;adresse;date;heure_debut;duree_minutes;thematique;public;"
    "places;inscrits;presents;statut;inscription\n"
    "PAL-X1;91477;<script>alert('lieu')</script> Médiathèque;\" onmouseover=alert(5) x=\";"
    "01/12/2026;10h;60;Prise en main du smartphone;Seniors;10;2;;Prévue;"
    "<a href=javascript:alert(6)>Mairie</a> **01 69 31 00 00**\n")

# Edge cases of the directory in Igny, which has no other venue: a mobile venue without
# coordinates whose hours are words (listed, never sorted by distance, no hours facet), and a
# venue closed on public holidays, free under conditions, bookable online.
EDGE_VENUES = (
    "id,pivot,nom,commune,code_postal,code_insee,adresse,latitude,longitude,horaires,date_maj,services,"
    "itinerance,frais_a_charge,prise_rdv,dispositif_programmes_nationaux,presentation_detail\n"
    "lieu-igny-bus,21910312700011,Bus numérique,Igny,91430,91312,Place de la Ferme,,,"
    "le mardi matin sur le marché,2026-01-15,Aide aux démarches administratives,Itinérant,"
    "Gratuit,,France Services,Passe le mardi matin sur la place du marché.\n"
    "lieu-igny-ccas,21910312700029,CCAS d'Igny,Igny,91430,91312,23 avenue de la Division Leclerc,48.7410,2.2280,"
    '"Mo-Fr 09:00-12:00,14:00-18:00; Sa 10:00-12:00; PH off",2026-01-15,'
    "Aide aux démarches administratives,Fixe,Gratuit sous condition,"
    "https://www.rdv-solidarites.fr/,Conseillers numériques,\n")


# Partner files are received (modified) an hour before the run, the hostile ones a minute later.
RECEIVED = REFERENCE_RUN.timestamp() - 3600


def build_demo_site(data_dir: Path) -> Path:
    for path in write_samples(data_dir / "inbox", REFERENCE_DAY):
        os.utime(path, (RECEIVED, RECEIVED))
    hostile = {data_dir / "inbox" / "agglo-lieux" / "lieux_hostiles.csv": HOSTILE_VENUE,
               data_dir / "inbox" / "ville-palaiseau" / "ateliers_hostiles.csv": HOSTILE_WORKSHOP,
               data_dir / "inbox" / "agglo-lieux" / "lieux_igny.csv": EDGE_VENUES}
    for path, text in hostile.items():
        path.write_text(text, encoding="utf-8")
        os.utime(path, (RECEIVED + 60, RECEIVED + 60))
    for candidate in scan_inboxes():
        outcome = process_files([(candidate.partner, candidate.path)])[0]
        assert outcome.status != "rejete", outcome
    publish(REFERENCE_RUN)
    return data_dir / "site" / "current"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *_args) -> None:
        pass


@contextmanager
def serve(root: Path):
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
