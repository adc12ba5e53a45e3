"""Pure Block Kit builders for the messages Vigie sends to people rather than to a team channel: crisis alerts,
approval requests and escalation notices (direct messages), and the confirm dialogs of company-wide buttons.

Each message is built twice in its life: when it is sent (with its buttons) and when someone has acted
(`closed`): the same text, no buttons any more, and one line saying who did what and when. The use cases update
every recipient's copy with the closed version (`chat.update`), so nobody keeps a live button that would only
produce a refusal.
"""

from __future__ import annotations

from typing import Any

from bot.i18n import t
from bot.slack.ids import Action
from bot.slack.text import escape, quote, safe_url

MAX_TEXT = 2900  # a section's text is at most 3000 characters


def confirm_dialog(lang: str, *, title: str, text: str, confirm: str, danger: bool = True) -> dict[str, Any]:
    """Slack's `confirm` object: the button asks « are you sure? » before it is sent (i18n keys in, text out)."""
    dialog: dict[str, Any] = {
        "title": {"type": "plain_text", "text": t(title, lang)[:100]},
        "text": {"type": "mrkdwn", "text": t(text, lang)[:300]},
        "confirm": {"type": "plain_text", "text": t(confirm, lang)[:30]},
        "deny": {"type": "plain_text", "text": t("confirm.cancel", lang)[:30]},
    }
    if danger:
        dialog["style"] = "danger"
    return dialog


def context_lines(*, excerpt_of: str | None, card_url: str | None, lang: str, limit: int = 280) -> str:
    """The excerpt of a mention (escaped, cut, quoted) and a link to its card: what a DM needs to be read alone."""
    lines = []
    if excerpt_of:
        lines.append(quote(excerpt_of, limit))
    safe = safe_url(card_url) if card_url else None
    if safe:
        lines.append(f"<{safe}|{escape(t('notify.see_card', lang))}>")
    return "\n".join(lines)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:MAX_TEXT]}}


def crisis_alert(*, signal_id: int, text: str, context: str, lang: str) -> list[dict[str, Any]]:
    """A crisis alert: what was seen, the mention's excerpt and card when there is one, and two buttons:
    « Déclarer la crise » (red, with a confirm dialog) and « Ce n'est pas une crise »."""
    blocks = [_section(f":rotating_light: {text}")]
    if context:
        blocks.append(_section(context))
    blocks.append({"type": "actions", "block_id": f"crisis-alert:{signal_id}", "elements": [
        {"type": "button", "action_id": Action.declare_crisis.value, "style": "danger", "value": str(signal_id),
         "text": {"type": "plain_text", "text": t("crisis.declare_button", lang)[:75]},
         "confirm": confirm_dialog(lang, title="crisis.confirm.title", text="crisis.confirm.text",
                                   confirm="crisis.confirm.yes")},
        {"type": "button", "action_id": Action.not_a_crisis.value, "value": str(signal_id),
         "text": {"type": "plain_text", "text": t("crisis.not_a_crisis_button", lang)[:75]}},
    ]})
    return blocks


def closed(*, text: str, context: str, outcome: str) -> list[dict[str, Any]]:
    """Any of these messages once someone acted: its text and context, no button, and who did what."""
    blocks = [_section(text)]
    if context:
        blocks.append(_section(context))
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": outcome[:MAX_TEXT]}]})
    return blocks


def notice(*, text: str, context: str) -> list[dict[str, Any]]:
    """A direct message with no button (an escalation notice, an approval request)."""
    return [_section(text), *([_section(context)] if context else [])]


def sections(text: str, *, limit: int = MAX_TEXT, most: int = 45) -> list[dict[str, Any]]:
    """A long mrkdwn text as sections of whole lines (a section holds 3000 characters, a message 50 blocks)."""
    out: list[str] = []
    for line in text.split("\n"):
        line = line[:limit]
        if out and len(out[-1]) + 1 + len(line) <= limit:
            out[-1] += "\n" + line
        else:
            out.append(line)
    return [_section(chunk) for chunk in out[:most] if chunk.strip()]


def announcement(text: str, *, crisis_id: int | None, lang: str, outcome: str | None = None) -> list[dict[str, Any]]:
    """The crisis announcement: its text, and « Lever la crise » while it lasts (then who stood down)."""
    blocks = sections(text)
    if crisis_id is not None:
        blocks.append(stand_down_button(crisis_id=crisis_id, lang=lang))
    if outcome:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": outcome[:MAX_TEXT]}]})
    return blocks


def stand_down_button(*, crisis_id: int, lang: str) -> dict[str, Any]:
    """The announcement's « Lever la crise » button, with its confirm dialog."""
    return {"type": "actions", "block_id": f"crisis-end:{crisis_id}", "elements": [
        {"type": "button", "action_id": Action.end_crisis.value, "value": str(crisis_id),
         "text": {"type": "plain_text", "text": t("crisis.end_button", lang)[:75]},
         "confirm": confirm_dialog(lang, title="crisis.end_confirm.title", text="crisis.end_confirm.text",
                                   confirm="crisis.end_confirm.yes", danger=False)}]}
