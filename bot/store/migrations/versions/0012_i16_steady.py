"""stories store their signature (a restart loads it instead of recomputing it)

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


def downgrade() -> None:
    with op.batch_alter_table('story') as batch:
        batch.drop_column('signature')
