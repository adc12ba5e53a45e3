"""the company dictionary: words approvers added beside a spelling finding (issue 13, item 2)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('companyword',
    sa.Column('word', sa.String(length=100), nullable=False),
    sa.Column('shown', sa.String(length=100), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('added_by', sa.String(length=64), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('mention_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('word')
    )


def downgrade() -> None:
    op.drop_table('companyword')
