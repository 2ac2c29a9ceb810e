"""The production files written for Kubernetes (deploy/): not run here, so checked for drift
against the code: every setting they name exists, every storage area is on the object store,
secrets only come from Kubernetes secrets, every Airflow option is one Airflow knows, and the
image is built on the Airflow release the lock file pins."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from pipeline import settings, storage

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
VALUES = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text(encoding="utf-8"))
SECRET_NAMES = ("INCLUSION_WAREHOUSE_URL", "AIRFLOW_CONN_")


def _plain_env() -> dict[str, str]:
    return {item["name"]: item["value"] for item in VALUES["env"]}


def test_every_setting_named_exists_and_every_area_is_on_the_object_store():
    named = set(_plain_env()) | {item["envName"] for item in VALUES["secret"]}
    unknown = {n for n in named if n.startswith("INCLUSION_") and n not in settings.SETTINGS}
    assert not unknown
    for setting, _folder in storage.AREAS.values():
        assert _plain_env()[setting].startswith("s3://"), setting


def test_secrets_come_only_from_kubernetes_secrets():
    assert not [n for n in _plain_env() if n.startswith(SECRET_NAMES)]
    from_secrets = {item["envName"] for item in VALUES["secret"]}
    assert "INCLUSION_WAREHOUSE_URL" in from_secrets
    assert "AIRFLOW_CONN_" + settings.SETTINGS["INCLUSION_STORAGE_CONN_ID"].default.upper() \
        in from_secrets
    assert _plain_env()["INCLUSION_STORAGE_CONN_ID"] == \
        settings.SETTINGS["INCLUSION_STORAGE_CONN_ID"].default
    text = (DEPLOY / "helm" / "values.yaml").read_text(encoding="utf-8")
    assert not re.search(r"(password|pass|secret_access_key)\s*:\s*\S", text, re.I)


def test_every_airflow_option_is_one_airflow_knows():
    from airflow.configuration import conf

    for section, options in VALUES["config"].items():
        for option in options:
            assert conf.has_option(section, option), f"[{section}] {option}"
    assert VALUES["config"]["logging"]["remote_log_conn_id"] == _plain_env()[
        "INCLUSION_STORAGE_CONN_ID"]


def test_the_image_is_the_airflow_release_the_lock_pins():
    lock = (DEPLOY.parent / "requirements.lock").read_text(encoding="utf-8")
    pinned = re.search(r"^apache-airflow==(\S+)$", lock, re.M).group(1)
    assert f"FROM apache/airflow:{pinned}-python3.11" in (DEPLOY / "Dockerfile").read_text()
    assert VALUES["airflowVersion"] == VALUES["defaultAirflowTag"] == pinned
