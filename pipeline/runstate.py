"""Did the last run of a DAG really succeed? For ``make pipeline`` / ``make demo``.

``airflow dags test`` exits 0 even when a task failed, and a DAG whose leaf tasks all run
with ``trigger_rule="all_done"`` can end "success" after a failed task (the ingestion DAG has a
``bilan`` leaf for that reason; the check below does not rely on it). So after
each ``airflow dags test``, ``python -m pipeline.runstate <dag_id> --log <file>`` reads the
latest run of the DAG and the state of each of its tasks through Airflow's own CLI commands
(``airflow dags list-runs``, ``airflow tasks states-for-dag-run``, run in this process: one
Airflow start instead of two), and exits 1 naming the failed tasks and the log to read.
Run outside any task, against the metadata database of ``AIRFLOW_HOME``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import warnings

FAILED, BLOCKED = "failed", "upstream_failed"


def _airflow_json(*argv: str) -> list[dict]:
    """An Airflow CLI command with ``-o json``, its output parsed (warnings printed before the
    JSON line are skipped)."""
    output = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(output):
        warnings.simplefilter("ignore")  # e.g. "Could not import graphviz", irrelevant here
        from airflow.cli.cli_parser import get_parser

        args = get_parser().parse_args([*argv, "-o", "json"])
        args.func(args)
    lines = [line for line in output.getvalue().splitlines() if line.startswith("[")]
    return json.loads(lines[-1]) if lines else []


def tasks_in(states: list[dict], state: str) -> list[str]:
    """Task ids in ``state``, once each (a mapped task has a row per batch), in order."""
    return list(dict.fromkeys(s["task_id"] for s in states if s.get("state") == state))


def verdict(dag_id: str, runs: list[dict], states: list[dict], log: str | None
            ) -> tuple[bool, str]:
    """Whether the latest run succeeded, and a French line saying so."""
    where = f"\n    Journal : {log}" if log else ""
    if not runs:
        return False, f"ÉCHEC : aucune exécution du DAG {dag_id} n'a été enregistrée.{where}"
    run = runs[0]  # the CLI lists the latest first
    failed, blocked = tasks_in(states, FAILED), tasks_in(states, BLOCKED)
    if run.get("state") == "success" and not failed and not blocked:
        return True, f"    DAG {dag_id} : exécution {run['run_id']} réussie."
    tasks = ", ".join(failed) or "aucune (l'exécution n'a pas abouti)"
    then = f" ; non lancées à cause d'elles : {', '.join(blocked)}" if blocked else ""
    return False, (f"ÉCHEC : le DAG {dag_id} (exécution {run['run_id']}, état "
                   f"« {run.get('state')} ») — tâches en échec : {tasks}{then}.{where}\n"
                   "    Lisez le journal (cherchez « ERROR » ou « ALERTE »), corrigez la cause, "
                   "puis relancez : le traitement est idempotent.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dag_id")
    parser.add_argument("--log", help="le journal de « airflow dags test », cité en cas d'échec")
    args = parser.parse_args(argv)
    runs = _airflow_json("dags", "list-runs", args.dag_id)
    states = _airflow_json("tasks", "states-for-dag-run", args.dag_id, runs[0]["run_id"]) \
        if runs else []
    ok, message = verdict(args.dag_id, runs, states, args.log)
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
