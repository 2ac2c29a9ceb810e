"""`make pipeline` (and so `make demo`) fails when a task of a DAG run failed, although
`airflow dags test` itself exits 0 and the run may even end "success"."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import REPO

from pipeline.runstate import verdict



@pytest.mark.slow
@pytest.mark.airflow
def test_make_pipeline_exits_non_zero_naming_the_failed_tasks_and_the_log(tmp_path: Path):
    data = tmp_path / "data"
    broken = tmp_path / "territory.toml"
    broken.write_text("[territory\nname = 'une virgule oubliée'\n", encoding="utf-8")
    # Airflow's cluster policy hook, only to skip the retries' 30-second waits in this test.
    policy = tmp_path / "policy"
    policy.mkdir()
    (policy / "airflow_local_settings.py").write_text(
        "def task_policy(task):\n    task.retries = 0\n")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("AIRFLOW") and key != "PYTHONPATH"}
    env.update(INCLUSION_DATA=str(data), INCLUSION_TERRITORY=str(broken),
               PYTHONPATH=str(policy))

    done = subprocess.run(["make", "--no-print-directory", "pipeline"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)

    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "ÉCHEC : le DAG reception_fichiers" in output
    assert "tâches en échec : surveiller_depots" in output  # the first to read the territory
    assert f"Journal : {data / 'reception_fichiers.log'}" in output
    assert "publication_site" not in output  # it stopped there
    assert not (data / "site" / "current").exists()


@pytest.mark.parametrize("state, tasks, ok", [
    ("success", ["success", "skipped"], True),
    ("success", ["success", "failed", "skipped"], False),  # a skipped last task hides it
    ("failed", ["success", "upstream_failed"], False),
    ("running", ["success"], False),
])
def test_a_run_is_a_success_only_when_no_task_failed(state, tasks, ok):
    runs = [{"run_id": "manual__1", "state": state}]
    states = [{"task_id": f"t{n}", "state": s} for n, s in enumerate(tasks)]
    assert verdict("reception_fichiers", runs, states, "x.log")[0] is ok
