"""Modal views (pure builders). Every modal carries what it is about in `private_metadata`, which the
server re-checks on submission: it is a hint, never an authority."""

from __future__ import annotations

import json
from typing import Any

from bot.i18n import t
from bot.slack.ids import View
from bot.slack.text import strip_invisible
from bot.slack.views.names import network_name

LABELS = ("public", "internal", "confidential")
MAX_DRAFT = 3000  # Slack's plain_text_input maximum


def _plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:limit], "emoji": True}


def _modal(callback: View, title: str, submit: str, blocks: list[dict[str, Any]], meta: dict[str, Any],
           lang: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback.value,
        "title": _plain(title, 24),
        "submit": _plain(submit, 24),
        "close": _plain(t("modal.cancel", lang), 24),
        "private_metadata": json.dumps(meta)[:3000],
        "blocks": blocks,
    }


def _select(action_id: str, options: list[tuple[str, str]], initial: str | None) -> dict[str, Any]:
    opts = [{"text": _plain(label, 75), "value": value} for label, value in options][:100]
    element: dict[str, Any] = {"type": "static_select", "action_id": action_id, "options": opts}
    chosen = next((o for o in opts if o["value"] == initial), None)
    if chosen:
        element["initial_option"] = chosen
    return element


def _input(block_id: str, label: str, element: dict[str, Any], optional: bool = False) -> dict[str, Any]:
    return {"type": "input", "block_id": block_id, "label": _plain(label, 2000), "element": element,
            "optional": optional}


def draft_modal(*, mention_id: int, networks: list[str], lang: str, text: str = "", network: str | None = None,
                language: str | None = None, label: str = "public", draft_id: int | None = None,
                base: int | None = None) -> dict[str, Any]:
    """The draft form. `base` is the id of the mention's current draft when the form opened (0: none): if
    another version lands before this one is submitted (a second person, a double submission), the submission
    is refused inside the form, the text still there, instead of silently stacking two versions."""
    text_input: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "multiline": True,
                                  "max_length": MAX_DRAFT}
    if text:
        text_input["initial_value"] = strip_invisible(text)[:MAX_DRAFT]
    blocks = [
        _input("text", t("modal.draft.text", lang), text_input),
        _input("network", t("modal.draft.network", lang),
               _select("value", [(network_name(n, lang), n) for n in networks], network or (networks[0] if networks else None))),
        _input("language", t("modal.draft.language", lang),
               _select("value", [("Français", "fr"), ("English", "en")], language or lang)),
        _input("label", t("modal.draft.label", lang),
               _select("value", [(t(f"label.{v}", lang), v) for v in LABELS], label)),
    ]
    title = t("modal.draft.title_edit" if draft_id else "modal.draft.title", lang)
    return _modal(View.draft, title, t("modal.draft.submit", lang), blocks,
                  {"mention": mention_id, "draft": draft_id, "base": base or 0}, lang)


def reason_modal(callback: View, *, lang: str, meta: dict[str, Any], title_key: str, label_key: str,
                 intro: str | None = None, optional: bool = False) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = []
    if intro:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": intro[:3000]}})
    blocks.append(_input("reason", t(label_key, lang),
                         {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 2000},
                         optional=optional))
    return _modal(callback, t(title_key, lang), t("modal.confirm", lang), blocks, meta, lang)


def reroute_modal(*, mention_id: int, teams: list[tuple[str, str]], current: str, lang: str) -> dict[str, Any]:
    options = [(name, key) for key, name in teams if key != current]
    blocks = [_input("team", t("modal.reroute.team", lang), _select("value", options, None))]
    return _modal(View.reroute, t("modal.reroute.title", lang), t("modal.confirm", lang), blocks,
                  {"mention": mention_id}, lang)


def assign_modal(*, mention_id: int, lang: str) -> dict[str, Any]:
    blocks = [_input("user", t("modal.assign.user", lang), {"type": "users_select", "action_id": "value"})]
    return _modal(View.assign, t("modal.assign.title", lang), t("modal.confirm", lang), blocks,
                  {"mention": mention_id}, lang)


def publish_modal(*, draft_id: int, lang: str) -> dict[str, Any]:
    blocks = [_input("url", t("modal.publish.url", lang),
                     {"type": "url_text_input", "action_id": "value"}, optional=True)]
    return _modal(View.publish, t("modal.publish.title", lang), t("modal.confirm", lang), blocks,
                  {"draft": draft_id}, lang)


CONFIRM_ANOTHER = "another"  # the value of the box a community manager ticks to send one more holding statement


def holding_modal(*, mention_id: int, statements: list[tuple[str, str]], lang: str, sent: int = 0) -> dict[str, Any]:
    """Choose a holding statement. When `sent` have already gone out for this mention, another one needs a
    ticked confirmation; the form remembers `sent`, so two people (or a double click) send one, not two."""
    blocks = [_input("statement", t("modal.holding.statement", lang), _select("value", statements, None))]
    if sent:
        blocks.insert(0, {"type": "section", "text": {"type": "mrkdwn",
                                                      "text": t("modal.holding.already", lang, count=sent)}})
        blocks.append(_input("confirm", t("modal.holding.confirm_label", lang), {
            "type": "checkboxes", "action_id": "value",
            "options": [{"text": _plain(t("modal.holding.confirm_option", lang), 75), "value": CONFIRM_ANOTHER}]}))
    return _modal(View.holding, t("modal.holding.title", lang), t("modal.confirm", lang), blocks,
                  {"mention": mention_id, "sent": sent}, lang)


def submitted_value(state: dict[str, Any], block_id: str) -> str | None:
    """Read one input's value from a view_submission's `view.state.values`, whatever its element type."""
    element = (state.get("values", {}).get(block_id) or {}).get("value") or {}
    for key in ("value", "selected_user"):
        if element.get(key) is not None:
            return str(element[key])
    option = element.get("selected_option")
    if isinstance(option, dict) and option.get("value") is not None:
        return str(option["value"])
    options = element.get("selected_options")  # checkboxes: the values ticked, comma-separated
    if isinstance(options, list) and options:
        return ",".join(str(o.get("value")) for o in options if isinstance(o, dict))
    return None
