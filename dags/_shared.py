"""Definitions shared by the DAG files (kept out of DAG parsing by .airflowignore)."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.hitl import HITLBranchOperator
from airflow.sdk import Asset

# The territory's time zone (territory.toml). Written out, not read: reading the territory would
# be file I/O at every DAG parse. tests/test_settings.py checks that they agree.
TIMEZONE = "Europe/Paris"
START = pendulum.datetime(2026, 1, 1, tz=TIMEZONE)
OWNER = "inclusion-numerique"

# Emitted when accepted rows reach the warehouse; the site publication is scheduled on it.
WAREHOUSE = Asset(name="entrepot", uri="file:///inclusion-numerique/entrepot")
# Emitted when a new site goes online; its event's extra carries the summary of the changes.
SITE = Asset(name="site_public", uri="file:///inclusion-numerique/site")


class StewardDecision(HITLBranchOperator):
    """Airflow's human-in-the-loop branch, which also keeps who decided, when and why (XCom
    ``decision``) for the history of publications."""

    def execute_complete(self, context, event: dict):
        if "error" not in event:
            user = event.get("responded_by_user") or {}
            context["ti"].xcom_push(key="decision", value={
                "options": list(event["chosen_options"]),
                "motif": str((event.get("params_input") or {}).get("motif") or ""),
                "par": user.get("name") or user.get("id") or "",
                "le": str(event.get("responded_at") or "")})
        return super().execute_complete(context, event)


def alert_stewards(context: dict) -> None:
    from pipeline.alerts import task_failure_alert

    task_failure_alert(context)


def check_warehouse() -> None:
    """The first step of every DAG run: a warehouse at a schema version this code does not
    know (make migrate not run after an upgrade, or a newer release's warehouse), or an
    INCLUSION_WAREHOUSE_URL that leads nowhere, fails the run here with one French message
    saying what to do, without retries, before any file is touched."""
    from airflow.sdk.exceptions import AirflowFailException
    from pipeline.load.migrate import WarehouseVersionError, require_known_version

    try:
        require_known_version()
    except WarehouseVersionError as error:
        raise AirflowFailException(str(error)) from None


def check_storage() -> None:
    """Beside ``check_warehouse``: a storage area on an object store that cannot be used (a
    URL with an unknown scheme or no bucket, the connection INCLUSION_STORAGE_CONN_ID missing
    or without credentials, a bucket missing or unreachable) fails the run here with one French
    message naming the setting, without retries. Areas in the data folder cost nothing."""
    from airflow.sdk.exceptions import AirflowFailException
    from pipeline.storage.check import StorageError, check_storage as check

    try:
        check()
    except StorageError as error:
        raise AirflowFailException(str(error)) from None


def store_retries() -> tuple[int, timedelta]:
    """The retries of the task that puts the site online on an object store, and the first
    delay between them (doubled at each retry): INCLUSION_STORE_RETRIES and
    INCLUSION_STORE_RETRY_DELAY_SECONDS, read when the DAG file is parsed."""
    from pipeline import settings

    return (settings.get("INCLUSION_STORE_RETRIES"),
            timedelta(seconds=settings.get("INCLUSION_STORE_RETRY_DELAY_SECONDS")))


def dag_settings(dag_id: str, schedule, kind: str, doc: str, retries: int,
                 retry_delay: timedelta, timeout: timedelta) -> dict:
    """The ``@dag`` arguments every DAG of the project shares (tests/test_dag_integrity.py):
    no catch-up, one run at a time, the project's tag, a French doc, retried tasks."""
    return {"dag_id": dag_id, "schedule": schedule, "start_date": START, "catchup": False,
            "max_active_runs": 1, "tags": ["inclusion-numerique", kind], "doc_md": doc,
            "default_args": default_args(retries, retry_delay, timeout)}


def default_args(retries: int, retry_delay: timedelta, timeout: timedelta) -> dict:
    return {
        "owner": OWNER,
        "on_failure_callback": alert_stewards,
        "retries": retries,
        "retry_delay": retry_delay,
        "retry_exponential_backoff": True,
        "execution_timeout": timeout,
    }
