"""Every ``INCLUSION_*`` environment setting in one table, read when asked, never at import.

``get(name)`` reads the environment at each call, so a test that sets a variable sees it at once.
``python -m pipeline.settings --markdown`` prints the table for ``docs/settings.md``
(``make settings-doc``); a test fails when that file is stale or a name used in the code is
missing here.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    type: str  # "str", "int", "float", "path" (a default is relative to the repository), "flag"
    default: str | None  # as it would be written in the environment; None: unset
    meaning: str
    used_by: str

    def parse(self, raw: str) -> Any:
        if self.type == "int":
            return int(raw)
        if self.type == "float":
            return float(raw)
        if self.type == "path":
            return Path(raw)
        if self.type == "flag":
            return raw == "1"
        return raw

    def value(self) -> Any:
        raw = os.environ.get(self.name)
        if raw is not None:
            return self.parse(raw)
        if self.default is None:
            return False if self.type == "flag" else None
        return REPO_ROOT / self.default if self.type == "path" else self.parse(self.default)


_S = Setting
SETTINGS: dict[str, Setting] = {s.name: s for s in (
    _S("INCLUSION_DATA", "path", "data",
       "Folder holding all runtime state (inboxes, archive, warehouse, Airflow home, site builds).",
       "pipeline.config, Makefile, bench"),
    _S("INCLUSION_TERRITORY", "path", "territory.toml",
       "The territory file (communes, partners, time zone, results targets).",
       "pipeline.config, transforms.results"),
    _S("INCLUSION_WAREHOUSE_URL", "str", None,
       "SQLAlchemy URL of the warehouse, instead of the SQLite file in the data folder.",
       "pipeline.config"),
    _S("INCLUSION_INBOX_URL", "str", None,
       "Base URL of the partners' inboxes (s3://bucket/prefix…); unset: <data>/inbox. "
       "docs/object-storage.md.",
       "pipeline.storage, pipeline.receive, pipeline.ingest.objects"),
    _S("INCLUSION_ARCHIVE_URL", "str", None,
       "Base URL of the archive of accepted files; unset: <data>/archive.",
       "pipeline.storage, pipeline.ingest.objects"),
    _S("INCLUSION_QUARANTINE_URL", "str", None,
       "Base URL of the quarantine of refused files; unset: <data>/quarantine.",
       "pipeline.storage, pipeline.ingest.objects, pipeline.receive.inbox"),
    _S("INCLUSION_ALERTS_URL", "str", None,
       "Base URL where steward alerts are written; unset: <data>/alertes.",
       "pipeline.storage, pipeline.alerts"),
    _S("INCLUSION_STATE_URL", "str", None,
       "Base URL of the state the workers share: the safety net's failure counts and attempt "
       "marks, and the "
       "alerts' repeat markers; unset: <data>/etat. Set it (s3://…) whenever several workers "
       "share no disk. docs/object-storage.md.",
       "pipeline.storage, pipeline.ingest.safety_net, pipeline.alerts"),
    _S("INCLUSION_SITE_STORE_URL", "str", None,
       "Base URL where site builds are published for readers (s3://bucket/prefix); unset: "
       "the local <data>/site folder and its current symlink.",
       "pipeline.storage"),
    _S("INCLUSION_STORAGE_CONN_ID", "str", "inclusion_stockage",
       "Airflow connection holding the object store's credentials and endpoint (an environment "
       "variable AIRFLOW_CONN_ + the id in capitals, or a secrets backend); s3:// areas only.",
       "pipeline.storage, pipeline.storage.check (at DAG start)"),
    _S("INCLUSION_SETTLE_SECONDS", "float", "30",
       "A file modified less than this many seconds ago is not picked up yet (still uploading); "
       "a partner's report comes about this long plus 10 s after the drop (docs/operations.md).",
       "pipeline.receive.inbox, pipeline.receive.watch"),
    _S("INCLUSION_BATCH_MB", "float", "48",
       "Largest total size of the files processed together in one Airflow task.",
       "pipeline.receive.inbox"),
    _S("INCLUSION_BATCH_FILES", "int", "120",
       "Largest number of files processed together in one Airflow task.",
       "pipeline.receive.inbox"),
    _S("INCLUSION_MAX_CSV_MB", "float", "300",
       "Larger CSV files are refused, with a report giving the limit.",
       "pipeline.receive.filing"),
    _S("INCLUSION_MAX_XLSX_MB", "float", "50",
       "Larger XLSX files are refused, with a report giving the limit.",
       "pipeline.receive.filing"),
    _S("INCLUSION_MAX_JSON_MB", "float", "100",
       "Larger JSON files are refused with a report asking the partner to split them.",
       "pipeline.read.json_reading, pipeline.receive.filing (objects, before being read)"),
    _S("INCLUSION_CHUNK_ROWS", "int", "50000",
       "Rows read and validated at a time; larger files are read chunk by chunk (at least 1).",
       "pipeline.read.reading"),
    _S("INCLUSION_MAX_FAILURES", "int", "2",
       "At this many unexpected failures of the same file, it is quarantined and stewards alerted.",
       "pipeline.ingest.safety_net"),
    _S("INCLUSION_MAX_INTERRUPTIONS", "int", "3",
       "At this many attempts on the same file killed before they ended (out of memory, a "
       "crashing reader, the task's timeout, a stopped worker), it is quarantined and stewards "
       "alerted.",
       "pipeline.ingest.safety_net"),
    _S("INCLUSION_ATTEMPT_MINUTES", "float", "30",
       "An unfinished attempt begun on another machine counts as killed once this old (the "
       "reception DAG's task timeout); on the same machine, as soon as its process is gone.",
       "pipeline.ingest.safety_net"),
    _S("INCLUSION_PULL_TIMEOUT", "float", "30",
       "Network timeout in seconds when fetching a partner file from a web address.",
       "pipeline.receive.sources"),
    _S("INCLUSION_PULL_MAX_MB", "float", "200",
       "Larger files fetched from a web address are refused.",
       "pipeline.receive.sources"),
    _S("INCLUSION_MAX_PAGE_DROP", "float", "0.3",
       "A new site build losing more than this share of the live site's pages is not published.",
       "publish.site"),
    _S("INCLUSION_ALLOW_PAGE_DROP", "flag", None,
       "Set to 1 to publish a build despite a large page drop (e.g. after removing a partner).",
       "publish.site"),
    _S("INCLUSION_LIST_LIMIT", "int", "400",
       "Above this many venues, upcoming workshops or pass numérique entries (venues accepting "
       "it and communes with prescribers), lists are split into one page per commune.",
       "pages.page_plan"),
    _S("INCLUSION_RESULTS_COMMUNE_LIMIT", "int", "100",
       "Above this many communes, a results dataset page charts only the communes with the "
       "highest values and its table by commune is split into one page per département.",
       "pages.page_plan"),
    _S("INCLUSION_SITE_SPLIT_AFTER", "int", "3000",
       "Items of a site plan written in one process before a second, forked process shares "
       "the rest (two cores); 0: never split. Small sites never reach it.",
       "pages.plan_split"),
    _S("INCLUSION_SMTP_HOST", "str", None,
       "Mail server for steward alerts; alerts are only written to files when unset.",
       "pipeline.alerts"),
    _S("INCLUSION_SMTP_PORT", "int", "25",
       "Port of the mail server for steward alerts.",
       "pipeline.alerts"),
    _S("INCLUSION_SMTP_FROM", "str", "airflow@localhost",
       "Sender address of steward alert e-mails.",
       "pipeline.alerts"),
    _S("INCLUSION_SMTP_TO", "str", None,
       "Recipients of steward alert e-mails (the To header); no e-mail when unset.",
       "pipeline.alerts"),
    _S("INCLUSION_ALERT_REPEAT_HOURS", "float", "6",
       "The same failure of the same task (same step, error and place) alerts once in this many "
       "hours: a DAG scheduled every 30 s that keeps failing does not send an alert per run.",
       "pipeline.alerts"),
    _S("INCLUSION_STORE_RETRIES", "int", "4",
       "Retries of the task putting the site online (mettre_en_ligne) when the object store "
       "does not answer, before the stewards get an alert; read when the DAG is parsed.",
       "dags/publish_site.py"),
    _S("INCLUSION_STORE_RETRY_DELAY_SECONDS", "int", "60",
       "First delay before such a retry, doubled at each one (60: 15 to 30 min in all with 4 "
       "retries); read when the DAG is parsed. The cluster's failure drill shortens it.",
       "dags/publish_site.py"),
    _S("INCLUSION_WORKER_NAME", "str", None,
       "This Airflow process's name in the task instances (AIRFLOW__CORE__HOSTNAME_CALLABLE = "
       "pipeline.settings.hostname), so that two Celery workers on one host are told apart; "
       "unset: the host's name.",
       "ops.cluster, pipeline.settings"),
    _S("INCLUSION_STAGE_LOG", "str", None,
       "File receiving one JSON line per timed stage (seconds, peak memory), for benchmarks.",
       "pipeline.stages, bench"),
    _S("INCLUSION_FAULT_PAUSE", "str", None,
       "Tests only: name of the fault point where the first process to reach it pauses, to be "
       "killed or released.",
       "pipeline.faults, tests/test_crash.py, tests/test_cluster.py"),
    _S("INCLUSION_FAULT_MARKER", "path", None,
       "Tests only: file created by the first process reaching the fault point, with its process "
       "id and worker name; emptying it releases the process.",
       "pipeline.faults, tests/test_crash.py, tests/test_cluster.py"),
    _S("INCLUSION_SCREENSHOTS", "str", None,
       "Tests only: set to docs to refresh the README's screenshots from the browser tests.",
       "tests/test_browser.py"),
    _S("INCLUSION_REGENERATE_GOLDEN", "str", None,
       "Tests only: set to 1 to rewrite the golden pages in tests/golden/ from the demo build.",
       "tests/test_golden.py"),
)}

# Pelican settings (pelican.conf.py, set by pipeline.publish), not environment variables.
PELICAN_SETTINGS: dict[str, str] = {
    "INCLUSION_SITE": "The computed site data that the data_pages plugin turns into pages.",
    "INCLUSION_RESULTS": "The yearly results laid out by the results_pages plugin.",
    "INCLUSION_BUILD_CACHE": "Live-build pages reused when unchanged (pipeline.build_cache).",
}


def get(name: str) -> Any:
    """The setting's typed value, read from the environment now; its default when unset."""
    return SETTINGS[name].value()


def hostname() -> str:
    """Airflow's ``hostname_callable`` (``pipeline.settings.hostname``): INCLUSION_WORKER_NAME
    when set, otherwise what Airflow would use (the host's fully qualified name)."""
    from airflow.utils.net import getfqdn

    return get("INCLUSION_WORKER_NAME") or getfqdn()


def markdown() -> str:
    lines = ["# Settings", "",
             "Generated by `make settings-doc` (`python -m pipeline.settings --markdown`) from",
             "`pipeline/settings.py`; do not edit by hand. Every setting is an environment",
             "variable read when used, never at import. Path defaults are relative to the",
             "repository.", "",
             "| name | type | default | meaning | used by |", "|---|---|---|---|---|"]
    for s in SETTINGS.values():
        default = "unset" if s.default is None else f"`{s.default}`"
        lines.append(f"| `{s.name}` | {s.type} | {default} | {s.meaning} | {s.used_by} |")
    lines += ["", "Pelican settings passed by `pipeline.publish` (not environment variables):", "",
              "| name | meaning |", "|---|---|"]
    lines += [f"| `{name}` | {meaning} |" for name, meaning in PELICAN_SETTINGS.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] != ["--markdown"]:
        sys.exit("usage: python -m pipeline.settings --markdown")
    sys.stdout.write(markdown())
