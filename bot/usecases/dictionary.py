"""The company dictionary from Slack (issue 13, item 2): beside a spelling finding on a draft card, an approver
adds the word, and the checks never flag it again (on the draft cards and in `vigie check`).

One click, one transaction (`Workflow._run`): the draft and its mention are locked, who may add it is decided from
the protocol's people, the word the click names must be a spelling finding of the stored draft (a forged word
cannot be added), the word is stored with its audit event, and the draft's stored findings
lose that word's spelling findings, so its card shows the draft re-checked. A refusal is audited and answered
like every other refused click.

Who may add a word: someone whose approval the mention needs (the same roles as `bot.domain.workflow` asks of an
approver), and not the draft's author (four eyes: nobody teaches the gate to accept their own slip).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.domain import workflow as wf
from bot.i18n import t
from bot.store import dictionary as store
from bot.store.locks import compare_and_set
from bot.usecases.outcome import Outcome, Refused, Target
from bot.usecases.response import Workflow

__all__ = ["ACTION", "Dictionary", "may_add_word"]

ACTION = "dictionary.add"


def may_add_word(actor: str, *, team: str, author: str, required: tuple[str, ...], people: wf.People) -> str | None:
    """Why `actor` may not add a word from a draft by `author` on a mention of `team` needing `required`
    approvals; None if they may."""
    if actor == author:
        return "own_draft"
    if not wf.roles_of(actor, team=team, people=people) & frozenset(required):
        return "not_an_approver"
    return None


class Dictionary:
    def __init__(self, workflow: Workflow) -> None:
        self.w = workflow

    def add_word(self, *, draft_id: int, word: str, actor: str, reply_in: str | None = None,
                 reply_thread: str | None = None) -> Outcome:
        """Add `word`, which must be a spelling finding on the draft (or already in the dictionary: another
        approver was quicker, and the draft's findings no longer list it)."""
        w = self.w
        key = store.key_of(word)

        def apply(s: Session, lang: str) -> str:
            draft, mention = w.lock_draft_and_mention(s, draft_id)
            refused = may_add_word(actor, team=mention.team, author=draft.author,
                                   required=w.required_for(mention, s), people=w.people)
            if refused:
                raise Refused(refused)
            findings: list[dict[str, Any]] = list(draft.findings or [])
            flagged = [f for f in findings if f.get("code") == "spelling" and store.key_of(str(f.get("text") or ""))
                       == key]
            if not key or len(key) > store.MAX_WORD or not (flagged or store.known(s, key)):
                raise Refused("not_a_spelling_finding")  # the click names a word the draft was never flagged for
            shown = str(flagged[0]["text"]) if flagged else word
            added = store.add_word(s, word=shown, language=draft.language, actor=actor, at=w.vigie.clock.now(),
                                   mention_id=mention.id, draft_id=draft.id)
            if flagged:  # the draft re-checked: the word's spelling findings go, and its card shows it
                kept = [f for f in findings if not any(f is g for g in flagged)]
                compare_and_set(s, draft, expect={"state": draft.state}, values={"findings": kept})
                w._post_or_update_draft_card(s, mention, draft)
            return t("ack.word_added" if added else "ack.word_known", lang, word=shown)

        return w._run(actor, ACTION, Target(draft=draft_id), apply, reply_in=reply_in, reply_thread=reply_thread)

    def listed(self) -> list[str]:
        """The words as written when added, alphabetically by their folded form."""
        with Session(self.w.vigie.engine) as s:
            return [row.shown for row in store.words(s)]
