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


def test_upgrade_counts_each_running_sale_allotments_committed_units(migrated_app):
    # Sales armed before allotments kept their count: the upgrade sums each one's orders being paid or sold.
    upgrade(revision="5a80f0a0c240")
    orders = [(1, "paid", 2), (2, "payment_pending", 1), (3, "payment_failed", 5), (4, "shipped", 1)]
    with db.engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO sale_allotments (sale_id, units) VALUES (7, 10), (8, 3)"))
        for order_id, state, quantity in orders:
            connection.execute(
                sa.text(
                    "INSERT INTO orders (id, account_id, state, total, currency, source, sale_id,"
                    " idempotency_key, request_fingerprint, created_at, updated_at)"
                    " VALUES (:id, 1, :state, 100, 'EUR', 'sale', 7, :key, 'x',"
                    " '2026-12-01 00:00:00', '2026-12-01 00:00:00')"
                ),
                {"id": order_id, "state": state, "key": f"sale:7:{order_id}"},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO order_lines (order_id, product_id, product_name, unit_price, quantity)"
                    " VALUES (:id, 1, 'Kettle', 100, :quantity)"
                ),
                {"id": order_id, "quantity": quantity},
            )
    upgrade()
    with db.engine.connect() as connection:
        counted = connection.execute(
            sa.text("SELECT sale_id, committed FROM sale_allotments ORDER BY sale_id")
        )
        assert [tuple(row) for row in counted] == [(7, 4), (8, 0)]
