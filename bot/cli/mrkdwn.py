"""Slack's mrkdwn, read back: into plain text for the terminal (`vigie digest`) and into HTML for the gallery
(`vigie preview`). One reader for both, so what the terminal prints and what the gallery shows agree.

Slack's rules followed here: `<url|label>`, `<url>`, `<@U…>`, `<#C…|name>`, `<!here>` and `<!date^…|fallback>`
are the only angle-bracket forms; `&amp; &lt; &gt;` are the only entities; `*bold*`, `_italic_`, `~strike~` and
`` `code` `` need the marker at a word's edge; `:name:` is an emoji.
"""

from __future__ import annotations

import html
import re
from datetime import datetime

# The emoji the catalogues and the views use (others stay as :name:, as Slack shows unknown ones).
EMOJI = {
    "warning": "⚠️", "white_check_mark": "✅", "rotating_light": "🚨", "hourglass_flowing_sand": "⏳",
    "pencil2": "✏️", "no_entry": "⛔", "x": "❌", "wastebasket": "🗑️", "stopwatch": "⏱️", "rocket": "🚀",
    "repeat": "🔁", "raising_hand": "🙋", "pushpin": "📌", "mega": "📣", "mag": "🔍", "loudspeaker": "📢",
    "link": "🔗", "bust_in_silhouette": "👤", "alarm_clock": "⏰", "white_circle": "⚪", "wave": "👋",
    "red_circle": "🔴", "large_yellow_circle": "🟡", "large_orange_circle": "🟠", "large_green_circle": "🟢",
    "bar_chart": "📊", "calendar": "📅", "bell": "🔔", "speech_balloon": "💬", "eyes": "👀", "fire": "🔥",
    "arrow_right": "➡️", "heavy_check_mark": "✔️", "clipboard": "📋", "memo": "📝", "busts_in_silhouette": "👥",
    "chart_with_upwards_trend": "📈", "chart_with_downwards_trend": "📉", "lock": "🔒", "envelope": "✉️",
    "information_source": "ℹ️", "sos": "🆘", "date": "📅", "large_blue_circle": "🔵", "newspaper": "📰",
}

_ANGLE = re.compile(r"<([^<>]+)>")
_EMOJI = re.compile(r":([a-z0-9_+-]+):")
# A marker counts at a word's edge: after start, space or punctuation, and before the same.
_STYLE = re.compile(r"(?<![\w*_~`])([*_~])(?=\S)(.+?)(?<=\S)\1(?![\w*_~`])", re.S)
_CODE = re.compile(r"`([^`\n]+)`")


def _angle_plain(body: str) -> str:
    target, _, label = body.partition("|")
    if target.startswith("@"):
        return "@" + (label or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        if label:
            return label
        word = target[1:].split("^")[0]
        return "@" + word
    return f"{label} ({target})" if label and label != target else target


def plain_text(text: str) -> str:
    """mrkdwn as a terminal shows it: links as "label (url)", mentions as @ID, no style markers, emoji."""
    text = _ANGLE.sub(lambda m: _angle_plain(m.group(1)), text)
    text = _CODE.sub(lambda m: m.group(1), text)
    for _ in range(2):  # *_nested_* styles
        text = _STYLE.sub(lambda m: m.group(2), text)
    text = _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)
    return html.unescape(text) if "&" in text else text


def slack_date(token: str, *, lang: str, zone: str, now: datetime | None = None) -> str | None:
    """`!date^<unix>^<format>[^link]` as Slack shows it to a reader in `zone` at `now` (None when it is not
    one)."""
    from zoneinfo import ZoneInfo

    from babel.dates import format_date, format_time, format_timedelta

    parts = token.split("^")
    if len(parts) < 3 or parts[0] != "!date":
        return None
    try:
        when = datetime.fromtimestamp(int(parts[1]), ZoneInfo(zone))
    except (ValueError, OSError):
        return None
    words = {"date_num": when.strftime("%Y-%m-%d"), "date": format_date(when, "long", locale=lang),
             "date_short": format_date(when, "medium", locale=lang),
             "date_long": format_date(when, "full", locale=lang), "time": format_time(when, "HH:mm", locale=lang),
             "time_secs": format_time(when, "HH:mm:ss", locale=lang)}
    words["ago"] = format_timedelta(when - (now or when), add_direction=True, locale=lang)
    for plain in ("date", "date_short", "date_long"):  # "today", "yesterday" are Slack's; the date says as much
        words[f"{plain}_pretty"] = words[plain]
    return re.sub(r"\{(\w+)\}", lambda m: words.get(m.group(1), m.group(0)), parts[2])


def to_html(text: str, *, lang: str = "en", zone: str = "Europe/Paris", now: datetime | None = None) -> str:
    """mrkdwn as HTML (escaped first: nothing in `text` becomes markup but Slack's own forms); Slack's dates are
    written for a reader in `zone` speaking `lang`, as Slack would."""
    # Slack's <...> forms are drawn first and held aside, so a *bold* around a mention stays one span.
    held: list[str] = []

    def hold(m: re.Match[str]) -> str:
        date = slack_date(m.group(1).partition("|")[0], lang=lang, zone=zone, now=now)
        held.append(f'<span class="date">{html.escape(date)}</span>' if date else _angle_html(m.group(1)))
        return f"\x00{len(held) - 1}\x00"

    drawn = _inline_html(_ANGLE.sub(hold, text.replace("\x00", "")))
    drawn = re.sub("\x00(\\d+)\x00", lambda m: held[int(m.group(1))], drawn)
    lines = drawn.split("\n")
    rendered = []
    for line in lines:  # "> " quotes, as Slack draws them
        if line.startswith("&gt; ") or line == "&gt;":
            rendered.append(f'<span class="quote">{line[5:]}</span>')
        else:
            rendered.append(line)
    return "<br>".join(rendered)


def _inline_html(chunk: str) -> str:
    # Slack's text arrives with & < > already written as entities; undo them once, then escape for HTML.
    safe = html.escape(html.unescape(chunk), quote=False)
    safe = _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", safe)
    tags = {"*": "b", "_": "i", "~": "s"}
    for _ in range(2):
        safe = _STYLE.sub(lambda m: f"<{tags[m.group(1)]}>{m.group(2)}</{tags[m.group(1)]}>", safe)
    return _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), safe)


def _angle_html(body: str) -> str:
    target, _, label = body.partition("|")
    esc = html.escape
    if target.startswith("@"):
        return f'<span class="mention">@{esc(html.unescape(label or target[1:]))}</span>'
    if target.startswith("#"):
        return f'<span class="mention">#{esc(html.unescape(label or target[1:]))}</span>'
    if target.startswith("!"):
        shown = label or "@" + target[1:].split("^")[0]
        return f'<span class="mention">{esc(html.unescape(shown))}</span>'
    url = html.unescape(target)
    shown = _inline_html(label) if label else esc(url)
    return f'<a href="{esc(url)}">{shown}</a>'
