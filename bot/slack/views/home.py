"""The App Home tab: each user's Home answers "what is waiting for ME?".

`home_view` turns the `HomeData` read by `bot/reports/home.py` into a `{"type": "home"}` view, in the user's
language, within Slack's limits (100 blocks, 3000 characters per section, 150 per header). Outside text
(mention texts, team names, crisis channel names) is escaped here; user and channel ids are only rendered as
`<@U…>` / `<#C…>` when they look like Slack ids. Pure: no database, no Slack call.

Texts are the "home.*" keys (and the shared "severity.*" words) of the .po catalogues, looked up with
`bot.i18n.t`; durations are Babel's (`duration_words`, to the minute).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from bot.i18n import t
from bot.reports.home import TEXT_CHARS, ApprovalItem, HomeData, MentionItem
from bot.slack.ids import CONVERSATION_ID, USER_ID
from bot.slack.text import escape, quote, slack_date
from bot.slack.views.answers import no_role_text
from bot.slack.views.cards import SEVERITY_EMOJI
from bot.slack.views.digest import duration_words

__all__ = ["SHOW_LIMIT", "home_view", "permalink_url"]

SHOW_LIMIT = 20  # items shown per list (of the LOAD_LIMIT loaded): 3 lists x 20 + fixed blocks stays under 100
MAX_BLOCKS = 100
SECTION_CHARS = 3000
HEADER_CHARS = 150

_TS = re.compile(r"^\d{1,12}\.\d{1,9}$")


# --- rendering -------------------------------------------------------------------------------------------------


def permalink_url(channel: str, ts: str) -> str | None:
    """The thread's web address, or None when channel or ts are not what Slack gives."""
    if not (CONVERSATION_ID.fullmatch(channel) and _TS.match(ts)):
        return None
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"


def _ref(mention_id: int, permalink: tuple[str, str] | None, lang: str) -> str:
    label = escape(t("home.mention_ref", lang, id=mention_id))
    url = permalink_url(*permalink) if permalink else None
    return f"<{url}|{label}>" if url else f"*{label}*"


def _user(user_id: str) -> str:
    return f"<@{user_id}>" if USER_ID.fullmatch(user_id) else escape(user_id)


def _channel(channel: str) -> str:
    return f"<#{channel}>" if CONVERSATION_ID.fullmatch(channel) else escape(channel)


def _ago(when: datetime) -> str:
    return slack_date(when, "{ago}")


def _age(age: timedelta, lang: str) -> str:
    return duration_words(age, lang)


def _severity(severity: str, lang: str) -> str:
    """The same word as on the cards ("faible", not "basse"), capitalised: it opens a segment of the line."""
    key = f"severity.{severity}"
    label = t(key, lang)
    label = label[:1].upper() + label[1:] if label != key else escape(severity)
    return f"{SEVERITY_EMOJI.get(severity, '')} {label}".strip()


def _state(state: str, lang: str) -> str:
    key = f"home.state.{state}"
    label = t(key, lang)
    return label if label != key else escape(state)


def _deadline(deadline: tuple[str, datetime, bool] | None, lang: str) -> str:
    if deadline is None:
        return ""
    stage, when, late = deadline
    stage_key = f"home.stage.{stage}"
    stage_label = t(stage_key, lang)
    if stage_label == stage_key:
        stage_label = escape(stage)
    key = "home.deadline.late" if late else "home.deadline.left"
    return t(key, lang, stage=stage_label, deadline=slack_date(when), relative=_ago(when))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, SECTION_CHARS)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(text, SECTION_CHARS)}]}


def _mention_text(item: MentionItem, lang: str, *, with_state: bool) -> str:
    head = [_ref(item.mention_id, item.permalink, lang), _severity(item.severity, lang), escape(item.team_name)]
    if with_state:
        head.append(_state(item.state, lang))
    lines = [" · ".join(head)]
    deadline = _deadline(item.deadline, lang)
    if deadline:
        lines.append(deadline)
    if item.excerpt:
        lines.append(quote(item.excerpt, TEXT_CHARS + 50))
    return "\n".join(lines)


def _approval_text(item: ApprovalItem, lang: str) -> str:
    head = [_ref(item.mention_id, item.permalink, lang)]
    if item.severity:
        head.append(_severity(item.severity, lang))
    if item.team_name:
        head.append(escape(item.team_name))
    line = t("home.approval.item", lang, version=item.version, author=_user(item.author), age=_age(item.age, lang))
    return " · ".join(head) + "\n" + line


def _list(title_key: str, empty_key: str, texts: list[str], total: int, lang: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [_section(f"*{t(title_key, lang, count=total)}*")]
    if not texts:
        blocks.append(_context(t(empty_key, lang)))
        return blocks
    shown = texts[:SHOW_LIMIT]
    blocks += [_section(text) for text in shown]
    if total > len(shown):
        blocks.append(_context(t("home.more", lang, count=total - len(shown))))
    return blocks


def home_view(data: HomeData, *, protocol: Any) -> dict[str, Any]:
    """The Home tab as passed to views.publish (`view=`); `protocol` gives the crisis channel when the crisis
    row has none."""
    lang = data.lang
    blocks: list[dict[str, Any]] = []
    if data.crisis is not None:
        crisis_cfg = getattr(protocol, "crisis", None)
        where = data.crisis.channel or getattr(crisis_cfg, "channel", None)
        channel = _channel(where) if where else t("home.crisis.no_channel", lang)
        blocks.append(_section(t("home.crisis.banner", lang, since=slack_date(data.crisis.declared_at),
                                  channel=channel)))
        blocks.append({"type": "divider"})
    blocks.append({"type": "header",
                   "text": {"type": "plain_text", "text": _cut(t("home.header", lang), HEADER_CHARS), "emoji": True}})
    if not data.has_role:
        blocks.append(_section(no_role_text(protocol, lang)))
        if data.now is not None:
            blocks.append(_context(t("home.updated", lang, at=slack_date(data.now))))
        return {"type": "home", "blocks": blocks}

    nothing = not (data.owned or data.awaiting_my_approval or data.team_queue)
    if nothing:
        blocks.append(_section(t("home.empty", lang)))

    blocks += _list("home.owned.title", "home.owned.empty",
                    [_mention_text(i, lang, with_state=True) for i in data.owned], data.owned_total, lang)
    blocks.append({"type": "divider"})
    blocks += _list("home.approval.title", "home.approval.empty",
                    [_approval_text(i, lang) for i in data.awaiting_my_approval], data.awaiting_total, lang)
    blocks.append({"type": "divider"})
    blocks += _list("home.queue.title", "home.queue.empty",
                    [_mention_text(i, lang, with_state=False) for i in data.team_queue], data.queue_total, lang)
    blocks.append({"type": "divider"})

    nobody = t("home.oncall.nobody", lang)
    cms = ", ".join(_user(u) for u in data.on_call.community_managers) or nobody
    dms = ", ".join(_user(u) for u in data.on_call.decision_makers) or nobody
    blocks.append(_section(f"*{t('home.oncall.title', lang)}*\n"
                           + t("home.oncall.line", lang, community_managers=cms, decision_makers=dms)))
    if data.now is not None:
        blocks.append(_context(t("home.updated", lang, at=slack_date(data.now))))
    assert len(blocks) <= MAX_BLOCKS, len(blocks)  # 3 lists x (SHOW_LIMIT + 2) + 11 fixed blocks at most
    return {"type": "home", "blocks": blocks}
