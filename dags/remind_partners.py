"""Late partners -> stewards' reminders, daily. Wiring only; logic in ``pipeline.reminders``."""

from __future__ import annotations

from datetime import timedelta

from _shared import TIMEZONE, check_storage, check_warehouse, dag_settings
from airflow.sdk import CronTriggerTimetable, dag, task

DOC = """
### Rappel des partenaires en retard

Chaque jour à 8 h (heure de Paris), écrit une alerte en français (dossier `alertes/`, et
courriel si SMTP est configuré) pour chaque partenaire qui n'a pas déposé de fichier depuis plus
longtemps que son rythme attendu (clé `cadence` de `territory.toml`). Un partenaire sans rythme
attendu n'est jamais relancé ; un partenaire en retard ne l'est qu'une fois par période de
retard (une par « cadence » écoulée sans fichier).

**Si la tâche échoue** : lisez le journal (territory.toml illisible, entrepôt injoignable),
corrigez, relancez ; les rappels déjà écrits ne sont pas répétés.
"""


@dag(**dag_settings("relance_partenaires",
                    CronTriggerTimetable("0 8 * * *", timezone=TIMEZONE),
                    "suivi", DOC, 2, timedelta(minutes=5), timedelta(minutes=10)))
def relance_partenaires():
    @task(doc_md="Écrit un rappel pour chaque partenaire en retard sur son rythme de dépôt, "
                 "une fois par période de retard. Échoue d'abord, avec un message clair, si "
                 "l'entrepôt n'est pas à la version du code.")
    def rappeler_retards(dag_run=None) -> list[str]:
        check_warehouse()
        check_storage()
        from pipeline.config import data_paths, load_territory
        from pipeline.load import ledger
        from pipeline.reminders import remind_late_partners

        # The run's own time, not the wall clock: a re-run of a day judges the same day.
        sent = remind_late_partners(load_territory(), data_paths(), ledger.entries(),
                                    dag_run.run_after)
        return [reminder.partner for reminder in sent]

    rappeler_retards()


relance_partenaires()
