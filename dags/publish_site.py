"""Warehouse -> indicators -> Pelican build -> atomic swap. Wiring only; logic in ``pipeline``
and ``transforms``."""

from __future__ import annotations

from datetime import timedelta

from _shared import (SITE, TIMEZONE, WAREHOUSE, StewardDecision, check_storage,
                     check_warehouse, dag_settings, store_retries)
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task

APPROVE, REJECT = "Publier", "Écarter"
# An object store away for a while delays the publication without an alert (by default 4
# retries, delays doubling from 1 min: 15 to 30 min in all; INCLUSION_STORE_RETRIES and
# INCLUSION_STORE_RETRY_DELAY_SECONDS, read here at parse); after that the stewards get one, and
# the live site stays.
STORE_RETRIES, STORE_RETRY_DELAY = store_retries()
# A steward who does not answer within this delay: the approval task fails (alert), the live
# site stays and the build waits in <site>/attente/ until the next publication replaces it.
DECISION_DELAY = timedelta(days=2)

DOC = """
### Publication du site

Lancé dès que l'entrepôt change (après la réception d'un fichier accepté) et chaque nuit à 5 h
(heure de Paris) pour que la liste des « prochains ateliers » ne montre jamais de séance passée.
Calcule les indicateurs, construit le site avec Pelican dans un dossier neuf, le vérifie (pages
lisibles, liens internes valides), puis le met en ligne par un échange atomique de lien.

**Publication inhabituelle** : quand un chiffre clé d'une commune baisse fortement par rapport au
site en ligne, ou qu'un partenaire envoie un fichier bien plus petit que le précédent (seuils :
`[publication]` de `territory.toml`), la tâche `approbation` attend la décision d'un gestionnaire
(page « Required Actions » d'Airflow, « Actions requises » en français) ; le résumé des changements y est affiché. « Publier » met le
site en ligne ; « Écarter » garde le site en ligne tel quel, range la version construite dans
`site/ecartees/` et envoie un rapport aux partenaires concernés. Sans anomalie, la publication
est automatique.

**Si une tâche échoue**, le site en ligne ne change pas : les habitants voient la dernière version
correcte. Lisez le journal, corrigez, relancez. `make rollback` remet la version précédente.
Une ancienne exécution relancée après qu'une version plus récente est en ligne ne la
remplace pas : sa tâche `mettre_en_ligne` est sautée (le site ne revient jamais en arrière
de lui-même).

**Site sur un stockage objet** (`INCLUSION_SITE_STORE_URL`) : le site est construit et vérifié
sur le poste de travail, puis envoyé sous `builds/<version>/`, vérifié sur place, et le pointeur
`current.json` change en une seule écriture. Stockage injoignable : nouvelles tentatives, puis
alerte ; le pointeur ne nomme jamais une version incomplète.
"""


@dag(**dag_settings("publication_site",
                    AssetOrTimeSchedule(
                        timetable=CronTriggerTimetable("0 5 * * *", timezone=TIMEZONE),
                        assets=[WAREHOUSE]),
                    "publication", DOC, 1, timedelta(minutes=1), timedelta(minutes=30)))
def publication_site():
    @task(doc_md="Calcule les indicateurs, construit le site dans un dossier neuf, le vérifie "
                 "et relève ce qui change par rapport au site en ligne (fichiers reçus, lignes, "
                 "pages, chiffres clés par commune) ; ne met rien en ligne (sur un stockage "
                 "objet, l'envoie sous son propre préfixe, que personne ne lit encore). Échoue "
                 "d'abord, avec un message clair, si l'entrepôt n'est pas à la version du code "
                 "ou si le stockage objet du site est mal réglé.")
    def construire(dag_run=None) -> dict:
        check_warehouse()
        check_storage()
        from dataclasses import asdict
        from zoneinfo import ZoneInfo

        from pipeline.config import load_territory
        from publish.site import prepare

        territory = load_territory()
        # The run's own time, not the wall clock: a re-run rebuilds the same site.
        now = dag_run.run_after.astimezone(ZoneInfo(territory.timezone))
        return asdict(prepare(now, territory))

    @task.branch(doc_md="Sans anomalie, la publication continue seule ; sinon elle attend la "
                        "décision d'un gestionnaire (tâche approbation).")
    def decider(candidate: dict) -> str:
        return "approbation" if candidate["anomalies"] else "sans_approbation"

    sans_approbation = EmptyOperator(
        task_id="sans_approbation",
        doc_md="Aucune anomalie : la publication ne demande pas d'approbation.")

    approbation = StewardDecision(
        task_id="approbation",
        subject="Publication inhabituelle du site : votre décision",
        body="{{ ti.xcom_pull(task_ids='construire')['text'] }}",
        options=[APPROVE, REJECT],
        options_mapping={APPROVE: "mettre_en_ligne", REJECT: "ecarter"},
        params={"motif": Param("", type="string", title="Motif (facultatif)",
                               description="Noté dans l'historique des publications.")},
        response_timeout=DECISION_DELAY,
        doc_md="Attend la décision d'un gestionnaire (« Publier » ou « Écarter ») quand le "
               "relevé des changements a trouvé une anomalie ; le résumé est affiché dans le "
               "formulaire. Sans réponse en 2 jours, la tâche échoue et le site ne change pas.")

    @task(trigger_rule="none_failed_min_one_success", outlets=[SITE],
          retries=STORE_RETRIES, retry_delay=STORE_RETRY_DELAY,
          doc_md="Met en ligne la version construite (échange atomique du lien current ; sur "
                 "un stockage objet : envoi sous son propre préfixe, vérification, puis "
                 "écriture du pointeur current.json) et joint le résumé des changements à "
                 "l'événement de l'Asset site_public. Si le stockage objet ne répond pas, la "
                 "tâche est retentée (délais doublés à partir d'une minute) puis alerte : le "
                 "site en ligne ne change pas tant que l'envoi n'est pas complet et vérifié.")
    def mettre_en_ligne(candidate: dict, outlet_events=None, ti=None) -> dict:
        from dataclasses import asdict

        from airflow.sdk.exceptions import AirflowSkipException

        from publish.site import StaleBuild, go_live

        decision = _decision(ti) or "mise en ligne automatique (aucune anomalie)"
        try:
            published = go_live(candidate["build_id"], decision=decision)
        except StaleBuild as stale:  # an old run cleared again: the newer site stays
            raise AirflowSkipException(str(stale)) from None
        outlet_events[SITE].extra = {"build_id": published.build_id, "pages": published.pages,
                                     "anomalies": candidate["anomalies"], "decision": decision,
                                     "resume": candidate["text"]}
        return asdict(published)

    @task(doc_md="La version construite est écartée : le site en ligne ne change pas, la "
                 "version est rangée dans site/ecartees/, les partenaires concernés reçoivent "
                 "un rapport et les gestionnaires une alerte.")
    def ecarter(candidate: dict, ti=None) -> str:
        from publish.site import set_aside

        return str(set_aside(candidate["build_id"], decision=_decision(ti)))

    @task(trigger_rule="all_done",  # also after a failed build: the rules are still worth reading
          doc_md="Reconstruit les Data Docs de Great Expectations (les règles de contrôle de "
                 "chaque jeu de données) dans le dossier de données, lisibles hors ligne, une "
                 "fois le site publié. Un échec ici ne touche pas le site public.")
    def documenter_controles() -> str:
        from pipeline.check.datadocs import build_data_docs

        return str(build_data_docs())

    candidate = construire()
    choice = decider(candidate)
    choice >> [sans_approbation, approbation]
    online = mettre_en_ligne(candidate)
    [sans_approbation, approbation] >> online
    refused = ecarter(candidate)
    approbation >> refused
    [online, refused] >> documenter_controles()  # residents' site first


def _decision(ti) -> str | None:
    """The steward's decision in French for the history, or None without approval."""
    from publish.changes import decision_text

    return decision_text(ti.xcom_pull(task_ids="approbation", key="decision") if ti else None)


publication_site()
