"""The protocol's models: the one YAML file in which the company describes its teams, channels and triage rules.

Models forbid unknown keys (a typo must not silently switch a rule off). New sections (SLAs, on-call...) are
new optional fields on `Protocol`, each a small model deriving from `_Model`, with a default so that older
files keep loading. The time sections live in bot/protocol/timing.py, the value types in bot/protocol/fields.py;
reading the file (YAML, line numbers, sentences) is bot/protocol/load.py.

One setting points outside the file: `checks.roster`, a CSV of employee names. It is read while the protocol
is validated, so a missing file or column stops start-up with its line like any other mistake.
"""

from __future__ import annotations

import csv
import io
import re
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from bot.domain.sla import BusinessCalendar
from bot.domain.workflow import ApprovalRule, People, Severity
from bot.domain.workflow import required_approvals as approvals_rule
from bot.protocol.errors import Loc, _error
from bot.protocol.fields import (
    DAYS,
    Duration,
    Language,
    Regex,
    ReplyLength,
    Requirement,
    ShortText,
    SlackChannelRef,
    SlackUserId,
    Slug,
    Term,
    WebUrl,
    _Model,
    _timezone,
    format_duration,
)
from bot.protocol.timing import (
    BusinessHours,
    CrisisConfig,
    DigestConfig,
    EscalationPolicy,
    EscalationStep,
    NotifyTarget,
    OnCallConfig,
    OnCallRotation,
    SlaBySeverity,
    SlaConfig,
    SlaPolicy,
    SlaTeamOverrides,
    SpikeConfig,
    TimeRange,
    WeekHours,
    _step_follows,
)

__all__ = [
    "DAYS",
    "DEFAULT_NETWORKS",
    "AlertsChannel",
    "ApprovalRuleConfig",
    "BusinessHours",
    "ChecksConfig",
    "CrisisConfig",
    "CrisisWords",
    "Duration",
    "EscalationPolicy",
    "EscalationStep",
    "Feed",
    "HoldingStatement",
    "Language",
    "LocalizedText",
    "NegativeCues",
    "NotifyTarget",
    "OnCallConfig",
    "OnCallRotation",
    "Protocol",
    "PublishingConfig",
    "ReachThreshold",
    "RoutingRule",
    "SeverityPolicy",
    "SlaBySeverity",
    "SlaConfig",
    "SlaPolicy",
    "SlaTeamOverrides",
    "SpikeConfig",
    "Team",
    "TimeRange",
    "WeekHours",
    "format_duration",
]


# Longest reply each network accepts, in characters; None: no limit. A protocol's `networks` section is merged
# over these, so a company only writes the networks it wants to change or add.
DEFAULT_NETWORKS: dict[str, int | None] = {
    "x": 280,
    "bluesky": 300,
    "threads": 500,
    "mastodon": 500,
    "instagram": 2200,
    "linkedin": 3000,
    "facebook": 63206,
    "email": None,
    "other": None,
}


class LocalizedText(_Model):
    """A text shown in Slack: one plain text for both languages, or `{fr: ..., en: ...}`."""

    fr: ShortText | None = None
    en: ShortText | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_plain_text(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"fr": data, "en": data}
        if data is None:
            raise _error("empty")
        if not isinstance(data, (dict, LocalizedText)):
            raise _error("localized_text")
        return data

    @model_validator(mode="after")
    def _not_empty(self) -> LocalizedText:
        if self.fr is None and self.en is None:
            raise _error("localized_text_empty")
        return self

    def get(self, lang: str | None = None) -> str:
        """The text in `lang`, or in the other language when that one is missing."""
        preferred = self.en if lang == "en" else self.fr
        return preferred or self.fr or self.en or ""


class Team(_Model):
    name: LocalizedText
    channel: SlackChannelRef
    lead: SlackUserId | None = None
    experts: list[SlackUserId] = []


class RoutingRule(_Model):
    """Send mentions to `team` when they contain one of `keywords` or match one of `patterns`.

    `sources` and `languages`, when given, restrict the rule to those sources / languages; a rule with
    sources but no keywords nor patterns takes every mention from those sources.
    """

    team: str
    keywords: list[Term] = []
    patterns: list[Regex] = []
    sources: list[Annotated[ShortText, StringConstraints(to_lower=True)]] = []
    languages: list[Language] = []

    _compiled: tuple[re.Pattern[str], ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _needs_a_criterion(self) -> RoutingRule:
        if not (self.keywords or self.patterns or self.sources):
            raise _error("empty_rule")
        return self

    def model_post_init(self, context: Any, /) -> None:
        # Compiled once at load; Python caches too, but this keeps triage free of any compile step.
        self._compiled = tuple(re.compile(p, re.IGNORECASE) for p in self.patterns)

    @property
    def compiled_patterns(self) -> tuple[re.Pattern[str], ...]:
        return self._compiled


class ReachThreshold(_Model):
    at_least: int = Field(ge=0)
    severity: Severity


class NegativeCues(_Model):
    raise_by: int = Field(default=1, ge=0, le=3)
    words: list[Term] = []


class CrisisWords(_Model):
    severity: Severity = Severity.critical
    words: list[Term] = []


class SeverityPolicy(_Model):
    default: Severity = Severity.low
    reach: list[ReachThreshold] = []
    negative_cues: NegativeCues = NegativeCues()
    crisis_words: CrisisWords = CrisisWords()


class Feed(_Model):
    name: Slug
    url: WebUrl
    every_minutes: int = Field(default=10, ge=1, le=1440)
    team: str | None = None  # every item of this feed goes to this team, whatever its words
    language: Language | None = None  # the feed's language when it is known, instead of detecting it


class AlertsChannel(_Model):
    """A Slack channel where monitoring tools post their alerts: each message there becomes a mention."""

    channel: str  # an id (C0123ABCD): message events carry ids, not names
    tool: Slug | None = None  # the mentions' source; unset: the tool's name as the message gives it
    team: str | None = None  # every mention from this channel goes to this team, whatever its words
    # How the original message says it was relayed: a reaction (👀), a reply in its thread naming the team
    # channel with a link to the card, or both.
    mark: Literal["reaction", "reply", "both"] = "reaction"

    @field_validator("channel")
    @classmethod
    def _channel_id(cls, value: str) -> str:
        if not re.fullmatch(r"[CG][A-Z0-9]{2,31}", value):
            raise _error("alerts_channel_id")
        return value


class ApprovalRuleConfig(_Model):
    """Approvals a reply needs, beyond the community manager's (always required), for some teams / severities.

    Empty `teams` or `severities` mean "any": a rule with neither applies to every reply.
    """

    teams: list[str] = []
    severities: list[Severity] = []
    require: Annotated[list[Requirement], Field(min_length=1)]


class ChecksConfig(_Model):
    """Words the pre-publication checks look for in a draft reply."""

    company_words: list[Term] = []  # the company's own names and brands (e.g. to check their spelling)
    confidential_terms: list[Term] = []  # must never appear in a public reply
    allowed_contacts: list[Term] = []  # the company's own phone numbers and e-mails: never flagged in a reply
    # CSV of employees (a "name" column, optionally "email"), so a reply does not name a colleague.
    # A path relative to the protocol file's folder, or absolute.
    roster: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] | None = None
    # Countries whose national phone numbers ("0470 12 34 56" in Belgium) count as personal data in a reply;
    # international ones ("+32 ...") always do. ISO 3166 codes.
    phone_regions: list[Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True,
                                                         pattern=r"^[A-Za-z]{2}$")]] = ["FR"]


class PublishingConfig(_Model):
    """How an approved reply goes out: copied by hand (manual), or sent to the company's webhook.

    The webhook's signing secret is not here (this file is shared and versioned): it comes from the
    VIGIE_PUBLISH_WEBHOOK_SECRET setting.
    """

    mode: Literal["manual", "webhook"] = "manual"
    webhook_url: WebUrl | None = None


class HoldingStatement(_Model):
    """A pre-approved waiting reply ("we have seen your message, we will come back to you")."""

    key: Slug
    label: LocalizedText  # what the button or menu shows
    text: LocalizedText  # what is published


class IntakeConfig(_Model):
    # `vigie import` stores a mention published longer ago than this (e.g. 48h) as history: counted, grouped,
    # never relayed as a card nor open. Unset: every mention of a file is relayed (unless --history).
    history_after: Duration | None = None


class Protocol(_Model):
    version: Literal[1]
    language: Language = "fr"
    timezone: Annotated[str, AfterValidator(_timezone)] = "Europe/Paris"
    community_managers: Annotated[list[SlackUserId], Field(min_length=1)]
    decision_makers: list[SlackUserId] = []
    teams: dict[Slug, Team]
    default_team: str
    routing: list[RoutingRule] = []
    severity: SeverityPolicy = SeverityPolicy()
    feeds: list[Feed] = []
    alerts: list[AlertsChannel] = []
    approvals: list[ApprovalRuleConfig] = []
    # New or outsourced staff: their drafts need a second, independent approval, and their own approval
    # never counts alone.
    double_command: list[SlackUserId] = []
    checks: ChecksConfig = ChecksConfig()
    networks: dict[Slug, ReplyLength | None] = Field(default_factory=lambda: dict(DEFAULT_NETWORKS))
    publishing: PublishingConfig = PublishingConfig()
    holding_statements: list[HoldingStatement] = []
    business_hours: BusinessHours = BusinessHours()
    sla: SlaPolicy = SlaPolicy()
    escalation: EscalationPolicy = EscalationPolicy()
    oncall: OnCallConfig = OnCallConfig()
    crisis: CrisisConfig = CrisisConfig()
    digest: DigestConfig = DigestConfig()
    intake: IntakeConfig = IntakeConfig()

    # Read from checks.roster during validation (see _cross_checks); private, so the model stays frozen.
    _employee_names: tuple[str, ...] = PrivateAttr(default=())

    @field_validator("networks")
    @classmethod
    def _merge_default_networks(cls, networks: dict[str, int | None]) -> dict[str, int | None]:
        return {**DEFAULT_NETWORKS, **networks}

    @field_validator("teams")
    @classmethod
    def _some_team(cls, teams: dict[str, Team]) -> dict[str, Team]:
        if not teams:
            raise _error("no_team")
        return teams

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> Protocol:
        """Checks that span sections; each error points at the setting at fault.

        Every team named elsewhere must exist; names and keys must not repeat; the roster must be readable.
        `info.context["base_dir"]` is the folder a relative roster path starts from (default: the current one).
        """
        known = ", ".join(sorted(self.teams))
        errors: list[InitErrorDetails] = []

        def fail(loc: Loc, code: str, value: Any, key: str | None = None, /, **params: Any) -> None:
            errors.append(InitErrorDetails(type=_error(code, key, **params), loc=loc, input=value))

        def check(team: str | None, loc: tuple[str | int, ...]) -> None:
            if team is not None and team not in self.teams:
                fail(loc, "unknown_team", team, team=team, known=known)

        check(self.default_team, ("default_team",))
        for i, rule in enumerate(self.routing):
            check(rule.team, ("routing", i, "team"))
        seen: set[str] = set()
        for i, feed in enumerate(self.feeds):
            check(feed.team, ("feeds", i, "team"))
            if feed.name in seen:
                fail(("feeds", i, "name"), "duplicate_feed", feed.name)
            seen.add(feed.name)
        for i, alert in enumerate(self.alerts):
            check(alert.team, ("alerts", i, "team"))
            if any(other.channel == alert.channel for other in self.alerts[:i]):
                fail(("alerts", i, "channel"), "duplicate_alerts_channel", alert.channel)

        for i, approval in enumerate(self.approvals):
            for j, team in enumerate(approval.teams):
                check(team, ("approvals", i, "teams", j))
            for j, requirement in enumerate(approval.require):
                if requirement.startswith("team:"):
                    check(requirement.removeprefix("team:"), ("approvals", i, "require", j))
                elif requirement == "decision_maker" and not self.decision_makers:
                    # Otherwise every reply this rule covers would wait for an approval nobody can give.
                    fail(("approvals", i, "require", j), "no_decision_maker", requirement)

        if self.publishing.mode == "webhook" and self.publishing.webhook_url is None:
            fail(("publishing", "webhook_url"), "webhook_url_missing", None)

        keys: set[str] = set()
        for i, statement in enumerate(self.holding_statements):
            if statement.key in keys:
                fail(("holding_statements", i, "key"), "duplicate_holding_statement", statement.key)
            keys.add(statement.key)

        # Opening hours of a day: in order, and not overlapping (each range is checked on its own already).
        for day in DAYS:
            ranges: list[TimeRange] = getattr(self.business_hours.week, day)
            for j in range(1, len(ranges)):
                if ranges[j].start < ranges[j - 1].end:
                    fail(("business_hours", "week", day, j), "time_range_overlap", str(ranges[j]),
                         previous=str(ranges[j - 1]))

        for team in self.sla.teams:
            check(team, ("sla", "teams", team))

        # Written ladders only: the default one notifies no decision maker when there is none.
        for severity in self.escalation.model_fields_set:
            ladder: list[EscalationStep] = getattr(self.escalation, severity)
            seen_steps: dict[str, int] = {}
            for j, step in enumerate(ladder):
                loc: Loc = ("escalation", severity, j, "at")
                previous = ladder[j - 1] if j else None
                if step.key in seen_steps:
                    fail(loc, "duplicate_step", step.at, other=seen_steps[step.key] + 1)
                elif previous is not None and not _step_follows(previous, step):
                    fail(loc, "step_order", step.at, previous=previous.at)
                seen_steps.setdefault(step.key, j)
                for k, target in enumerate(step.notify):
                    if target in ("oncall_decision_maker", "decision_makers") and not self.decision_makers:
                        fail(("escalation", severity, j, "notify", k), "no_decision_maker", target,
                             "no_decision_maker_notify")

        for role in ("community_managers", "decision_makers"):
            rotation: OnCallRotation | None = getattr(self.oncall, role)
            listed = getattr(self, role)
            for j, person in enumerate(rotation.rotation if rotation else []):
                if person not in listed:
                    fail(("oncall", role, "rotation", j), "not_in_role", person, person=person, role=role)

        if "approvers" in self.crisis.model_fields_set:
            for j, requirement in enumerate(self.crisis.approvers):
                if requirement.startswith("team:"):
                    check(requirement.removeprefix("team:"), ("crisis", "approvers", j))
                elif requirement == "decision_maker" and not self.decision_makers:
                    fail(("crisis", "approvers", j), "no_decision_maker", requirement)
        if self.crisis.holding_statement is not None and self.crisis.holding_statement not in keys:
            # An empty `known` reads "none" in the error's language.
            fail(("crisis", "holding_statement"), "unknown_holding_statement", self.crisis.holding_statement,
                 key=self.crisis.holding_statement, known=", ".join(sorted(keys)))

        if self.checks.roster is not None:
            base_dir = Path((info.context or {}).get("base_dir") or ".")
            try:
                # An absolute roster path stays as it is; absolute() so messages say where Vigie looked.
                self._employee_names = _read_roster((base_dir / self.checks.roster).absolute())
            except PydanticCustomError as exc:
                errors.append(InitErrorDetails(type=exc, loc=("checks", "roster"), input=self.checks.roster))

        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    # --- conveniences -------------------------------------------------------------------------------------

    def team(self, key: str) -> Team:
        try:
            return self.teams[key]
        except KeyError:
            raise KeyError(f"no team {key!r} in the protocol (teams: {', '.join(self.teams)})") from None

    def holding_statement(self, key: str) -> HoldingStatement:
        for statement in self.holding_statements:
            if statement.key == key:
                return statement
        known = ", ".join(s.key for s in self.holding_statements) or "none"
        raise KeyError(f"no holding statement {key!r} in the protocol (holding statements: {known})")

    def required_approvals(self, team: str, severity: Severity, crisis: bool = False) -> tuple[str, ...]:
        """Every approval a reply for `team` at `severity` needs, the community manager's first.

        `crisis`: a crisis is declared, which adds crisis.approvers.
        """
        # The rule itself lives in the domain; this only hands it the protocol's approval settings.
        rules = [ApprovalRule(teams=frozenset(r.teams), severities=frozenset(r.severities), require=tuple(r.require))
                 for r in self.approvals]
        required = approvals_rule(team=team, severity=severity, rules=rules)
        if crisis:
            required += self.crisis_approvers
        return tuple(dict.fromkeys(required))

    @cached_property
    def people(self) -> People:
        """Who holds which role, for the workflow's rules (built once per loaded protocol)."""
        return People(
            community_managers=frozenset(self.community_managers),
            decision_makers=frozenset(self.decision_makers),
            team_leads={key: team.lead for key, team in self.teams.items()},
            team_members={key: frozenset([*([team.lead] if team.lead else []), *team.experts])
                          for key, team in self.teams.items()},
            double_command=frozenset(self.double_command),
        )

    @cached_property
    def calendar(self) -> BusinessCalendar:
        """The business hours as a calendar for the SLA rules (built once per loaded protocol)."""
        week = {day: [str(r) for r in getattr(self.business_hours.week, day)] for day in DAYS}
        hours = self.business_hours
        return BusinessCalendar.from_strings(self.timezone, week, hours.holidays, hours.public_holiday)

    def sla_for(self, team: str, severity: str) -> SlaConfig:
        """The deadlines for a mention of `team` at `severity`: the team's own, or else sla.defaults'."""
        key = Severity(severity).value
        override = self.sla.teams.get(team)
        own: SlaConfig | None = getattr(override, key) if override is not None else None
        return own or getattr(self.sla.defaults, key)

    def ladder_for(self, severity: str) -> tuple[EscalationStep, ...]:
        """The escalation steps for `severity`, in the order they fire (may be empty: no escalation)."""
        return tuple(getattr(self.escalation, Severity(severity).value))

    @property
    def crisis_approvers(self) -> tuple[str, ...]:
        """Approvals added during a crisis; the default "decision_maker" is dropped when nobody can give it."""
        approvers = self.crisis.approvers
        if "approvers" not in self.crisis.model_fields_set and not self.decision_makers:
            approvers = [a for a in approvers if a != "decision_maker"]
        return tuple(dict.fromkeys(approvers))

    @property
    def employee_names(self) -> tuple[str, ...]:
        """The names listed in checks.roster, once each, in file order (empty without a roster)."""
        return self._employee_names

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _read_roster(path: Path) -> tuple[str, ...]:
    """The names in the roster CSV; raise PydanticCustomError with a sentence for whoever maintains it."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: spreadsheets' "CSV UTF-8" starts with a BOM
    except FileNotFoundError:
        raise _error("roster_missing", path=str(path)) from None
    except UnicodeDecodeError:
        raise _error("roster_encoding", path=str(path)) from None
    except OSError as exc:
        raise _error("roster_unreadable", path=str(path), reason=exc.strerror or str(exc)) from None
    except ValueError as exc:  # a path no file system accepts ("embedded null byte"): found by fuzzing
        raise _error("roster_unreadable", path=repr(str(path)), reason=str(exc)) from None
    header = text.split("\n", 1)[0]
    # A spreadsheet set to French saves its CSV with ";" between columns.
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        columns = [c.strip().lower() for c in next(reader, [])]
        if "name" not in columns:
            raise _error("roster_no_name", path=str(path))
        column = columns.index("name")
        names: list[str] = []
        for row in reader:
            if not any(cell.strip() for cell in row):  # blank lines, or ";;" rows some spreadsheets add
                continue
            name = row[column].strip() if column < len(row) else ""
            if not name:
                raise _error("roster_empty_name", path=str(path), line=reader.line_num)
            names.append(name)
    except csv.Error as exc:
        raise _error("roster_csv", path=str(path), line=reader.line_num, reason=str(exc)) from None
    if not names:
        raise _error("roster_empty", path=str(path))
    return tuple(dict.fromkeys(names))
