"""intake writes fewer index entries: the mention indexes no query uses are dropped

Measured with pg_stat_user_indexes (BENCHMARKS.md, "Mention indexes"): `ix_mention_status` (the relay's delivery
state, never a filter) and `ix_mention_team` (four or so values; every query filtering a team also filters a
time range or a state, served by `ix_mention_unhandled`, `ix_mention_received_at` or `ix_mention_state`) were
never scanned, yet every mention wrote them.

Revision ID: 0012_i16_intake
Revises: 0011
Create Date: 2026-12-07
"""
from alembic import op

revision = '0012_i16_intake'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mention') as batch:
        batch.drop_index('ix_mention_status')
        batch.drop_index('ix_mention_team')


def downgrade() -> None:
    with op.batch_alter_table('mention') as batch:
        batch.create_index('ix_mention_team', ['team'], unique=False)
        batch.create_index('ix_mention_status', ['status'], unique=False)
