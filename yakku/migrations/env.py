"""Alembic's environment: the database and the models come from the Flask app Flask-Migrate runs in."""

import logging
from logging.config import fileConfig

from alembic import context
from alembic.operations.ops import DropIndexOp, DropTableOp, ModifyTableOps
from flask import current_app

from yakku.schema import load_models

config = context.config

if config.config_file_name is not None and not logging.getLogger().handlers:
    # Only from the command line: a test run or a server keeps the logging it set up.
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

migrate_state = current_app.extensions["migrate"]
engine = migrate_state.db.engine
config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
# Every area's tables, even those of services this process does not serve.
target_metadata = load_models()


def run_migrations_offline() -> None:
    """Print the SQL for a URL (`yakku db upgrade --sql`) instead of running it."""
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _tidy_revision(context, revision, directives) -> None:
    """Autogenerate hook: no file for no change, and no index drops before dropping their table."""
    if not getattr(config.cmd_opts, "autogenerate", False):
        return
    script = directives[0]
    if script.upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")
        return
    for ops in (*script.upgrade_ops_list, *script.downgrade_ops_list):
        ops.ops = _without_index_drops_of_dropped_tables(ops.ops)


def _without_index_drops_of_dropped_tables(operations: list) -> list:
    # MySQL refuses to drop an index a foreign key needs; dropping the table drops its indexes anyway.
    dropped = {op.table_name for op in operations if isinstance(op, DropTableOp)}
    return [
        op
        for op in operations
        if not (
            isinstance(op, ModifyTableOps)
            and op.table_name in dropped
            and all(isinstance(inner, DropIndexOp) for inner in op.ops)
        )
    ]


def run_migrations_online() -> None:
    """Run the revisions on a connection of the app's engine."""
    options = dict(migrate_state.configure_args)
    if options.get("process_revision_directives") is None:
        options["process_revision_directives"] = _tidy_revision
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, **options)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
