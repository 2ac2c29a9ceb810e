"""Warehouse migrations (pipeline.load.migrate): the contracts and the migrations agree, a
warehouse of the last release without migrations (tests/fixtures/) is upgraded in place with
every row and the ledger kept, on SQLite and PostgreSQL, and whatever uses a warehouse at
another version refuses it with a French message."""

from __future__ import annotations

import dataclasses
import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from test_postgres import postgres  # noqa: F401  (the throw-away cluster, for release_url)
from sqlalchemy import MetaData, create_engine, inspect, select, text

from pipeline.contracts.datasets import CONTRACTS
from pipeline.contracts.model import Column
from ops.cluster import postgres_available
from pipeline.load import migrate, warehouse

FIXTURE = REPO / "tests" / "fixtures" / "warehouse-1b19bd9.sqlite.gz"
# The tables of the fixture and their row counts (the sample drops and one withdrawal).
FIXTURE_ROWS = {"ledger": 9, "retraits": 2, "ateliers": 165, "pass": 1800, "collecte": 240,
                "tri": 220, "lieux": 16}


def release_warehouse(folder: Path) -> str:
    """A copy of the fixture warehouse (made by main at 1b19bd9, before migrations); its URL."""
    path = folder / "warehouse.sqlite"
    path.write_bytes(gzip.decompress(FIXTURE.read_bytes()))
    return f"sqlite:///{path}"


def dump(url: str, tables: MetaData = warehouse.metadata) -> dict[str, list[dict]]:
    """Every row of every table (and the version), in key order."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            names = set(inspect(connection).get_table_names())
            rows = {}
            for table in tables.sorted_tables:
                order = [c for c in table.primary_key.columns]
                rows[table.name] = [dict(r._mapping) for r in
                                    connection.execute(select(table).order_by(*order))]
            if migrate.VERSION_TABLE in names:
                rows[migrate.VERSION_TABLE] = [dict(r._mapping) for r in connection.execute(
                    text(f"SELECT version_num FROM {migrate.VERSION_TABLE}"))]
            return rows
    finally:
        engine.dispose()


def schema_of(url: str) -> dict:
    """Tables, columns (type, nullable), primary keys and indexes as the database reports them."""
    engine = create_engine(url)
    try:
        found = inspect(engine)
        return {name: ([(c["name"], str(c["type"]), c["nullable"])
                        for c in found.get_columns(name)],
                       found.get_pk_constraint(name)["constrained_columns"],
                       sorted((i["name"], tuple(i["column_names"]))
                              for i in found.get_indexes(name)))
                for name in sorted(found.get_table_names())}
    finally:
        engine.dispose()


def differences(url: str, tables: MetaData = warehouse.metadata) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return compare_metadata(
                MigrationContext.configure(connection, opts={"compare_type": True}), tables)
    finally:
        engine.dispose()


def test_migrations_are_numbered_in_one_line():
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(migrate.MIGRATIONS))
    assert scripts.get_heads() == [migrate.head()]
    chain = [s.revision for s in scripts.walk_revisions()][::-1]
    assert chain == migrate.revisions() == [f"{n:04d}" for n in range(1, len(chain) + 1)]


def test_contracts_match_the_latest_migration(tmp_path):
    """A contract changed without its migration (make migration) fails here."""
    migrated = f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    lines = migrate.upgrade(migrated)
    assert f"créé à la version {migrate.head()}" in lines[0]
    assert differences(migrated) == []
    # A new warehouse is created at first use from the contracts, marked with the latest
    # migration: the same schema as the one the migrations build.
    created = f"sqlite:///{tmp_path / 'created.sqlite'}"
    migrate.prepare(warehouse.new_engine(created), warehouse.metadata)
    assert schema_of(created) == schema_of(migrated)
    assert dump(created)[migrate.VERSION_TABLE] == [{"version_num": migrate.head()}]


def test_release_warehouse_is_refused_until_migrated_then_kept_whole(tmp_path, monkeypatch):
    url = release_warehouse(tmp_path)
    monkeypatch.setenv("INCLUSION_WAREHOUSE_URL", url)
    before = dump(url)
    assert {name: len(rows) for name, rows in before.items()} == FIXTURE_ROWS
    with pytest.raises(migrate.WarehouseVersionError, match="Lancez « make migrate »"):
        migrate.require_known_version()
    with pytest.raises(migrate.WarehouseVersionError, match="antérieure au suivi des versions"):
        warehouse.engine()
    assert dump(url) == before  # refusing changes nothing

    lines = migrate.upgrade()
    assert "Entrepôt antérieur au suivi des versions" in lines[0]
    after = dump(url)
    assert after.pop(migrate.VERSION_TABLE) == [{"version_num": migrate.head()}]
    assert after == before
    migrate.require_known_version()
    from pipeline.load import ledger

    assert len(ledger.entries()) == FIXTURE_ROWS["ledger"]


def test_release_warehouse_with_another_schema_is_left_untouched(tmp_path):
    """Before marking a warehouse without version as 0001, make migrate compares it with
    0001: an index the old code added at start is created, anything else refuses."""
    url = release_warehouse(tmp_path)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_lieux_nom"))
    assert "marqué comme tel" in migrate.upgrade(url)[0]
    assert ("ix_lieux_nom", ("nom", "current")) in schema_of(url)["lieux"][2]

    url = release_warehouse(tmp_path)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE ateliers DROP COLUMN inscription"))
    engine.dispose()
    before = dump(url, warehouse.schema({}))
    with pytest.raises(migrate.WarehouseVersionError) as refused:
        migrate.upgrade(url)
    assert "n'a ni version enregistrée ni le schéma de la version 0001" in str(refused.value)
    assert "colonne manquante ateliers.inscription" in str(refused.value)
    assert dump(url, warehouse.schema({})) == before
    assert migrate.VERSION_TABLE not in schema_of(url)


def test_a_migration_that_loses_rows_is_rolled_back(tmp_path, monkeypatch):
    url = release_warehouse(tmp_path)
    migrate.upgrade(url)
    before = dump(url)
    migrations = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, migrations,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (migrations / "versions" / "0002_purge.py").write_text(
        '"""Purge"""\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
        'revision = "0002"\ndown_revision = "0001"\nbranch_labels = depends_on = None\n\n\n'
        'def upgrade():\n'
        '    op.execute("DELETE FROM pass WHERE current = 0 OR numero_pass LIKE \'%1\'")\n'
        '    op.add_column("tri", sa.Column("x", sa.Text()))\n', encoding="utf-8")
    monkeypatch.setattr(migrate, "MIGRATIONS", migrations)
    with pytest.raises(migrate.WarehouseVersionError, match="pass : 1800 avant, 1620 après"):
        migrate.upgrade(url)
    assert dump(url) == before  # rows, columns and version as they were
    assert "x" not in [c[0] for c in schema_of(url)["tri"][0]]


def test_make_migrate_twice_changes_nothing_the_second_time(tmp_path):
    data = tmp_path / "data"
    (data / "warehouse").mkdir(parents=True)
    url = release_warehouse(data / "warehouse")
    env = {**os.environ, "INCLUSION_DATA": str(data)}
    env.pop("INCLUSION_WAREHOUSE_URL", None)
    outputs = []
    for _ in range(2):
        done = subprocess.run(["make", "--no-print-directory", "migrate"], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        outputs.append((done.stdout, dump(url)))
    (first, first_rows), (second, second_rows) = outputs
    assert "marqué comme tel" in first and "marqué" not in second
    assert "rien d'autre à faire" in second
    assert first_rows == second_rows


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres,
                                                                     pytest.mark.slow])])
def release_url(request, tmp_path) -> str:
    """The fixture warehouse, as the last release without migrations left it, on SQLite or
    on PostgreSQL (there: created by that release's create_all, then the same rows)."""
    url = release_warehouse(tmp_path)
    if request.param == "sqlite":
        return url
    if not postgres_available():
        pytest.skip("PostgreSQL 15 server binaries are not installed")
    target = f"{request.getfixturevalue('postgres')}/entrepot"
    rows = dump(url)
    engine = create_engine(target)
    try:
        warehouse.schema(CONTRACTS).create_all(engine)  # the release's own schema creation
        with engine.begin() as connection:
            for table in warehouse.metadata.sorted_tables:
                if rows[table.name]:
                    connection.execute(table.insert(), rows[table.name])
    finally:
        engine.dispose()
    return target


def test_contract_change_is_migrated_in_place_with_every_row(release_url, tmp_path,
                                                             monkeypatch):
    """A column added to a contract: `make migration` writes the migration from the
    contracts, `make migrate` applies it; every row of every table and the ledger stay."""
    before = dump(release_url)
    assert {name: len(rows) for name, rows in before.items()} == FIXTURE_ROWS
    migrations = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, migrations,
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "MIGRATIONS", migrations)
    ateliers = CONTRACTS["ateliers"]
    accessible = Column(name="accessible_pmr", label="Accessible en fauteuil", type="choice",
                        description="La salle est accessible.", example="oui", required=False)
    changed = {**CONTRACTS,
               "ateliers": dataclasses.replace(ateliers, columns=(*ateliers.columns, accessible))}
    new_schema = warehouse.schema(changed)

    written = migrate.new_revision("Ateliers : colonne accessible_pmr", new_schema)
    assert written.name == "0002_ateliers_colonne_accessible_pmr.py"
    assert "add_column" in written.read_text() and "accessible_pmr" in written.read_text()
    assert migrate.head() == "0002"
    with pytest.raises(migrate.WarehouseVersionError, match="Lancez « make migrate »"):
        migrate.require_known_version(release_url)

    lines = migrate.upgrade(release_url)
    assert "Entrepôt antérieur au suivi des versions" in lines[0]
    assert "mis à jour sur place de la version 0001 à la version 0002 ; lignes gardées : " \
        "ateliers 165, collecte 240, ledger 9, lieux 16, pass 1800, retraits 2, tri 220." \
        in lines[1]
    assert lines[2:] == ["Migrations appliquées (1) :",
                         "  0002 — Ateliers : colonne accessible_pmr"]
    migrate.require_known_version(release_url)
    assert differences(release_url, new_schema) == []
    after = dump(release_url, new_schema)
    assert after.pop(migrate.VERSION_TABLE) == [{"version_num": "0002"}]
    assert [row.pop("accessible_pmr") for row in after["ateliers"]] == [None] * 165
    assert after == before
    assert migrate.upgrade(release_url)[-1].endswith("rien d'autre à faire.")

    # The code of the release before (migrations up to 0001) refuses the upgraded warehouse.
    monkeypatch.undo()
    with pytest.raises(migrate.WarehouseVersionError, match="inconnue de ce code") as refused:
        migrate.require_known_version(release_url)
    assert "make migrate" in str(refused.value)  # ... saying not to run it backwards
    with pytest.raises(migrate.WarehouseVersionError, match="inconnue de ce code"):
        migrate.upgrade(release_url)


def stamped(tmp_path: Path, revision: str) -> str:
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    engine = warehouse.new_engine(url)
    migrate.prepare(engine, warehouse.metadata)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
    engine.dispose()
    return url


def test_unknown_version_stops_a_dag_run_at_its_start_in_french(tmp_path, monkeypatch):
    import _shared
    from airflow.sdk.exceptions import AirflowFailException

    monkeypatch.setenv("INCLUSION_WAREHOUSE_URL", stamped(tmp_path, "0042"))
    with pytest.raises(AirflowFailException) as refused:  # no retries
        _shared.check_warehouse()
    message = str(refused.value)
    assert message.startswith(f"L'entrepôt ({tmp_path / 'warehouse.sqlite'}) est à la version "
                              "0042 de son schéma, inconnue de ce code")
    assert f"dernière version connue : {migrate.head()}" in message
    with pytest.raises(migrate.WarehouseVersionError, match="0042"):
        warehouse.engine()


def test_steward_commands_say_what_to_do_without_a_traceback(tmp_path, monkeypatch, capsys):
    from pipeline.cli import main as cli

    monkeypatch.setenv("INCLUSION_WAREHOUSE_URL", stamped(tmp_path, "0042"))
    assert cli(["ledger"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("Impossible : L'entrepôt") and "inconnue de ce code" in error
    assert "Traceback" not in error


def test_every_dag_checks_the_warehouse_in_its_first_task():
    for name, first in (("ingest_inbox", "def surveiller_depots"),
                        ("publish_site", "def construire"),
                        ("remind_partners", "def rappeler_retards")):
        source = (REPO / "dags" / f"{name}.py").read_text(encoding="utf-8")
        # after the task's imports, before anything else it does
        assert "check_warehouse()" in source.split(first, 1)[1].split("return", 1)[0], name


@pytest.mark.parametrize("url, expected", [
    ("nimporte-quoi", "Le réglage INCLUSION_WAREHOUSE_URL n'est pas une adresse"),
    ("postgress://u@h/db", "type « postgress » inconnu"),
    ("postgresql+psycopg2://steward:s3cr3t-pw@127.0.0.1:9/entrepot",
     "L'entrepôt (postgresql+psycopg2://steward:***@127.0.0.1:9/entrepot) est injoignable"),
])
def test_misconfigured_warehouse_url_is_named_without_its_password(url, expected, monkeypatch):
    monkeypatch.setenv("INCLUSION_WAREHOUSE_URL", url)
    with pytest.raises(migrate.WarehouseVersionError) as refused:
        migrate.require_known_version()
    message = str(refused.value)
    assert expected in message and "INCLUSION_WAREHOUSE_URL" in message
    assert "s3cr3t" not in message


@pytest.mark.airflow
@pytest.mark.slow
def test_reception_run_fails_at_its_first_task_with_one_alert(dagbag, data_dir, monkeypatch):
    from datetime import timedelta

    from conftest import REFERENCE_RUN

    from pipeline.config import data_paths

    (data_dir / "warehouse").mkdir()
    monkeypatch.setenv("INCLUSION_WAREHOUSE_URL", stamped(data_dir / "warehouse", "0042"))
    dag = dagbag.get_dag("reception_fichiers")
    for task in dag.tasks:  # a failure after retries would be one too: no waits in a test
        monkeypatch.setattr(task, "retries", 0)
    dag_run = dag.test(run_after=REFERENCE_RUN + timedelta(minutes=17))
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert dag_run.state == "failed", states
    assert [task for task, state in states.items() if state == "failed"] == \
        ["surveiller_depots"], states
    alerts = [p.read_text(encoding="utf-8") for p in (data_paths().root / "alertes").glob("*.txt")]
    assert len(alerts) == 1 and "inconnue de ce code" in alerts[0], alerts


def test_the_dag_start_check_stays_light(tmp_path):
    """Run every 30 seconds before anything else: no pandas, no Alembic, no Great
    Expectations."""
    url = stamped(tmp_path, migrate.head())
    code = ("import sys\nfrom pipeline.load.migrate import require_known_version\n"
            f"require_known_version({url!r})\n"
            "print(sorted(m for m in ('pandas', 'alembic', 'great_expectations') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=REPO)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr


def test_make_migration_writes_nothing_when_the_contracts_did_not_change():
    versions = sorted((migrate.MIGRATIONS / "versions").glob("*.py"))
    env = {k: v for k, v in os.environ.items() if k != "MESSAGE"}
    usage = subprocess.run(["make", "--no-print-directory", "migration"], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=300)
    assert usage.returncode != 0 and "usage : make migration MESSAGE=" in usage.stdout
    done = subprocess.run(["make", "--no-print-directory", "migration", "MESSAGE=rien"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Les contrats n'ont pas changé : aucune migration à écrire." in done.stdout
    assert sorted((migrate.MIGRATIONS / "versions").glob("*.py")) == versions
