"""Tests of tests/slackspec.py: spec lookups, manifest validation, Block Kit checker."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from tests import slackspec


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def button(action_id: str = "go", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": plain("Go"), **extra}


def actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements)}


def option(text: str = "One", value: str = "1") -> dict[str, Any]:
    return {"text": plain(text), "value": value}


def select(options: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"type": "static_select", "action_id": "pick", "options": options, **extra}


def modal(**extra: Any) -> dict[str, Any]:
    # slack_sdk's View wants 1 to 100 blocks.
    blocks = [{"type": "section", "text": mrkdwn("Vigie")}]
    return {"type": "modal", "title": plain("Vigie"), "close": plain("Cancel"), "blocks": blocks, **extra}


def confirm(**overrides: Any) -> dict[str, Any]:
    return {"title": plain("Sure?"), "text": mrkdwn("Really?"), "confirm": plain("Yes"), "deny": plain("No"),
            **overrides}


def blocks_(blocks: list[dict[str, Any]], surface: str = "message") -> list[str]:
    return slackspec.check_blocks(blocks, surface=surface)


# --------------------------------------------------------------------------- spec location and methods


def test_require_spec_skips_when_the_data_is_absent(monkeypatch, tmp_path):
    monkeypatch.setattr(slackspec, "SPEC_DIR", tmp_path / "absent")
    assert not slackspec.spec_available()
    with pytest.raises(pytest.skip.Exception, match="slack-spec is absent"):
        slackspec.require_spec()


def test_spec_dir_is_the_shared_sibling_of_the_repo():
    assert slackspec.SPEC_DIR.parts[-2:] == ("shared", "slack-spec")
    assert slackspec.SPEC_DIR.parent.parent == slackspec.SPEC_DIR.parents[1]
    slackspec.require_spec()
    assert (slackspec.SPEC_DIR / "README.md").is_file()


def test_method_lookups():
    slackspec.require_spec()
    assert slackspec.method_spec("chat.postMessage")["http_method"] == "POST"
    assert slackspec.method_scopes("chat.postMessage") == ["chat:write"]
    assert slackspec.method_scopes("users.info") == ["users:read"]
    assert "channels:history" in slackspec.method_scopes("conversations.history")
    assert slackspec.method_scopes("views.open") == []  # needs no scope
    assert slackspec.method_scopes("conversations.join") == ["channels:join"]  # bot scope, not user's
    assert sorted(slackspec.required_args("chat.update")) == ["channel", "ts"]
    assert "token" not in slackspec.required_args("auth.test")
    assert slackspec.method_tier("chat.postMessage") == "t5"
    assert slackspec.method_tier("conversations.history") == "t3"
    with pytest.raises(KeyError, match="chat.postMessag"):
        slackspec.method_spec("chat.postMessag")


def test_method_spec_returns_a_copy():
    slackspec.require_spec()
    slackspec.method_spec("chat.postMessage")["scope"]["bot"].append("admin")
    assert slackspec.method_scopes("chat.postMessage") == ["chat:write"]


# --------------------------------------------------------------------------- manifest


def _manifest_samples(kind: str) -> list:
    root = slackspec.SPEC_DIR / "manifest-schema" / "tests" / "manifests"
    return sorted(root.glob(f"v*/manifest.{kind}.json"))


def test_manifest_samples_valid_and_invalid():
    slackspec.require_spec()
    valid, invalid = _manifest_samples("valid"), _manifest_samples("invalid")
    assert len(valid) == len(invalid) == 2
    for path in valid:
        assert slackspec.validate_manifest(json.loads(path.read_text())) == [], path
    messages = {path.parent.name: slackspec.validate_manifest(json.loads(path.read_text())) for path in invalid}
    assert messages["v1"] == ["settings: Additional properties are not allowed ('bad_param' was unexpected)"]
    assert messages["v2"] and all("workflows/time_off_request" in m for m in messages["v2"])


BOLT_MANIFEST = """
display_information:
  name: Vigie
features:
  bot_user:
    display_name: Vigie
    always_online: true
  slash_commands:
    - command: /vigie
      description: Vigie
      should_escape: false
oauth_config:
  scopes:
    bot: [chat:write, commands, users:read, channels:history]
settings:
  event_subscriptions:
    bot_events: [app_home_opened]
  interactivity:
    is_enabled: true
  org_deploy_enabled: false
  socket_mode_enabled: true
  token_rotation_enabled: false
"""


def test_manifest_from_yaml_and_negatives():
    slackspec.require_spec()
    manifest = yaml.safe_load(BOLT_MANIFEST)
    assert slackspec.validate_manifest(manifest) == []
    del manifest["display_information"]["name"]
    assert slackspec.validate_manifest(manifest) == ["display_information: 'name' is a required property"]
    assert slackspec.validate_manifest({"_metadata": {"major_version": 3}, "display_information": {"name": "x"}}) == [
        "_metadata/major_version: unsupported major version 3 (known: 1, 2)"
    ]
    wrong_type = yaml.safe_load(BOLT_MANIFEST)
    wrong_type["settings"]["socket_mode_enabled"] = "yes"
    assert any(m.startswith("settings/socket_mode_enabled:") for m in slackspec.validate_manifest(wrong_type))


# --------------------------------------------------------------------------- Block Kit limits


def test_builtin_limits_mirror_the_derived_file():
    slackspec.require_spec()
    assert slackspec.block_kit_limits() == slackspec._BUILTIN_LIMITS


# One builder per entry of derived/block_kit_limits.json: n is a size (characters or items).
# The test below checks n == limit passes and n == limit + 1 is reported under that path.
LIMIT_CASES: dict[str, Callable[[int], list[str]]] = {
    "message.blocks": lambda n: blocks_([{"type": "divider"}] * n),
    "modal.blocks": lambda n: blocks_([{"type": "divider"}] * n, "modal"),
    "home.blocks": lambda n: blocks_([{"type": "divider"}] * n, "home"),
    "modal.title.text": lambda n: slackspec.check_view(modal(title=plain("t" * n))),
    "modal.close.text": lambda n: slackspec.check_view(modal(close=plain("c" * n))),
    "modal.submit.text": lambda n: slackspec.check_view(modal(submit=plain("s" * n))),
    "view.private_metadata": lambda n: slackspec.check_view(modal(private_metadata="p" * n)),
    "view.callback_id": lambda n: slackspec.check_view(modal(callback_id="c" * n)),
    "block.block_id": lambda n: blocks_([{"type": "divider", "block_id": "b" * n}]),
    "section.text.text": lambda n: blocks_([{"type": "section", "text": mrkdwn("x" * n)}]),
    "section.fields": lambda n: blocks_([{"type": "section", "fields": [mrkdwn("f")] * n}]),
    "section.fields[].text": lambda n: blocks_([{"type": "section", "fields": [mrkdwn("f" * n)]}]),
    "header.text.text": lambda n: blocks_([{"type": "header", "text": plain("h" * n)}]),
    "actions.elements": lambda n: blocks_([actions(*(button(f"b{i}") for i in range(n)))]),
    "context.elements": lambda n: blocks_([{"type": "context", "elements": [mrkdwn("c")] * n}]),
    "input.label.text": lambda n: blocks_(
        [{"type": "input", "label": plain("l" * n), "element": {"type": "plain_text_input", "action_id": "v"}}],
        "modal"),
    "input.hint.text": lambda n: blocks_(
        [{"type": "input", "label": plain("l"), "hint": plain("h" * n),
          "element": {"type": "plain_text_input", "action_id": "v"}}], "modal"),
    "image_block.image_url": lambda n: blocks_(
        [{"type": "image", "image_url": "https://e.x/" + "i" * (n - 12), "alt_text": "a"}]),
    "image_block.alt_text": lambda n: blocks_([{"type": "image", "image_url": "https://e.x/i.png", "alt_text": "a" * n}]),
    "markdown_block.text": lambda n: blocks_([{"type": "markdown", "text": "m" * n}]),
    "button.text.text": lambda n: blocks_([actions({**button(), "text": plain("t" * n)})]),
    "button.action_id": lambda n: blocks_([actions(button("a" * n))]),
    "button.url": lambda n: blocks_([actions(button(url="https://e.x/" + "u" * (n - 12)))]),
    "button.value": lambda n: blocks_([actions(button(value="v" * n))]),
    "button.accessibility_label": lambda n: blocks_([actions(button(accessibility_label="a" * n))]),
    "element.placeholder.text": lambda n: blocks_([actions(select([option()], placeholder=plain("p" * n)))]),
    "option.text.text": lambda n: blocks_([actions(select([option(text="o" * n)]))]),
    "option.value": lambda n: blocks_([actions(select([option(value="v" * n)]))]),
    "option_group.label": lambda n: blocks_(
        [actions({"type": "static_select", "action_id": "pick",
                  "option_groups": [{"label": plain("g" * n), "options": [option()]}]})]),
    "static_select.options": lambda n: blocks_([actions(select([option(value=str(i)) for i in range(n)]))]),
    "overflow.options": lambda n: blocks_(
        [actions({"type": "overflow", "action_id": "more", "options": [option(value=str(i)) for i in range(n)]})]),
    "confirm.title.text": lambda n: blocks_([actions(button(confirm=confirm(title=plain("t" * n))))]),
    "confirm.text.text": lambda n: blocks_([actions(button(confirm=confirm(text=mrkdwn("t" * n))))]),
    "confirm.confirm.text": lambda n: blocks_([actions(button(confirm=confirm(confirm=plain("c" * n))))]),
    "confirm.deny.text": lambda n: blocks_([actions(button(confirm=confirm(deny=plain("d" * n))))]),
}


def test_every_limit_of_the_derived_file_has_a_case():
    assert set(LIMIT_CASES) == set(slackspec.block_kit_limits())


@pytest.mark.parametrize("path", sorted(LIMIT_CASES))
def test_limit_is_enforced_exactly(path):
    limit = slackspec.block_kit_limits()[path]
    high = limit[1] if isinstance(limit, list) else limit  # overflow.options is a [min, max] range
    build = LIMIT_CASES[path]
    assert build(high) == [], f"{path}: {high} should pass"
    errors = build(high + 1)
    assert any(path in e for e in errors), errors


def test_overflow_needs_at_least_one_option():
    errors = LIMIT_CASES["overflow.options"](0)
    assert any("overflow.options" in e for e in errors), errors


@pytest.mark.parametrize(
    ("blocks", "surface", "expected"),
    [
        ([{"type": "header", "text": mrkdwn("h")}], "message", "blocks[0].text: must be plain_text"),
        ([actions({**button(), "text": mrkdwn("*go*")})], "message", "must be plain_text"),
        ([{"type": "section"}], "message", "needs text or fields"),
        ([{"type": "section", "text": mrkdwn("")}], "message", "non-empty string"),
        ([{"type": "section", "text": "bare string"}], "message", "not a bare string"),
        ([{"type": "section", "text": {"type": "markdown", "text": "x"}}], "message", "plain_text or mrkdwn"),
        ([{"type": "divider", "block_id": "x"}, {"type": "divider", "block_id": "x"}], "message",
         "duplicate block_id 'x'"),
        ([actions(button("same"), button("same"))], "message", "duplicate action_id 'same'"),
        ([actions()], "message", "needs at least 1 item"),
        ([actions(button(style="warning"))], "message", "must be primary or danger"),
        ([actions(select([{"text": mrkdwn("*a*"), "value": "a"}]))], "message", "must be plain_text"),
        ([actions({"type": "static_select", "action_id": "pick"})], "message", "exactly one of options"),
        ([{"type": "input", "label": mrkdwn("l"), "element": {"type": "plain_text_input", "action_id": "v"}}],
         "modal", "label: must be plain_text"),
        ([{"type": "input", "label": plain("l")}], "modal", "element: missing"),
        ([{"type": "image", "image_url": "https://e.x/i.png"}], "message", "alt_text: must be a non-empty string"),
        ([{"type": "carousel_of_dreams"}], "message", "unknown block type 'carousel_of_dreams'"),
        ([{"type": "section", "text": mrkdwn("x"), "colour": "red"}], "message",
         "blocks[0].colour: dropped by slack_sdk"),
        ([{"text": mrkdwn("no type")}], "message", "must be an object with a type"),
        ("not a list", "message", "blocks: must be a list"),
    ],
)
def test_block_checker_negatives(blocks, surface, expected):
    errors = slackspec.check_blocks(blocks, surface=surface)
    assert any(expected in e for e in errors), errors


def test_block_checker_accepts_what_a_bot_builds():
    message = [
        {"type": "header", "text": plain("Nouvelle mention")},
        {"type": "section", "block_id": "summary", "text": mrkdwn("*@vigie* a été cité"),
         "accessory": button("open", url="https://example.org/post/1")},
        {"type": "section", "fields": [mrkdwn("*Source*\nRSS"), plain("Score 0.9")]},
        {"type": "context", "elements": [mrkdwn("détecté à 10:00"),
                                         {"type": "image", "image_url": "https://e.x/i.png", "alt_text": "logo"}]},
        actions(button("approve", style="primary", value="a1", confirm=confirm()),
                button("reject", style="danger", value="a1"),
                select([option("High", "high")], placeholder=plain("Sévérité")),
                {"type": "overflow", "action_id": "more", "options": [option("Snooze", "snooze")]},
                {"type": "users_select", "action_id": "assign", "placeholder": plain("Assigner")}),
        # Same action_id as above but in another block: Slack only requires uniqueness per block.
        actions(button("approve", value="a2")),
        {"type": "divider"},
        {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": "x"}]}]},
    ]
    assert slackspec.check_blocks(message, surface="message") == []


def test_sdk_fixture_views_pass():
    slackspec.require_spec()
    views = slackspec.sdk_fixture_views()
    assert len(views) == 16
    for name, view in views.items():
        assert slackspec.check_view(view) == [], name
        assert slackspec.check_blocks(view["blocks"], surface=view["type"]) == [], name


def test_unknown_surface_is_a_usage_error():
    with pytest.raises(ValueError, match="surface"):
        slackspec.check_blocks([], surface="dialog")


# --------------------------------------------------------------------------- views and messages


def test_check_view_negatives():
    with_input = modal(blocks=[{"type": "input", "label": plain("Texte"),
                                "element": {"type": "plain_text_input", "action_id": "v"}}])
    assert slackspec.check_view(with_input) == ["submit: missing"]  # docs: submit needed with inputs
    assert slackspec.check_view({**with_input, "submit": plain("Envoyer")}) == []
    assert slackspec.check_view(modal(title=mrkdwn("Vigie"))) != []
    assert slackspec.check_view(modal(title=None)) != []
    assert any("between 1 and 100 blocks" in e for e in slackspec.check_view(modal(blocks=[])))
    assert slackspec.check_view({"type": "workflow_step", "blocks": []}) == [
        "type: must be modal or home, not 'workflow_step'"]
    home = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    assert any("home.blocks" in e for e in slackspec.check_view(home))


def test_check_message():
    ok = {"channel": "C0ALERTS01", "text": "alerte", "blocks": [{"type": "divider"}],
          "metadata": {"event_type": "vigie_alert", "event_payload": {"id": 1}}}
    assert slackspec.check_message(ok) == []
    # Form-encoded calls carry JSON strings: they are decoded, then checked.
    as_form = {**ok, "blocks": json.dumps([{"type": "header", "text": plain("h" * 151)}]),
               "metadata": json.dumps(ok["metadata"])}
    assert any("header.text.text" in e for e in slackspec.check_message(as_form))
    assert any(e.startswith("no_text") for e in slackspec.check_message({"channel": "C0ALERTS01"}))
    assert any("more than 40000" in e for e in slackspec.check_message({"channel": "C1", "text": "x" * 40_001}))
    assert slackspec.check_message({"channel": "C1", "text": "x" * 40_000}) == []
    assert any("event_payload" in e for e in slackspec.check_message(
        {"channel": "C1", "text": "x", "metadata": {"event_type": "t"}}))
    assert any("markdown_text_conflict" in e for e in slackspec.check_message(
        {"channel": "C1", "text": "x", "markdown_text": "**x**"}))
    assert any("thread_ts" in e for e in slackspec.check_message({"channel": "C1", "text": "x", "thread_ts": "12"}))


def test_check_message_uses_the_required_args_of_the_method():
    slackspec.require_spec()
    errors = slackspec.check_message({"channel": "C0ALERTS01", "text": "v2"}, method="chat.update")
    assert errors == ["ts: required by chat.update"]
    assert slackspec.check_message({"text": "x"}) == ["channel: required by chat.postMessage"]


# --------------------------------------------------------------------------- java samples


def test_java_samples():
    slackspec.require_spec()
    views = slackspec.java_sample("app-backend/views/*.json")
    assert {v["type"] for v in views} == {"view_submission", "view_closed"}
    events = slackspec.java_sample("events/*.json")
    assert len(events) == 96 and all(isinstance(e, dict) for e in events)
    with pytest.raises(FileNotFoundError, match="no java-slack-sdk sample"):
        slackspec.java_sample("app-backend/nothing-here/*.json")
