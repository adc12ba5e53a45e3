"""One click, one transaction: what the action changes and every Slack message it queues (the actor's own answer
included) are committed together, once.

Watched from the engine itself: every INSERT/UPDATE is attributed to the transaction it runs in, and each commit
of the click's thread is recorded with the tables it wrote. The outbox worker's own commits (sending) are left
out; the redelivery guard's write (the request's key, recorded before anything else so a replay is dropped) is
the one other transaction a click makes.
"""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import event

from tests.driver import CM, LEGAL_EXPERT, STRANGER, Driver

WRITE = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE)\s+\"?(\w+)\"?", re.I)


class Commits:
    """The tables each committed transaction wrote, for the threads other than the outbox worker's."""

    def __init__(self, engine):
        self.engine, self.seen, self.lock = engine, [], threading.Lock()

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        match = WRITE.match(statement)
        if match:
            conn.info.setdefault("vigie_test_writes", set()).add(match.group(1).lower())

    def _commit(self, conn):
        writes = conn.info.pop("vigie_test_writes", set())
        if writes and not threading.current_thread().name.startswith("vigie-outbox"):
            with self.lock:
                self.seen.append(writes)


@pytest.fixture
def people(http, slack, runtime):
    for user in (CM, LEGAL_EXPERT, STRANGER):
        slack.add_user(user, name=user, locale="fr-FR")
    return Driver(http, slack, runtime)


def test_a_claim_writes_the_claim_its_messages_and_the_answer_in_one_commit(people, runtime):
    mid = people.intake("Un avocat annonce un procès contre la marque")
    people.drain()
    with Commits(runtime.engine) as commits:
        people.click("mention_claim", mid, LEGAL_EXPERT)
    action = [w for w in commits.seen if "auditevent" in w]
    assert len(action) == 1, commits.seen  # one transaction carried the decision...
    assert {"mention", "outbox"} <= action[0], action  # ...its thread note, card refresh and the answer
    guard = [w for w in commits.seen if w not in action]
    assert all(w <= {"slackdelivery"} for w in guard), commits.seen  # the only other: the replay guard
    assert people.ephemeral(LEGAL_EXPERT)  # and the answer did reach the person


def test_a_refused_claim_records_the_refusal_and_its_answer_in_one_commit(people, runtime):
    mid = people.intake("Un avocat annonce un procès contre la marque")
    people.drain()
    with Commits(runtime.engine) as commits:
        people.click("mention_claim", mid, STRANGER)
    refusal = [w for w in commits.seen if "auditevent" in w]
    assert len(refusal) == 1 and "outbox" in refusal[0], commits.seen
    assert "mention" not in refusal[0]  # nothing of the mention changed
    assert all(w <= {"slackdelivery"} for w in commits.seen if w not in refusal), commits.seen
    assert people.ephemeral(STRANGER)
