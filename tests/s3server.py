"""A local S3-compatible server (moto's server mode on 127.0.0.1) for the object-storage tests.

``s3_server`` (session) starts it once; ``object_store`` (per test) makes a fresh bucket, points
every storage area at a prefix in it (``INCLUSION_<AREA>_URL``) and gives the Airflow connection
``inclusion_stockage`` through its environment variable, as a deployment would. Nothing leaves
the machine: the endpoint is on loopback and the credentials are moto's dummies.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

import pytest

from pipeline.storage import AREAS

_BUCKETS = itertools.count(1)


@dataclass
class S3Server:
    endpoint: str
    server: object

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")

    def connection(self) -> str:
        """The Airflow connection, as the ``AIRFLOW_CONN_INCLUSION_STOCKAGE`` value."""
        return json.dumps({"conn_type": "aws", "login": "test", "password": "test",
                           "extra": {"endpoint_url": self.endpoint, "region_name": "us-east-1"}})

    def new_bucket(self) -> str:
        name = f"inclusion-test-{next(_BUCKETS)}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                         Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


@pytest.fixture(scope="session")
def s3_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield S3Server(f"http://{host}:{port}", server)
    server.stop()


@dataclass
class ObjectStore:
    server: S3Server
    bucket: str

    def url(self, area: str) -> str:
        return f"s3://{self.bucket}/{AREAS[area][1]}"

    def keys(self, prefix: str = "") -> list[str]:
        return self.server.keys(self.bucket, prefix)

    def put(self, key: str, body: bytes) -> None:
        self.server.client().put_object(Bucket=self.bucket, Key=key, Body=body)

    def get(self, key: str) -> bytes:
        return self.server.client().get_object(Bucket=self.bucket, Key=key)["Body"].read()


@pytest.fixture
def object_store(s3_server: S3Server, data_dir, monkeypatch: pytest.MonkeyPatch) -> ObjectStore:
    """Every area in a fresh bucket of the local S3 server; the data folder stays the worker's
    own working folder."""
    store = ObjectStore(s3_server, s3_server.new_bucket())
    monkeypatch.setenv("AIRFLOW_CONN_INCLUSION_STOCKAGE", s3_server.connection())
    monkeypatch.setenv("INCLUSION_STORAGE_CONN_ID", "inclusion_stockage")
    for area, (setting, _folder) in AREAS.items():
        monkeypatch.setenv(setting, store.url(area))
    return store
