"""The migrations build, on an empty database, exactly the schema the models describe, and undo it."""

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from yakku.extensions import db
from yakku.factory import MIGRATIONS, create_api_app
from yakku.schema import load_models


@pytest.fixture
def fresh_database_url(database_url, tmp_path):
    """An empty database on the backend under test: a new SQLite file, or a new MySQL schema."""
    url = sa.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    name = f"{url.database}_migrations_{uuid.uuid4().hex[:8]}"
    server = sa.create_engine(url.set(database=None))
    with server.begin() as connection:
        connection.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.begin() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        server.dispose()


@pytest.fixture
def migrated_app(config, fresh_database_url):
    app = create_api_app({**config, "DATABASE_URL": fresh_database_url})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def schema_differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, load_models())


def table_names() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def test_there_is_a_migration_for_the_models():
    assert list((MIGRATIONS / "versions").glob("*.py")), "no revision: run `yakku db migrate -m ...`"


def test_upgrade_builds_exactly_the_schema_of_the_models(migrated_app):
    upgrade()
    differences = schema_differences()
    assert differences == [], "the models changed without a migration: run `yakku db migrate -m ...`"
    assert {table.name for table in load_models().sorted_tables} <= table_names()


def test_downgrade_to_base_removes_every_table(migrated_app):
    upgrade()
    downgrade(revision="base")
    assert table_names() <= {"alembic_version"}


def test_upgrade_twice_changes_nothing(migrated_app):
    upgrade()
    before = table_names()
    upgrade()
    assert table_names() == before and schema_differences() == []


def test_upgrade_makes_account_ids_never_reused_on_sqlite(migrated_app):
    upgrade()
    if db.engine.dialect.name != "sqlite":
        pytest.skip("MySQL's AUTO_INCREMENT never goes back by itself")
    with db.engine.connect() as connection:
        schema = connection.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = 'accounts'")).scalar()
    assert "AUTOINCREMENT" in schema
