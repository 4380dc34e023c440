"""sale allotments count their committed units

A batch of sale orders read its sale's free units by summing the units of every order of the sale
being paid or sold, which grew with the sale (76 ms a batch at 100,000 orders, under SQLite's write
lock). The allotment now keeps that sum, moved with each order (api/orders/services.py,
count_commitments); this fills it in for the sales already running.

Revision ID: c4e7a1b9d2f3
Revises: 5a80f0a0c240
Create Date: 2026-12-04 02:00:00
"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c4e7a1b9d2f3'
down_revision = '5a80f0a0c240'
branch_labels = None
depends_on = None

# api.orders.states.COMMITTED, as stored, frozen here as of this revision.
COMMITTED = ('payment_pending', 'paid', 'shipped')


def upgrade():
    with op.batch_alter_table('sale_allotments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('committed', sa.Integer(), server_default='0', nullable=False))
    states = ", ".join(f"'{state}'" for state in COMMITTED)
    op.execute(
        "UPDATE sale_allotments SET committed = ("
        " SELECT COALESCE(SUM(order_lines.quantity), 0) FROM orders"
        " JOIN order_lines ON order_lines.order_id = orders.id"
        f" WHERE orders.sale_id = sale_allotments.sale_id AND orders.state IN ({states}))"
    )


def downgrade():
    with op.batch_alter_table('sale_allotments', schema=None) as batch_op:
        batch_op.drop_column('committed')
