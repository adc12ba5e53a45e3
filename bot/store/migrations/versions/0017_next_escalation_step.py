"""the escalation sweep reads only what is due: each mention's next ladder step time and what it was worked out under

`mention.next_step_at` (indexed) is when the sweep must look at an open mention again; `next_step_basis` is the
protocol and crisis state that time was computed under (bot.usecases.escalation). Both are NULL here for every
mention: an open mention with no basis is one the sweep has not worked out yet, so the back-fill is the first
sweep after the upgrade, which computes them in chunks (the times depend on the protocol file, which a migration
does not read). Closed mentions keep NULL and are never read by the sweep again.

`daily_rollup.overdue`: each day's overdue deadlines (judged at the day's end), so the daily digest and its
chart read them from the rollup; NULL on the days rolled up before, which the digest still counts from the
mentions.

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

# Open mentions with no next step worked out (bot.store.models.UNSCHEDULED, as it was at this revision).
UNSCHEDULED = "next_step_basis IS NULL AND state IN ('open', 'claimed', 'in_review', 'ready')"


def upgrade() -> None:
    with op.batch_alter_table('mention') as batch:
        batch.add_column(sa.Column('next_step_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('next_step_basis', sa.String(length=40), nullable=True))
    for column in ('next_step_at', 'next_step_basis'):  # closed mentions have neither: not in the indexes
        condition = sa.text(f'{column} IS NOT NULL')
        op.create_index(f'ix_mention_{column}', 'mention', [column], postgresql_where=condition,
                        sqlite_where=condition)
    op.create_index('ix_mention_next_step_unset', 'mention', ['next_step_basis', 'state'],
                    postgresql_where=sa.text(UNSCHEDULED), sqlite_where=sa.text(UNSCHEDULED))
    with op.batch_alter_table('daily_rollup') as batch:
        batch.add_column(sa.Column('overdue', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('daily_rollup') as batch:
        batch.drop_column('overdue')
    op.drop_index('ix_mention_next_step_unset', table_name='mention')
    op.drop_index('ix_mention_next_step_basis', table_name='mention')
    op.drop_index('ix_mention_next_step_at', table_name='mention')
    with op.batch_alter_table('mention') as batch:
        batch.drop_column('next_step_basis')
        batch.drop_column('next_step_at')
