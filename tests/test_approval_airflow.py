"""The approval of an unusual publication through real Airflow: ``dag.test()`` of
``publication_site`` parks the ``approbation`` task (Airflow's human-in-the-loop operator) in
the ``awaiting_input`` state and waits; the steward's answer is given as the « Required
Actions » page gives it, through the REST API's own handler (``update_hitl_detail``) on the same
metadata database. « Publier » swaps the site; « Écarter » leaves it byte for byte."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from itertools import count
from pathlib import Path

import pytest
from conftest import REFERENCE_DAY, REFERENCE_RUN

from demo.samples import write_samples
from publish.changes import recent_publications

pytestmark = [pytest.mark.slow, pytest.mark.airflow]
_offsets = count(100)  # run times distinct from test_end_to_end's


class Steward:
    """The user the API would pass (any auth manager's user gives an id and a name)."""

    def get_id(self) -> str:
        return "marie"

    def get_name(self) -> str:
        return "Marie Gestionnaire"


def run_after():
    return REFERENCE_RUN + timedelta(seconds=next(_offsets))


def run(dagbag, dag_id: str):
    dag_run = dagbag.get_dag(dag_id).test(run_after=run_after())
    assert dag_run.state == "success", f"{dag_id} ended {dag_run.state}"
    return dag_run


def waiting_run_id(timeout: float) -> str:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with create_session() as session:
            ti = session.query(TaskInstance).filter_by(
                dag_id="publication_site", task_id="approbation",
                state=TaskInstanceState.AWAITING_INPUT).first()
            if ti is not None:
                return ti.run_id
        time.sleep(1)
    raise AssertionError("the approval task never waited for a steward")


def answer(run_id: str, option: str, motif: str) -> None:
    from airflow.api_fastapi.core_api.datamodels.hitl import UpdateHITLDetailPayload
    from airflow.api_fastapi.core_api.routes.public.hitl import update_hitl_detail
    from airflow.utils.session import create_session

    with create_session() as session:
        update_hitl_detail(
            dag_id="publication_site", dag_run_id=run_id, task_id="approbation",
            update_hitl_detail_payload=UpdateHITLDetailPayload(
                chosen_options=[option], params_input={"motif": motif}),
            user=Steward(), session=session)


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def unusual(data_dir, dagbag) -> Path:
    """The samples published, then the venue partner's directory of one venue received."""
    write_samples(data_dir / "inbox", REFERENCE_DAY)
    run(dagbag, "reception_fichiers")
    run(dagbag, "publication_site")  # the first publication never waits
    (archived,) = (data_dir / "archive" / "agglo-lieux").glob("*.csv")
    lines = archived.read_text(encoding="utf-8").splitlines()
    (data_dir / "inbox" / "agglo-lieux" / "lieux_un_seul.csv").write_text(
        "\n".join(lines[:2]) + "\n", encoding="utf-8")
    run(dagbag, "reception_fichiers")
    return data_dir


def publish_with_answer(dagbag, option: str, motif: str):
    """``dag.test()`` in this thread (it sets signal handlers); the steward answers from
    another, once the approval task waits."""
    seen: dict = {}

    def steward() -> None:
        try:
            run_id = waiting_run_id(timeout=300)
            seen["body"] = _hitl_body(run_id)
            answer(run_id, option, motif)
        except BaseException as error:  # reported by the test below
            seen["error"] = error
            _give_up()  # or dag.test() would wait for an answer forever

    answering = threading.Thread(target=steward, daemon=True)
    answering.start()
    dag_run = dagbag.get_dag("publication_site").test(run_after=run_after())
    answering.join(timeout=30)
    assert "error" not in seen, seen.get("error")
    return dag_run, {ti.task_id: ti.state for ti in dag_run.get_task_instances()}, seen["body"]


def _give_up() -> None:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState

    with create_session() as session:
        for ti in session.query(TaskInstance).filter_by(
                dag_id="publication_site", task_id="approbation",
                state=TaskInstanceState.AWAITING_INPUT):
            ti.state = TaskInstanceState.FAILED


def _hitl_body(run_id: str) -> str:
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        ti = session.query(TaskInstance).filter_by(dag_id="publication_site", run_id=run_id,
                                                   task_id="approbation").one()
        return session.query(HITLDetail).filter_by(ti_id=ti.id).one().body


def test_approved_in_airflow_the_unusual_build_goes_online(unusual, dagbag):
    live_before = (unusual / "site" / "current").resolve()
    dag_run, states, body = publish_with_answer(dagbag, "Publier", "export vérifié")
    assert "À vérifier avant la mise en ligne" in body and "lieux_un_seul.csv" in body
    assert dag_run.state == "success", states
    assert states["approbation"] == "success" and states["mettre_en_ligne"] == "success"
    assert states["ecarter"] == "skipped" and states["sans_approbation"] == "skipped"
    live = (unusual / "site" / "current").resolve()
    assert live != live_before and live.parent.name == "builds"
    record = recent_publications(1)[0]
    assert record["status"] == "publiee" and record["build_id"] == live.name
    assert record["decision"].startswith("« Publier » par Marie Gestionnaire")
    assert "export vérifié" in record["decision"]


def test_refused_in_airflow_the_live_site_stays_byte_for_byte(unusual, dagbag):
    live_before = (unusual / "site" / "current").resolve()
    before = tree(live_before)
    dag_run, states, _ = publish_with_answer(dagbag, "Écarter", "fichier incomplet")
    assert dag_run.state == "success", states
    assert states["ecarter"] == "success" and states["mettre_en_ligne"] == "skipped"
    assert (unusual / "site" / "current").resolve() == live_before
    assert tree(live_before) == before
    record = recent_publications(1)[0]
    assert record["status"] == "ecartee"
    assert (unusual / "site" / "ecartees" / record["build_id"] / "index.html").is_file()
    assert (unusual / "inbox" / "agglo-lieux"
            / f"publication-{record['build_id']}.rapport.txt").is_file()
