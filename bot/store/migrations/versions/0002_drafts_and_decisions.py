"""drafts and decisions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mention_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('author', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('network', sa.String(length=32), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('card_outbox_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_by', sa.String(length=32), nullable=True),
    sa.Column('public_url', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['mention_id'], ['mention.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('mention_id', 'version', name='uq_draft_mention_version')
    )
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_draft_mention_id'), ['mention_id'], unique=False)

    op.create_table('review_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('user', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['draft.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('review_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_decision_draft_id'), ['draft_id'], unique=False)

    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=16), nullable=False, server_default='open'))
        batch_op.add_column(sa.Column('owner', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('relay_outbox_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reroutes', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index(batch_op.f('ix_mention_state'), ['state'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mention_state'))
        batch_op.drop_column('reroutes')
        batch_op.drop_column('relay_outbox_id')
        batch_op.drop_column('owner')
        batch_op.drop_column('state')

    with op.batch_alter_table('review_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_decision_draft_id'))

    op.drop_table('review_decision')
    with op.batch_alter_table('draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_draft_mention_id'))

    op.drop_table('draft')
