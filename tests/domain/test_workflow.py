"""Approvals (four eyes, double command), transitions, and a stateful test of the whole workflow."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from bot.domain.workflow import (
    Action,
    ApprovalRule,
    ApprovalStatus,
    DraftState,
    DraftView,
    MentionState,
    MentionView,
    People,
    approval_status,
    awaited_approvers,
    decide,
    next_states,
    required_approvals,
    roles_of,
    superseded_state,
)

CM = "UCM"
CM_AGENCY = "UCMAGENCY"  # outsourced community manager: under double command
DECIDER = "UDM"
LEGAL_LEAD = "ULEGALLEAD"
LEGAL_EXPERT = "ULEGAL"
LEGAL_NEW = "ULEGALNEW"  # new legal expert: under double command
FIN_LEAD = "UFINLEAD"
FIN_EXPERT = "UFIN"
GENERAL_EXPERT = "UGEN"
STRANGER = "USTRANGER"
BOTH = "UBOTH"  # a community manager who is also legal lead in the "both" roster below

PEOPLE = People(
    community_managers=frozenset({CM, CM_AGENCY}),
    decision_makers=frozenset({DECIDER}),
    team_leads={"legal": LEGAL_LEAD, "finance": FIN_LEAD, "general": None},
    team_members={
        "legal": frozenset({LEGAL_LEAD, LEGAL_EXPERT, LEGAL_NEW}),
        "finance": frozenset({FIN_LEAD, FIN_EXPERT}),
        "general": frozenset({GENERAL_EXPERT}),
    },
    double_command=frozenset({CM_AGENCY, LEGAL_NEW}),
)
USERS = (CM, CM_AGENCY, DECIDER, LEGAL_LEAD, LEGAL_EXPERT, LEGAL_NEW, FIN_LEAD, FIN_EXPERT, GENERAL_EXPERT, STRANGER)
TEAMS = ("legal", "finance", "general")
SEVERITIES = ("low", "medium", "high", "critical")

RULES = (
    ApprovalRule(teams=frozenset({"legal"}), require=("team:legal",)),
    ApprovalRule(severities=frozenset({"critical"}), require=("decision_maker",)),
    # Finance results in a crisis are checked by legal too.
    ApprovalRule(teams=frozenset({"finance"}), severities=frozenset({"high", "critical"}),
                 require=("team:finance", "team:legal", "community_manager")),
)

CM_ONLY = ("community_manager",)
CM_LEGAL = ("community_manager", "team:legal")


def status(approvals: list[str], *, required: tuple[str, ...] = CM_LEGAL, author: str = LEGAL_EXPERT,
           people: People = PEOPLE) -> ApprovalStatus:
    return approval_status(required=required, approvals=approvals, author=author, team="legal", people=people)


# --- required_approvals and roles_of ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("team", "severity", "expected"),
    [
        ("general", "low", ("community_manager",)),
        ("legal", "low", ("community_manager", "team:legal")),
        ("general", "critical", ("community_manager", "decision_maker")),
        ("legal", "critical", ("community_manager", "team:legal", "decision_maker")),
        ("finance", "medium", ("community_manager",)),
        # Matching rules add up in order; community_manager stays first and nothing is listed twice.
        ("finance", "critical", ("community_manager", "decision_maker", "team:finance", "team:legal")),
    ],
)
def test_required_approvals(team: str, severity: str, expected: tuple[str, ...]) -> None:
    assert required_approvals(team=team, severity=severity, rules=RULES) == expected


def test_required_approvals_without_rules_is_a_community_manager() -> None:
    assert required_approvals(team="legal", severity="critical", rules=()) == CM_ONLY


def test_roles_of() -> None:
    assert roles_of(CM, team="legal", people=PEOPLE) == {"community_manager"}
    assert roles_of(DECIDER, team="legal", people=PEOPLE) == {"decision_maker"}
    assert roles_of(LEGAL_LEAD, team="finance", people=PEOPLE) == {"team:legal"}  # any team they belong to
    assert roles_of(STRANGER, team="legal", people=PEOPLE) == frozenset()
    both = People(community_managers=frozenset({BOTH}), team_leads={"legal": BOTH}, team_members={})
    assert roles_of(BOTH, team="legal", people=both) == {"community_manager", "team:legal"}


# --- approval_status ------------------------------------------------------------------------------------------


def test_a_community_manager_is_enough_for_a_plain_mention() -> None:
    assert status([], required=CM_ONLY) == ApprovalStatus(False, CM_ONLY, False, (), ())
    assert status([CM], required=CM_ONLY) == ApprovalStatus(True, (), False, (CM,), ())


def test_a_legal_matter_needs_a_community_manager_and_legal() -> None:
    assert status([CM]).missing == ("team:legal",)
    assert status([LEGAL_LEAD]).missing == ("community_manager",)
    done = status([LEGAL_LEAD, CM])
    assert done.complete and done.counted == (LEGAL_LEAD, CM)


def test_two_community_managers_do_not_make_a_legal_approval() -> None:
    result = status([CM, CM_AGENCY])
    assert not result.complete
    assert result.missing == ("team:legal",)


def test_one_person_cannot_cover_two_requirements() -> None:
    both = People(community_managers=frozenset({BOTH, CM}), team_leads={"legal": BOTH},
                  team_members={"legal": frozenset({BOTH, LEGAL_EXPERT})})
    alone = status([BOTH], people=both)
    assert not alone.complete
    assert alone.missing == ("team:legal",)  # they cover the first requirement; the next one waits
    # A plain community manager joins: BOTH now covers legal, the other the community manager.
    assert status([BOTH, CM], people=both).complete
    assert status([CM, BOTH], people=both).complete


def test_matching_finds_the_assignment_a_greedy_pass_would_miss() -> None:
    # BOTH approves first and could be taken as the community manager, leaving legal uncovered; a matching
    # gives BOTH legal and CM the community manager.
    both = People(community_managers=frozenset({BOTH, CM}), team_leads={"legal": BOTH}, team_members={})
    assert status([BOTH, CM], people=both).complete


def test_the_author_cannot_approve_their_own_draft() -> None:
    result = status([LEGAL_EXPERT, CM])
    assert not result.complete
    assert result.missing == ("team:legal",)
    assert result.ignored == ((LEGAL_EXPERT, "own_draft"),)
    assert LEGAL_EXPERT not in result.counted


def test_an_author_under_double_command_needs_one_more_approver() -> None:
    first = status([CM, LEGAL_LEAD], author=LEGAL_NEW)
    assert first.missing == ()
    assert first.needs_extra_approver and not first.complete
    # Any second independent approver will do, even one whose role is already covered.
    second = status([CM, LEGAL_LEAD, LEGAL_EXPERT], author=LEGAL_NEW)
    assert second.complete and not second.needs_extra_approver
    # The extra approver is counted among distinct people: approving twice does not make two.
    assert not status([CM, LEGAL_LEAD, LEGAL_LEAD], author=LEGAL_NEW).complete


def test_an_approver_under_double_command_does_not_count_alone() -> None:
    alone = status([CM_AGENCY], required=CM_ONLY, author=FIN_EXPERT)
    assert not alone.complete
    assert alone.counted == ()
    assert alone.ignored == ((CM_AGENCY, "double_command_alone"),)
    # Two people under double command are still alone together.
    pair = status([CM_AGENCY, LEGAL_NEW], author=FIN_EXPERT)
    assert not pair.complete
    assert {user for user, reason in pair.ignored if reason == "double_command_alone"} == {CM_AGENCY, LEGAL_NEW}
    # With someone outside double command, their approval counts and covers its requirement.
    with_lead = status([CM_AGENCY, LEGAL_LEAD], author=FIN_EXPERT)
    assert with_lead.complete
    assert with_lead.counted == (CM_AGENCY, LEGAL_LEAD)
    assert with_lead.ignored == ()


def test_an_approval_by_the_author_does_not_lift_double_command() -> None:
    # The author is outside double command, but their own approval is no one else's second pair of eyes.
    result = status([FIN_EXPERT, CM_AGENCY], required=CM_ONLY, author=FIN_EXPERT)
    assert not result.complete
    assert set(result.ignored) == {(FIN_EXPERT, "own_draft"), (CM_AGENCY, "double_command_alone")}


def test_someone_who_holds_no_required_role_is_not_an_approver() -> None:
    result = status([CM, STRANGER, FIN_EXPERT], author=LEGAL_NEW)
    assert result.missing == ("team:legal",)
    assert result.counted == (CM,)
    assert set(result.ignored) == {(STRANGER, "not_an_approver"), (FIN_EXPERT, "not_an_approver")}


def test_a_requirement_listed_twice_needs_two_people() -> None:
    assert not status([CM], required=("community_manager", "community_manager")).complete
    assert status([CM, CM_AGENCY], required=("community_manager", "community_manager")).complete


@settings(max_examples=300)
@given(
    required=st.lists(st.sampled_from(["community_manager", "decision_maker", "team:legal", "team:finance"]),
                      max_size=4),
    approvals=st.lists(st.sampled_from(USERS), max_size=6),
    author=st.sampled_from(USERS),
    data=st.data(),
)
def test_approval_status_ignores_the_order_of_approvals(
    required: list[str], approvals: list[str], author: str, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(approvals))
    a = approval_status(required=required, approvals=approvals, author=author, team="legal", people=PEOPLE)
    b = approval_status(required=required, approvals=shuffled, author=author, team="legal", people=PEOPLE)
    assert (a.complete, a.missing, a.needs_extra_approver) == (b.complete, b.missing, b.needs_extra_approver)
    assert set(a.counted) == set(b.counted) and set(a.ignored) == set(b.ignored)
    # And the result agrees with brute force: some one-to-one choice of counted approvers covers everything.
    covered = any(
        all(req in roles_of(user, team="legal", people=PEOPLE) for req, user in zip(required, pick, strict=True))
        for pick in itertools.permutations(a.counted, len(required))
    )
    assert (not a.missing) == covered
    assert author not in a.counted


# --- awaited_approvers --------------------------------------------------------------------------------------


def test_awaited_approvers_are_those_who_can_cover_what_is_missing() -> None:
    result = status([CM])
    assert awaited_approvers(status=result, team="legal", people=PEOPLE, author=LEGAL_EXPERT) == {
        LEGAL_LEAD, LEGAL_NEW  # not the author, not CM who already approved
    }
    nothing_yet = status([])
    assert awaited_approvers(status=nothing_yet, team="legal", people=PEOPLE, author=LEGAL_EXPERT) == {
        CM, CM_AGENCY, LEGAL_LEAD, LEGAL_NEW
    }


def test_awaited_approvers_for_the_extra_double_command_approval() -> None:
    result = status([CM, LEGAL_LEAD], author=LEGAL_NEW)
    assert awaited_approvers(status=result, team="legal", people=PEOPLE, author=LEGAL_NEW) == {CM_AGENCY}


def test_nobody_is_awaited_once_complete() -> None:
    result = status([CM, LEGAL_LEAD])
    assert awaited_approvers(status=result, team="legal", people=PEOPLE, author=LEGAL_EXPERT) == frozenset()


# --- next_states ------------------------------------------------------------------------------------------------

M, D = MentionState, DraftState


@pytest.mark.parametrize(
    ("action", "mention_state", "draft_state", "complete", "expected"),
    [
        (Action.claim, M.open, None, False, (M.claimed, None)),
        (Action.assign, M.open, None, False, (M.claimed, None)),
        (Action.assign, M.claimed, D.rejected, False, (M.claimed, D.rejected)),
        (Action.assign, M.in_review, D.pending, False, (M.in_review, D.pending)),
        (Action.reroute, M.claimed, D.changes_requested, False, (M.open, D.changes_requested)),
        (Action.dismiss, M.in_review, D.pending, False, (M.dismissed, D.superseded)),
        (Action.dismiss, M.claimed, D.rejected, False, (M.dismissed, D.rejected)),
        (Action.dismiss, M.open, None, False, (M.dismissed, None)),
        (Action.submit_draft, M.claimed, None, False, (M.in_review, D.pending)),
        (Action.submit_draft, M.ready, D.approved, False, (M.in_review, D.pending)),
        (Action.approve, M.in_review, D.pending, False, (M.in_review, D.pending)),
        (Action.approve, M.in_review, D.pending, True, (M.ready, D.approved)),
        (Action.request_changes, M.in_review, D.pending, False, (M.claimed, D.changes_requested)),
        (Action.reject, M.in_review, D.pending, False, (M.claimed, D.rejected)),
        (Action.publish, M.ready, D.approved, False, (M.published, D.published)),
        (Action.holding_statement, M.in_review, D.pending, False, (M.in_review, D.pending)),
    ],
)
def test_next_states(action: Action, mention_state: MentionState, draft_state: DraftState | None,
                     complete: bool, expected: tuple[MentionState, DraftState | None]) -> None:
    assert next_states(action, mention_state=mention_state, draft_state=draft_state,
                       approval_complete=complete) == expected


@pytest.mark.parametrize(
    ("previous", "expected"),
    [
        (None, None),
        (D.pending, D.superseded),
        (D.changes_requested, D.superseded),
        (D.rejected, D.superseded),
        (D.approved, D.superseded),
        (D.superseded, D.superseded),
        (D.published, D.published),
    ],
)
def test_superseded_state(previous: DraftState | None, expected: DraftState | None) -> None:
    assert superseded_state(previous) == expected


# --- The whole workflow, driven at random -----------------------------------------------------------------------


@dataclass
class Version:
    """The test's own model of one draft version, as a service would store it."""

    author: str
    label: str
    blocking_findings: int
    overridable: bool
    state: DraftState
    approvals: list[str] = field(default_factory=list)  # a new version starts with none

    def view(self) -> DraftView:
        return DraftView(state=self.state, author=self.author, label=self.label, approvals=tuple(self.approvals),
                         blocking_findings=self.blocking_findings, overridable=self.overridable)


TERMINAL = (MentionState.published, MentionState.dismissed)
REASONS = st.sampled_from([None, "", "  ", "because"])  # a reason, comment or override justification


class WorkflowMachine(RuleBasedStateMachine):
    """Random actors try random actions; `decide` filters them, `next_states` applies them, as services do."""

    @initialize(team=st.sampled_from(TEAMS), severity=st.sampled_from(SEVERITIES))
    def relay(self, team: str, severity: str) -> None:
        self.state = MentionState.open
        self.team = team
        self.severity = severity
        self.owner: str | None = None
        self.versions: list[Version] = []

    def required(self) -> tuple[str, ...]:
        return required_approvals(team=self.team, severity=self.severity, rules=RULES)

    def status_of(self, version: Version) -> ApprovalStatus:
        return approval_status(required=self.required(), approvals=version.approvals, author=version.author,
                               team=self.team, people=PEOPLE)

    @rule(
        action=st.sampled_from(Action),
        actor=st.sampled_from(USERS),
        reason=REASONS,
        # What a submitted draft looks like.
        label=st.sampled_from(["public"] * 6 + ["internal", "confidential"]),
        findings=st.sampled_from([0] * 6 + [1, 2]),
        overridable=st.booleans(),
        new_team=st.sampled_from(TEAMS),  # where reroute sends it
        assignee=st.sampled_from(USERS),
    )
    def act(self, action: Action, actor: str, reason: str | None, label: str, findings: int,
            overridable: bool, new_team: str, assignee: str) -> None:
        self.attempt(action, actor, reason, new_version=Version(actor, label, findings, overridable,
                                                                 DraftState.pending),
                     new_team=new_team, assignee=assignee)

    # Uniform random actions rarely collect every approval before a new version resets them, so two more
    # rules steer towards publication: reviews by people who hold a required role while a draft is in
    # review, publication by a community manager once it is ready. They still go through `decide`.
    @precondition(lambda self: self.state is MentionState.in_review)
    @rule(data=st.data(), reason=REASONS)
    def review(self, data: st.DataObject, reason: str | None) -> None:
        required = set(self.required())
        reviewers = [user for user in USERS if roles_of(user, team=self.team, people=PEOPLE) & required]
        actor = data.draw(st.sampled_from(reviewers), label="reviewer")
        action = data.draw(st.sampled_from([Action.approve] * 6 + [Action.request_changes, Action.reject]))
        self.attempt(action, actor, reason)

    @precondition(lambda self: self.state is MentionState.ready)
    @rule(actor=st.sampled_from([CM, CM_AGENCY]))
    def publish(self, actor: str) -> None:
        self.attempt(Action.publish, actor, None)

    def attempt(self, action: Action, actor: str, reason: str | None, *, new_version: Version | None = None,
                new_team: str | None = None, assignee: str | None = None) -> None:
        current = self.versions[-1] if self.versions else None
        decision = decide(
            action,
            actor=actor,
            mention=MentionView(state=self.state, team=self.team, owner=self.owner),
            draft=current.view() if current else None,
            people=PEOPLE,
            required=self.required(),
            reason=reason,
        )
        if self.state in TERMINAL:
            # Once published or dismissed, only holding statements.
            assert not decision.allowed or action is Action.holding_statement
        if not decision.allowed:
            assert decision.reason
            return

        complete = False
        if action is Action.approve:
            assert current is not None
            current.approvals.append(actor)
            complete = self.status_of(current).complete
        mention_state, draft_state = next_states(
            action, mention_state=self.state, draft_state=current.state if current else None,
            approval_complete=complete,
        )
        if action is Action.submit_draft:
            assert new_version is not None and draft_state is not None
            if current is not None:
                current.state = superseded_state(current.state)
            new_version.state = draft_state
            self.versions.append(new_version)
            self.owner = self.owner or actor
        elif current is not None:
            assert draft_state is not None
            current.state = draft_state
        else:
            assert draft_state is None  # no action but submit_draft creates a draft
        self.state = mention_state

        if action is Action.claim:
            self.owner = actor
        elif action is Action.assign:
            self.owner = assignee
        elif action is Action.reroute:
            assert new_team is not None
            self.team, self.owner = new_team, None

    @invariant()
    def only_complete_approvals_go_out(self) -> None:
        for version in self.versions:
            if version.state in (DraftState.approved, DraftState.published):
                result = self.status_of(version)
                assert result.complete, (version, result)
                assert version.author not in result.counted

    @invariant()
    def nobody_approves_their_own_draft(self) -> None:
        for version in self.versions:
            assert version.author not in version.approvals

    @invariant()
    def only_public_clean_drafts_are_approved(self) -> None:
        for version in self.versions:
            if version.state in (DraftState.approved, DraftState.published):
                assert version.label == "public"
                assert version.blocking_findings == 0 or version.overridable

    @invariant()
    def only_the_last_version_is_alive(self) -> None:
        for version in self.versions[:-1]:
            assert version.state is DraftState.superseded

    @invariant()
    def mention_and_draft_agree(self) -> None:
        current = self.versions[-1].state if self.versions else None
        expected_draft = {
            MentionState.in_review: DraftState.pending,
            MentionState.ready: DraftState.approved,
            MentionState.published: DraftState.published,
        }
        if self.state in expected_draft:
            assert current is expected_draft[self.state]
        else:
            assert current not in (DraftState.pending, DraftState.approved, DraftState.published)


WorkflowMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
TestWorkflow = WorkflowMachine.TestCase
