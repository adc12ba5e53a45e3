"""Two people clicking at once, on the real server: the gate holds.

Each race sets up a mention in the state it needs (through the use cases: that is setting the scene, not what
is tested), then releases two or three requests signed like Slack's at the same instant on a barrier
(`tests.live.simultaneously`) against the live server, and checks the invariants the product promises:
nothing is published but the exact text every required person approved, nothing twice, and nobody is left
waiting for a step nobody will take. Each race runs `ROUNDS` times, on SQLite and on PostgreSQL.

The interleavings a barrier produces are whatever the machine gives; `test_decisions_in_any_order` adds
hypothesis-chosen orders of the same actions, one after the other, against the same invariants.
"""

from __future__ import annotations

import itertools
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlmodel import Session, col, func, select

from bot.app import build_runtime
from bot.intake.schema import MentionIn
from bot.slack.ids import Action, View
from bot.slack.views import modals
from bot.store.models import (
    AuditEvent,
    Crisis,
    Draft,
    Mention,
    OncallOverride,
    Outbox,
    Publication,
    Reminder,
    ReviewDecision,
)
from tests.conftest import _WORDS, SIGNING_SECRET, TEST_PROTOCOL, drain, make_settings, mention
from tests.live import SlackClient, live_server, simultaneously
from tests.slack_requests import block_action, view_submission
from tests.usecases.test_publishing import SECRET, Receiver

ROUNDS = int(os.environ.get("VIGIE_RACE_ROUNDS", "50"))
CM, CM2, DM = "U0CM00001", "U0CM00002", "U0DM00001"
LEGAL_LEAD, LEGAL_EXPERT = "U0LEG0001", "U0LEG0002"
LEGAL_TEXT = "procès"  # routed to legal: a CM and legal approve
V1 = "Merci pour votre message, nous regardons cela avec attention."
V2 = "Merci pour votre message. Nous ne commentons pas une procédure en cours."
_ids = itertools.count(1)


@dataclass
class Desk:
    runtime: Any
    client: SlackClient
    receiver: Receiver | None = None

    # --- setting the scene (use cases called directly) --------------------------------------------------

    def new_mention(self, text: str = LEGAL_TEXT) -> int:
        i = next(_ids)
        body = mention(100_000 + i)
        # Its own words (distinct texts are distinct stories, each with its card) outweigh the shared ones.
        words = random.Random(i).sample(_WORDS, 20)
        body["text"] = f"{text} : {' '.join(words)}"
        [result] = self.runtime.vigie.ingest([MentionIn(**body)], actor="test")
        return result.id

    def pending_draft(self, mid: int, text: str = V1) -> int:
        w = self.runtime.workflow
        assert w.claim(mention_id=mid, actor=LEGAL_EXPERT).ok
        assert w.submit_draft(mention_id=mid, actor=LEGAL_EXPERT, text=text, network="x", language="fr",
                              label="public").ok
        return self.draft_ids(mid)[-1]

    def approved_draft(self, mid: int) -> int:
        draft_id = self.pending_draft(mid)
        for approver in (CM2, LEGAL_LEAD):
            assert self.runtime.workflow.review(draft_id=draft_id, actor=approver, kind="approve").ok
        return draft_id

    def draft_ids(self, mid: int) -> list[int]:
        with Session(self.runtime.engine) as s:
            return list(s.exec(select(Draft.id).where(Draft.mention_id == mid).order_by(col(Draft.version))).all())

    # --- what people send ---------------------------------------------------------------------------------

    def click(self, action: Action, value: int, user: str) -> Callable[[], Any]:
        payload = block_action(action_id=action.value, value=str(value), user=user, channel="C0LEGAL001")
        return lambda: self.client.interaction(payload)

    def submit(self, view: dict[str, Any], user: str, values: dict[str, str]) -> Callable[[], Any]:
        payload = view_submission(view, user=user, values=values)
        return lambda: self.client.interaction(payload)

    def slash(self, text: str, user: str) -> Callable[[], Any]:
        return lambda: self.client.command(text, user=user)

    # --- what is stored --------------------------------------------------------------------------------

    def drafts(self, mid: int) -> list[Draft]:
        with Session(self.runtime.engine) as s:
            return list(s.exec(select(Draft).where(Draft.mention_id == mid).order_by(col(Draft.version))).all())

    def mention(self, mid: int) -> Mention:
        with Session(self.runtime.engine) as s:
            found = s.get(Mention, mid)
            assert found is not None
            return found

    def audit(self, mid: int | None, action: str) -> list[AuditEvent]:
        with Session(self.runtime.engine) as s:
            query = select(AuditEvent).where(AuditEvent.action == action)
            if mid is not None:
                query = query.where(AuditEvent.mention_id == mid)
            return list(s.exec(query).all())

    def thread_notes(self, mid: int, contains: str) -> int:
        with Session(self.runtime.engine) as s:
            rows = s.exec(select(Outbox).where(Outbox.mention_id == mid, Outbox.kind == "thread")).all()
        return sum(contains in str(r.payload.get("text")) for r in rows)

    def posted(self, mid: int) -> list[dict[str, Any]]:
        assert self.receiver is not None
        return [r["body"] for r in self.receiver.received if r["body"]["mention_id"] == mid]


def _ok(response: Any) -> bool:
    """A 200 whose body is not a modal error (view submissions refuse inside the modal)."""
    assert response.status_code == 200, response.text
    return not (response.content and response.json().get("response_action") == "errors")


def _users(slack) -> None:  # type: ignore[no-untyped-def]
    for user in (CM, CM2, DM, LEGAL_LEAD, LEGAL_EXPERT, "U0NEWBIE1"):
        slack.add_user(user, name=user, locale="fr-FR")


@pytest.fixture
def desk(runtime, slack) -> Iterator[Desk]:
    _users(slack)
    with live_server(runtime) as server:
        yield Desk(runtime, SlackClient(server.url, SIGNING_SECRET))


@pytest.fixture
def webhook_desk(engine, slack, database_url, tmp_path) -> Iterator[Desk]:
    """The protocol in webhook mode: approved texts are POSTed to the company's publishing endpoint."""
    _users(slack)
    receiver = Receiver()
    protocol = tmp_path / "protocol.yaml"
    protocol.write_text(TEST_PROTOCOL.read_text() + f"publishing:\n  mode: webhook\n  webhook_url: {receiver.url}\n")
    (tmp_path / "roster.csv").write_text((TEST_PROTOCOL.parent / "roster.csv").read_text())
    rt = build_runtime(make_settings(database_url, slack.url, VIGIE_PROTOCOL_FILE=str(protocol),
                                     VIGIE_PUBLISH_WEBHOOK_SECRET=SECRET))
    rt.start()
    try:
        with live_server(rt) as server:
            yield Desk(rt, SlackClient(server.url, SIGNING_SECRET), receiver)
    finally:
        rt.stop()
        rt.engine.dispose()
        receiver.server.shutdown()


def _settle(desk: Desk) -> None:
    """Everything the requests queued has been delivered (the webhook included)."""
    drain(desk.runtime, timeout=30)


# --- the races --------------------------------------------------------------------------------------------------


def test_edit_against_approve_never_publishes_a_stale_text(webhook_desk):
    """The last approval of v1 and a new version v2 at the same instant, in webhook mode: either v2 replaces
    v1 (whose publication, if queued, is cancelled) or v1 went out first and v2 is refused. Never v1 approved
    beside a pending v2, never v1's text sent once v2 exists."""
    desk = webhook_desk
    outcomes: set[str] = set()
    for _ in range(ROUNDS):
        mid = desk.new_mention()
        v1 = desk.pending_draft(mid)
        assert desk.runtime.workflow.review(draft_id=v1, actor=LEGAL_LEAD, kind="approve").ok
        edit_form = modals.draft_modal(mention_id=mid, networks=["x"], lang="fr", text=V1, draft_id=v1, base=v1)
        simultaneously([
            desk.click(Action.approve, v1, CM),
            desk.submit(edit_form, LEGAL_EXPERT, {"text": V2, "network": "x", "language": "fr", "label": "public"}),
        ])
        _settle(desk)
        drafts, sent = desk.drafts(mid), desk.posted(mid)
        states = [d.state for d in drafts]
        if states == ["superseded", "pending"]:
            assert sent == [] and desk.mention(mid).state == "in_review"
            outcomes.add("v2 replaced v1")
        else:
            assert states == ["published"], states  # v1 was already on its way out: v2 was refused
            assert [p["text"] for p in sent] == [V1] and desk.mention(mid).state == "published"
            outcomes.add("v1 published first")
        # Whatever went out was approved, exactly, by everyone it needed.
        for body in sent:
            with Session(desk.runtime.engine) as s:
                draft = s.get(Draft, body["draft_id"])
            assert draft.text == body["text"] and draft.approved_sha256 is not None
    assert outcomes  # (which ones depends on the machine's timing; both are correct)


def test_the_same_publication_twice_at_once_publishes_once(desk):
    for _ in range(ROUNDS):
        mid = desk.new_mention()
        draft_id = desk.approved_draft(mid)
        form = modals.publish_modal(draft_id=draft_id, lang="fr")
        answers = simultaneously([desk.submit(form, CM, {"url": "https://x.example/status/1"}),
                                  desk.submit(form, CM2, {"url": "https://x.example/status/2"})])
        assert sorted(_ok(a) for a in answers) == [False, True]
        with Session(desk.runtime.engine) as s:
            [publication] = s.exec(select(Publication).where(Publication.draft_id == draft_id)).all()
            draft = s.get(Draft, draft_id)
        assert draft.state == "published" and draft.public_url == publication.url  # the winner's, not overwritten
        assert len(desk.audit(mid, "draft.published")) == 1
        assert desk.thread_notes(mid, "a publié") == 1
        assert desk.mention(mid).state == "published"


def test_two_required_approvers_at_once_end_approved_and_the_next_step_is_told(desk):
    for _ in range(ROUNDS):
        mid = desk.new_mention()
        draft_id = desk.pending_draft(mid)
        answers = simultaneously([desk.click(Action.approve, draft_id, CM),
                                  desk.click(Action.approve, draft_id, LEGAL_LEAD)])
        assert all(_ok(a) for a in answers)
        [draft] = desk.drafts(mid)
        assert draft.state == "approved" and desk.mention(mid).state == "ready"
        assert draft.approved_sha256 is not None
        assert desk.thread_notes(mid, "peut être publié") == 1  # the next step: a CM publishes


def test_a_double_click_on_approve_records_one_approval(desk):
    for _ in range(ROUNDS):
        mid = desk.new_mention()
        draft_id = desk.pending_draft(mid)
        simultaneously([desk.click(Action.approve, draft_id, CM), desk.click(Action.approve, draft_id, CM)])
        with Session(desk.runtime.engine) as s:
            decisions = s.exec(select(ReviewDecision).where(ReviewDecision.draft_id == draft_id)).all()
        assert [(d.user, d.kind) for d in decisions] == [(CM, "approve")]
        assert len(desk.audit(mid, "draft.approve")) == 1
        assert desk.drafts(mid)[0].state == "pending"  # legal has not approved yet


def test_holding_statements_chosen_three_times_at_once_go_out_once(webhook_desk):
    desk = webhook_desk
    for _ in range(ROUNDS):
        mid = desk.new_mention()
        form = modals.holding_modal(mention_id=mid, statements=[("Nous regardons", "on-regarde")], lang="fr", sent=0)
        answers = simultaneously([desk.submit(form, user, {"statement": "on-regarde"}) for user in (CM, CM, CM2)])
        assert sorted(_ok(a) for a in answers) == [False, False, True]
        _settle(desk)
        assert [d.kind for d in desk.drafts(mid)] == ["holding"]
        assert len(desk.posted(mid)) == 1
        # Another one goes out only when a community manager confirms it, on a form that knew of the first.
        again = modals.holding_modal(mention_id=mid, statements=[("Nous regardons", "on-regarde")], lang="fr", sent=1)
        assert not _ok(desk.submit(again, CM, {"statement": "on-regarde"})())
        assert _ok(desk.submit(again, CM, {"statement": "on-regarde", "confirm": modals.CONFIRM_ANOTHER})())
        _settle(desk)
        assert [d.holding_no for d in desk.drafts(mid)] == [1, 2] and len(desk.posted(mid)) == 2


def test_a_holding_statement_during_review_leaves_the_reply_approvable(desk):
    for _ in range(ROUNDS):
        mid = desk.new_mention()
        draft_id = desk.pending_draft(mid)
        assert desk.runtime.workflow.review(draft_id=draft_id, actor=CM2, kind="approve").ok
        form = modals.holding_modal(mention_id=mid, statements=[("Nous regardons", "on-regarde")], lang="fr", sent=0)
        answers = simultaneously([desk.submit(form, CM, {"statement": "on-regarde"}),
                                  desk.click(Action.approve, draft_id, LEGAL_LEAD)])
        assert all(_ok(a) for a in answers)
        reply, holding = desk.drafts(mid)
        assert (reply.kind, reply.state) == ("reply", "approved") and (holding.kind, holding.state) == (
            "holding", "approved")
        assert desk.mention(mid).state == "ready"
        assert desk.audit(mid, "refused.approve") == []


def test_two_people_claiming_at_once_make_one_owner(desk):
    for _ in range(ROUNDS):
        mid = desk.new_mention()
        simultaneously([desk.click(Action.claim, mid, LEGAL_EXPERT), desk.click(Action.claim, mid, LEGAL_LEAD)])
        [claimed] = desk.audit(mid, "mention.claimed")
        assert desk.mention(mid).owner == claimed.actor and desk.mention(mid).state == "claimed"
        assert len(desk.audit(mid, "refused.claim")) == 1


def test_a_draft_form_submitted_twice_at_once_makes_one_version(desk):
    for _ in range(ROUNDS):
        mid = desk.new_mention()
        assert desk.runtime.workflow.claim(mention_id=mid, actor=LEGAL_EXPERT).ok
        form = modals.draft_modal(mention_id=mid, networks=["x"], lang="fr", base=0)
        values = {"text": V1, "network": "x", "language": "fr", "label": "public"}
        answers = simultaneously([desk.submit(form, LEGAL_EXPERT, values), desk.submit(form, LEGAL_EXPERT, values)])
        assert sorted(_ok(a) for a in answers) == [False, True]  # the refused one keeps its text in the form
        assert [d.version for d in desk.drafts(mid)] == [1]


@pytest.mark.parametrize("what", ["dismiss", "reroute", "assign", "request_changes", "reject"])
def test_the_same_decision_twice_at_once_is_recorded_once(desk, what):
    audit_action = {"dismiss": "mention.dismissed", "reroute": "mention.rerouted", "assign": "mention.assigned",
                    "request_changes": "draft.request_changes", "reject": "draft.reject"}[what]
    for _ in range(ROUNDS):
        mid = desk.new_mention()
        if what in ("request_changes", "reject"):
            draft_id = desk.pending_draft(mid)
            callback = View.request_changes if what == "request_changes" else View.reject
            form = modals.reason_modal(callback, lang="fr", meta={"draft": draft_id},
                                       title_key=f"modal.{what}.title", label_key=f"modal.{what}.reason")
            values = {"reason": "Le ton ne va pas."}
        elif what == "dismiss":
            form = modals.reason_modal(View.dismiss, lang="fr", meta={"mention": mid},
                                       title_key="modal.dismiss.title", label_key="modal.dismiss.reason")
            values = {"reason": "Hors sujet"}
        elif what == "reroute":
            form = modals.reroute_modal(mention_id=mid, teams=[("finance", "Finance")], current="legal", lang="fr")
            values = {"team": "finance"}
        else:
            form = modals.assign_modal(mention_id=mid, lang="fr")
            values = {"user": LEGAL_EXPERT}
        simultaneously([desk.submit(form, CM, values), desk.submit(form, CM2, values)])
        events = desk.audit(mid, audit_action)
        # Assigning the same person twice is harmless and both are recorded; every other decision happens once.
        assert len(events) == (len(events) if what == "assign" else 1), (what, events)
        if what == "reroute":
            assert desk.mention(mid).team == "finance" and desk.mention(mid).reroutes == 1
        if what == "dismiss":
            assert desk.mention(mid).state == "dismissed"


def test_crisis_declared_twice_at_once_is_one_crisis_and_ended_once(desk):
    for _ in range(max(ROUNDS // 5, 10)):  # each round opens and closes a crisis channel announcement
        answers = simultaneously([desk.slash("crise déclarer fuite", CM), desk.slash("crise déclarer fuite", CM2)])
        assert all(a.status_code == 200 for a in answers)
        with Session(desk.runtime.engine) as s:
            assert s.exec(select(func.count()).select_from(Crisis).where(col(Crisis.ended_at).is_(None))).one() == 1
        simultaneously([desk.slash("crise fin calme", CM), desk.slash("crise fin calme", DM)])
        with Session(desk.runtime.engine) as s:
            assert s.exec(select(func.count()).select_from(Crisis).where(col(Crisis.ended_at).is_(None))).one() == 0
            ended = s.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "crisis.ended")).one()
            declared = s.exec(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "crisis.declared")).one()
        assert ended == declared


def test_an_escalation_sent_twice_in_one_minute_escalates_once(desk):
    for _ in range(ROUNDS):
        mid = desk.new_mention()
        answers = simultaneously([desk.slash(f"escalader {mid} urgent", LEGAL_EXPERT),
                                  desk.slash(f"escalader {mid} urgent", LEGAL_EXPERT)])
        texts = sorted(a.json()["text"] for a in answers)
        assert any("déjà" in text for text in texts), texts
        with Session(desk.runtime.engine) as s:
            assert s.exec(select(func.count()).select_from(Reminder).where(Reminder.mention_id == mid)).one() == 1
        [escalated] = desk.audit(mid, "mention.escalated")
        assert escalated.actor == LEGAL_EXPERT and escalated.reason == "urgent"


def test_on_call_taken_twice_at_once_is_one_override(desk):
    for _ in range(ROUNDS):
        answers = simultaneously([desk.slash("astreinte prendre semaine", CM2),
                                  desk.slash("astreinte prendre semaine", CM2)])
        assert all("<@U0CM00002>" in a.json()["text"] for a in answers)  # both told who is on call
        with Session(desk.runtime.engine) as s:
            rows = s.exec(select(OncallOverride)).all()
        assert len({(o.role, o.user, o.start, o.end) for o in rows}) == len(rows) >= 1  # never twice the same


# --- orders chosen by hypothesis, one after the other ------------------------------------------------------------

_DECISIONS = ("approve_cm", "approve_legal", "approve_cm_again", "edit", "publish", "holding")


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(_DECISIONS))
def test_decisions_in_any_order(order, runtime, slack):
    """Whatever order people act in, what is published is a version every required person approved, exactly."""
    for user in (CM, CM2, LEGAL_LEAD, LEGAL_EXPERT):
        slack.add_user(user, name=user, locale="fr-FR")
    desk = Desk(runtime, SlackClient("http://unused", SIGNING_SECRET))
    w = runtime.workflow
    mid = desk.new_mention()
    v1 = desk.pending_draft(mid)
    for step in order:
        current = desk.draft_ids(mid)
        latest = [d for d in desk.drafts(mid) if d.kind == "reply"][-1]
        if step == "approve_cm":
            w.review(draft_id=v1, actor=CM, kind="approve")
        elif step == "approve_legal":
            w.review(draft_id=latest.id, actor=LEGAL_LEAD, kind="approve")
        elif step == "approve_cm_again":
            w.review(draft_id=latest.id, actor=CM, kind="approve")
        elif step == "edit":
            w.submit_draft(mention_id=mid, actor=LEGAL_EXPERT, text=V2, network="x", language="fr", label="public",
                           expected_base=latest.id)
        elif step == "publish":
            w.mark_published(draft_id=latest.id, actor=CM2, url=None)
        else:
            w.holding_statement(mention_id=mid, actor=CM, key="on-regarde", expected_sent=0)
        assert len(desk.draft_ids(mid)) >= len(current)
    with Session(runtime.engine) as s:
        for publication in s.exec(select(Publication).where(Publication.mention_id == mid)).all():
            draft = s.get(Draft, publication.draft_id)
            approvers = {d.user for d in s.exec(select(ReviewDecision).where(ReviewDecision.draft_id == draft.id,
                                                                            ReviewDecision.kind == "approve"))}
            if draft.kind == "reply":
                assert {CM, LEGAL_LEAD} <= approvers  # four eyes, on this exact version
            assert publication.text_sha256 == draft.approved_sha256
        reply_states = [d.state for d in s.exec(select(Draft).where(Draft.mention_id == mid, Draft.kind == "reply")
                                                .order_by(col(Draft.version)))]
    # At most one live version of the reply: every earlier one is superseded (or was published, and then nothing
    # came after it).
    assert all(state == "superseded" for state in reply_states[:-1]) or reply_states == ["published"]
