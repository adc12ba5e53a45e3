"""stories store their signature (a restart loads it instead of recomputing it); the outbox's lanes are read
by index seeks (a partial index on the undelivered rows); the daily rollup the digest reads

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('story') as batch:
        batch.add_column(sa.Column('signature', sa.LargeBinary(), nullable=True))
    live = sa.text("status IN ('pending', 'sending')")
    op.create_table('daily_rollup',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('team', sa.String(length=64), nullable=False),
        sa.Column('source', sa.String(length=200), nullable=False),
        sa.Column('theme', sa.Text(), nullable=False),
        sa.Column('received', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'team', 'source', 'theme'),
    )
    op.create_index('ix_outbox_lane', 'outbox', ['channel', 'id'], postgresql_where=live, sqlite_where=live)


def downgrade() -> None:
    op.drop_index('ix_outbox_lane', table_name='outbox')
    op.drop_table('daily_rollup')
    with op.batch_alter_table('story') as batch:
        batch.drop_column('signature')
