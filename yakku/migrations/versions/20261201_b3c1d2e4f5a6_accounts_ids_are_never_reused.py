"""accounts: ids are never reused (AUTOINCREMENT on SQLite)

Revision ID: b3c1d2e4f5a6
Revises: a74fa565be88
Create Date: 2026-12-01 22:50:00.000000

SQLite's plain INTEGER PRIMARY KEY hands the largest deleted id to the next row: a deleted account's
refresh token signed in as the next sign-up. AUTOINCREMENT can only be given by rebuilding the table,
which batch mode does (copying the rows). MySQL's AUTO_INCREMENT already never goes back: nothing to do.
Autogenerate does not compare sqlite_autoincrement, so this revision is written by hand.
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = 'b3c1d2e4f5a6'
down_revision = 'a74fa565be88'
branch_labels = None
depends_on = None


def _rebuild_accounts(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "accounts", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def upgrade():
    _rebuild_accounts(True)


def downgrade():
    _rebuild_accounts(False)
