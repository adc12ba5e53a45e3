"""Pure Block Kit builders. They take plain data and a language and return Slack argument dicts.

Every piece of outside text goes through `bot.slack_text` here, and nowhere else needs to remember it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel.numbers import format_decimal

from bot.i18n import t
from bot.ids import Action
from bot.slack_text import escape, excerpt, link

SEVERITY_EMOJI = {
    "low": ":white_circle:",
    "medium": ":large_yellow_circle:",
    "high": ":large_orange_circle:",
    "critical": ":red_circle:",
}
EXCERPT_CHARS = 900  # a card shows the start; the link leads to the whole post


def slack_date(when: datetime) -> str:
    """Slack renders this token in each reader's own timezone and locale; the fallback is UTC ISO."""
    epoch = int(when.timestamp())
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{when.strftime('%Y-%m-%d %H:%M UTC')}>"


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
) -> dict[str, Any]:
    """The card a team sees in its channel for a new mention, with the buttons that act on it."""
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
        {"type": "section", "text": {"type": "mrkdwn", "text": "> " + excerpt(text, EXCERPT_CHARS)}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": t("relay.why", lang, reasons=why)[:3000]},
                {"type": "mrkdwn", "text": t("relay.link", lang, link=link(url), id=mention_id)[:3000]},
            ],
        },
        {
            "type": "actions",
            "block_id": f"mention:{mention_id}",
            "elements": [
                _button(Action.claim, t("relay.claim", lang), mention_id, style="primary"),
                _button(Action.draft, t("relay.draft", lang), mention_id),
                _button(Action.reroute, t("relay.reroute", lang), mention_id),
                _button(Action.dismiss, t("relay.dismiss", lang), mention_id, style="danger"),
            ],
        },
    ]
    fallback = t("relay.fallback", lang, severity=sev, team=team_name, excerpt=excerpt(text, 150))
    return {
        "channel": channel,
        "text": fallback,
        "blocks": blocks,
        # Unfurling would fetch the outside page from Slack's servers and show its preview: not ours to show.
        "unfurl_links": False,
        "unfurl_media": False,
    }


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
