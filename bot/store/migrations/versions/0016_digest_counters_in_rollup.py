"""the daily rollup holds the digest's counters (replies, dismissals, deadlines met, escalations, a day's response-time percentiles)

Each team's total row and the day's total row of `daily_rollup` get the counters the digest's counting pass
read from the mentions. The rows rolled up before have none: they are deleted, and the next sweep rolls the
last 35 days up again (bot.store.rollups.roll_up_days; until then the digest reads the mentions).

The team digests read a team's rows through `ix_mention_team` (150,000 entries of a 1M-mention table, ANDed
with a range, for every statement): the response-time and deadline indexes now carry the team and the
columns the digest filters on (replacing the narrower ones, so intake writes as many index entries), and the
team digests' statements read the indexes alone.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

COUNTERS = ('published', 'dismissed', 'first_response_n', 'first_response_met', 'published_n', 'published_met',
            'escalations', 'at_deadline')
PERCENTILES = ('first_response_p50', 'first_response_p90', 'publication_p50', 'publication_p90')


# (old name, old columns) -> (new name, new columns)
INDEXES = (
    (('ix_mention_first_response_at_received_at', ['first_response_at', 'received_at']),
     ('ix_mention_first_response_at_received_at_team', ['first_response_at', 'received_at', 'team'])),
    (('ix_mention_published_at_reply_received_at', ['published_at_reply', 'received_at']),
     ('ix_mention_published_at_reply_received_at_team', ['published_at_reply', 'received_at', 'team'])),
    (('ix_mention_first_response_due', ['first_response_due']),
     ('ix_mention_first_response_due_team', ['first_response_due', 'team', 'first_response_at', 'closed_at'])),
    (('ix_mention_published_due', ['published_due']),
     ('ix_mention_published_due_team', ['published_due', 'team', 'published_at_reply', 'closed_at'])),
)


def upgrade() -> None:
    for (old, _), (new, columns) in INDEXES:
        op.create_index(new, 'mention', columns)
        op.drop_index(old, table_name='mention')
    op.execute('DELETE FROM daily_rollup')
    with op.batch_alter_table('daily_rollup') as batch:
        for name in COUNTERS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default='0'))
        for name in PERCENTILES:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))


def downgrade() -> None:
    for (old, columns), (new, _) in INDEXES:
        op.create_index(old, 'mention', columns)
        op.drop_index(new, table_name='mention')
    op.execute('DELETE FROM daily_rollup')
    with op.batch_alter_table('daily_rollup') as batch:
        for name in (*COUNTERS, *PERCENTILES):
            batch.drop_column(name)
