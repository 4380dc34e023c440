"""sales: how long a declined card's units wait for another card

Revision ID: 45c82dcb79df
Revises: b3c1d2e4f5a6
Create Date: 2026-12-01 23:20:00
"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '45c82dcb79df'
down_revision = 'b3c1d2e4f5a6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decline_grace_s', sa.Integer(), server_default='60', nullable=False))
        batch_op.create_check_constraint(op.f('ck_sales_decline_grace_positive'), 'decline_grace_s > 0')


def downgrade():
    with op.batch_alter_table('sales', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_sales_decline_grace_positive'), type_='check')
        batch_op.drop_column('decline_grace_s')
