"""Alembic's environment for the warehouse: run by ``pipeline.load.migrate`` only, on the
connection it passes (``config.attributes["connection"]``), within its transaction. The target
schema is the contracts' (``warehouse.metadata``) unless the caller gives another one (tests)."""

from alembic import context

config = context.config
target_metadata = config.attributes.get("target_metadata")
if target_metadata is None:
    from pipeline.load.warehouse import metadata as target_metadata

if context.is_offline_mode():
    raise SystemExit("Les migrations de l'entrepôt s'appliquent sur la base elle-même "
                     "(make migrate), pas en SQL hors ligne.")

context.configure(
    connection=config.attributes["connection"],
    target_metadata=target_metadata,
    # SQLite changes most of a table by copying it into a new one: Alembic's batch mode.
    render_as_batch=True,
    compare_type=True,
    process_revision_directives=config.attributes.get("process_revision_directives"),
)
with context.begin_transaction():
    context.run_migrations()
