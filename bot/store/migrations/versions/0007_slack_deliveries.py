"""slack deliveries already handled (retries are no-ops)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('slackdelivery',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_index(op.f('ix_slackdelivery_received_at'), 'slackdelivery', ['received_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_slackdelivery_received_at'), table_name='slackdelivery')
    op.drop_table('slackdelivery')
