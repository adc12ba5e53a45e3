"""stories and volume buckets

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('story',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('fingerprint', sa.String(length=32), nullable=False),
    sa.Column('normalised', sa.Text(), nullable=False),
    sa.Column('leader_id', sa.Integer(), nullable=False),
    sa.Column('team', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('reach', sa.Integer(), nullable=False),
    sa.Column('authors', sa.JSON(), nullable=False),
    sa.Column('first_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('refresh_outbox_id', sa.Integer(), nullable=True),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('story', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_story_fingerprint'), ['fingerprint'], unique=False)
        batch_op.create_index(batch_op.f('ix_story_last_at'), ['last_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_story_leader_id'), ['leader_id'], unique=False)

    op.create_table('volume_bucket',
    sa.Column('start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('start')
    )
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.add_column(sa.Column('story_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_mention_story_id'), ['story_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mention_story_id'))
        batch_op.drop_column('story_id')

    op.drop_table('volume_bucket')
    with op.batch_alter_table('story', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_story_leader_id'))
        batch_op.drop_index(batch_op.f('ix_story_last_at'))
        batch_op.drop_index(batch_op.f('ix_story_fingerprint'))

    op.drop_table('story')
