"""Test configuration: every test gets its own data folder; Airflow gets a throw-away home and
metadata database for the whole session. The environment is set before Airflow is imported.

Built once per session and shared: ``demo_site`` (the demo site, read-only: its files and
folders are write-protected) and data folders with files already ingested (``data_templates``,
e.g. ``loaded_samples``), copied into a test's own ``data_dir``. Hypothesis profiles:
``default`` and ``fast`` (``make test-fast``, ``HYPOTHESIS_PROFILE=fast``), see ``examples``."""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import settings

# The local S3 server and per-test buckets (object storage, issue 19).
pytest_plugins = ["s3server"]

REPO = Path(__file__).resolve().parent.parent
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="airflow-home-"))
os.environ.update({
    "AIRFLOW_HOME": str(_AIRFLOW_HOME),
    "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__PARALLELISM": "2",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}",
    "GX_ANALYTICS_ENABLED": "False",
    "INCLUSION_SETTLE_SECONDS": "0",  # tests drop files and scan at once
})
os.environ.pop("INCLUSION_WAREHOUSE_URL", None)
# Airflow puts the DAGs folder on sys.path for its processes; do the same for in-process runs.
sys.path.insert(0, str(REPO / "dags"))

PARIS = ZoneInfo("Europe/Paris")
# A fixed reference day, so that sample files and expected answers never depend on the clock.
REFERENCE_DAY = date(2026, 11, 25)
REFERENCE_RUN = datetime(2026, 11, 25, 6, 0, tzinfo=PARIS)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("INCLUSION_DATA", str(folder))
    return folder


@pytest.fixture(scope="session")
def airflow_db() -> None:
    from airflow.utils import db

    db.initdb()


@pytest.fixture(scope="session")
def dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


# Hypothesis: ``make test-fast`` selects the ``fast`` profile, which runs fewer examples; the
# full suite (``make test``, CI) runs every example. Tests that set their own example count go
# through ``examples`` so that the profile applies to them too.
settings.register_profile("fast", max_examples=10)
HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "default")
settings.load_profile(HYPOTHESIS_PROFILE)


def examples(count: int, fast: int | None = None) -> int:
    """``count`` examples, or under the ``fast`` profile ``fast`` of them (default: a fifth,
    at least 5). Explicit ``@example`` cases always run."""
    if HYPOTHESIS_PROFILE != "fast":
        return count
    return fast if fast is not None else max(5, count // 5)


def _release_warehouse() -> None:
    """Close the current warehouse's pooled connections (``INCLUSION_DATA`` still set), so the
    SQLite file is complete and closed before its folder is copied or shared."""
    from pipeline.load import warehouse

    warehouse.engine().dispose()


def _write_protect(root: Path) -> None:
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    for folder, dirs, _files in os.walk(root, topdown=False):
        os.chmod(folder, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo site (sample drops plus hostile partner text, ``site_fixture.build_demo_site``)
    built once per session at REFERENCE_RUN; the resolved build folder. Read-only: a test that
    changes data or builds builds its own site."""
    from site_fixture import build_demo_site

    data = tmp_path_factory.mktemp("demo-site") / "data"
    data.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INCLUSION_DATA", str(data))
        root = build_demo_site(data).resolve()
        _release_warehouse()
    _write_protect(root)
    return root


class DataTemplates:
    """Data folders built once per session and copied into tests' own ``data_dir``: a test
    that needs files already ingested gets the same folder (warehouse, ledger, archive,
    reports) without validating them again. ``name`` must stand for everything the build
    depends on (the territory in the environment included)."""

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self.factory = factory
        self.folders: dict[str, Path] = {}

    def copy(self, name: str, build, into: Path) -> Path:
        folder = self.folders.get(name)
        if folder is None:
            folder = self.factory.mktemp(f"template-{name}") / "data"
            folder.mkdir()
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("INCLUSION_DATA", str(folder))
                build(folder)
                _release_warehouse()  # the SQLite file is closed before it is copied
            self.folders[name] = folder
        shutil.copytree(folder, into, symlinks=True, dirs_exist_ok=True)
        return into


@pytest.fixture(scope="session")
def data_templates(tmp_path_factory: pytest.TempPathFactory) -> DataTemplates:
    return DataTemplates(tmp_path_factory)


def ingest_samples(data: Path) -> None:
    from pipeline.receive.inbox import scan_inboxes
    from pipeline.ingest.flow import process_files
    from demo.samples import write_samples

    write_samples(data / "inbox", REFERENCE_DAY)
    for candidate in scan_inboxes():
        assert process_files([(candidate.partner, candidate.path)])[0].status != "rejete", candidate


@pytest.fixture
def loaded_samples(data_dir: Path, data_templates: DataTemplates,
                   monkeypatch: pytest.MonkeyPatch) -> Path:
    """``data_dir`` with the sample drops (territory.toml's partners) already ingested: a copy
    of a folder ingested once per session."""
    monkeypatch.delenv("INCLUSION_TERRITORY", raising=False)
    return data_templates.copy("samples", ingest_samples, data_dir)
