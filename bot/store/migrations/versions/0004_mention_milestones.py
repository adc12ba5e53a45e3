"""mention milestones

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_response_due', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('published_due', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('published_at_reply', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('mention', schema=None) as batch_op:
        batch_op.drop_column('closed_at')
        batch_op.drop_column('published_at_reply')
        batch_op.drop_column('approved_at')
        batch_op.drop_column('first_response_at')
        batch_op.drop_column('published_due')
        batch_op.drop_column('first_response_due')

