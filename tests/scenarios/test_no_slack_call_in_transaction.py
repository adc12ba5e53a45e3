"""No Slack HTTP call while a write transaction is open (issue 12, part 3), on PostgreSQL, on the real server.

Whenever the fake Slack receives a call, it looks at `pg_stat_activity` for the app's connections to the test
database left `idle in transaction` with a transaction id (one that wrote or locked a row: read-only sessions
get none). The caller is blocked until the fake answers, so a transaction it holds across the call is still
there, unchanged, a moment later; a transaction merely between two statements of another thread has moved on.
Only the first kind is reported.

The test then drives a mention through what people do — claim, draft, approve (twice), publish, escalate,
declare a crisis, `/vigie liste` — with requests signed like Slack's, and asserts nothing was seen.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session, col, select

from bot.slack.ids import Action
from bot.store.db import make_engine
from bot.store.models import Draft, Mention
from tests.conftest import AUTH, SIGNING_SECRET, drain, mention
from tests.live import SlackClient, live_server
from tests.slack_requests import block_action, view_submission

CM, CM2, LEGAL_LEAD, LEGAL_EXPERT = "U0CM00001", "U0CM00002", "U0LEG0001", "U0LEG0002"
PROBE = "vigie-test-probe"
SETTLE = 0.3  # seconds: far longer than any pause between two statements of one transaction

_HELD = text("""
    SELECT pid, xact_start, state_change, backend_xid::text AS xid, left(query, 200) AS query
    FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name <> :probe
      AND state = 'idle in transaction' AND backend_xid IS NOT NULL
""")


class TransactionWatch:
    """The hook: on every Slack call, the write transactions the app's connections hold, if they persist."""

    def __init__(self, database_url: str):
        self.engine = make_engine(database_url, connect_args={"application_name": PROBE}, pool_size=2)
        self.seen: list[dict[str, Any]] = []
        self.calls = 0
        self._lock = threading.Lock()

    def _held(self) -> dict[tuple[int, Any], dict[str, Any]]:
        with self.engine.connect() as conn:
            return {(r.pid, r.xact_start): dict(r._mapping) for r in conn.execute(_HELD, {"probe": PROBE})}

    def __call__(self, call: Any) -> None:
        with self._lock:
            self.calls += 1
        first = self._held()
        if not first:
            return
        time.sleep(SETTLE)  # the caller waits for our answer: what it holds stays held
        still = self._held()
        for key, row in first.items():
            if key in still and still[key]["state_change"] == row["state_change"]:
                with self._lock:
                    self.seen.append({"method": call.method, **row})


@pytest.fixture
def watch(database_url: str, slack) -> Iterator[TransactionWatch]:  # type: ignore[no-untyped-def]
    if not database_url.startswith("postgresql"):
        pytest.skip("pg_stat_activity is PostgreSQL's: set VIGIE_TEST_DATABASE_URL to run this test")
    found = TransactionWatch(database_url)
    slack.on_call = found
    yield found
    slack.on_call = None
    found.engine.dispose()


def _ok(response: Any) -> None:
    assert response.status_code == 200, response.text
    assert not (response.content and response.json().get("response_action") == "errors"), response.text


def test_no_slack_call_while_a_write_transaction_is_open(watch, runtime, slack):  # type: ignore[no-untyped-def]
    # Languages are not known yet: the first click of each person asks Slack (users.info), which must happen
    # before that click's transaction.
    for user in (CM, CM2, LEGAL_LEAD, LEGAL_EXPERT):
        slack.add_user(user, name=user, locale="fr-FR")
    with live_server(runtime) as server:
        client = SlackClient(server.url, SIGNING_SECRET)

        def intake(i: int, text_: str) -> int:
            r = httpx.post(f"{server.url}/intake/mentions", headers=AUTH, json=mention(i, text=text_), timeout=30)
            assert r.status_code == 202, r.text
            drain(runtime)
            return int(r.json()["mentions"][0]["id"])

        def click(action: Action, value: int, user: str) -> None:
            _ok(client.interaction(block_action(action_id=action.value, value=str(value), user=user,
                                                channel="C0LEGAL001")))
            drain(runtime)

        def submit(user: str, values: dict[str, str]) -> None:
            view = slack.last("views.open").args["view"]
            _ok(client.interaction(view_submission(view, user=user, values=values)))
            drain(runtime)

        def command(text_: str, user: str) -> None:
            _ok(client.command(text_, user=user))
            drain(runtime)

        mid = intake(1, "Un avocat annonce un procès contre nous")
        click(Action.claim, mid, LEGAL_EXPERT)
        click(Action.draft, mid, LEGAL_EXPERT)
        submit(LEGAL_EXPERT, {"text": "Merci pour votre message. Nous ne commentons pas une procédure en cours.",
                              "network": "x", "language": "fr", "label": "public"})
        with Session(runtime.engine) as s:
            draft_id = s.exec(select(Draft.id).where(Draft.mention_id == mid)
                              .order_by(col(Draft.version).desc())).first()
        assert draft_id is not None
        click(Action.approve, draft_id, CM)
        click(Action.approve, draft_id, LEGAL_LEAD)
        click(Action.publish, draft_id, CM)
        submit(CM, {"url": "https://x.example/armorine/status/99"})

        other_id = intake(2, "Un procès annoncé, encore")
        command(f"escalate {other_id} personne ne répond", LEGAL_LEAD)
        command("crise déclarer test", CM)
        command("liste", CM2)

    with Session(runtime.engine) as s:
        assert s.get(Mention, mid).state == "published"  # type: ignore[union-attr]
    methods = {c.method for c in slack.calls()}
    assert {"users.info", "views.open", "chat.postMessage", "chat.update", "chat.postEphemeral"} <= methods
    assert watch.calls > 10
    assert watch.seen == [], watch.seen
