"""Every DAG file imports cleanly, is documented and owned, retries, and stays light to parse."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO
from pipeline.config import DEFAULT_TERRITORY_FILE, load_territory

DAG_FILES = sorted(p for p in (REPO / "dags").glob("*.py") if not p.name.startswith("_"))
HEAVY_MODULES = ("pandas", "great_expectations", "pelican", "openpyxl", "babel",
                 "pipeline.check.validation", "pipeline.load.warehouse", "transforms")


def test_dagbag_has_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {"reception_fichiers", "publication_site",
                                   "relance_partenaires"}


@pytest.mark.parametrize("dag_id", ["reception_fichiers", "publication_site",
                                    "relance_partenaires"])
def test_dag_is_documented_owned_and_retried(dagbag, dag_id):
    dag = dagbag.get_dag(dag_id)
    assert "inclusion-numerique" in dag.tags
    assert dag.doc_md and "Si " in dag.doc_md  # says what to do when it fails
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    for task in dag.tasks:
        assert task.owner == "inclusion-numerique"
        assert task.retries >= 1
        assert task.execution_timeout is not None
        assert task.doc_md, f"{dag_id}.{task.task_id} has no doc_md"


def test_publication_is_scheduled_on_the_warehouse_asset_and_daily(dagbag):
    ingest = dagbag.get_dag("reception_fichiers")
    publish = dagbag.get_dag("publication_site")
    outlets = {o.name for t in ingest.tasks for o in t.outlets}
    assert outlets == {"entrepot"}
    timetable = publish.timetable
    assert "entrepot" in repr(timetable.asset_condition)
    assert timetable.timetable.expression == "0 5 * * *"
    assert str(timetable.timetable.timezone) == load_territory(DEFAULT_TERRITORY_FILE).timezone


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_does_no_heavy_import_at_parse_time(dag_file):
    probe = (
        "import runpy, sys\n"
        f"sys.path.insert(0, {str(dag_file.parent)!r})\n"
        f"runpy.run_path({str(dag_file)!r})\n"
        f"heavy = [m for m in {HEAVY_MODULES!r} if m in sys.modules]\n"
        "print(heavy)\n"
        "sys.exit(1 if heavy else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_publication_waits_for_a_steward_only_on_anomalies(dagbag):
    from airflow.providers.standard.operators.hitl import HITLBranchOperator

    dag = dagbag.get_dag("publication_site")
    decide = dag.get_task("decider").python_callable
    assert decide({"anomalies": []}) == "sans_approbation"
    assert decide({"anomalies": ["Le fichier « x.csv » …"]}) == "approbation"
    approval = dag.get_task("approbation")
    assert isinstance(approval, HITLBranchOperator)
    assert approval.options_mapping == {"Publier": "mettre_en_ligne", "Écarter": "ecarter"}
    assert approval.downstream_task_ids == {"mettre_en_ligne", "ecarter"}
    assert "xcom_pull(task_ids='construire')['text']" in approval.body  # the summary is shown
    assert approval.response_timeout is not None
    online = dag.get_task("mettre_en_ligne")
    assert online.upstream_task_ids == {"construire", "sans_approbation", "approbation"}
    assert online.trigger_rule == "none_failed_min_one_success"
    assert {o.name for o in online.outlets} == {"site_public"}
