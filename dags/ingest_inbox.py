"""Partner inboxes -> ledger -> validation -> warehouse. Wiring only; logic in ``pipeline``."""

from __future__ import annotations

from datetime import timedelta

from _shared import WAREHOUSE, check_storage, check_warehouse, dag_settings
from airflow.sdk import dag, task

DOC = """
### Réception des fichiers des partenaires

Toutes les 30 secondes, la tâche `surveiller_depots` regarde les dossiers de dépôt des
partenaires (`<dossier de données>/inbox/<partenaire>/`) : noms, tailles et dates des fichiers,
sans les ouvrir. S'il n'y a rien de nouveau, l'exécution s'arrête là (les autres tâches
apparaissent « sautées ») ; un passage complet a lieu au moins toutes les 5 minutes (sources en
ligne, fichiers restés après une panne). Un partenaire reçoit ainsi le rapport d'un petit
fichier moins d'une minute après son dépôt. Les nouveaux fichiers sont répartis en lots
(fichiers d'un même jeu de données, 48 Mo au plus) ; chaque lot est traité dans sa propre tâche
(`traiter_lot`) : empreinte SHA-256 de chaque fichier, lecture, contrôle de tout le lot par la
suite Great Expectations du jeu de données (une seule exécution), puis, fichier par fichier,
contrôles croisés avec l'entrepôt, chargement des lignes acceptées et inscription au registre
(une transaction par fichier), rapport en français déposé à côté du fichier.

**Si une tâche `traiter_lot` échoue** : un fichier refusé ne fait pas échouer la tâche (le
partenaire a son rapport). Un échec signale donc une panne (disque, base) : lisez le journal de
la tâche, corrigez la cause, puis relancez la tâche ; le traitement est idempotent, un fichier
déjà enregistré n'est jamais compté deux fois.
Un fichier qui fait échouer son traitement deux fois, ou dont le traitement est tué trois fois
(mémoire épuisée, lecteur qui plante, délai dépassé), est mis en quarantaine avec un rapport au
partenaire et une alerte : un fichier ne bloque jamais son dossier de dépôt.
"""


# Latency (issue 18): a 30-second schedule whose first task is a cheap listing of the inboxes
# that short-circuits the run when nothing is new (pipeline.receive.watch). Chosen over an
# AssetWatcher (Airflow 3.3 ships no file-system event trigger that keeps the file) and over a
# deferrable sensor (needs a triggerer, which the tests' scheduler and `airflow dags test` lack,
# and a sensor's skip would not stop the all_done tasks below). See docs/operations.md.
# The 30-minute task timeout is also INCLUSION_ATTEMPT_MINUTES's default (pipeline.ingest.safety_net):
# change both together.
@dag(**dag_settings("reception_fichiers", timedelta(seconds=30), "ingestion", DOC,
                    2, timedelta(seconds=30), timedelta(minutes=30)))
def reception_fichiers():
    @task.short_circuit(
        doc_md="Regarde (sans les ouvrir) les fichiers des dossiers de dépôt et arrête "
               "l'exécution quand rien n'a changé depuis le dernier passage et qu'aucun "
               "passage complet n'est dû (toutes les 5 minutes). Attend un fichier qui "
               "finit d'arriver (délai INCLUSION_SETTLE_SECONDS). Une exécution lancée à "
               "la main fait toujours un passage complet. Échoue d'abord, avec un message "
               "clair, si l'entrepôt n'est pas à la version du code (make migrate) ou si le "
               "stockage configuré est inutilisable (adresse, connexion, compartiment).")
    def surveiller_depots() -> bool:
        from airflow.sdk import get_current_context
        from pipeline.receive.watch import check_inboxes

        check_warehouse()
        check_storage()
        return check_inboxes(full=get_current_context()["dag_run"].run_type != "scheduled")

    @task(retries=3, doc_md="Récupère les fichiers que certains partenaires publient à une "
                            "adresse web (requêtes conditionnelles). Une source injoignable "
                            "produit une alerte, pas un échec.")
    def recuperer_sources() -> list[dict]:
        from dataclasses import asdict

        from pipeline.receive.sources import pull_sources

        return [asdict(result) for result in pull_sources()]

    @task(doc_md="Liste les fichiers nouveaux dans les dossiers de dépôt ; refuse (avec un "
                 "rapport) les liens, sous-dossiers et noms dangereux ; répartit les fichiers "
                 "en lots. Les lieux et les relèves de collecte passent en premier : d'autres "
                 "fichiers y font référence.")
    def lister_fichiers() -> dict[str, list[dict]]:
        from pipeline.receive.inbox import plan_batches, report_refusals, scan_inboxes, split_waves

        refusals: list = []
        candidates = scan_inboxes(refusals=refusals)
        report_refusals(refusals)
        references, others = split_waves(candidates)
        return {"references": plan_batches(references), "autres": plan_batches(others)}

    @task(doc_md="Les lots de la première vague (lieux, relèves de collecte).")
    def premiere_vague(listing: dict[str, list[dict]]) -> list[dict]:
        return listing["references"]

    @task(trigger_rule="all_done",  # also when the first wave is empty (skipped) or failed
          doc_md="Les autres lots, traités une fois la première vague terminée.")
    def seconde_vague(listing: dict[str, list[dict]] | None) -> list[dict]:
        if listing is None:  # no listing: the run stopped before it (warehouse check, failure)
            from airflow.sdk.exceptions import AirflowSkipException

            raise AirflowSkipException("aucun fichier listé : l'exécution s'est arrêtée avant")
        return listing["autres"]

    @task(doc_md="Lit les fichiers du lot, les contrôle ensemble (une exécution Great "
                 "Expectations par jeu de données), puis charge chaque fichier accepté et "
                 "écrit le rapport de chacun.",
          map_index_template="{{ lot }}")
    def traiter_lot(lot: dict) -> list[dict]:
        from airflow.sdk import get_current_context
        from airflow.sdk.exceptions import AirflowSkipException
        from pipeline.ingest.objects import process_batch

        get_current_context()["lot"] = lot["lot"]  # names the mapped task instance in the UI
        outcomes = process_batch(lot["fichiers"])
        if not outcomes:  # a retry would not bring the files back
            raise AirflowSkipException("plus aucun fichier du lot dans les dossiers de dépôt "
                                       "(retirés, ou déjà traités par une autre exécution)")
        return [outcome.as_dict() for outcome in outcomes]

    @task(outlets=[WAREHOUSE], trigger_rule="all_done",
          doc_md="Signale à la publication que l'entrepôt a changé (sinon la tâche est sautée).")
    def signaler_changements(references: list[list[dict]], others: list[list[dict]]) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        outcomes = [o for batch in [*(references or []), *(others or [])] for o in batch or []]
        loaded = [o for o in outcomes if o and o["rows_loaded"] > 0]
        if not loaded:
            raise AirflowSkipException("aucune nouvelle ligne dans l'entrepôt")
        return {"fichiers": len(loaded), "lignes": sum(o["rows_loaded"] for o in loaded)}

    @task(trigger_rule="none_failed",
          doc_md="Bilan de l'exécution : échoue (en amont) si un lot a échoué, pour que "
                 "l'exécution du DAG apparaisse en échec même quand d'autres lots ont été "
                 "chargés.")
    def bilan(references: list[list[dict]], others: list[list[dict]]) -> dict:
        outcomes = [o for batch in [*(references or []), *(others or [])] for o in batch or []]
        return {"fichiers": len(outcomes),
                "refuses": sum(o["status"] == "rejete" for o in outcomes)}

    listing = lister_fichiers()
    surveiller_depots() >> recuperer_sources() >> listing
    references = traiter_lot.override(task_id="traiter_lot_reference").expand(
        lot=premiere_vague(listing))
    # A reference file that fails (a crash, not a rejection) never blocks the others.
    second = seconde_vague(listing)
    references >> second
    others = traiter_lot.expand(lot=second)
    signaler_changements(references, others)
    # The run's state follows its leaf tasks: signaler_changements is skipped when nothing was
    # loaded and succeeds when some batches loaded, so alone it would hide a failed batch.
    bilan(references, others)


reception_fichiers()
