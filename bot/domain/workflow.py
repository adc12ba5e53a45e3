"""The response workflow as pure rules: states, who may do what, and whether a draft has every approval it needs.

Plain data in, plain data out: no I/O, no clock, no database. Services load rows, ask `decide` whether an
action is allowed (permission AND state), then apply `next_states`. Refusals carry a stable reason code
that Slack messages render through i18n and the audit log stores as is:

    not_team_member, not_lead_or_cm, not_cm, not_an_approver, own_draft, already_claimed, already_owner,
    already_approved, reason_required, label_not_public, checks_failed, no_draft,
    state:<mention state>, draft_state:<draft state>

Approvals follow four eyes: nobody approves their own draft, and every required role is covered by a
different person. New or outsourced staff are under "double command": their drafts need one more approver,
and their approval never counts on its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import overload

from bot.domain.text import is_real_text

__all__ = [
    "CLOSED_STATES",
    "COMMUNITY_MANAGER",
    "DECISION_MAKER",
    "OPEN_STATES",
    "Action",
    "ApprovalRule",
    "ApprovalStatus",
    "Decision",
    "DraftState",
    "DraftView",
    "MentionState",
    "MentionView",
    "People",
    "Requirement",
    "Severity",
    "approval_status",
    "awaited_approvers",
    "decide",
    "may_escalate",
    "next_states",
    "required_approvals",
    "roles_of",
    "state_allows",
    "superseded_state",
    "team_requirement",
    "text_hash",
]


class Severity(StrEnum):
    """How bad a mention is, in rising order: routing decides it, SLAs and ladders depend on it."""

    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class MentionState(StrEnum):
    open = "open"  # relayed, nobody owns it
    claimed = "claimed"  # an owner works on it
    in_review = "in_review"  # a draft awaits approval
    ready = "ready"  # approved, waiting to be published
    published = "published"
    dismissed = "dismissed"
    grouped = "grouped"  # a copy of another mention (a storm): its story's first mention carries the workflow
    archived = "archived"  # imported as history: counted and grouped, never relayed nor open


# The one list of open states: a mention someone still has to answer (reminders, escalation, "liste", Home, the
# digest's open count). `grouped` copies ride on their story's first mention and are never open themselves.
OPEN_STATES: tuple[str, ...] = (MentionState.open, MentionState.claimed, MentionState.in_review, MentionState.ready)
CLOSED_STATES = frozenset({MentionState.published, MentionState.dismissed})


class DraftState(StrEnum):
    pending = "pending"  # awaiting approvals
    changes_requested = "changes_requested"
    rejected = "rejected"
    approved = "approved"
    superseded = "superseded"  # replaced by a newer version
    publishing = "publishing"  # being sent through the publishing webhook: no new version meanwhile
    published = "published"


class Action(StrEnum):
    claim = "claim"
    assign = "assign"
    reroute = "reroute"
    dismiss = "dismiss"
    submit_draft = "submit_draft"  # a new draft, or a new version of the current one
    approve = "approve"
    request_changes = "request_changes"
    reject = "reject"
    publish = "publish"
    holding_statement = "holding_statement"  # a pre-approved text; the mention's state does not change


# A requirement is a role an approver must hold: "community_manager", "decision_maker" or "team:<key>".
Requirement = str
COMMUNITY_MANAGER: Requirement = "community_manager"
DECISION_MAKER: Requirement = "decision_maker"
PUBLIC_LABEL = "public"

_TERMINAL = frozenset({MentionState.published, MentionState.dismissed, MentionState.grouped,
                       MentionState.archived})


def text_hash(text: str) -> str:
    """What an approval is bound to: the SHA-256 of the exact text (hex). The publisher recomputes it from the
    text it is about to send and sends nothing whose hash differs."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def team_requirement(team: str) -> Requirement:
    return f"team:{team}"


@dataclass(frozen=True)
class People:
    community_managers: frozenset[str] = frozenset()
    decision_makers: frozenset[str] = frozenset()
    team_leads: Mapping[str, str | None] = field(default_factory=dict)  # team key -> lead user id
    team_members: Mapping[str, frozenset[str]] = field(default_factory=dict)  # team key -> lead + experts
    double_command: frozenset[str] = frozenset()  # new or outsourced staff

    def in_team(self, user: str, team: str) -> bool:
        # The lead counts even if a caller left them out of `team_members`.
        return user in self.team_members.get(team, frozenset()) or self.team_leads.get(team) == user

    def is_lead_or_cm(self, user: str, team: str) -> bool:
        return user in self.community_managers or self.team_leads.get(team) == user

    def everyone(self) -> frozenset[str]:
        users = set(self.community_managers) | set(self.decision_makers)
        for members in self.team_members.values():
            users |= members
        users |= {lead for lead in self.team_leads.values() if lead}
        return frozenset(users)


# --- Which approvals a mention needs ----------------------------------------------------------------------


@dataclass(frozen=True)
class ApprovalRule:
    """Mentions of one of `teams` (empty = every team) with one of `severities` (empty = all) need `require`."""

    teams: frozenset[str] = frozenset()
    severities: frozenset[str] = frozenset()
    require: tuple[Requirement, ...] = ()


def required_approvals(*, team: str, severity: str, rules: Sequence[ApprovalRule]) -> tuple[Requirement, ...]:
    """A community manager always approves; matching rules add their requirements, first mention wins."""
    required = [COMMUNITY_MANAGER]
    for rule in rules:
        if (not rule.teams or team in rule.teams) and (not rule.severities or severity in rule.severities):
            required.extend(rule.require)
    return tuple(dict.fromkeys(required))


def roles_of(user: str, *, team: str, people: People) -> frozenset[Requirement]:
    """The requirements `user` can cover.

    Membership of ANY team counts, not only of the mention's `team`: a rule may ask legal to approve a
    finance mention. `team` is taken so that callers pass the same context everywhere.
    """
    roles: set[Requirement] = set()
    if user in people.community_managers:
        roles.add(COMMUNITY_MANAGER)
    if user in people.decision_makers:
        roles.add(DECISION_MAKER)
    for key in set(people.team_members) | set(people.team_leads):
        if people.in_team(user, key):
            roles.add(team_requirement(key))
    return frozenset(roles)


# --- Whether a draft has every approval it needs ------------------------------------------------------------


@dataclass(frozen=True)
class ApprovalStatus:
    complete: bool
    missing: tuple[Requirement, ...]  # requirements no counted approver covers yet, in `required` order
    needs_extra_approver: bool  # the author is under double command and one more approver is still needed
    counted: tuple[str, ...]  # approvers whose approval counts, in approval order
    ignored: tuple[tuple[str, str], ...]  # (user, reason code): own_draft, not_an_approver, double_command_alone


def _match(
    slots: Sequence[Requirement], approvers: Sequence[str], roles: Mapping[str, frozenset[Requirement]]
) -> dict[int, str]:
    """Maximum bipartite matching (Kuhn): slot index -> the one approver covering it.

    Slots are tried in order and an augmenting path never unmatches an earlier slot, so the set of covered
    slots is the same whatever the order of `approvers`: `missing` is order independent.
    """
    slot_of: dict[str, int] = {}

    def augment(slot: int, seen: set[str]) -> bool:
        for user in approvers:
            if user in seen or slots[slot] not in roles[user]:
                continue
            seen.add(user)
            if user not in slot_of or augment(slot_of[user], seen):
                slot_of[user] = slot
                return True
        return False

    for slot in range(len(slots)):
        augment(slot, set())
    return {slot: user for user, slot in slot_of.items()}


def approval_status(
    *, required: Sequence[Requirement], approvals: Sequence[str], author: str, team: str, people: People
) -> ApprovalStatus:
    """Whether the approvals given to the CURRENT version of a draft are enough.

    `required` is taken as given: a requirement listed twice needs two different people.
    """
    needed = frozenset(required)
    ignored: list[tuple[str, str]] = []
    candidates: list[str] = []
    for user in dict.fromkeys(approvals):  # approving twice is approving once
        if user == author:
            ignored.append((user, "own_draft"))
        elif not roles_of(user, team=team, people=people) & needed:
            # Someone who could never have approved (e.g. their role was removed since) is no second pair of eyes.
            ignored.append((user, "not_an_approver"))
        else:
            candidates.append(user)

    # Double command (b): new or outsourced staff never approve alone; one counted approver must be outside it.
    if candidates and all(user in people.double_command for user in candidates):
        ignored.extend((user, "double_command_alone") for user in candidates)
        candidates = []

    roles = {user: roles_of(user, team=team, people=people) for user in candidates}
    matched = _match(required, sorted(candidates), roles)
    missing = tuple(req for slot, req in enumerate(required) if slot not in matched)
    # Double command (a): a draft by such a person needs a second, independent approval on top of the roles.
    needs_extra = author in people.double_command and len(candidates) < len(required) + 1
    return ApprovalStatus(
        complete=not missing and not needs_extra,
        missing=missing,
        needs_extra_approver=needs_extra,
        counted=tuple(candidates),
        ignored=tuple(ignored),
    )


def awaited_approvers(*, status: ApprovalStatus, team: str, people: People, author: str) -> frozenset[str]:
    """Who could still move the draft forward: told once that their approval is awaited.

    When only the extra (double-command) approver is missing, community managers are awaited: they can
    always approve, since `required_approvals` always asks for one.
    """
    already = set(status.counted) | {user for user, _ in status.ignored} | {author}
    wanted = set(status.missing)
    if status.needs_extra_approver and not wanted:
        wanted.add(COMMUNITY_MANAGER)
    return frozenset(
        user
        for user in people.everyone()
        if user not in already and roles_of(user, team=team, people=people) & wanted
    )


# --- Who may do what, in which state --------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str | None = None  # a stable code when refused


@dataclass(frozen=True)
class MentionView:
    state: MentionState
    team: str
    owner: str | None = None


@dataclass(frozen=True)
class DraftView:
    state: DraftState
    author: str
    label: str = PUBLIC_LABEL  # "public", "internal" or "confidential"
    approvals: tuple[str, ...] = ()  # who approved the current version
    blocking_findings: int = 0  # checks failing and not overridden
    overridable: bool = True  # every failing check may be overridden (with a reason)
    holding: bool = False  # a pre-approved holding statement (published while the reply is being written)


ALLOWED = Decision(True)

_STATES_FOR: dict[Action, frozenset[MentionState]] = {
    Action.assign: frozenset({MentionState.open, MentionState.claimed, MentionState.in_review}),
    Action.reroute: frozenset({MentionState.open, MentionState.claimed}),
    Action.dismiss: frozenset({MentionState.open, MentionState.claimed, MentionState.in_review}),
    # A new version of an approved draft sends it back to review.
    Action.submit_draft: frozenset(
        {MentionState.open, MentionState.claimed, MentionState.in_review, MentionState.ready}
    ),
    Action.approve: frozenset({MentionState.in_review}),
    Action.request_changes: frozenset({MentionState.in_review}),
    Action.reject: frozenset({MentionState.in_review}),
    Action.publish: frozenset({MentionState.ready}),
    Action.holding_statement: frozenset(MentionState) - _TERMINAL,
}


def _refuse(reason: str) -> Decision:
    return Decision(False, reason)


def _has_text(reason: str | None) -> bool:
    # Letters and digits only: a zero-width space or a dot is not a reason (bot.domain.text).
    return is_real_text(reason)


def decide(
    action: Action,
    *,
    actor: str,
    mention: MentionView,
    draft: DraftView | None,
    people: People,
    required: Sequence[Requirement] = (),
    reason: str | None = None,
) -> Decision:
    """May `actor` do `action` now? Checks who first, then the state, then what the action itself needs.

    `draft` is the mention's current draft (None if there is none); `required` its required approvals;
    `reason` the dismissal reason, the review comment, or the justification for overriding failed checks.
    """
    who = _who(action, actor=actor, mention=mention, draft=draft, people=people, required=required)
    if who is not None:
        return _refuse(who)

    if action is Action.claim:
        if mention.state in _TERMINAL:
            return _refuse(f"state:{mention.state}")
        if mention.owner == actor:
            return _refuse("already_owner")
        if mention.owner is not None:
            return _refuse("already_claimed")
        if mention.state is not MentionState.open:
            return _refuse(f"state:{mention.state}")
        return ALLOWED

    # A holding statement goes out whatever stage the reply is at, as long as the mention is not closed.
    states = _STATES_FOR[Action.holding_statement] if (action is Action.publish and draft is not None
                                                        and draft.holding) else _STATES_FOR[action]
    if mention.state not in states:
        return _refuse(f"state:{mention.state}")

    # The reply being sent right now cannot be replaced (the webhook may already have it).
    if action is Action.submit_draft and draft is not None and draft.state is DraftState.publishing:
        return _refuse(f"draft_state:{draft.state}")

    if action is Action.dismiss and not _has_text(reason):
        return _refuse("reason_required")

    if action in (Action.approve, Action.request_changes, Action.reject, Action.publish):
        if draft is None:
            return _refuse("no_draft")
        expected = DraftState.approved if action is Action.publish else DraftState.pending
        if draft.state is not expected:
            return _refuse(f"draft_state:{draft.state}")
        # Never overridable: what the protocol labels internal or confidential does not go out.
        if action in (Action.approve, Action.publish) and draft.label != PUBLIC_LABEL:
            return _refuse("label_not_public")

    if action in (Action.request_changes, Action.reject) and not _has_text(reason):
        return _refuse("reason_required")  # the author needs to know what to change

    if action is Action.approve:
        assert draft is not None  # checked above
        if actor in draft.approvals:
            return _refuse("already_approved")
        # Failing checks may be overridden, but only knowingly: a written reason, and every check overridable.
        if draft.blocking_findings > 0 and not (draft.overridable and _has_text(reason)):
            return _refuse("checks_failed")

    return ALLOWED


def _who(
    action: Action,
    *,
    actor: str,
    mention: MentionView,
    draft: DraftView | None,
    people: People,
    required: Sequence[Requirement],
) -> str | None:
    """The reason `actor` may never do `action` on this mention, whatever its state; None if they may."""
    if action in (Action.claim, Action.submit_draft):
        ok = actor in people.community_managers or people.in_team(actor, mention.team)
        return None if ok else "not_team_member"
    if action in (Action.assign, Action.reroute, Action.dismiss):
        return None if people.is_lead_or_cm(actor, mention.team) else "not_lead_or_cm"
    if action in (Action.publish, Action.holding_statement):
        return None if actor in people.community_managers else "not_cm"
    # approve, request_changes, reject: reviewers only, and never on one's own draft.
    if draft is not None and draft.author == actor:
        return "own_draft"
    if not roles_of(actor, team=mention.team, people=people) & frozenset(required):
        return "not_an_approver"
    return None


def state_allows(action: Action, state: MentionState | str, owner: str | None = None) -> bool:
    """Whether a mention's state (and owner, for a claim) lets anyone do `action` at all, before asking who
    (`decide` asks both): a card shows the buttons whose action its state allows, as Slack shows one message
    to everyone; who may press them is checked on the click."""
    try:
        state = MentionState(state)
    except ValueError:
        return False
    if action is Action.claim:
        return state is MentionState.open and owner is None
    if action is Action.publish:
        return state is MentionState.ready
    return state in _STATES_FOR[action]


def may_escalate(user: str, *, team: str, people: People) -> bool:
    """Escalating a mention by hand: its team (lead and experts) and the community managers."""
    return user in people.community_managers or people.in_team(user, team)


# --- What an allowed action does to the states ------------------------------------------------------------------


@overload
def superseded_state(previous: DraftState) -> DraftState: ...


@overload
def superseded_state(previous: None) -> None: ...


def superseded_state(previous: DraftState | None) -> DraftState | None:
    """What the current draft becomes when a new version is submitted (None: there was no draft).

    Published and already superseded versions are history and stay as they are.
    """
    if previous is None or previous in (DraftState.superseded, DraftState.published):
        return previous
    return DraftState.superseded


def next_states(
    action: Action,
    *,
    mention_state: MentionState,
    draft_state: DraftState | None,
    approval_complete: bool = False,
) -> tuple[MentionState, DraftState | None]:
    """The mention's and the current draft's states after an ALLOWED action (ask `decide` first).

    The draft state returned is that of the current draft, unchanged when the action does not touch it;
    for submit_draft it is the new version's (the previous one becomes `superseded_state(previous)`).
    """
    match action:
        case Action.claim:
            return MentionState.claimed, draft_state
        case Action.assign:
            # Assigning a mention under review changes its owner, not where the review stands.
            new = MentionState.claimed if mention_state is MentionState.open else mention_state
            return new, draft_state
        case Action.reroute:
            return MentionState.open, draft_state  # the caller clears the owner
        case Action.dismiss:
            # A draft still awaiting approval must not be approved and published later.
            new_draft = DraftState.superseded if draft_state is DraftState.pending else draft_state
            return MentionState.dismissed, new_draft
        case Action.submit_draft:
            return MentionState.in_review, DraftState.pending
        case Action.approve:
            if approval_complete:
                return MentionState.ready, DraftState.approved
            return mention_state, DraftState.pending
        case Action.request_changes:
            return MentionState.claimed, DraftState.changes_requested
        case Action.reject:
            return MentionState.claimed, DraftState.rejected
        case Action.publish:
            return MentionState.published, DraftState.published
        case Action.holding_statement:
            return mention_state, draft_state
    raise AssertionError(f"unknown action {action!r}")  # pragma: no cover - StrEnum is closed
