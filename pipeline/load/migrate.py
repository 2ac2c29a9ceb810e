"""Versions of the warehouse schema: Alembic migrations, checked before the warehouse is used.

The schema is the contracts' (``warehouse.schema``). Every change of it is a migration in
``pipeline/load/migrations/versions/``, named ``<NNNN>_<slug>.py`` (0001 is the schema of the
last release without migrations), written by ``make migration MESSAGE="..."`` (Alembic's
autogenerate, against a scratch warehouse at the latest migration) and reviewed like any code.
A warehouse records its version in Alembic's ``alembic_version`` table.

- ``make migrate`` (``python -m pipeline.load.migrate``) upgrades the warehouse in place, in one
  transaction, and says in French what it did; run twice, the second run changes nothing. A
  warehouse made before migrations existed (the tables, no version) is first compared with
  migration 0001 (tables, columns, indexes) and marked with it when they agree.
- Whatever uses the warehouse refuses one whose version is not the latest migration the code
  knows, with a French message saying what to do (``WarehouseVersionError``): the first task of
  every DAG (``require_known_version``) and ``warehouse.engine()``. An empty database gets the
  current schema at its first use, marked with the latest migration (``prepare``;
  tests/test_migrations.py checks that this is the schema the migrations build).

Imports SQLAlchemy only, Alembic when migrating: the DAGs' first tasks call this module.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import unicodedata
from pathlib import Path

from sqlalchemy import (Column, Engine, MetaData, PrimaryKeyConstraint, String, Table,
                        create_engine, inspect, text)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from pipeline.load.database import new_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
FIRST = "0001"
_REVISION_FILE = re.compile(r"^(\d{4})_\w*\.py$")
# A table every warehouse of the project has had since the first release.
_MARKER_TABLE = "ledger"
SETTING = "INCLUSION_WAREHOUSE_URL"


class WarehouseVersionError(RuntimeError):
    """The warehouse cannot be used by this code as it is; the message, in French, says what
    to do."""


def revisions() -> list[str]:
    """The migrations the code knows, oldest first (their numbers)."""
    return sorted(match.group(1) for path in (MIGRATIONS / "versions").iterdir()
                  if (match := _REVISION_FILE.match(path.name)))


def head() -> str:
    """The latest migration: the version the code reads and writes."""
    return revisions()[-1]


def describe(url: str) -> str:
    """The warehouse's location for a message: the SQLite file, or the URL without password."""
    if url.startswith("sqlite:///"):
        return url.removeprefix("sqlite:///")
    return make_url(url).render_as_string(hide_password=True)


def stored_state(connection) -> tuple[str | None, bool]:
    """(the version recorded in the warehouse, None without one; whether it holds the
    project's tables)."""
    names = set(inspect(connection).get_table_names())
    revision = None
    if VERSION_TABLE in names:
        found = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        revision = ",".join(sorted(found)) or None
    return revision, _MARKER_TABLE in names


def problem(revision: str | None, has_tables: bool, where: str) -> str | None:
    """The French message refusing a warehouse at ``revision``, or None when the code can use
    it (at the latest migration, or empty: created at first use)."""
    known, latest = revisions(), head()
    if revision == latest or (revision is None and not has_tables):
        return None
    if revision is None:
        return (f"L'entrepôt ({where}) a été créé par une version du projet antérieure au suivi "
                f"des versions de son schéma. Lancez « make migrate » pour le mettre à la "
                f"version {latest} (sur place, toutes les lignes et le registre sont gardés), "
                "puis relancez.")
    if revision in known:
        return (f"L'entrepôt ({where}) est à la version {revision} de son schéma ; ce code "
                f"attend la version {latest}. Lancez « make migrate » pour le mettre à jour "
                "(sur place, toutes les lignes et le registre sont gardés), puis relancez.")
    return (f"L'entrepôt ({where}) est à la version {revision} de son schéma, inconnue de ce "
            f"code (dernière version connue : {latest}) : il a sans doute été mis à jour par une "
            "version plus récente du projet. Installez cette version du code, ou restaurez une "
            "sauvegarde de l'entrepôt ; « make migrate » ne peut pas revenir en arrière.")


def _lock(connection) -> None:
    """One schema change at a time (SQLite: the caller's BEGIN IMMEDIATE already is)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('entrepot/schema'))"))


def _stamp(connection, revision: str) -> None:
    """Record ``revision`` as the warehouse's version, in Alembic's own table."""
    version = Table(VERSION_TABLE, MetaData(), Column("version_num", String(32), nullable=False),
                    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"))
    version.create(connection, checkfirst=True)
    connection.execute(version.delete())
    connection.execute(version.insert().values(version_num=revision))


def prepare(engine: Engine, metadata: MetaData) -> None:
    """Before a process uses the warehouse: an empty one gets ``metadata`` (the contracts'
    schema) marked with the latest migration; one at another version raises
    ``WarehouseVersionError``."""
    with engine.begin() as connection:
        _lock(connection)
        revision, has_tables = stored_state(connection)
        if revision is None and not has_tables:
            metadata.create_all(connection)
            _stamp(connection, head())
            return
        message = problem(revision, has_tables, describe(engine.url.render_as_string(False)))
    if message:
        raise WarehouseVersionError(message)


def require_known_version(url: str | None = None) -> None:
    """The first step of every DAG run: stop with one French message when the warehouse is
    at a version this code does not know or not yet migrated, or ``INCLUSION_WAREHOUSE_URL``
    does not lead to a database. Reads only (an empty warehouse is fine: created at first
    use); never prints the password of the URL."""
    url = url or _settings_url()
    message = problem(*_read_state(url), describe(url))
    if message:
        raise WarehouseVersionError(message)


def _settings_url() -> str:
    from pipeline.config import warehouse_url

    return warehouse_url()


def _read_state(url: str) -> tuple[str | None, bool]:
    """``stored_state`` of the warehouse at ``url``, read without changing it; a URL that is
    not one, or leads to no database, raises ``WarehouseVersionError`` naming the setting."""
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None, False
    try:
        engine = create_engine(url)
    except ArgumentError:
        scheme = url.split("://", 1)[0] if "://" in url else ""
        raise WarehouseVersionError(
            f"Le réglage {SETTING} n'est pas une adresse de base de données utilisable"
            + (f" (type « {scheme} » inconnu)" if scheme else "")
            + " : écrivez par exemple postgresql+psycopg2://utilisateur@hote:5432/entrepot, "
            "ou retirez le réglage pour utiliser le fichier SQLite du dossier de données."
        ) from None
    try:
        with engine.connect() as connection:
            return stored_state(connection)
    except DBAPIError as error:
        cause = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        raise WarehouseVersionError(
            f"L'entrepôt ({describe(url)}) est injoignable : {cause}. Vérifiez le réglage "
            f"{SETTING} et que la base de données est démarrée, puis relancez.") from None
    finally:
        engine.dispose()


def _config(connection, metadata: MetaData | None = None):
    """Alembic's configuration for the migrations of this package, on ``connection`` (in its
    transaction)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    if metadata is not None:
        config.attributes["target_metadata"] = metadata
    return config


def _counts(connection) -> dict[str, int]:
    """Rows of every table of the warehouse (its version aside)."""
    quote = connection.dialect.identifier_preparer.quote
    return {name: connection.execute(text(f"SELECT count(*) FROM {quote(name)}")).scalar_one()
            for name in sorted(inspect(connection).get_table_names()) if name != VERSION_TABLE}


def _titles(first: str | None, last: str) -> list[str]:
    """``number — title`` of the migrations after ``first`` up to ``last``."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(MIGRATIONS))
    done = []
    for script in scripts.iterate_revisions(last, first or "base"):
        done.append(f"{script.revision} — {script.doc}")
    return done[::-1]


def _reference(revision: str) -> MetaData:
    """The schema the migrations build up to ``revision``, reflected from a scratch SQLite
    database."""
    from alembic import command

    scratch = create_engine("sqlite://")
    try:
        with scratch.begin() as connection:
            command.upgrade(_config(connection), revision)
            reference = MetaData()
            reference.reflect(connection)
        reference.remove(reference.tables[VERSION_TABLE])
        return reference
    finally:
        scratch.dispose()


def _adopt(connection, where: str) -> None:
    """Mark a warehouse made before migrations existed with migration 0001, after checking it
    has its tables, columns and indexes (an index the old code would have added at start is
    created). Anything else different: refused, nothing changed."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={"compare_type": False})
    differences = compare_metadata(context, _reference(FIRST))
    for difference in differences:
        if isinstance(difference, tuple) and difference[0] == "add_index":
            difference[1].create(connection)
    others = [d for d in differences if not (isinstance(d, tuple) and d[0] == "add_index")]
    if others:
        raise WarehouseVersionError(
            f"L'entrepôt ({where}) n'a ni version enregistrée ni le schéma de la version "
            f"{FIRST} ; il n'est pas modifié. Différences : "
            + "; ".join(_difference(d) for d in others[:10])
            + ". Signalez-le à l'équipe technique avec ce message.")
    _stamp(connection, FIRST)


def _difference(difference) -> str:
    """One difference found by Alembic, briefly, in French."""
    if isinstance(difference, list):
        difference = difference[0]
    kind, *rest = difference
    names = {"add_table": "table manquante", "remove_table": "table en trop",
             "add_column": "colonne manquante", "remove_column": "colonne en trop",
             "remove_index": "index en trop", "modify_nullable": "colonne obligatoire ou non"}
    subject = rest[0]
    name = getattr(subject, "name", None)
    if kind in ("add_column", "remove_column"):
        name = f"{rest[1]}.{rest[2].name}"
    elif kind == "modify_nullable":
        name = f"{rest[1]}.{rest[2]}"
    return f"{names.get(kind, kind)} {name or subject}"


def upgrade(url: str | None = None) -> list[str]:
    """``make migrate``: the warehouse at ``url`` (the settings' one by default) brought to the
    latest migration in place, in one transaction. Returns what was done, in French."""
    from alembic import command

    url = url or _settings_url()
    _read_state(url)  # a misconfigured URL or a database that is down: the French message
    where, latest = describe(url), head()
    engine = new_engine(url)
    try:
        with engine.begin() as connection:
            _lock(connection)
            revision, has_tables = stored_state(connection)
            done = []
            if revision is not None and revision not in revisions():
                raise WarehouseVersionError(problem(revision, has_tables, where))
            if revision is None and has_tables:
                _adopt(connection, where)
                revision = FIRST
                done.append(f"Entrepôt antérieur au suivi des versions ({where}) : son schéma "
                            f"est celui de la version {FIRST}, il est marqué comme tel.")
            if revision == latest:
                done.append(f"L'entrepôt ({where}) est à la version {latest}, la dernière : "
                            "rien d'autre à faire.")
                return done
            before = _counts(connection)
            command.upgrade(_config(connection), latest)
            after = _counts(connection)
            lost = {name: (count, after.get(name, 0)) for name, count in before.items()
                    if after.get(name, 0) < count}
            if lost:  # raised within the transaction: nothing is changed
                raise WarehouseVersionError(
                    f"La mise à jour de l'entrepôt ({where}) vers la version {latest} perdrait "
                    "des lignes (" + ", ".join(f"{name} : {was} avant, {now} après"
                                               for name, (was, now) in sorted(lost.items()))
                    + ") : elle est annulée, l'entrepôt n'a pas changé. Signalez-le à l'équipe "
                    "technique : une migration ne doit rien effacer.")
            applied = _titles(revision, latest)
            if revision:
                done.append(f"Entrepôt ({where}) mis à jour sur place de la version {revision} "
                            f"à la version {latest} ; lignes gardées : "
                            + ", ".join(f"{name} {count}" for name, count in before.items())
                            + ".")
            else:
                done.append(f"Entrepôt ({where}) créé à la version {latest}.")
            done.append(f"Migrations appliquées ({len(applied)}) :")
            done += [f"  {title}" for title in applied]
            return done
    finally:
        engine.dispose()


def new_revision(message: str, metadata: MetaData | None = None) -> Path | None:
    """``make migration``: write the migration from the latest one to the contracts' schema
    (``metadata``: the warehouse's by default), numbered after the latest; None when the
    schema has not changed. The file is to be read and completed before it is committed."""
    from alembic import command

    known = revisions()
    number = f"{int(known[-1]) + 1 if known else 1:04d}"

    def skip_empty(_context, _revision, directives) -> None:
        if directives[0].upgrade_ops.is_empty():
            directives[:] = []

    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{scratch}/entrepot.sqlite")
        try:
            with engine.begin() as connection:
                config = _config(connection, metadata)
                command.upgrade(config, "head")
                config.attributes["process_revision_directives"] = skip_empty
                script = command.revision(config, message=message, autogenerate=True,
                                          rev_id=number)
        finally:
            engine.dispose()
    if not script:
        return None
    path = Path(script.path)  # the file name without accents (the title keeps them)
    plain = unicodedata.normalize("NFKD", path.name).encode("ascii", "ignore").decode()
    return path.rename(path.with_name(plain)) if plain != path.name else path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline.load.migrate",
        description="Versions du schéma de l'entrepôt (migrations Alembic).")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("appliquer", help="met l'entrepôt à la dernière version, sur place "
                                          "(par défaut ; make migrate)")
    commands.add_parser("etat", help="affiche la version de l'entrepôt et celle du code")
    new = commands.add_parser("nouvelle", help="écrit la migration d'un changement des contrats "
                                               "(make migration MESSAGE=...)")
    new.add_argument("message", help="ce que change la migration, en une ligne")
    args = parser.parse_args(argv)
    try:
        if args.command == "nouvelle":
            path = new_revision(args.message)
            print(f"Migration écrite : {path} — relisez-la avant de la valider."
                  if path else "Les contrats n'ont pas changé : aucune migration à écrire.")
        elif args.command == "etat":
            url = _settings_url()
            require_known_version(url)
            print(f"L'entrepôt ({describe(url)}) est utilisable par ce code (version {head()}).")
        else:
            print("\n".join(upgrade()))
    except WarehouseVersionError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
