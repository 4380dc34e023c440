"""sale draws: each sale's published draw (commitment, salt, seed, entries)

Revision ID: 5d2e8c1f9b70
Revises: 130b3ab26644
Create Date: 2026-12-01 23:30:00.000000
"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '5d2e8c1f9b70'
down_revision = '130b3ab26644'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sale_draws',
    sa.Column('sale_id', sa.Integer(), nullable=False),
    sa.Column('commitment', sa.String(length=64), nullable=False),
    sa.Column('salt', sa.String(length=64), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=True),
    sa.Column('entries', sa.JSON(), nullable=True),
    sa.Column('committed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['sale_id'], ['sales.id'], name=op.f('fk_sale_draws_sale_id_sales')),
    sa.PrimaryKeyConstraint('sale_id', name=op.f('pk_sale_draws'))
    )


def downgrade():
    op.drop_table('sale_draws')
