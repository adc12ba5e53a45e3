"""the daily rollup holds the digest's counters (replies, dismissals, deadlines met, escalations, a day's response-time percentiles)

Each team's total row and the day's total row of `daily_rollup` get the counters the digest's counting pass
read from the mentions. The rows rolled up before have none: they are deleted, and the next sweep rolls the
last 35 days up again (bot.store.rollups.roll_up_days; until then the digest reads the mentions).

Revision ID: 0016_i16_digest
Revises: 0015
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0016_i16_digest'
down_revision = '0015'
branch_labels = None
depends_on = None

COUNTERS = ('published', 'dismissed', 'first_response_n', 'first_response_met', 'published_n', 'published_met',
            'escalations', 'at_deadline')
PERCENTILES = ('first_response_p50', 'first_response_p90', 'publication_p50', 'publication_p90')


def upgrade() -> None:
    op.execute('DELETE FROM daily_rollup')
    with op.batch_alter_table('daily_rollup') as batch:
        for name in COUNTERS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default='0'))
        for name in PERCENTILES:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))


def downgrade() -> None:
    op.execute('DELETE FROM daily_rollup')
    with op.batch_alter_table('daily_rollup') as batch:
        for name in (*COUNTERS, *PERCENTILES):
            batch.drop_column(name)
