"""vendor signals on mentions (engagement, sentiment) and the feed's last warnings

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mention') as batch:
        batch.add_column(sa.Column('extra', sa.JSON(), nullable=True))
    with op.batch_alter_table('feedstate') as batch:
        batch.add_column(sa.Column('warnings', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('feedstate') as batch:
        batch.drop_column('warnings')
    with op.batch_alter_table('mention') as batch:
        batch.drop_column('extra')
