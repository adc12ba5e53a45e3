"""Acting on a mention safely when people click at the same time.

Every action runs in one transaction (`bot.store.db.session_scope`) and goes the same way:

1. lock the mention's row first (`lock_mention`: `SELECT … FOR UPDATE` on PostgreSQL; on SQLite the
   transaction already holds the single write lock, taken by `BEGIN IMMEDIATE`), so two actions on one
   mention run one after the other;
2. read the rest (drafts, approvals) and decide, from what was just read;
3. write with a compare-and-set on the state that decision was taken from (`compare_and_set`), checking the
   row count: should a write ever escape the lock, it fails loudly (`Conflict`) instead of overwriting a state
   another transaction just committed.

Facts that are unique (one approval per person and version, one publication per draft, one active crisis)
are also unique constraints, so even code that forgets step 1 cannot record them twice.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, SQLModel, select

from bot.store.models import Draft, Mention
from bot.store.queries import ladder_reset

T = TypeVar("T", bound=SQLModel)


class Conflict(Exception):
    """The row changed between the decision and the write (another transaction got there first)."""


def _locked(session: Session, model: type[T], row_id: int) -> T | None:
    query = select(model).where(model.id == row_id).execution_options(populate_existing=True)  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.exec(query).first()


def lock_mention(session: Session, mention_id: int) -> Mention | None:
    """The mention, read fresh and locked until the transaction ends (None if there is no such mention)."""
    return _locked(session, Mention, mention_id)


def lock_draft(session: Session, draft_id: int) -> Draft | None:
    """A draft read fresh and locked. Lock its mention first (the order every action follows, so two actions
    never wait for each other's locks in opposite orders)."""
    return _locked(session, Draft, draft_id)


def compare_and_set(session: Session, row: SQLModel, *, expect: dict[str, Any], values: dict[str, Any]) -> None:
    """`UPDATE … SET values WHERE id = row.id AND expect`, which must change exactly one row; the loaded
    object then shows the new values (without a second UPDATE at flush)."""
    model = type(row)
    conditions = [model.id == row.id]  # type: ignore[attr-defined]
    conditions += [getattr(model, column) == value if value is not None else getattr(model, column).is_(None)
                   for column, value in expect.items()]
    if model is Mention:  # a new state, owner or milestone moves the escalation ladder: the sweep recomputes it
        values = ladder_reset(values)
    session.flush()  # earlier changes of this transaction first, in order
    result = session.execute(update(model).where(*conditions).values(**values)
                             .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"{model.__name__} {row.id} is no longer {expect}")  # type: ignore[attr-defined]
    for column, value in values.items():
        set_committed_value(row, column, value)
