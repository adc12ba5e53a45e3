"""Pure Block Kit builders. They take plain data and a language and return Slack argument dicts.

Every piece of outside text goes through `bot.slack.text` here, and nowhere else needs to remember it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from babel import Locale
from babel.numbers import format_decimal

from bot.domain import workflow as wf
from bot.domain.workflow import CLOSED_STATES
from bot.i18n import t
from bot.slack.ids import Action
from bot.slack.text import escape, excerpt, link, quote, safe_url, slack_date
from bot.slack.views import names

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
        elif key == "source":
            value = names.network_name(str(value), lang)
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


@dataclass(frozen=True)
class Closure:
    """Who closed a mention and why, as its card says it: `kind` "dismissed" (with the reason given) or
    "published" (with the public link of the reply, when known)."""

    kind: str
    by: str | None = None
    reason: str | None = None
    url: str | None = None


# The actions a relay card may carry, in the order they are shown. Each is shown only when the mention's
# state allows it (bot.domain.workflow.state_allows); who may press it is checked on the click.
_CARD_BUTTONS: tuple[tuple[Action, wf.Action, str], ...] = (
    (Action.claim, wf.Action.claim, "relay.claim"),
    (Action.draft, wf.Action.submit_draft, "relay.draft"),
    (Action.reroute, wf.Action.reroute, "relay.reroute"),
    (Action.dismiss, wf.Action.dismiss, "relay.dismiss"),
)
# A reply being reviewed or approved is edited from its draft card in the thread (« Modifier »): the relay
# card offers "write a reply" only while there is none.
_DRAFT_FROM_CARD = frozenset({wf.MentionState.open.value, wf.MentionState.claimed.value})
POST_URL_MAX = 3000  # Slack's limit for a button's url


def card_actions(state: str, owner: str | None, *, moved: bool = False) -> tuple[list[Action], list[str]]:
    """The buttons and the overflow entries ("assign", "holding") a relay card shows in this state."""
    if moved or state in CLOSED_STATES:
        return [], []
    buttons = [action for action, rule, _ in _CARD_BUTTONS if wf.state_allows(rule, state, owner)
               and (action is not Action.draft or state in _DRAFT_FROM_CARD)]
    more = [name for name, rule in (("assign", wf.Action.assign), ("holding", wf.Action.holding_statement))
            if wf.state_allows(rule, state, owner)]
    return buttons, more


def post_url(url: str) -> str | None:
    """The URL a « Voir le post » button may carry: http(s), within Slack's 3,000 characters; else None."""
    safe = safe_url(url) if url else None
    return safe if safe is not None and len(safe) <= POST_URL_MAX else None


def severity_reason(severity: str, reasons: list[dict[str, Any]], lang: str) -> str:
    """One short human reason for the severity: the last rule that set it (a storm, crisis words, a wide
    audience...), in words, not the derivation."""
    found = [r for r in reasons if str(r.get("code", "")).startswith("severity.")]
    chosen = [r for r in found if (r.get("params") or {}).get("severity") == severity] or found
    if not chosen:
        return ""
    reason = chosen[-1]
    params = reason.get("params") or {}
    code = str(reason["code"]).split(".", 1)[1]
    words = ", ".join(t("quote", lang, text=escape(str(w))) for w in (params.get("words") or [])[:3])
    try:
        return t(f"card.why_severity.{code}", lang, words=words, reach=number(int(params.get("reach") or 0), lang),
                 copies=number(int(params.get("copies") or 0), lang),
                 source=names.network_name(str(params.get("source") or ""), lang))
    except (KeyError, ValueError, TypeError):
        return ""


def route_reason(reasons: list[dict[str, Any]], lang: str) -> str:
    """Why the mention is in this channel, in one short sentence: a reroute if any, else the first rule."""
    routes = [r for r in reasons if str(r.get("code", "")).startswith("route.")]
    if not routes:
        return ""
    rerouted = [r for r in routes if r["code"] == "route.rerouted"]
    reason = rerouted[-1] if rerouted else routes[0]
    params = reason.get("params") or {}
    code = str(reason["code"]).split(".", 1)[1]
    keywords = [*(params.get("keywords") or [])][:3]
    try:
        return t(f"card.why_route.{code}", lang,
                 keywords=", ".join(t("quote", lang, text=escape(str(k))) for k in keywords),
                 source=names.network_name(str(params.get("source", "")), lang),
                 team=escape(str(params.get("team", ""))))
    except (KeyError, IndexError):
        return ""


def _title(state: str, *, moved: bool, severity: str, team_name: str, lang: str) -> tuple[str, str]:
    """The card's emoji and its title in words: what state the mention is in, and for which team."""
    if moved:
        return ":arrow_right:", t("card.title.moved", lang)
    emoji = {"published": ":white_check_mark:", "dismissed": ":heavy_minus_sign:"}.get(
        state, SEVERITY_EMOJI.get(severity, ""))
    key = state if state in ("open", "claimed", "in_review", "ready", "published", "dismissed") else "other"
    return emoji, t(f"card.title.{key}", lang, team=team_name)


def _closed_status(state: str, closure: Closure | None, lang: str) -> str:
    if closure is None or closure.by is None:
        return t(f"state.{state}", lang)
    by = t("card.by_publisher", lang) if closure.by == "webhook" else f"<@{closure.by}>"
    if closure.kind == "dismissed":
        return t("card.closed.dismissed", lang, user=by, reason=excerpt(closure.reason or "—", 500))
    text = t("card.closed.published", lang, user=by)
    if closure.url and safe_url(closure.url):
        text += " · " + link(closure.url)  # labelled with its real host, as every link the bot shows
    return text


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
    closure: Closure | None = None,
    published_unknown: bool = False,
) -> dict[str, Any]:
    """The card a team sees in its channel for a mention: its state in the title, the post, why it is here,
    where it stands, and only the buttons its state allows (none but « Voir le post » once it is closed or
    has moved to another team: `note` says where it went). When near-copies were grouped under it, a line
    counts them, with a button that lists them in the thread. A mention whose publication date could not be read
    (`published_unknown`: `published_at` then holds its arrival) says so, never passing that time off as its date."""
    moved = bool(note)
    sev_word = t(f"severity.{severity}", lang).lower()
    emoji, title = _title(state, moved=moved, severity=severity, team_name=team_name, lang=lang)
    why_sev = severity_reason(severity, reasons, lang)
    fields = [
        f"*{t('relay.source', lang)}*\n{names.network_name(source, lang)}",
        f"*{t('relay.author', lang)}*\n{excerpt(author, 200)}",
        f"*{t('relay.published', lang)}*\n" + (t("relay.published_unknown", lang, received=slack_date(published_at))
                                                if published_unknown else slack_date(published_at)),
        f"*{t('relay.severity', lang)}*\n" + (t("card.severity", lang, severity=sev_word, reason=why_sev)
                                              if why_sev else sev_word),
    ]
    if reach is not None:
        fields.append(f"*{t('relay.reach', lang)}*\n{number(reach, lang)}")
    if language:
        key = "card.language_detected" if language_detected else "relay.language_given"
        fields.append(f"*{t('relay.language', lang)}*\n{t(key, lang, language=names.language_name(language, lang))}")
    button_url = post_url(url)
    where = t("card.mention_id", lang, id=mention_id)
    if button_url is None and url:
        where = link(url) + " · " + where  # not a URL a button may carry: shown as text, as the tool gave it
    elif button_url is not None:
        # The button's label is ours: the real host beside it, so a post never poses as another site.
        where = escape(urlsplit(button_url).hostname or "") + " · " + where
    why = route_reason(reasons, lang)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{emoji} *{title}*"[:3000]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": quote(text, EXCERPT_CHARS)}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f[:2000]} for f in fields]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": (f":mag: {why} · {where}" if why else where)[:3000]}]},
    ]
    if story is not None:
        blocks.append({
            "type": "section",
            "block_id": f"story:{story.id}",
            "text": {"type": "mrkdwn", "text": story_line(story, lang)[:3000]},
            "accessory": _button(Action.story_members, t("relay.story_members", lang), story.id),
        })
    if moved:
        status = str(note)
    elif state in CLOSED_STATES:
        status = _closed_status(state, closure, lang)
    else:
        status = t(f"state.{state}", lang)
        if owner:
            status = t("relay.state_owner", lang, state=status, owner=f"<@{owner}>")
        if deadline is not None:
            stage, due, late = deadline
            key = "relay.late" if late else "relay.due"
            status += " · " + t(key, lang, stage=t(f"stage.{stage}", lang), deadline=slack_date(due))
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f":pushpin: {status}"[:3000]}]})
    buttons, more = card_actions(state, owner, moved=moved)
    elements: list[dict[str, Any]] = []
    for action in buttons:
        label = next(key for a, _, key in _CARD_BUTTONS if a is action)
        primary = action is Action.claim or (action is Action.draft and Action.claim not in buttons)
        button = _button(action, t(label, lang), mention_id, style="primary" if primary else None)
        if action is Action.dismiss:
            # Not red on every card: the one dangerous act asks first, in a confirmation dialog.
            button["confirm"] = confirm_dialog("card.confirm_dismiss", lang)
        elements.append(button)
    if button_url is not None:
        elements.append({"type": "button", "action_id": Action.open_post.value,
                         "text": {"type": "plain_text", "text": t("card.open_post", lang)[:75], "emoji": True},
                         "url": button_url, "value": str(mention_id)})
    if more:
        elements.append({"type": "overflow", "action_id": Action.more.value,
                         "options": [_option(t(f"relay.{name}", lang), f"{name}:{mention_id}") for name in more]})
    if elements:
        blocks.append({"type": "actions", "block_id": f"mention:{mention_id}", "elements": elements})
    fallback = t("card.fallback", lang, title=title, excerpt=excerpt(text, 150))
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


def confirm_dialog(key: str, lang: str) -> dict[str, Any]:
    """A Block Kit confirmation object from the catalogue's `<key>.title`, `.text`, `.confirm` and `.deny`."""
    return {
        "title": {"type": "plain_text", "text": t(f"{key}.title", lang)[:100], "emoji": True},
        "text": {"type": "plain_text", "text": t(f"{key}.text", lang)[:300], "emoji": True},
        "confirm": {"type": "plain_text", "text": t(f"{key}.confirm", lang)[:30], "emoji": True},
        "deny": {"type": "plain_text", "text": t(f"{key}.deny", lang)[:30], "emoji": True},
        "style": "danger",
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
    params = {k: names.network_name(str(v), lang) if k == "network" else escape(str(v))
              for k, v in (finding.get("params") or {}).items()}
    suggestions = finding.get("suggestions") or []
    hint = t("finding.suggest", lang, words=", ".join(escape(w) for w in suggestions[:5])) if suggestions else ""
    text = escape(str(finding.get("text", "")))[:200]
    if finding.get("code") == "label_not_public":  # the text is the label: « confidentiel », not « confidential »
        text = names.label_name(str(finding.get("text", "")), lang)
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


def _word_options(draft_id: int, findings: Sequence[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """One option per distinct misspelt word (at most 5, Slack's limit), its value "draft id:word" (at most 111
    characters, under the 150 of an option's value): the server adds it only if the stored draft has it as a
    spelling finding."""
    options: list[dict[str, Any]] = []
    seen: set[str] = set()
    for finding in findings:
        word = str(finding.get("text") or "")
        if finding.get("code") != "spelling" or not 0 < len(word) <= 100 or word.casefold() in seen \
                or len(options) == 5:
            continue
        seen.add(word.casefold())
        options.append(_option(t("draft.add_word", lang, word=word[:40]), f"{draft_id}:{word}"))
    return options


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
    title_key = "card.draft.title_holding" if kind == "holding" else "card.draft.title"
    title = t(title_key, lang, version=version, author=f"<@{author}>", network=names.network_name(network, lang),
              language=names.language_name(language, lang), label=names.label_name(label, lang))
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
        section: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": (head + "\n" + "\n".join(lines))[:3000]}}
        words = _word_options(draft_id, findings[:MAX_FINDINGS_SHOWN], lang)
        if words:  # issue 13: beside the spelling findings, add a word to the company dictionary (approvers only)
            section["accessory"] = {"type": "overflow", "action_id": Action.add_word.value, "options": words}
        blocks.append(section)
    else:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": t("draft.checks_ok", lang)}]})
    if required and state == "pending":  # once decided, the decisions below say who approved
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
            # Not red: rejecting opens a form asking why, which is its confirmation (danger buttons sparingly).
            _button(Action.reject, t("draft.reject", lang), draft_id),
        ]
    if state in ("pending", "changes_requested", "rejected", "approved") and kind == "reply":
        buttons.append(_button(Action.edit, t("draft.edit", lang), draft_id))
    if state == "approved" and publish_mode == "manual":
        buttons.insert(0, _button(Action.publish, t("draft.publish", lang), draft_id, style="primary"))
    if buttons:
        blocks.append({"type": "actions", "block_id": f"draft:{draft_id}", "elements": buttons})
    return blocks
