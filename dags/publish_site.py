"""Warehouse -> indicators -> Pelican build -> atomic swap. Wiring only; logic in ``pipeline``
and ``transforms``."""

from __future__ import annotations

from datetime import timedelta

from _shared import TIMEZONE, WAREHOUSE, dag_settings
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task

DOC = """
### Publication du site

Lancé dès que l'entrepôt change (après la réception d'un fichier accepté) et chaque nuit à 5 h
(heure de Paris) pour que la liste des « prochains ateliers » ne montre jamais de séance passée.
Calcule les indicateurs, construit le site avec Pelican dans un dossier neuf, le vérifie (pages
lisibles, liens internes valides), puis le met en ligne par un échange atomique de lien.

**Si la tâche échoue**, le site en ligne ne change pas : les habitants voient la dernière version
correcte. Lisez le journal, corrigez, relancez. `make rollback` remet la version précédente.
"""


@dag(**dag_settings("publication_site",
                    AssetOrTimeSchedule(
                        timetable=CronTriggerTimetable("0 5 * * *", timezone=TIMEZONE),
                        assets=[WAREHOUSE]),
                    "publication", DOC, 1, timedelta(minutes=1), timedelta(minutes=30)))
def publication_site():
    @task(doc_md="Calcule les indicateurs et construit puis met en ligne le site.")
    def construire_et_publier(dag_run=None) -> dict:
        from dataclasses import asdict
        from zoneinfo import ZoneInfo

        from pipeline.config import load_territory
        from publish.site import publish

        territory = load_territory()
        # The run's own time, not the wall clock: a re-run rebuilds the same site.
        now = dag_run.run_after.astimezone(ZoneInfo(territory.timezone))
        return asdict(publish(now, territory))

    @task(trigger_rule="all_done",  # also after a failed build: the rules are still worth reading
          doc_md="Reconstruit les Data Docs de Great Expectations (les règles de contrôle de "
                 "chaque jeu de données) dans le dossier de données, lisibles hors ligne, une "
                 "fois le site publié. Un échec ici ne touche pas le site public.")
    def documenter_controles() -> str:
        from pipeline.check.datadocs import build_data_docs

        return str(build_data_docs())

    construire_et_publier() >> documenter_controles()  # residents' site first


publication_site()
