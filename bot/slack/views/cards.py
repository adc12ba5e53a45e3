"""Pure Block Kit builders. They take plain data and a language and return Slack argument dicts.

Every piece of outside text goes through `bot.slack.text` here, and nowhere else needs to remember it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel import Locale
from babel.numbers import format_decimal

from bot.domain.workflow import CLOSED_STATES
from bot.i18n import catalogue, t
from bot.slack.ids import Action
from bot.slack.text import escape, excerpt, link, quote, slack_date

SEVERITY_EMOJI = {
    "low": ":white_circle:",
    "medium": ":large_yellow_circle:",
    "high": ":large_orange_circle:",
    "critical": ":red_circle:",
}
EXCERPT_CHARS = 900  # a card shows the start; the link leads to the whole post


def number(value: int, lang: str) -> str:
    return format_decimal(value, locale=lang)


def render_reason(reason: dict[str, Any], lang: str) -> str:
    params = {}
    for key, value in (reason.get("params") or {}).items():
        if key == "severity":
            value = t(f"severity.{value}", lang).lower()
        elif isinstance(value, list):
            value = ", ".join(t("quote", lang, text=escape(str(v))) for v in value)
        elif isinstance(value, int) and not isinstance(value, bool):
            value = number(value, lang)
        else:
            value = escape(str(value))
        params[key] = value
    try:
        return t(f"reason.{reason['code']}", lang, **params)
    except (KeyError, IndexError):
        # A reason stored by a newer version with other parameters: show its code rather than fail.
        return escape(str(reason.get("code")))


@dataclass(frozen=True)
class StoryView:
    """What a card shows of its story (the near-copies grouped under it)."""

    id: int
    size: int
    reach: int
    authors: tuple[str, ...]


def story_line(story: StoryView, lang: str) -> str:
    authors = ", ".join(excerpt(a, 60) for a in story.authors)
    if story.size > len(story.authors):
        authors = t("relay.story_more", lang, authors=authors, n=number(story.size - len(story.authors), lang))
    return t("relay.story", lang, n=number(story.size, lang), reach=number(story.reach, lang), authors=authors)


def relay_card(
    *,
    mention_id: int,
    team_name: str,
    source: str,
    author: str,
    text: str,
    url: str,
    published_at: datetime,
    severity: str,
    reach: int | None,
    language: str | None,
    language_detected: bool,
    reasons: list[dict[str, Any]],
    channel: str,
    lang: str,
    state: str = "open",
    owner: str | None = None,
    note: str | None = None,
    deadline: tuple[str, datetime, bool] | None = None,
    story: StoryView | None = None,
) -> dict[str, Any]:
    """The card a team sees in its channel for a mention: what it is, why it is here, where it stands,
    and the buttons that act on it (none once it is closed or has moved to another team). When near-copies
    were grouped under it, a line counts them, with a button that lists them in the thread."""
    sev = t(f"severity.{severity}", lang)
    header = t("relay.header", lang, emoji=SEVERITY_EMOJI.get(severity, ""), severity=sev, team=team_name)
    fields = [
        f"*{t('relay.source', lang)}*\n{escape(source)}",
        f"*{t('relay.author', lang)}*\n{excerpt(author, 200)}",
        f"*{t('relay.published', lang)}*\n{slack_date(published_at)}",
        f"*{t('relay.severity', lang)}*\n{sev}",
    ]
    if reach is not None:
        fields.append(f"*{t('relay.reach', lang)}*\n{number(reach, lang)}")
    if language:
        key = "relay.language_detected" if language_detected else "relay.language_given"
        fields.append(f"*{t('relay.language', lang)}*\n{t(key, lang, language=escape(language))}")
    why = " · ".join(render_reason(r, lang) for r in reasons if not r["code"].startswith("lang."))
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{header}*"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": quote(text, EXCERPT_CHARS)}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": t("relay.why", lang, reasons=why)[:3000]},
                {"type": "mrkdwn", "text": t("relay.link", lang, link=link(url), id=mention_id)[:3000]},
            ],
        },
    ]
    if story is not None:
        blocks.append({
            "type": "section",
            "block_id": f"story:{story.id}",
            "text": {"type": "mrkdwn", "text": story_line(story, lang)[:3000]},
            "accessory": _button(Action.story_members, t("relay.story_members", lang), story.id),
        })
    status = t(f"state.{state}", lang)
    if owner:
        status = t("relay.state_owner", lang, state=status, owner=f"<@{owner}>")
    if note:
        status += f" · {note}"
    elif deadline is not None and state not in CLOSED_STATES:
        stage, due, late = deadline
        key = "relay.late" if late else "relay.due"
        status += " · " + t(key, lang, stage=t(f"stage.{stage}", lang), deadline=slack_date(due))
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f":pushpin: {status}"[:3000]}]})
    if state not in CLOSED_STATES and not note:
        blocks.append({
            "type": "actions",
            "block_id": f"mention:{mention_id}",
            "elements": [
                _button(Action.claim, t("relay.claim", lang), mention_id, style="primary"),
                _button(Action.draft, t("relay.draft", lang), mention_id),
                _button(Action.reroute, t("relay.reroute", lang), mention_id),
                _button(Action.dismiss, t("relay.dismiss", lang), mention_id, style="danger"),
                {
                    "type": "overflow",
                    "action_id": Action.more.value,
                    "options": [
                        _option(t("relay.assign", lang), f"assign:{mention_id}"),
                        _option(t("relay.holding", lang), f"holding:{mention_id}"),
                    ],
                },
            ],
        })
    fallback = t("relay.fallback", lang, severity=sev, team=team_name, excerpt=excerpt(text, 150))
    if story is not None:
        fallback += " · " + t("relay.story_fallback", lang, n=number(story.size, lang))
    return {
        "channel": channel,
        "text": fallback,
        "blocks": blocks,
        # Unfurling would fetch the outside page from Slack's servers and show its preview: not ours to show.
        "unfurl_links": False,
        "unfurl_media": False,
    }




def _option(label: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": label[:75], "emoji": True}, "value": value[:150]}


def _button(action: Action, label: str, mention_id: int, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action.value,
        "text": {"type": "plain_text", "text": label[:75], "emoji": True},
        # The value is only a hint: handlers re-check the mention and the user's rights on the server.
        "value": str(mention_id),
    }
    if style:
        button["style"] = style
    return button


def notice(*, channel: str, text: str) -> dict[str, Any]:
    """A plain bot notice (text is ours, already translated; outside parts must be escaped by the caller)."""
    return {"channel": channel, "text": text, "unfurl_links": False, "unfurl_media": False}


# --- the draft card (in the mention's thread) --------------------------------------------------------

DECISION_EMOJI = {"approve": ":white_check_mark:", "request_changes": ":pencil2:", "reject": ":no_entry:"}
MAX_FINDINGS_SHOWN = 12


def render_finding(finding: dict[str, Any], lang: str) -> str:
    params = {k: escape(str(v)) for k, v in (finding.get("params") or {}).items()}
    suggestions = finding.get("suggestions") or []
    hint = t("finding.suggest", lang, words=", ".join(escape(w) for w in suggestions[:5])) if suggestions else ""
    text = escape(str(finding.get("text", "")))[:200]
    if finding.get("code") == "label_not_public" and f"label.{text}" in catalogue("en"):
        text = t(f"label.{text}", lang)  # « confidentiel », not the protocol's word « confidential »
    try:
        return t(f"finding.{finding['code']}", lang, text=text, hint=hint, **params)
    except (KeyError, IndexError):
        return escape(str(finding.get("code")))


def plural(key: str, n: int, lang: str, **params: Any) -> str:
    """`key.one` or `key.other` by the language's plural rule (French: 0 and 1 are singular)."""
    form = "one" if Locale.parse(lang).plural_form(n) == "one" else "other"
    return t(f"{key}.{form}", lang, n=number(n, lang), **params)


def finding_line(finding: dict[str, Any], lang: str, fallback: Sequence[tuple[str, str]] = ()) -> str:
    """A finding, and for an overridden one each "overridden by @X: reason". `fallback`: the (user, reason) of
    the draft's override decisions, for findings stored before each finding kept its own overrides."""
    line = render_finding(finding, lang)
    if not finding.get("overridden"):
        return line
    overrides = [(o.get("user", ""), o.get("reason") or "") for o in finding.get("overrides") or []] or fallback
    marks = [t("finding.overridden_by", lang, user=f"<@{user}>", reason=escape(reason)) for user, reason in overrides]
    return " · ".join([line, *marks]) if marks else " · ".join([line, t("finding.overridden", lang)])


def draft_card(
    *,
    draft_id: int,
    version: int,
    kind: str,
    author: str,
    text: str,
    network: str,
    language: str,
    label: str,
    state: str,
    findings: list[dict[str, Any]],
    decisions: list[dict[str, Any]],
    required: list[tuple[str, bool]],
    publish_mode: str,
    public_url: str | None,
    lang: str,
) -> list[dict[str, Any]]:
    """What the thread shows of one draft version: the text, the checks, who decided what, what is awaited."""
    title_key = "draft.title_holding" if kind == "holding" else "draft.title"
    title = t(title_key, lang, version=version, author=f"<@{author}>", network=escape(network),
              language=escape(language), label=t(f"label.{label}", lang))
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*"[:3000]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": quote(text, 2900)}},
    ]
    if findings:
        # Every finding stays listed after an override, marked with who overrode it and why: the next
        # approver reads what is still in the text. "Nothing to report" only when there is nothing.
        fallback = [(d["user"], d["override_reason"]) for d in decisions if d.get("override_reason")]
        lines = [f"• {finding_line(f, lang, fallback)}" for f in findings[:MAX_FINDINGS_SHOWN]]
        if len(findings) > MAX_FINDINGS_SHOWN:
            lines.append(t("draft.more_findings", lang, count=len(findings) - MAX_FINDINGS_SHOWN))
        still_open = sum(1 for f in findings if not f.get("overridden"))
        head = t("draft.checks_failed", lang, count=still_open) if still_open else \
            plural("draft.checks_overridden", len(findings), lang)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": (head + "\n" + "\n".join(lines))[:3000]}})
    else:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": t("draft.checks_ok", lang)}]})
    if required:
        marks = ", ".join(f"{name} {':white_check_mark:' if done else ':hourglass_flowing_sand:'}"
                          for name, done in required)
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": t("draft.required", lang, requirements=marks)[:3000]}]})
    for d in decisions[-10:]:
        words = t(f"decision.{d['kind']}", lang, user=f"<@{d['user']}>")
        if d.get("comment"):
            words = t("decision.with_comment", lang, text=words, comment=escape(d["comment"]))
        if d.get("override_reason"):
            words += " " + t("decision.override", lang, reason=escape(d["override_reason"]))
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"{DECISION_EMOJI.get(d['kind'], '')} {words}"[:3000]}]})
    status = t(f"draft_state.{state}", lang)
    if state == "published" and public_url:
        status += " · " + link(public_url)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f":pushpin: {status}"[:3000]}]})
    buttons: list[dict[str, Any]] = []
    if state == "pending":
        buttons = [
            _button(Action.approve, t("draft.approve", lang), draft_id, style="primary"),
            _button(Action.request_changes, t("draft.request_changes", lang), draft_id),
            _button(Action.reject, t("draft.reject", lang), draft_id, style="danger"),
        ]
    if state in ("pending", "changes_requested", "rejected", "approved") and kind == "reply":
        buttons.append(_button(Action.edit, t("draft.edit", lang), draft_id))
    if state == "approved" and publish_mode == "manual":
        buttons.insert(0, _button(Action.publish, t("draft.publish", lang), draft_id, style="primary"))
    if buttons:
        blocks.append({"type": "actions", "block_id": f"draft:{draft_id}", "elements": buttons})
    return blocks
