"""The company dictionary (issue 13, item 2): beside a spelling finding on the draft card, an approver adds the
word; it is stored and audited, the draft's card and every later check (also `vigie check`) stop flagging it,
`/vigie protocole` lists it to the people the protocol names, and `vigie words list|remove` manages it.

Driven through the real HTTP app (Bolt's signature check, the fake Slack Web API), on SQLite and PostgreSQL; the
race runs on the live server with requests released together on a barrier.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app
from bot.store.models import AuditEvent, CompanyWord
from tests.conftest import _WORDS, SIGNING_SECRET
from tests.driver import CM, FIN_EXPERT, LEGAL_EXPERT, LEGAL_LEAD, STRANGER, Driver, send
from tests.live import SlackClient, live_server, simultaneously
from tests.slack_requests import block_action

CM2 = "U0CM00002"
WORD = "locker"  # an anglicism hunspell-fr does not know (a real false alarm of the corpus: fr-clean-059)
TEXT = "Votre colis vous attend dans le locker de votre quartier."


@pytest.fixture
def loop(http, slack, runtime) -> Driver:
    for user in (CM, CM2, LEGAL_LEAD, LEGAL_EXPERT, FIN_EXPERT, STRANGER):
        slack.add_user(user, name=user, locale="fr-FR")
    return Driver(http, slack, runtime)


def overflow_click(draft_id: int, word: str, user: str) -> dict[str, Any]:
    """What Slack sends when `user` picks "add `word` to the dictionary" in the draft card's overflow menu."""
    payload = block_action(action_id="draft_add_word", value="", user=user, channel="C0LEGAL001")
    value = f"{draft_id}:{word}"
    payload["actions"] = [{"action_id": "draft_add_word", "block_id": "findings", "type": "overflow",
                           "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": value},
                           "action_ts": "1763719300.000001"}]
    return payload


def new_draft(loop: Driver, text: str = TEXT, i: int = 1) -> tuple[int, int]:
    # Routed to legal (a CM and legal approve); its own words, so that distinct mentions are distinct stories.
    mid = loop.intake(f"procès : {' '.join(random.Random(i).sample(_WORDS, 20))}", i=i)
    loop.click("mention_draft", mid, LEGAL_EXPERT)
    loop.submit(LEGAL_EXPERT, {"text": text, "network": "x", "language": "fr", "label": "public"})
    draft = loop.draft(mid)
    return mid, draft.id


def spellings(loop: Driver, mid: int) -> list[str]:
    return [f["text"] for f in loop.draft(mid).findings if f["code"] == "spelling"]


def draft_card(loop: Driver, mid: int) -> dict[str, Any]:
    relay_ts = loop._relay_ts(mid)
    [card] = [m for m in loop.slack.messages(loop.channel) if m.get("thread_ts") == relay_ts
              and "Brouillon v1 " in json.dumps(m.get("blocks") or [], ensure_ascii=False)]
    return card


def stored(engine) -> list[CompanyWord]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return list(s.exec(select(CompanyWord)).all())


def events(engine, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_an_approver_adds_a_word_and_the_checks_stop_flagging_it(loop):
    mid, draft_id = new_draft(loop)
    assert spellings(loop, mid) == [WORD]
    # The card offers it beside the findings, as an overflow whose value names the draft and the finding only.
    [section] = [b for b in draft_card(loop, mid)["blocks"] if (b.get("accessory") or {}).get("type") == "overflow"]
    assert section["accessory"]["action_id"] == "draft_add_word"
    [option] = section["accessory"]["options"]
    assert option["value"] == f"{draft_id}:{WORD}" and WORD in option["text"]["text"]

    send(loop.http, overflow_click(draft_id, WORD, LEGAL_LEAD))
    loop.drain()
    [row] = stored(loop.runtime.engine)
    assert (row.word, row.shown, row.added_by, row.mention_id) == (WORD, WORD, LEGAL_LEAD, mid)
    [event] = events(loop.runtime.engine, "dictionary.word_added")
    assert event.actor == LEGAL_LEAD and event.mention_id == mid and event.after["word"] == WORD
    assert "dictionnaire" in loop.ephemeral(LEGAL_LEAD)
    # The draft re-checked: its stored findings and its card no longer list the word.
    assert not [f for f in loop.draft(mid).findings if f["text"] == WORD]
    card = json.dumps(draft_card(loop, mid)["blocks"], ensure_ascii=False)
    assert "draft_add_word" not in card and "rien à signaler" in card
    # Every later check skips it, whatever its case: a new draft, and the approval's fresh checks.
    mid2, _ = new_draft(loop, text="Le Locker de la gare est ouvert : votre locker aussi.", i=2)
    assert [f for f in loop.draft(mid2).findings if f["code"] == "spelling"] == []
    # A second approver adding it again changes nothing and is told so.
    send(loop.http, overflow_click(draft_id, WORD, CM))
    loop.drain()
    assert len(stored(loop.runtime.engine)) == 1
    assert len(events(loop.runtime.engine, "dictionary.word_added")) == 1


@pytest.mark.parametrize(("who", "reason"), [(FIN_EXPERT, "not_an_approver"), (STRANGER, "not_an_approver"),
                                             (LEGAL_EXPERT, "own_draft")])
def test_someone_who_does_not_approve_this_draft_is_refused(loop, who, reason):
    mid, draft_id = new_draft(loop)
    send(loop.http, overflow_click(draft_id, WORD, who))
    loop.drain()
    assert stored(loop.runtime.engine) == []
    [refused] = events(loop.runtime.engine, "refused.dictionary.add")
    assert (refused.actor, refused.reason, refused.mention_id) == (who, reason, mid)
    assert spellings(loop, mid) == [WORD]


def test_a_click_naming_a_word_the_draft_was_not_flagged_for_adds_nothing(loop):
    """The click only names the word: it is added only if the stored draft has it as a spelling finding (not a
    grammar one, not a word of the text that passed, not another draft's)."""
    mid, draft_id = new_draft(loop, text="Votre colis et en route vers le locker.")
    assert [f["text"] for f in loop.draft(mid).findings if f["code"] == "grammar"] == ["et"]
    for value in ((draft_id, "et"), (draft_id, "colis"), (draft_id, "zorglubique"), (draft_id + 1000, WORD)):
        send(loop.http, overflow_click(*value, LEGAL_LEAD))
    loop.drain()
    assert stored(loop.runtime.engine) == []
    assert sorted(e.reason for e in events(loop.runtime.engine, "refused.dictionary.add")) == [
        "not_a_spelling_finding"] * 3 + ["unknown_draft"]


def test_the_protocol_command_lists_the_words_to_the_people_it_names_only(loop):
    mid, draft_id = new_draft(loop)
    send(loop.http, overflow_click(draft_id, WORD, CM))
    loop.drain()
    for user in (CM, LEGAL_EXPERT, FIN_EXPERT):
        answer = loop.slash("protocole", user=user)
        assert "Dictionnaire de l'entreprise (1)" in answer and WORD in answer, user
    answer = loop.slash("protocole", user=STRANGER)  # a workspace member the protocol does not name
    assert "Dictionnaire" not in answer and WORD not in answer


def test_vigie_check_and_vigie_words_use_the_same_dictionary(loop, database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"DATABASE_URL": database_url, "VIGIE_PROTOCOL_FILE": str(loop.runtime.protocol_path)}
    runner = CliRunner()

    def check() -> list[str]:
        result = runner.invoke(app, ["check", "--lang", "fr", "--json", TEXT], env=env)
        return [f["text"] for f in json.loads(result.stdout.strip().splitlines()[-1])["findings"]]

    assert check() == [WORD]
    mid, draft_id = new_draft(loop)
    send(loop.http, overflow_click(draft_id, WORD, CM))
    loop.drain()
    assert check() == []
    listed = runner.invoke(app, ["words", "list"], env=env)
    assert listed.exit_code == 0 and listed.stdout.startswith(f"{WORD}\t{CM}\t")
    removed = runner.invoke(app, ["words", "remove", "LOCKER"], env=env)
    assert removed.exit_code == 0, removed.output
    assert stored(loop.runtime.engine) == [] and check() == [WORD]
    [event] = events(loop.runtime.engine, "dictionary.word_removed")
    assert event.actor.startswith("cli:") and event.before["word"] == WORD
    assert runner.invoke(app, ["words", "remove", WORD], env=env).exit_code == 1  # not there any more


# --- the race -------------------------------------------------------------------------------------------------

ROUNDS = 6


def _word(n: int) -> str:
    """A word hunspell-fr does not know, a different one each round (letters only: words with digits are skipped)."""
    return "blorfi" + "".join(string.ascii_lowercase[int(d)] for d in str(n)) + "que"


@pytest.fixture
def live(loop) -> Iterator[SlackClient]:
    with live_server(loop.runtime) as server:
        yield SlackClient(server.url, SIGNING_SECRET)


def test_approvers_adding_the_same_word_at_once_store_one_row(loop, live):
    """Three approvers at once: two on one draft (the draft's lock orders them) and one on another draft with
    the same word (only the table's key can order that one). Always one row, one audit event, no error."""
    def click(draft_id: int, word: str, user: str) -> Callable[[], Any]:
        payload = overflow_click(draft_id, word, user)
        return lambda: live.interaction(payload)

    for n in range(ROUNDS):
        word = _word(n)
        text = f"Votre colis part demain avec {word} et arrive jeudi."
        (mid_a, a), (mid_b, b) = new_draft(loop, text, i=10 * n + 1), new_draft(loop, text, i=10 * n + 2)
        assert spellings(loop, mid_a) == spellings(loop, mid_b) == [word]
        responses = simultaneously([click(a, word, CM), click(a, word, LEGAL_LEAD), click(b, word, CM2)])
        assert [r.status_code for r in responses] == [200, 200, 200]
        loop.drain()
        assert [w.word for w in stored(loop.runtime.engine) if w.word == word] == [word]
        assert len([e for e in events(loop.runtime.engine, "dictionary.word_added") if e.after["word"] == word]) == 1
        assert not [e for e in events(loop.runtime.engine, "refused.dictionary.add")]
        for mid in (mid_a, mid_b):
            assert not [f for f in loop.draft(mid).findings if f["text"] == word]
