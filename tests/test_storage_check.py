"""The storage check at the start of every DAG run: one French message naming the setting to
fix, never a secret, and nothing imported or contacted when every area is in the data folder."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO

from pipeline.storage.check import StorageError, check_storage

SECRET = "tres-secret-ne-pas-montrer-42"


def failure() -> str:
    with pytest.raises(StorageError) as raised:
        check_storage()
    return str(raised.value)


def with_secret(monkeypatch, s3_server, **changes) -> None:
    connection = json.loads(s3_server.connection())
    connection.update({"password": SECRET, **changes})
    monkeypatch.setenv("AIRFLOW_CONN_INCLUSION_STOCKAGE", json.dumps(connection))


def test_areas_in_the_data_folder_need_no_client(data_dir):
    code = ("import sys\nfrom pipeline.storage.check import check_storage\ncheck_storage()\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('airflow', 'boto3', 'botocore', 's3fs', 'fsspec'))\nprint(heavy)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_usable_object_store_passes(object_store):
    check_storage()


def test_an_unknown_scheme_names_the_setting(object_store, monkeypatch):
    monkeypatch.setenv("INCLUSION_QUARANTINE_URL", "ftp://serveur/quarantaine")
    message = failure()
    assert message.startswith("INCLUSION_QUARANTINE_URL : le schéma « ftp:// » n'est pas pris "
                              "en charge")


def test_an_address_without_a_bucket_names_the_setting(object_store, monkeypatch):
    monkeypatch.setenv("INCLUSION_INBOX_URL", "s3:///depots")
    assert failure().startswith("INCLUSION_INBOX_URL : l'adresse « s3:///depots » ne nomme "
                                "aucun compartiment")


def test_credentials_in_the_address_are_refused_and_not_shown(object_store, monkeypatch):
    monkeypatch.setenv("INCLUSION_ARCHIVE_URL", f"s3://cle:{SECRET}@compartiment/archive")
    message = failure()
    assert message.startswith("INCLUSION_ARCHIVE_URL : l'adresse contient des identifiants")
    assert SECRET not in message


def test_a_missing_connection_names_it_and_its_setting(object_store, monkeypatch):
    monkeypatch.setenv("INCLUSION_STORAGE_CONN_ID", "stockage_absent")
    message = failure()
    assert "la connexion Airflow « stockage_absent » (INCLUSION_STORAGE_CONN_ID) n'existe pas" \
        in message and "AIRFLOW_CONN_STOCKAGE_ABSENT" in message


def test_a_connection_without_credentials_is_refused(object_store, s3_server, monkeypatch):
    with_secret(monkeypatch, s3_server, login=None, password=None)
    assert "« inclusion_stockage » (INCLUSION_STORAGE_CONN_ID) n'a pas d'identifiants" in failure()


def test_a_missing_bucket_names_the_setting_and_hides_the_secret(object_store, s3_server,
                                                                 monkeypatch):
    with_secret(monkeypatch, s3_server)
    monkeypatch.setenv("INCLUSION_ALERTS_URL", "s3://inclusion-absent/alertes")
    message = failure()
    assert message.startswith("INCLUSION_ALERTS_URL : le compartiment « inclusion-absent » "
                              "n'existe pas")
    assert SECRET not in message


def test_an_unreachable_store_fails_fast_without_the_secret(object_store, s3_server,
                                                            monkeypatch):
    with_secret(monkeypatch, s3_server, extra={"endpoint_url": "http://127.0.0.1:9",
                                               "region_name": "us-east-1"})
    message = failure()
    assert "est injoignable" in message and "endpoint_url" in message
    assert SECRET not in message


def test_the_dags_first_task_fails_with_the_message_and_no_retry(object_store, monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException
    from _shared import check_storage as at_dag_start

    monkeypatch.setenv("INCLUSION_INBOX_URL", "gs://compartiment/depots")
    with pytest.raises(AirflowFailException, match="INCLUSION_INBOX_URL : le schéma « gs:// »"):
        at_dag_start()
