"""The company dictionary (issue 13, item 2): words the checks must never flag again, stored and audited.

An approver adds a word beside a spelling finding on a draft card (`bot.usecases.dictionary`); an operator lists
or removes words with `vigie words list|remove`. Every addition and removal is an audit event in the same
transaction. The case-folded word is the table's key and the insert is an `INSERT ... ON CONFLICT DO NOTHING`,
so two approvers adding the same word at once store one row and neither request fails.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.domain.checks import CheckPolicy
from bot.store.models import AuditEvent, CompanyWord

__all__ = ["MAX_WORD", "add_word", "key_of", "known", "remove_word", "with_company_words", "words"]

MAX_WORD = 100  # the column's length; a longer "word" is not a word


def key_of(word: str) -> str:
    """How the checks compare a word (`bot.domain.spelling` case-folds company words): one apostrophe, folded."""
    return word.replace("\u2019", "'").strip().casefold()


def words(s: Session) -> list[CompanyWord]:
    """Every word, alphabetically."""
    return list(s.execute(select(CompanyWord).order_by(CompanyWord.word)).scalars())  # type: ignore[arg-type]


def known(s: Session, key: str) -> bool:
    """Is the (case-folded) word in the dictionary?"""
    return s.get(CompanyWord, key) is not None


def add_word(s: Session, *, word: str, language: str, actor: str, at: datetime,
             mention_id: int | None = None, draft_id: int | None = None) -> bool:
    """Add `word` in the caller's transaction, with its audit event; False when it was already there (nothing
    written). Safe under concurrency on SQLite and PostgreSQL: the insert skips a row another request committed."""
    key = key_of(word)
    if not key or len(key) > MAX_WORD:
        raise ValueError(f"not a dictionary word: {word!r}")
    values: dict[str, Any] = {"word": key, "shown": word.strip()[:MAX_WORD], "language": language,
                              "added_by": actor, "added_at": at, "mention_id": mention_id}
    dialect = s.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(CompanyWord).values(**values).on_conflict_do_nothing(index_elements=["word"])
    # RETURNING says whether this request inserted the row (rowcount is not reliable across drivers here).
    if s.execute(statement.returning(CompanyWord.word)).first() is None:  # type: ignore[arg-type]
        return False
    s.add(AuditEvent(at=at, actor=actor, action="dictionary.word_added", mention_id=mention_id, before=None,
                     after={"word": key, "shown": values["shown"], "language": language, "draft": draft_id}))
    return True


def remove_word(s: Session, *, word: str, actor: str, at: datetime) -> bool:
    """Remove `word` (any case) with its audit event; False when it was not there."""
    key = key_of(word)
    found = s.get(CompanyWord, key)
    if found is None:
        return False
    before = {"word": found.word, "shown": found.shown, "added_by": found.added_by,
              "added_at": found.added_at.isoformat()}
    result = s.execute(delete(CompanyWord).where(CompanyWord.word == key))  # type: ignore[arg-type]
    if not result.rowcount:  # type: ignore[attr-defined]
        return False  # removed by another request meanwhile
    s.add(AuditEvent(at=at, actor=actor, action="dictionary.word_removed", mention_id=None, before=before,
                     after=None))
    return True


def with_company_words(policy: CheckPolicy, engine: Engine | None) -> CheckPolicy:
    """`policy` with the company dictionary's words added to its company words. A database without the table
    (not migrated yet) or out of reach leaves the policy as it is: the checks then flag a bit more, never less."""
    if engine is None:
        return policy
    try:
        with Session(engine) as s:
            stored = frozenset(s.execute(select(CompanyWord.word)).scalars())  # type: ignore[call-overload]
    except SQLAlchemyError:
        return policy
    return dataclasses.replace(policy, company_words=policy.company_words | stored) if stored else policy
