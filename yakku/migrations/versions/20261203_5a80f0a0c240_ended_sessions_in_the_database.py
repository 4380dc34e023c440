"""ended sessions in the database: revoked token families, and each account's session generation

Ending a session lived only in Redis, so a Redis that lost its data brought every ended session back
(docs/reliability.md, "Redis loses data"). The database becomes the record: refresh checks it, and
puts back in Redis what Redis lost.

Revision ID: 5a80f0a0c240
Revises: 7e4b9a2c1d30
Create Date: 2026-12-03 09:00:00
"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '5a80f0a0c240'
down_revision = '7e4b9a2c1d30'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'revoked_token_families',
        sa.Column('family', sa.String(length=64), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('family', name=op.f('pk_revoked_token_families')),
    )
    with op.batch_alter_table('revoked_token_families', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revoked_token_families_expires_at'), ['expires_at'], unique=False)
    # Existing accounts start at 0; a generation Redis raised before this revision is adopted by the
    # row at the account's next sign-in or refresh (api.accounts.ended_sessions.generation_for).
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sessions_generation', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('sessions_generation')
    with op.batch_alter_table('revoked_token_families', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revoked_token_families_expires_at'))
    op.drop_table('revoked_token_families')
