"""more indexes for the digest over a million mentions

The overdue breaches filter a day by each deadline (a sequential scan each without an index); the response
times read (milestone, received_at) pairs from the index alone; the mentions neither replied to nor closed
are counted and listed from a partial index; pending drafts are found by their state. Measured in
BENCHMARKS.md.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-21
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

UNHANDLED = "published_at_reply IS NULL AND closed_at IS NULL"


def upgrade() -> None:
    op.create_index('ix_mention_first_response_due', 'mention', ['first_response_due'])
    op.create_index('ix_mention_published_due', 'mention', ['published_due'])
    op.drop_index('ix_mention_first_response_at', table_name='mention')
    op.create_index('ix_mention_first_response_at_received_at', 'mention', ['first_response_at', 'received_at'])
    op.drop_index('ix_mention_published_at_reply', table_name='mention')
    op.create_index('ix_mention_published_at_reply_received_at', 'mention', ['published_at_reply', 'received_at'])
    op.create_index('ix_mention_unhandled', 'mention', ['received_at', 'team', 'state'],
                    postgresql_where=sa.text(UNHANDLED), sqlite_where=sa.text(UNHANDLED))
    op.create_index('ix_draft_state', 'draft', ['state'])


def downgrade() -> None:
    op.drop_index('ix_draft_state', table_name='draft')
    op.drop_index('ix_mention_unhandled', table_name='mention')
    op.drop_index('ix_mention_published_at_reply_received_at', table_name='mention')
    op.create_index('ix_mention_published_at_reply', 'mention', ['published_at_reply'])
    op.drop_index('ix_mention_first_response_at_received_at', table_name='mention')
    op.create_index('ix_mention_first_response_at', 'mention', ['first_response_at'])
    op.drop_index('ix_mention_published_due', table_name='mention')
    op.drop_index('ix_mention_first_response_due', table_name='mention')
