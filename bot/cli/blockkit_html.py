"""Block Kit as HTML, close enough to Slack to judge a view at a glance (`vigie preview`'s gallery).

Drawn: header, section (text, fields, accessory), context, actions (buttons with their style, selects, overflow,
date pickers, confirm dialogs noted), divider, image, input (text, selects, radios, checkboxes), markdown,
rich_text (as its text). A block type this module does not know is shown as its JSON, marked, never dropped.
Text goes through bot.cli.mrkdwn: bold, italic, strike, code, links, mentions and emoji as Slack shows them.
"""

from __future__ import annotations

import html
import json
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from bot.cli.mrkdwn import to_html
from bot.i18n import t

# The reader the views are drawn for: Slack writes dates in the reader's zone and language, relative to their now.
READER: ContextVar[tuple[str, str, datetime | None]] = ContextVar("reader", default=("en", "Europe/Paris", None))


def md(text: str) -> str:
    lang, zone, now = READER.get()
    return to_html(text, lang=lang, zone=zone, now=now)

CSS = """
body { font-family: -apple-system, 'Segoe UI', 'DejaVu Sans', Roboto, sans-serif; background: #f4f4f6; color: #1d1c1d;
       margin: 0; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; color: #444; }
.intro { color: #616061; margin-bottom: 16px; max-width: 900px; }
.view { background: #fff; border: 1px solid #ddd; border-radius: 8px; margin: 12px 0; max-width: 760px;
        box-shadow: 0 1px 2px rgba(0,0,0,.06); }
.view > .where { font-size: 12px; color: #616061; padding: 6px 12px; border-bottom: 1px solid #eee; background: #fafafa;
                 border-radius: 8px 8px 0 0; }
.view > .where b { color: #1d1c1d; }
.body { padding: 10px 14px; }
.msg { display: flex; gap: 10px; } .avatar { width: 36px; height: 36px; border-radius: 6px; background: #1d3557;
       color: #fff; font-weight: bold; display: flex; align-items: center; justify-content: center; flex: none; }
.msg .name { font-weight: 700; } .msg .name small { font-weight: 400; color: #616061; margin-left: 6px; }
.ephemeral { font-size: 12px; color: #616061; margin-bottom: 4px; }
.modal { border: 1px solid #ccc; border-radius: 8px; max-width: 520px; }
.modal .title { font-weight: 700; font-size: 18px; padding: 12px 16px; border-bottom: 1px solid #eee; }
.modal .content { padding: 12px 16px; } .modal .foot { text-align: right; padding: 10px 16px; border-top: 1px solid #eee; }
.block { margin: 6px 0; line-height: 1.45; } .header { font-size: 18px; font-weight: 800; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 6px 18px; margin-top: 6px; }
.section { display: flex; justify-content: space-between; gap: 12px; } .section .acc { flex: none; }
.context { font-size: 12px; color: #616061; } .context img { width: 16px; height: 16px; vertical-align: middle; }
.divider { border: 0; border-top: 1px solid #e4e4e4; margin: 10px 0; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; }
.btn { display: inline-block; border: 1px solid #bbb; border-radius: 4px; padding: 3px 12px; font-weight: 700;
       font-size: 14px; background: #fff; color: #1d1c1d; text-decoration: none; }
.btn.primary { background: #007a5a; border-color: #007a5a; color: #fff; }
.btn.danger { background: #fff; border-color: #e01e5a; color: #e01e5a; }
.btn .confirm { font-weight: 400; font-size: 11px; color: #616061; margin-left: 4px; }
.select { display: inline-block; border: 1px solid #bbb; border-radius: 4px; padding: 3px 10px; color: #616061; }
.input label { font-weight: 700; display: block; margin-bottom: 4px; } .input .hint { font-size: 12px; color: #616061; }
.input .field { border: 1px solid #bbb; border-radius: 4px; padding: 6px 8px; min-height: 18px; color: #616061;
                white-space: pre-wrap; } .input .field.multi { min-height: 60px; }
.optional { font-weight: 400; color: #616061; }
a { color: #1264a3; } .mention { background: #e8f5fa; color: #1264a3; border-radius: 3px; padding: 0 2px; }
code { background: #f6f6f6; border: 1px solid #e4e4e4; border-radius: 3px; padding: 0 3px; font-size: 12px; }
.quote { border-left: 4px solid #ddd; padding-left: 8px; display: inline-block; color: #454245; }
.unknown { background: #fff4e5; border: 1px dashed #e8912d; font-size: 11px; white-space: pre-wrap; }
.problems { background: #fde8ec; color: #a0143c; font-size: 12px; padding: 6px 12px; }
.home { background: #fff; } img.block-image { max-width: 100%; border-radius: 4px; }
nav a { margin-right: 10px; font-size: 13px; }
"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def text_html(obj: Any) -> str:
    """A composition text object (plain_text or mrkdwn), or a bare string, as HTML."""
    if isinstance(obj, str):
        return esc(obj)
    if not isinstance(obj, dict):
        return ""
    value = str(obj.get("text", ""))
    if obj.get("type") == "mrkdwn":
        return md(value)
    return esc(value).replace("\n", "<br>")


def blocks_html(blocks: list[dict[str, Any]] | None, lang: str) -> str:
    return "".join(block_html(b, lang) for b in blocks or [])


def block_html(block: dict[str, Any], lang: str) -> str:
    kind = block.get("type")
    if kind == "header":
        return f'<div class="block header">{text_html(block.get("text"))}</div>'
    if kind == "section":
        inner = f'<div>{text_html(block.get("text"))}</div>' if block.get("text") else "<div></div>"
        if block.get("fields"):
            inner = inner[:-6] + '<div class="fields">' + "".join(
                f"<div>{text_html(f)}</div>" for f in block["fields"]) + "</div></div>"
        accessory = f'<div class="acc">{element_html(block["accessory"])}</div>' if block.get("accessory") else ""
        return f'<div class="block section">{inner}{accessory}</div>'
    if kind == "context":
        parts = []
        for e in block.get("elements", []):
            if isinstance(e, dict) and e.get("type") == "image":
                parts.append(f'<img src="{esc(e.get("image_url", ""))}" alt="{esc(e.get("alt_text", ""))}">')
            else:
                parts.append(text_html(e))
        return f'<div class="block context">{" ".join(parts)}</div>'
    if kind == "actions":
        return '<div class="block actions">' + "".join(element_html(e) for e in block.get("elements", [])) + "</div>"
    if kind == "divider":
        return '<hr class="divider">'
    if kind == "image":
        title = f'<div class="context">{text_html(block.get("title"))}</div>' if block.get("title") else ""
        return (f'<div class="block">{title}<img class="block-image" src="{esc(block.get("image_url", ""))}" '
                f'alt="{esc(block.get("alt_text", ""))}"></div>')
    if kind == "input":
        optional = f' <span class="optional">{esc(t("preview.optional", lang))}</span>' if block.get("optional") else ""
        hint = f'<div class="hint">{text_html(block.get("hint"))}</div>' if block.get("hint") else ""
        return (f'<div class="block input"><label>{text_html(block.get("label"))}{optional}</label>'
                f'{input_html(block.get("element") or {})}{hint}</div>')
    if kind == "markdown":
        return f'<div class="block">{md(str(block.get("text", "")))}</div>'
    if kind == "rich_text":
        return f'<div class="block">{esc(_rich_text(block))}</div>'
    return f'<pre class="block unknown">{esc(json.dumps(block, ensure_ascii=False, indent=1))}</pre>'


def _rich_text(node: Any) -> str:
    if isinstance(node, dict):
        if node.get("type") == "text":
            return str(node.get("text", ""))
        return "".join(_rich_text(child) for child in node.get("elements", []))
    return ""


def element_html(e: dict[str, Any]) -> str:
    kind = e.get("type")
    if kind == "button":
        style = e.get("style", "")
        # The confirm dialog in the gallery's language: a mark, with the dialog's own title and text on hover.
        dialog = e.get("confirm") or {}
        said = " — ".join(str((dialog.get(part) or {}).get("text", "")) for part in ("title", "text") if dialog.get(part))
        confirm = f' <span class="confirm" title="{esc(said)}">⚠︎</span>' if dialog else ""
        href = f' href="{esc(e["url"])}"' if e.get("url") else ""
        return f'<a class="btn {esc(style)}"{href}>{text_html(e.get("text"))}{confirm}</a>'
    if kind in ("static_select", "external_select", "users_select", "conversations_select", "channels_select",
                "multi_static_select", "multi_users_select", "multi_conversations_select"):
        initial = (e.get("initial_option") or {}).get("text")
        shown = text_html(initial) if initial else text_html(e.get("placeholder")) or "…"
        return f'<span class="select">{shown} ▾</span>'
    if kind == "overflow":
        return '<span class="select">⋯</span>'
    if kind in ("datepicker", "timepicker", "datetimepicker"):
        return f'<span class="select">{esc(e.get("initial_date") or e.get("initial_time") or "📅")}</span>'
    if kind == "image":
        return f'<img src="{esc(e.get("image_url", ""))}" alt="{esc(e.get("alt_text", ""))}" width="64">'
    return f'<span class="unknown">{esc(kind)}</span>'


def input_html(e: dict[str, Any]) -> str:
    kind = e.get("type")
    if kind in ("plain_text_input", "url_text_input", "email_text_input", "number_input"):
        value = e.get("initial_value") or ""
        shown = esc(value) if value else text_html(e.get("placeholder"))
        return f'<div class="field{" multi" if e.get("multiline") else ""}">{shown}</div>'
    if kind in ("radio_buttons", "checkboxes"):
        mark = "◉" if kind == "radio_buttons" else "☑"
        chosen = {json.dumps(o, sort_keys=True) for o in ([e["initial_option"]] if e.get("initial_option") else [])
                  + list(e.get("initial_options") or [])}
        return "".join(f'<div>{mark if json.dumps(o, sort_keys=True) in chosen else "○"} {text_html(o.get("text"))}</div>'
                       for o in e.get("options", []))
    return f'<div class="field">{element_html(e)}</div>'


def message_html(args: dict[str, Any], lang: str, *, ephemeral: bool = False) -> str:
    """A chat.postMessage / chat.update / chat.postEphemeral: the blocks, or the text when there are none."""
    blocks = args.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    body = blocks_html(blocks, lang) if blocks else f'<div class="block">{md(str(args.get("text", "")))}</div>'
    note = f'<div class="ephemeral">👁 {esc(t("preview.only_you", lang))}</div>' if ephemeral else ""
    return (f'<div class="msg"><div class="avatar">V</div><div style="flex:1">'
            f'<div class="name">Vigie <small>APP</small></div>{note}{body}</div></div>')


def modal_html(view: dict[str, Any], lang: str) -> str:
    foot = "".join(f'<a class="btn{" primary" if key == "submit" else ""}">{text_html(view[key])}</a> '
                   for key in ("close", "submit") if view.get(key))
    return (f'<div class="modal"><div class="title">{text_html(view.get("title"))}</div>'
            f'<div class="content">{blocks_html(view.get("blocks"), lang)}</div><div class="foot">{foot}</div></div>')


def home_html(view: dict[str, Any], lang: str) -> str:
    return f'<div class="home">{blocks_html(view.get("blocks"), lang)}</div>'
