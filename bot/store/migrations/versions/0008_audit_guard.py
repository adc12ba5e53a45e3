"""audit trail append-only in the database (triggers refusing UPDATE and DELETE of audit events)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21

The application never updates or deletes an audit event (bot.store.audit refuses it in the ORM too); the triggers
make the database refuse it whoever asks. PostgreSQL's TRUNCATE is not stopped: that is an administrator's
act, outside the application. The SQL lives in bot.store.audit, next to the ORM guard it backs up.
"""
from alembic import op

from bot.store.audit import install_database_guard, remove_database_guard

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    install_database_guard(op.get_bind())


def downgrade() -> None:
    remove_database_guard(op.get_bind())
