"""sale allotments, recoveries, and the leftovers a closed sale gave back

The database becomes the record of what a sale sold (docs/reliability.md, "Redis loses data"): the
orders service bounds a sale's paying orders by its allotment, and a sale's repairs from the database
and its settle are recorded where a Redis loss cannot take them.

Revision ID: 7e4b9a2c1d30
Revises: 6d0ef0c55545
Create Date: 2026-12-02 06:30:00
"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '7e4b9a2c1d30'
down_revision = '6d0ef0c55545'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sale_allotments',
        sa.Column('sale_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('units', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('sale_id', name=op.f('pk_sale_allotments')),
    )
    op.create_table(
        'sale_recoveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sale_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['sale_id'], ['sales.id'], name=op.f('fk_sale_recoveries_sale_id_sales')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sale_recoveries')),
    )
    with op.batch_alter_table('sale_recoveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sale_recoveries_sale_id'), ['sale_id'], unique=False)
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leftovers_returned', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.drop_column('leftovers_returned')
    op.drop_table('sale_recoveries')  # its index goes with it (MariaDB keeps one a foreign key needs)
    op.drop_table('sale_allotments')
