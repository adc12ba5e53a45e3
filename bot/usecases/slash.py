"""The `/vigie` command: each subcommand answers from stored state, in the asker's language.

Slash commands do not run inside threads, so this works in channels and DMs. Answers go back in the ack
itself (no Web API call, so it also works in a DM the bot is not part of), ephemeral unless sharing makes
sense (a declared crisis is announced in the crisis channel through the outbox).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.domain import access
from bot.domain import oncall as oncall_rules
from bot.domain import workflow as wf
from bot.i18n import t
from bot.slack.command_parser import Parsed, ParseError, help_lines, parse
from bot.slack.ids import CONVERSATION_ID
from bot.slack.text import escape, slack_date
from bot.slack.views import cards as blocks
from bot.slack.views.answers import no_role_text
from bot.slack.views.digest import duration_words, mention_ref
from bot.store import dictionary as dictionary_store
from bot.store import queries as q
from bot.store.db import session_scope
from bot.store.models import AuditEvent, Mention, OncallOverride
from bot.store.queries import team_filter
from bot.usecases.crisis import CrisisDesk
from bot.usecases.digests import DigestDesk
from bot.usecases.escalation import Escalation
from bot.usecases.response import Target, Workflow

MAX_LISTED = 20
MAX_WORDS_SHOWN = 100  # of the company dictionary, in `/vigie protocole`
MAX_FEED_WARNINGS_SHOWN = 5  # per feed, in `/vigie protocole` (`vigie feed status` lists every one kept)
# Subcommands that show mentions: each shows only what `bot.domain.access` lets the asker see, and a person with
# no role in the protocol gets one sentence saying so (and whom to ask) instead.
READS = frozenset({"status", "list", "mine", "show", "digest"})


@dataclass(frozen=True)
class Answer:
    text: str
    in_channel: bool = False
    blocks: list[dict[str, Any]] | None = None
    # Work that must wait until Slack has its answer (it calls Slack, e.g. creating the crisis channel).
    after: Callable[[], Any] | None = None


def channel_mention(channel: str | None) -> str:
    """A channel as Slack shows it to the reader: `<#C…>` renders as its current name (an ID written in the
    protocol); a name written in the protocol ("#veille-finance") is shown as written."""
    if channel and CONVERSATION_ID.fullmatch(channel):
        return f"<#{channel}>"
    return escape(channel or "—")


def duration_text(delta: timedelta, lang: str) -> str:
    return duration_words(abs(delta), lang)


class SlashCommands:
    def __init__(self, workflow: Workflow, escalation: Escalation, crisis: CrisisDesk, digests: DigestDesk):
        self.w = workflow
        self.digests = digests
        self.esc = escalation
        self.crisis = crisis
        self.vigie = workflow.vigie
        self.protocol = workflow.protocol

    def run(self, *, text: str, user: str, channel: str) -> Answer:
        lang = self.w.lang_of(user)
        parsed = parse(text, lang)
        if isinstance(parsed, ParseError):  # one hint to the help, added here (the error sentences have none)
            return Answer(t(parsed.key, lang, **parsed.params) + "\n" + t("cmd.see_help", lang))
        if parsed.command in READS and not self.sight(user).has_role:
            return Answer(no_role_text(self.protocol, lang))
        handler = getattr(self, f"_{parsed.command}")
        return handler(parsed, user=user, channel=channel, lang=lang)

    def sight(self, user: str) -> access.Sight:
        """What `user` may read, from the protocol as loaded (never from anything in the request)."""
        return access.sight_of(user, people=self.w.people)

    # --- reading --------------------------------------------------------------------------------

    def _help(self, parsed: Parsed, *, user: str, channel: str, lang: str) -> Answer:
        lines = [f"• `/vigie {usage}` — {t(key, lang)}" for usage, key in help_lines(lang)]
        return Answer(t("cmd.help.title", lang) + "\n" + "\n".join(lines))

    def _line(self, m: Mention, now: datetime, lang: str, left: tuple[str, timedelta] | None | bool = False) -> str:
        if left is False:  # not computed by the caller
            left = self.esc.time_left(m, now)
        due = ""
        if left is not None:
            stage, delta = left
            key = "cmd.due.left" if delta.total_seconds() >= 0 else "cmd.due.late"
            due = " · " + t(key, lang, stage=t(f"stage.{stage}", lang), time=duration_text(delta, lang))
        owner = f" · <@{m.owner}>" if m.owner else ""
        team = self.protocol.team(m.team).name.get(lang)
        return (f"• {mention_ref(m.id, m.channel, m.relay_ts, lang)} · {blocks.SEVERITY_EMOJI.get(m.severity, '')} "
                f"{escape(team)} · "
                f"{t(f'state.{m.state}', lang)}{owner}{due} — {blocks.excerpt(m.text, 80)}")

    def _open_mentions(self, s: Session, sight: access.Sight, **where: Any) -> list[Mention]:
        """Open mentions of the teams `sight` sees (and matching `where`), the oldest first."""
        return q.open_mentions(s, teams=[*team_filter(sight), *(getattr(Mention, f) == v for f, v in where.items())])

    def _status(self, parsed: Parsed, *, user: str, channel: str, lang: str) -> Answer:
        now = self.vigie.clock.now()
        sight = self.sight(user)
        with Session(self.vigie.engine) as s:
            rows = list(q.open_counts_by_team(s, teams=team_filter(sight)).items())
            crisis = q.active_crisis(s)
            mentions = self._open_mentions(s, sight)
        if not rows:
            return Answer(t("cmd.status.none", lang))
        lines = [t("cmd.status.team", lang, team=self.protocol.team(team).name.get(lang), count=n) for team, n in rows]
        # The deadline of each open mention once, and the crisis flag once: this answer is on the ack's path.
        lefts = [(m, left) for m in mentions if (left := self.esc.time_left(m, now, crisis=crisis is not None))]
        urgent = sorted(lefts, key=lambda pair: pair[1][1])[:5]
        text = t("cmd.status.title", lang) + "\n" + "\n".join(lines)
        if urgent:
            text += "\n" + t("cmd.status.next", lang) + "\n" + "\n".join(self._line(m, now, lang, left)
                                                                          for m, left in urgent)
        if crisis:
            text = t("cmd.crisis.banner", lang) + "\n" + text
        return Answer(text)

    def _list(self, parsed: Parsed, *, user: str, channel: str, lang: str) -> Answer:
        now = self.vigie.clock.now()
        with Session(self.vigie.engine) as s:
            mentions = self._open_mentions(s, self.sight(user))
        if not mentions:
            return Answer(t("cmd.status.none", lang))
        lines = [self._line(m, now, lang) for m in mentions[:MAX_LISTED]]
        if len(mentions) > MAX_LISTED:
            lines.append(t("draft.more_findings", lang, count=len(mentions) - MAX_LISTED))
        return Answer("\n".join(lines))

    def _mine(self, parsed: Parsed, *, user: str, channel: str, lang: str) -> Answer:
        now = self.vigie.clock.now()
        sight = self.sight(user)
        with Session(self.vigie.engine) as s:
            owned = self._open_mentions(s, sight, owner=user)
            pending = q.pending_drafts(s)
            approved_by_me = q.drafts_decided_by(s, user=user)
        waiting = []
        for draft, mention in pending:
            if draft.author == user or draft.id in approved_by_me:
                continue
            required = self._reviewing(mention)
            roles = wf.roles_of(user, team=mention.team, people=self.w.people)
            # A reviewer the draft needs may see its mention (access.Sight.mention); checked anyway, as for any read.
            if set(roles) & set(required) and sight.mention(mention.team, required):
                waiting.append(f"• {mention_ref(mention.id, mention.channel, mention.relay_ts, lang)} · "
                               f"v{draft.version} · <@{draft.author}>")
        text = t("cmd.mine.owned", lang, count=len(owned)) + "\n" + "\n".join(self._line(m, now, lang) for m in owned)
        text += "\n" + t("cmd.mine.approvals", lang, count=len(waiting)) + ("\n" + "\n".join(waiting) if waiting else "")
        return Answer(text)

    def _show(self, parsed: Parsed, *, user: str, channel: str, lang: str) -> Answer:
        now = self.vigie.clock.now()
        with Session(self.vigie.engine) as s:
            m = s.get(Mention, parsed.args["mention_id"])
            drafts = q.drafts_of(s, mention_id=parsed.args["mention_id"]) if m else []
        # A mention the asker may not see is answered exactly like one that does not exist: no hint it is there.
        if m is None or not self.sight(user).mention(m.team, self._reviewing(m)):
            return Answer(t("refusal.unknown_mention", lang))
        why = " · ".join(blocks.render_reason(r, lang) for r in m.reasons if not r["code"].startswith("lang."))
        text = "\n".join([
            self._line(m, now, lang),
            f"{blocks.names.network_name(m.source, lang)} · {blocks.excerpt(m.author, 100)} · {blocks.link(m.url)}",
            t("relay.why", lang, reasons=why),
            t("cmd.show.drafts", lang, count=len(drafts)),
        ])
        return Answer(text)

    def _reviewing(self, m: Mention) -> tuple[str, ...]:
        """The approvals the mention's draft in review needs (access.Sight.mention); none when not in review."""
        return self.w.required_for(m) if m.state == wf.MentionState.in_review.value else ()

    def _protocol(self, parsed: Parsed, *, user: str, channel: str, lang: str) -> Answer:
        wanted = parsed.args.get("category")
        teams = {k: v for k, v in self.protocol.teams.items() if not wanted or k == wanted.lower()
                 or v.name.get(lang).casefold() == wanted.casefold()}
        if not teams:
            return Answer(t("cmd.protocol.unknown", lang, category=escape(wanted or ""),
                            known=", ".join(escape(v.name.get(lang)) for v in self.protocol.teams.values())))
        lines = []
        now = self.vigie.clock.now()
        for key, team in teams.items():
            people = ", ".join(f"<@{u}>" for u in ([team.lead] if team.lead else []) + list(team.experts)) or "—"
            channel_name = t("cmd.protocol.channel", lang, channel=channel_mention(team.channel))
            lines.append(f"*{escape(team.name.get(lang))}* ({channel_name}) — {t('cmd.protocol.people', lang)} {people}")
            for severity in ("low", "medium", "high", "critical"):
                cfg = self.protocol.sla_for(key, severity)
                required = ", ".join(self.w.requirement_name(r, lang)
                                     for r in self.protocol.required_approvals(key, severity))
                word = t(f"severity.{severity}", lang)
                lines.append("   " + t("cmd.protocol.sla", lang, severity=word[:1].upper() + word[1:],
                                        first=duration_text(cfg.first_response, lang),
                                        approved=duration_text(cfg.approved, lang),
                                        published=duration_text(cfg.published, lang), approvers=required,
                                        hours=t("cmd.protocol.24_7" if cfg.round_the_clock else
                                                "cmd.protocol.business", lang)))
        oncall_cm = ", ".join(f"<@{u}>" for u in self.esc.on_call("community_managers", now))
        oncall_dm = ", ".join(f"<@{u}>" for u in self.esc.on_call("decision_makers", now)) or "—"
        lines.append(t("cmd.oncall.who", lang, cm=oncall_cm, dm=oncall_dm))
        if self.sight(user).has_role:  # the company dictionary (issue 13): for the people the protocol names
            with Session(self.vigie.engine) as s:
                listed = [w.shown for w in dictionary_store.words(s)]
            shown = ", ".join(escape(w) for w in listed[:MAX_WORDS_SHOWN]) + (" …" if len(listed) > MAX_WORDS_SHOWN else "")
            lines.append(t("cmd.protocol.dictionary", lang, count=len(listed), words=shown or "—"))
            lines += self._feed_lines(lang)
        return Answer("\n".join(lines))

    def _feed_lines(self, lang: str) -> list[str]:
        """Each feed of the protocol as the last polls left it (`vigie feed status` in Slack): healthy or failing,
        when it was last read, and the last reading's warnings (entries kept undated...), so the people the
        protocol names see in Slack that a feed's mentions are incomplete. What a feed wrote is escaped."""
        statuses = self.vigie.feed_statuses()
        if not statuses:
            return []
        lines = [t("cmd.protocol.feeds", lang, count=len(statuses))]
        for feed in statuses:
            name = escape(feed.name)
            if feed.last_polled_at is None:
                lines.append("   " + t("cmd.protocol.feed.never", lang, name=name))
                continue
            when = slack_date(feed.last_polled_at)
            if feed.consecutive_failures:
                lines.append("   " + t("cmd.protocol.feed.failing", lang, name=name, count=feed.consecutive_failures,
                                       when=when, error=blocks.excerpt(feed.last_error or "", 200)))
            else:
                lines.append("   " + t("cmd.protocol.feed.ok", lang, name=name, when=when))
            for warning in feed.warnings[:MAX_FEED_WARNINGS_SHOWN]:
                lines.append("      " + t("cmd.protocol.feed.warning", lang,
                                          warning=blocks.excerpt(warning.message(lang), 300)))
            if len(feed.warnings) > MAX_FEED_WARNINGS_SHOWN:
                lines.append("      " + t("cmd.protocol.feed.more", lang,
                                          count=len(feed.warnings) - MAX_FEED_WARNINGS_SHOWN))
        return lines

    # --- acting ---------------------------------------------------------------------------------

    def _hidden(self, mention_id: int, user: str) -> bool:
        """A typed id of a mention this person may not see is answered as an unknown id: a refusal naming
        their role would tell them it exists."""
        with Session(self.vigie.engine) as s:
            m = s.get(Mention, mention_id)
        return m is not None and not self.sight(user).mention(m.team, self._reviewing(m))

    def _assign(self, parsed: Parsed, *, user: str, channel: str, lang: str) -> Answer:
        if self._hidden(parsed.args["mention_id"], user):
            self.w.record_refusal(user, "assign", Target(mention=parsed.args["mention_id"]), "hidden")
            return Answer(t("refusal.unknown_mention", lang))
        outcome = self.w.assign(mention_id=parsed.args["mention_id"], actor=user, assignee=parsed.args["user"])
        return Answer(outcome.message or "")

    def _escalate(self, parsed: Parsed, *, user: str, channel: str, lang: str) -> Answer:
        mention_id = parsed.args["mention_id"]
        if self._hidden(mention_id, user):
            self.w.record_refusal(user, "escalate", Target(mention=mention_id), "hidden")
            return Answer(t("refusal.unknown_mention", lang))
        done = self.esc.escalate_now(mention_id=mention_id, by=user, reason=parsed.args.get("reason"))
        if done.refusal is not None:
            return self.w_refusal(user, done.refusal)
        if done.already:
            return Answer(t("cmd.escalate.already", lang, id=mention_id))
        return Answer(t("cmd.escalate.done", lang, id=mention_id, users=" ".join(f"<@{u}>" for u in done.told)))

    def w_refusal(self, user: str, reason: str) -> Answer:
        return Answer(self.w.refusal(user, reason).message or "")

    def _oncall(self, parsed: Parsed, *, user: str, channel: str, lang: str) -> Answer:
        action = parsed.args.get("action", "who")
        now = self.vigie.clock.now()
        if action == "who":
            cm = ", ".join(f"<@{u}>" for u in self.esc.on_call("community_managers", now))
            dm = ", ".join(f"<@{u}>" for u in self.esc.on_call("decision_makers", now)) or "—"
            return Answer(t("cmd.oncall.who", lang, cm=cm, dm=dm))
        role = access.oncall_role_of(user, people=self.protocol.people)
        if role is None:
            self.w.record_refusal(user, f"oncall.{action}", Target(), "not_cm")
            return self.w_refusal(user, "not_cm")
        if action == "take":
            if parsed.args.get("period", "weekend") == "weekend":
                start, end = oncall_rules.weekend_of(now, self.protocol.tz)
            else:
                # From this minute: the same request sent twice (a double submission) is the same override.
                start = now.replace(second=0, microsecond=0)
                end = start + timedelta(days=7)
            target = user
        else:  # swap: the other person takes my current on-call until the next handover
            target = parsed.args["user"]
            if user not in self.esc.on_call(role, now):
                return Answer(t("cmd.oncall.not_on_call", lang))
            if not access.may_take_oncall(target, role=role, people=self.protocol.people):
                return Answer(t("cmd.oncall.not_eligible", lang, user=f"<@{target}>"))
            start, end = now, self.esc.next_handover(role, now)
        try:
            with session_scope(self.vigie.engine) as s:
                s.add(OncallOverride(role=role, user=target, start=start, end=end, created_at=now, created_by=user))
                s.flush()  # the same override twice (a double-sent command) is recorded once
                s.add(AuditEvent(at=now, actor=user, action=f"oncall.{action}", mention_id=None, before=None,
                                 after={"role": role, "user": target, "start": start.isoformat(),
                                        "end": end.isoformat()}))
        except IntegrityError:
            pass  # already recorded by the first of two identical requests: the answer is the same
        until = slack_date(end)
        return Answer(t("cmd.oncall.taken", lang, user=f"<@{target}>", until=until))

    def _crisis(self, parsed: Parsed, *, user: str, channel: str, lang: str) -> Answer:
        action = parsed.args.get("action", "status")
        if action == "status":
            with Session(self.vigie.engine) as s:
                crisis = q.active_crisis(s)
            if crisis is None:
                return Answer(t("cmd.crisis.none", lang))
            return Answer(t("cmd.crisis.active", lang, since=slack_date(crisis.declared_at),
                            by=f"<@{crisis.declared_by}>", channel=channel_mention(crisis.channel)))
        if action == "declare":
            declared = self.crisis.declare(by=user, reason=parsed.args.get("reason"), lang=lang)
            crisis_id = declared.crisis_id
            return Answer(declared.text, after=None if crisis_id is None else
                          lambda: self.crisis.open_room(crisis_id, lang=lang))
        return Answer(self.crisis.end(by=user, summary=parsed.args.get("summary"), lang=lang))

    def _digest(self, parsed: Parsed, *, user: str, channel: str, lang: str) -> Answer:
        """A preview of yesterday's digest (or the past week's summary), for the asker only: the company's for a
        community manager or a decision maker, else their (first) team's (`run` answered those with no role)."""
        sight = self.sight(user)
        team = sight.home_team(self.protocol.teams)
        if team is None and not sight.all_teams:  # never the company's digest by default
            return Answer(no_role_text(self.protocol, lang))
        yesterday = self.vigie.clock.now().astimezone(self.protocol.tz).date() - timedelta(days=1)
        text, digest_blocks = self.digests.build(team=team, day=yesterday, lang=lang,
                                                 weekly=parsed.args.get("period") == "week")
        return Answer(text, blocks=digest_blocks)
