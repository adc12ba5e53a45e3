"""Building requests exactly as Slack sends them: form-encoded payloads, signed with the signing secret.

The signature is computed here independently of the code under test (and checked against Slack's
published test vector in test_signing.py), so Bolt's real verification is what accepts or refuses it.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

_TRIGGERS = itertools.count(1)


def trigger_id() -> str:
    """Slack gives every interaction its own trigger_id (Vigie handles each one once: bot.store.deliveries)."""
    return f"123.456.{next(_TRIGGERS):06x}"


def sign(secret: str, body: str, timestamp: int) -> str:
    basestring = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), basestring, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: str, *, timestamp: int | None = None,
                   content_type: str = "application/x-www-form-urlencoded") -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign(secret, body, ts),
    }


def interactive_body(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def message_shortcut(*, user: str = "U0FLAGGER1", channel: str = "C0RANDOM01", ts: str = "1763719200.000100",
                     text: str = "Hello", author: str = "U0AUTHOR01", team_domain: str = "acme",
                     callback_id: str = "flag_message") -> dict[str, Any]:
    return {
        "type": "message_action",
        "token": "legacy-verification-token",
        "action_ts": "1763719300.123456",
        "team": {"id": "T0TEAM0001", "domain": team_domain},
        "user": {"id": user, "username": "flagger", "team_id": "T0TEAM0001", "name": "flagger"},
        "channel": {"id": channel, "name": "random"},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id(),
        "response_url": "https://hooks.slack.invalid/app/T0/1/abc",
        "message_ts": ts,
        "message": {"type": "message", "user": author, "ts": ts, "text": text, "team": "T0TEAM0001"},
    }


def block_action(*, action_id: str, value: str, user: str = "U0EXPERT01", channel: str = "C0FINANCE1",
                 message_ts: str = "1763719200.000200") -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": "T0TEAM0001", "domain": "acme"},
        "user": {"id": user, "username": "expert", "name": "expert", "team_id": "T0TEAM0001"},
        "api_app_id": "A0VIGIE001",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False},
        "trigger_id": trigger_id(),
        "channel": {"id": channel, "name": "veille-finance"},
        "message": {"type": "message", "ts": message_ts, "text": "card", "blocks": []},
        "response_url": "https://hooks.slack.invalid/actions/T0/1/abc",
        "actions": [{"action_id": action_id, "block_id": f"mention:{value}", "value": value, "type": "button",
                     "action_ts": "1763719300.000001"}],
    }


def view_submission(view: dict[str, Any], *, user: str, values: dict[str, str]) -> dict[str, Any]:
    """What Slack sends when `user` submits the modal `view` (as the bot opened it) with these inputs.

    Values are given per input block_id; the state is shaped from each block's element type, as Slack does.
    """
    state: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        given = values.get(block["block_id"])
        kind = element["type"]
        if kind in ("plain_text_input", "url_text_input"):
            entry: dict[str, Any] = {"type": kind, "value": given}
        elif kind == "static_select":
            option = next((o for o in element["options"] if o["value"] == given), None)
            if option is None and given is None:
                option = element.get("initial_option")
            entry = {"type": kind, "selected_option": option}
        elif kind == "users_select":
            entry = {"type": kind, "selected_user": given}
        elif kind == "checkboxes":  # given: the values ticked, comma-separated
            ticked = (given or "").split(",")
            entry = {"type": kind, "selected_options": [o for o in element["options"] if o["value"] in ticked]}
        else:  # pragma: no cover - a new element type needs a line here
            raise AssertionError(f"unsupported element {kind}")
        state[block["block_id"]] = {element["action_id"]: entry}
    return {
        "type": "view_submission",
        "team": {"id": "T0TEAM0001", "domain": "acme"},
        "user": {"id": user, "username": "u", "name": "u", "team_id": "T0TEAM0001"},
        "api_app_id": "A0VIGIE001",
        "token": "legacy-verification-token",
        "trigger_id": trigger_id(),
        "view": {**view, "id": "V0MODAL001", "team_id": "T0TEAM0001", "state": {"values": state},
                 "hash": "1763719300.abc", "app_id": "A0VIGIE001", "bot_id": "B0VIGIE001"},
        "response_urls": [],
        "is_enterprise_install": False,
    }
