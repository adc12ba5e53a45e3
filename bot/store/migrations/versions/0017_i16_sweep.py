"""the escalation sweep reads only what is due: each mention's next ladder step time and what it was worked out under

`mention.next_step_at` (indexed) is when the sweep must look at an open mention again; `next_step_basis` is the
protocol and crisis state that time was computed under (bot.usecases.escalation). Both are NULL here for every
mention: an open mention with no basis is one the sweep has not worked out yet, so the back-fill is the first
sweep after the upgrade, which computes them in chunks (the times depend on the protocol file, which a migration
does not read). Closed mentions keep NULL and are never read by the sweep again.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mention') as batch:
        batch.add_column(sa.Column('next_step_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('next_step_basis', sa.String(length=40), nullable=True))
    op.create_index('ix_mention_next_step_at', 'mention', ['next_step_at'])
    op.create_index('ix_mention_next_step_basis_state', 'mention', ['next_step_basis', 'state'])


def downgrade() -> None:
    op.drop_index('ix_mention_next_step_basis_state', table_name='mention')
    op.drop_index('ix_mention_next_step_at', table_name='mention')
    with op.batch_alter_table('mention') as batch:
        batch.drop_column('next_step_basis')
        batch.drop_column('next_step_at')
