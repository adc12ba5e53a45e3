"""unique facts: one decision per person and version, one publication per draft, one holding statement unless
confirmed, one open crisis, one override per double click; approvals bound to the text's hash

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows a race already doubled are kept (history), but the lowest id of each group stays the one that counts.
    op.execute("""DELETE FROM review_decision WHERE id NOT IN (
                    SELECT MIN(id) FROM review_decision GROUP BY draft_id, "user", kind)""")
    with op.batch_alter_table('review_decision') as batch:
        batch.add_column(sa.Column('text_sha256', sa.String(length=64), nullable=False, server_default=''))
        batch.create_unique_constraint('uq_review_decision_once', ['draft_id', 'user', 'kind'])
    with op.batch_alter_table('draft') as batch:
        batch.add_column(sa.Column('approved_sha256', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('holding_no', sa.Integer(), nullable=True))
        batch.create_unique_constraint('uq_draft_mention_holding_no', ['mention_id', 'holding_no'])
    op.create_table('publication',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('draft_id', sa.Integer(), nullable=False),
        sa.Column('mention_id', sa.Integer(), nullable=False),
        sa.Column('by', sa.String(length=64), nullable=False),
        sa.Column('url', sa.Text(), nullable=True),
        sa.Column('text_sha256', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['draft_id'], ['draft.id']),
        sa.ForeignKeyConstraint(['mention_id'], ['mention.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('draft_id'),
    )
    op.create_index(op.f('ix_publication_mention_id'), 'publication', ['mention_id'], unique=False)
    # Only the latest open crisis stays open (an earlier race may have opened two).
    op.execute("UPDATE crisis SET ended_at = declared_at WHERE ended_at IS NULL"
               " AND id <> (SELECT MAX(id) FROM crisis WHERE ended_at IS NULL)")
    op.create_index('uq_crisis_active', 'crisis', [sa.text('(ended_at IS NULL)')], unique=True,
                    postgresql_where=sa.text('ended_at IS NULL'), sqlite_where=sa.text('ended_at IS NULL'))
    op.execute("""DELETE FROM oncalloverride WHERE id NOT IN (
                    SELECT MIN(id) FROM oncalloverride GROUP BY role, "user", start, "end")""")
    with op.batch_alter_table('oncalloverride') as batch:
        batch.create_unique_constraint('uq_oncall_override_once', ['role', 'user', 'start', 'end'])


def downgrade() -> None:
    with op.batch_alter_table('oncalloverride') as batch:
        batch.drop_constraint('uq_oncall_override_once', type_='unique')
    op.drop_index('uq_crisis_active', table_name='crisis')
    op.drop_index(op.f('ix_publication_mention_id'), table_name='publication')
    op.drop_table('publication')
    with op.batch_alter_table('draft') as batch:
        batch.drop_constraint('uq_draft_mention_holding_no', type_='unique')
        batch.drop_column('holding_no')
        batch.drop_column('approved_sha256')
    with op.batch_alter_table('review_decision') as batch:
        batch.drop_constraint('uq_review_decision_once', type_='unique')
        batch.drop_column('text_sha256')
