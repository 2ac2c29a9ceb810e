"""``airflow dags test`` of several DAGs, one after the other, in one Airflow process.

Usage: ``python -m bench.dags_in_one_process reception_fichiers publication_site``

A new file's path through the pipeline is two DAG runs: the ingestion, then the publication
its Asset triggers. Under the scheduler both run in warm worker processes; two separate
``airflow dags test`` commands would pay a cold Airflow start (imports, configuration, the
in-process execution API) twice. Each DAG goes through the same CLI command as
``airflow dags test <dag_id>`` (``dag_test``: the metadata database, a DAG run, its tasks in
order). Prints one JSON line per DAG with its wall time; exits non-zero at the first failed run.
"""

from __future__ import annotations

import json
import sys
import time


def main(dag_ids: list[str]) -> None:
    from airflow.cli.cli_parser import get_parser

    parser = get_parser()
    for dag_id in dag_ids:
        started = time.perf_counter()
        arguments = parser.parse_args(["dags", "test", dag_id])
        arguments.func(arguments)
        print(json.dumps({"dag_id": dag_id, "seconds": round(time.perf_counter() - started, 2)}),
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
