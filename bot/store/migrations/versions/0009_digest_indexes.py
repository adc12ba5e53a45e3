"""indexes for the digest and story refreshes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mention_closed_at'), ['closed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_mention_first_response_at'), ['first_response_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_mention_published_at_reply'), ['published_at_reply'], unique=False)

    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_sent_at'), ['sent_at'], unique=False)

    with op.batch_alter_table('story', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_story_refreshed_at'), ['refreshed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('story', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_story_refreshed_at'))

    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_sent_at'))

    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mention_published_at_reply'))
        batch_op.drop_index(batch_op.f('ix_mention_first_response_at'))
        batch_op.drop_index(batch_op.f('ix_mention_closed_at'))

