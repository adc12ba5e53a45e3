"""Who may do what, in which state: the policy of `decide`, written as tables a reader can check at a glance.

The mention belongs to legal; its draft needs a community manager, a decision maker and someone from legal.
"""

from __future__ import annotations

import pytest

from bot.domain.workflow import (
    Action,
    Decision,
    DraftState,
    DraftView,
    MentionState,
    MentionView,
    People,
    decide,
)

CM = "UCM"
DECIDER = "UDM"
LEAD = "ULEAD"  # legal lead
EXPERT = "UEXPERT"  # legal expert
OTHER_TEAM = "UFIN"  # finance expert
STRANGER = "USTRANGER"
AUTHOR = "UAUTHOR"  # legal expert who wrote the draft (and owns the mention)
DOUBLE = "UNEW"  # legal expert, new, under double command

PEOPLE = People(
    community_managers=frozenset({CM}),
    decision_makers=frozenset({DECIDER}),
    team_leads={"legal": LEAD, "finance": "UFINLEAD", "general": None},
    team_members={
        "legal": frozenset({LEAD, EXPERT, AUTHOR, DOUBLE}),
        "finance": frozenset({"UFINLEAD", OTHER_TEAM}),
        "general": frozenset(),
    },
    double_command=frozenset({DOUBLE}),
)
REQUIRED = ("community_manager", "decision_maker", "team:legal")

ROLES = {
    "cm": CM,
    "decider": DECIDER,
    "lead": LEAD,
    "expert": EXPERT,
    "other_team": OTHER_TEAM,
    "stranger": STRANGER,
    "author": AUTHOR,
    "double": DOUBLE,
}


def mention(state: MentionState, owner: str | None = AUTHOR) -> MentionView:
    return MentionView(state=state, team="legal", owner=None if state is MentionState.open else owner)


def draft(state: DraftState = DraftState.pending, **overrides: object) -> DraftView:
    return DraftView(state=state, author=AUTHOR, **overrides)  # type: ignore[arg-type]


def check(action: Action, actor: str, m: MentionView, d: DraftView | None, reason: str | None = None,
          required: tuple[str, ...] = REQUIRED, people: People = PEOPLE) -> str:
    decision = decide(action, actor=actor, mention=m, draft=d, people=people, required=required, reason=reason)
    assert isinstance(decision, Decision)
    assert decision.allowed == (decision.reason is None)  # a refusal always says why
    return "ok" if decision.allowed else str(decision.reason)


def parse(table: str) -> tuple[list[str], dict[str, list[str]]]:
    header, *rows = [line.split() for line in table.strip().splitlines()]
    return header, {row[0]: row[1:] for row in rows}


# --- Who: every action x every role, each in a state where the action makes sense ------------------------

# Each action's situation: the mention, its current draft, and the reason / comment given with the action.
SITUATION: dict[Action, tuple[MentionView, DraftView | None, str | None]] = {
    Action.claim: (mention(MentionState.open), None, None),
    Action.assign: (mention(MentionState.claimed), None, None),
    Action.reroute: (mention(MentionState.claimed), None, None),
    Action.dismiss: (mention(MentionState.claimed), None, "spam account"),
    Action.submit_draft: (mention(MentionState.claimed), None, None),
    Action.approve: (mention(MentionState.in_review), draft(), None),
    Action.request_changes: (mention(MentionState.in_review), draft(), "too defensive"),
    Action.reject: (mention(MentionState.in_review), draft(), "we do not answer this"),
    Action.publish: (mention(MentionState.ready), draft(DraftState.approved), None),
    Action.holding_statement: (mention(MentionState.claimed), None, None),
}

# ok: allowed. Refusals: team = not_team_member, lead = not_lead_or_cm, cm = not_cm,
# approver = not_an_approver, own = own_draft.
WHO = """
                    cm   decider   lead   expert   other_team   stranger   author   double
claim               ok   team      ok     ok       team         team       ok       ok
assign              ok   lead      ok     lead     lead         lead       lead     lead
reroute             ok   lead      ok     lead     lead         lead       lead     lead
dismiss             ok   lead      ok     lead     lead         lead       lead     lead
submit_draft        ok   team      ok     ok       team         team       ok       ok
approve             ok   ok        ok     ok       approver     approver   own      ok
request_changes     ok   ok        ok     ok       approver     approver   own      ok
reject              ok   ok        ok     ok       approver     approver   own      ok
publish             ok   cm        cm     cm       cm           cm         cm       cm
holding_statement   ok   cm        cm     cm       cm           cm         cm       cm
"""
WHO_CODES = {
    "ok": "ok",
    "team": "not_team_member",
    "lead": "not_lead_or_cm",
    "cm": "not_cm",
    "approver": "not_an_approver",
    "own": "own_draft",
}
_who_roles, _who_rows = parse(WHO)


def test_who_table_covers_every_action_and_role() -> None:
    assert _who_roles == list(ROLES)
    assert set(_who_rows) == {str(action) for action in Action}


@pytest.mark.parametrize(
    ("action", "role", "expected"),
    [
        (Action(action), role, WHO_CODES[code])
        for action, codes in _who_rows.items()
        for role, code in zip(_who_roles, codes, strict=True)
    ],
)
def test_who(action: Action, role: str, expected: str) -> None:
    m, d, reason = SITUATION[action]
    assert check(action, ROLES[role], m, d, reason) == expected


# --- When: every action x every mention state, for someone allowed to do it --------------------------------

# ok: allowed; "-": refused with state:<column>. The mention is owned by AUTHOR except when open, so a
# community manager claiming it elsewhere is told who has it rather than what state it is in. A grouped
# mention (a copy in a storm) takes no action: its story's first mention does; nor does history (archived).
WHEN = """
                    open       claimed           in_review         ready             published   dismissed   grouped     archived
claim               ok         already_claimed   already_claimed   already_claimed   -           -           -           -
assign              ok         ok                ok                -                 -           -           -           -
reroute             ok         ok                -                 -                 -           -           -           -
dismiss             ok         ok                ok                -                 -           -           -           -
submit_draft        ok         ok                ok                ok                -           -           -           -
approve             -          -                 ok                -                 -           -           -           -
request_changes     -          -                 ok                -                 -           -           -           -
reject              -          -                 ok                -                 -           -           -           -
publish             -          -                 -                 ok                -           -           -           -
holding_statement   ok         ok                ok                ok                -           -           -           -
"""
_when_states, _when_rows = parse(WHEN)


def test_when_table_covers_every_action_and_state() -> None:
    assert _when_states == [str(state) for state in MentionState]
    assert set(_when_rows) == {str(action) for action in Action}


@pytest.mark.parametrize(
    ("action", "state", "expected"),
    [
        (Action(action), MentionState(state), f"state:{state}" if code == "-" else code)
        for action, codes in _when_rows.items()
        for state, code in zip(_when_states, codes, strict=True)
    ],
)
def test_when(action: Action, state: MentionState, expected: str) -> None:
    _, d, reason = SITUATION[action]
    assert check(action, CM, mention(state), d, reason) == expected


# --- Which draft: reviewing needs a pending draft, publishing an approved one -------------------------------

# ok: allowed; "-": refused with draft_state:<column>.
DRAFT_WHEN = """
                    pending   changes_requested   rejected   approved   superseded   publishing   published
approve             ok        -                   -          -          -            -            -
request_changes     ok        -                   -          -          -            -            -
reject              ok        -                   -          -          -            -            -
publish             -         -                   -          ok         -            -            -
"""
_draft_states, _draft_rows = parse(DRAFT_WHEN)


def test_draft_table_covers_every_draft_state() -> None:
    assert _draft_states == [str(state) for state in DraftState]


@pytest.mark.parametrize(
    ("action", "state", "expected"),
    [
        (Action(action), DraftState(state), f"draft_state:{state}" if code == "-" else code)
        for action, codes in _draft_rows.items()
        for state, code in zip(_draft_states, codes, strict=True)
    ],
)
def test_draft_state(action: Action, state: DraftState, expected: str) -> None:
    m, _, reason = SITUATION[action]
    assert check(action, CM, m, draft(state), reason) == expected


# --- What each action needs besides a role and a state ---------------------------------------------------

IN_REVIEW = mention(MentionState.in_review)
READY = mention(MentionState.ready)
CLAIMED = mention(MentionState.claimed)


@pytest.mark.parametrize(
    ("action", "actor", "m", "d", "reason", "expected"),
    [
        # Claiming: say who has it.
        pytest.param(Action.claim, AUTHOR, CLAIMED, None, None, "already_owner", id="claim-own"),
        pytest.param(Action.claim, EXPERT, CLAIMED, None, None, "already_claimed", id="claim-taken"),
        # Dismissing, asking for changes and rejecting must say why (after strip).
        pytest.param(Action.dismiss, LEAD, CLAIMED, None, None, "reason_required", id="dismiss-none"),
        pytest.param(Action.dismiss, LEAD, CLAIMED, None, "  \n", "reason_required", id="dismiss-blank"),
        pytest.param(Action.request_changes, CM, IN_REVIEW, draft(), "", "reason_required", id="changes-blank"),
        pytest.param(Action.reject, CM, IN_REVIEW, draft(), None, "reason_required", id="reject-none"),
        # Labels: internal or confidential never goes out, even with an override reason.
        pytest.param(Action.approve, CM, IN_REVIEW, draft(label="internal"), "urgent", "label_not_public",
                     id="approve-internal"),
        pytest.param(Action.approve, CM, IN_REVIEW, draft(label="confidential"), None, "label_not_public",
                     id="approve-confidential"),
        pytest.param(Action.publish, CM, READY, draft(DraftState.approved, label="internal"), None,
                     "label_not_public", id="publish-internal"),
        pytest.param(Action.request_changes, CM, IN_REVIEW, draft(label="internal"), "say less", "ok",
                     id="changes-on-internal"),
        # Failing checks: overridden only with a reason, and only if every failing check allows it.
        pytest.param(Action.approve, CM, IN_REVIEW, draft(blocking_findings=1), None, "checks_failed",
                     id="checks-no-reason"),
        pytest.param(Action.approve, CM, IN_REVIEW, draft(blocking_findings=1), " ", "checks_failed",
                     id="checks-blank-reason"),
        pytest.param(Action.approve, CM, IN_REVIEW, draft(blocking_findings=2), "quote is right", "ok",
                     id="checks-overridden"),
        pytest.param(Action.approve, CM, IN_REVIEW, draft(blocking_findings=1, overridable=False),
                     "quote is right", "checks_failed", id="checks-not-overridable"),
        # Approving twice is refused (it would not count twice anyway).
        pytest.param(Action.approve, CM, IN_REVIEW, draft(approvals=(CM,)), None, "already_approved",
                     id="approve-twice"),
        # Nothing to review or publish.
        pytest.param(Action.approve, CM, IN_REVIEW, None, None, "no_draft", id="approve-no-draft"),
        pytest.param(Action.publish, CM, READY, None, None, "no_draft", id="publish-no-draft"),
        # A holding statement needs no draft and leaves everything as it is.
        pytest.param(Action.holding_statement, CM, IN_REVIEW, draft(), None, "ok", id="holding-in-review"),
        # ...and a chosen one is published whatever stage the reply is at (not only once the reply is ready).
        pytest.param(Action.publish, CM, CLAIMED, draft(DraftState.approved, holding=True), None, "ok",
                     id="publish-holding-while-claimed"),
        pytest.param(Action.publish, CM, mention(MentionState.dismissed), draft(DraftState.approved, holding=True),
                     None, "state:dismissed", id="publish-holding-on-closed"),
        # The reply being sent through the webhook cannot be replaced by a new version meanwhile.
        pytest.param(Action.submit_draft, EXPERT, READY, draft(DraftState.publishing), None,
                     "draft_state:publishing", id="edit-while-publishing"),
        # A reason is letters or digits: invisible and format characters, punctuation alone, or one letter
        # are not a reason (str.strip() keeps U+200B; it once approved a draft with a confidential term).
        pytest.param(Action.approve, CM, IN_REVIEW, draft(blocking_findings=1), "\u200b", "checks_failed",
                     id="override-zero-width-space"),
        pytest.param(Action.approve, CM, IN_REVIEW, draft(blocking_findings=1), "\u200e\u2060\ufeff\u3164 ..",
                     "checks_failed", id="override-invisible-and-dots"),
        pytest.param(Action.dismiss, LEAD, CLAIMED, None, "\u0301\u0301\u0301", "reason_required",
                     id="dismiss-combining-marks-alone"),
        pytest.param(Action.reject, CM, IN_REVIEW, draft(), "x", "reason_required", id="reject-one-letter"),
        pytest.param(Action.dismiss, LEAD, CLAIMED, None, "Spam", "ok", id="dismiss-short-word"),
        pytest.param(Action.reject, CM, IN_REVIEW, draft(), "不合适", "ok", id="reject-cjk-reason"),
    ],
)
def test_action_needs(
    action: Action, actor: str, m: MentionView, d: DraftView | None, reason: str | None, expected: str
) -> None:
    assert check(action, actor, m, d, reason) == expected


def test_approvers_are_whoever_the_requirements_name() -> None:
    d = draft()
    # Without decision_maker in the requirements, a decision maker is no reviewer...
    assert check(Action.approve, DECIDER, IN_REVIEW, d, required=("community_manager", "team:legal")) == (
        "not_an_approver"
    )
    # ...and a finance expert reviews a legal mention when the rules ask finance to.
    assert check(Action.approve, OTHER_TEAM, IN_REVIEW, d, required=("community_manager", "team:finance")) == "ok"
    # Forgetting to pass the requirements fails closed.
    assert check(Action.approve, CM, IN_REVIEW, d, required=()) == "not_an_approver"


def test_a_lead_missing_from_the_member_list_still_counts() -> None:
    people = People(community_managers=frozenset({CM}), team_leads={"legal": LEAD}, team_members={})
    assert check(Action.claim, LEAD, mention(MentionState.open), None, people=people) == "ok"
    assert check(Action.assign, LEAD, CLAIMED, None, people=people) == "ok"


def test_a_team_without_lead_is_managed_by_community_managers() -> None:
    people = People(
        community_managers=frozenset({CM}),
        team_leads={"legal": None},
        team_members={"legal": frozenset({EXPERT})},
    )
    assert check(Action.assign, EXPERT, CLAIMED, None, people=people) == "not_lead_or_cm"
    assert check(Action.assign, CM, CLAIMED, None, people=people) == "ok"
