"""intake writes fewer index entries: the mention index no query uses is dropped

Measured with pg_stat_user_indexes (BENCHMARKS.md, "Mention indexes"): `ix_mention_status` (the relay's delivery
state, never a filter in any query) was never scanned, yet every mention wrote it. `ix_mention_team`, which
looked as useless (a handful of values), is kept: the team digests scan it.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mention') as batch:
        batch.drop_index('ix_mention_status')


def downgrade() -> None:
    with op.batch_alter_table('mention') as batch:
        batch.create_index('ix_mention_status', ['status'], unique=False)
