"""stories store their signature (a restart loads it instead of recomputing it); the outbox's lanes are read
by index seeks (a partial index on the undelivered rows)

Revision ID: 0012_i16_steady
Revises: 0011
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0012_i16_steady'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('story') as batch:
        batch.add_column(sa.Column('signature', sa.LargeBinary(), nullable=True))
    live = sa.text("status IN ('pending', 'sending')")
    op.create_index('ix_outbox_lane', 'outbox', ['channel', 'id'], postgresql_where=live, sqlite_where=live)


def downgrade() -> None:
    op.drop_index('ix_outbox_lane', table_name='outbox')
    with op.batch_alter_table('story') as batch:
        batch.drop_column('signature')
