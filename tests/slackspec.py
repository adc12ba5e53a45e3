"""Helpers over Slack's published reference data (../shared/slack-spec, see its README.md).

The data is only present on the build machine: tests that need it call ``require_spec()`` first.
``check_blocks``/``check_message``/``check_view`` also work without it (they fall back to built-in
copies of the limits), so they can be used anywhere.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal

import pytest

SPEC_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "slack-spec"
METHODS_DIR = SPEC_DIR / "slack-api-ref" / "docs.slack.dev" / "methods"
JAVA_SAMPLES_DIR = SPEC_DIR / "java-slack-sdk" / "json-logs" / "samples"
SDK_FIXTURES_DIR = SPEC_DIR / "python-slack-sdk" / "tests" / "slack_sdk_fixture"
_MANIFEST_DIR = SPEC_DIR / "manifest-schema"
# manifest.schema.json $refs these; we serve them from the local copies (no network).
_MANIFEST_REFS = {
    major: f"https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/manifest.schema.{major}.0.0.json"
    for major in (1, 2)
}

Surface = Literal["message", "modal", "home"]


def spec_available() -> bool:
    return SPEC_DIR.is_dir()


def require_spec() -> None:
    if not spec_available():
        pytest.skip("../shared/slack-spec is absent (as on a user's machine): Slack conformance checks skipped")


# ---------------------------------------------------------------------------- Web API methods


@cache
def _method_spec(name: str) -> dict[str, Any]:
    path = METHODS_DIR / f"{name}.json"
    if not path.is_file():
        raise KeyError(f"no Slack method {name!r} in {METHODS_DIR}")
    return json.loads(path.read_text(encoding="utf-8"))


def method_spec(name: str) -> dict[str, Any]:
    """The slack-api-ref entry: desc, http_method, scope, rate_limits, args (JSON Schema), errors..."""
    return copy.deepcopy(_method_spec(name))


def method_scopes(name: str) -> list[str]:
    """Bot-token scopes listed for a method ([] when none is needed, e.g. views.*, chat.getPermalink).

    The list holds alternatives: conversations.history lists channels:/groups:/im:/mpim:history and
    needs only the one matching the conversation type.
    """
    scope = _method_spec(name).get("scope")
    return list(scope.get("bot") or []) if isinstance(scope, dict) else []  # a few entries say "none"


def required_args(name: str) -> list[str]:
    """Unconditionally required arguments, without ``token`` (it travels in the Authorization header)."""
    required = (_method_spec(name).get("args") or {}).get("required") or []
    return [a for a in required if a != "token"]


def method_tier(name: str) -> str | None:
    """Rate-limit tier, "t1".."t4", or "t5" for the special ones (chat.postMessage: ~1/s per channel)."""
    return _method_spec(name).get("rate_limits")


# ---------------------------------------------------------------------------- app manifest


@lru_cache(maxsize=1)
def _manifest_validators() -> tuple[Any, dict[int, Any]]:
    from jsonschema import Draft7Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    def load(path: Path) -> dict:
        return json.loads(path.read_text(encoding="utf-8"))

    versioned = {major: load(_MANIFEST_DIR / "schemas" / f"manifest.schema.{major}.0.0.json") for major in (1, 2)}
    registry = Registry().with_resources(
        (url, Resource.from_contents(versioned[major], default_specification=DRAFT7))
        for major, url in _MANIFEST_REFS.items()
    )
    top = Draft7Validator(load(_MANIFEST_DIR / "manifest.schema.json"), registry=registry)
    return top, {major: Draft7Validator(schema) for major, schema in versioned.items()}


def _where(error: Any) -> str:
    return "/".join(str(p) for p in error.absolute_path) or "(root)"


def validate_manifest(manifest: dict[str, Any]) -> list[str]:
    """Errors ("path: message") of an app manifest against Slack's manifest JSON Schema; [] when valid."""
    top, versioned = _manifest_validators()
    errors = list(top.iter_errors(manifest))
    if not errors:
        return []
    # The top schema is a oneOf over major versions, whose own message is an unreadable dump.
    # Re-validate against the schema of the version the manifest declares to get precise messages.
    metadata = manifest.get("_metadata") if isinstance(manifest, dict) else None
    major = metadata.get("major_version", 1) if isinstance(metadata, dict) else 1
    if major not in versioned:
        return [f"_metadata/major_version: unsupported major version {major!r} (known: 1, 2)"]
    precise = sorted(versioned[major].iter_errors(manifest), key=lambda e: list(e.absolute_path))
    if not precise:  # cannot happen with these schemas; keep the generic message rather than nothing
        return [f"{_where(e)}: {e.message}" for e in errors]
    return [f"{_where(e)}: {e.message}" for e in precise]


# ---------------------------------------------------------------------------- Block Kit limits

# Mirror of derived/block_kit_limits.json (path -> value), used when the spec dir is absent.
# test_slackspec checks that this mirror equals the file and that every entry is enforced here.
_BUILTIN_LIMITS: dict[str, Any] = {
    "message.blocks": 50, "modal.blocks": 100, "home.blocks": 100,
    "modal.title.text": 24, "modal.close.text": 24, "modal.submit.text": 24,
    "view.private_metadata": 3000, "view.callback_id": 255, "block.block_id": 255,
    "section.text.text": 3000, "section.fields": 10, "section.fields[].text": 2000,
    "header.text.text": 150, "actions.elements": 25, "context.elements": 10,
    "input.label.text": 2000, "input.hint.text": 2000,
    "image_block.image_url": 3000, "image_block.alt_text": 2000, "markdown_block.text": 12000,
    "button.text.text": 75, "button.action_id": 255, "button.url": 3000, "button.value": 2000,
    "button.accessibility_label": 75, "element.placeholder.text": 150,
    "option.text.text": 75, "option.value": 150, "option_group.label": 75,
    "static_select.options": 100, "overflow.options": [1, 5],
    "confirm.title.text": 100, "confirm.text.text": 300, "confirm.confirm.text": 30, "confirm.deny.text": 30,
}
# Message-level limits from the chat.postMessage docs (not Block Kit, so not in the derived file).
MESSAGE_TEXT_MAX = 40_000
MARKDOWN_TEXT_MAX = 12_000


@lru_cache(maxsize=1)
def block_kit_limits() -> dict[str, Any]:
    """path -> value from derived/block_kit_limits.json (built-in mirror when the spec is absent)."""
    path = SPEC_DIR / "derived" / "block_kit_limits.json"
    if not path.is_file():
        return dict(_BUILTIN_LIMITS)
    return {entry["path"]: entry["value"] for entry in json.loads(path.read_text(encoding="utf-8"))["limits"]}


_SELECTS_WITH_STATIC_OPTIONS = {"static_select", "multi_static_select"}
_PLAIN_OPTION_ELEMENTS = _SELECTS_WITH_STATIC_OPTIONS | {"overflow"}  # radio/checkboxes allow mrkdwn


class _Checker:
    """Walks blocks and collects "where: problem" strings."""

    def __init__(self) -> None:
        self.limits = block_kit_limits()
        self.errors: list[str] = []

    def err(self, where: str, problem: str) -> None:
        self.errors.append(f"{where}: {problem}")

    def max_chars(self, where: str, value: Any, key: str) -> None:
        limit = self.limits[key]
        if isinstance(value, str) and len(value) > limit:
            self.err(where, f"{len(value)} characters, more than {limit} ({key})")

    def max_items(self, where: str, value: Any, key: str, *, minimum: int = 0) -> None:
        if not isinstance(value, list):
            self.err(where, "must be a list")
            return
        limit = self.limits[key]
        if len(value) > limit:
            self.err(where, f"{len(value)} items, more than {limit} ({key})")
        if len(value) < minimum:
            self.err(where, f"needs at least {minimum} item(s)")

    def text(self, where: str, obj: Any, key: str | None, *, plain_only: bool = False, required: bool = True) -> None:
        """A composition text object: {"type": plain_text|mrkdwn, "text": non-empty str}."""
        if obj is None:
            if required:
                self.err(where, "missing")
            return
        if not isinstance(obj, dict):
            self.err(where, "must be a text object, not a bare string")
            return
        kind = obj.get("type")
        if kind not in ("plain_text", "mrkdwn"):
            self.err(where, f"text object type must be plain_text or mrkdwn, not {kind!r}")
        elif plain_only and kind != "plain_text":
            self.err(where, "must be plain_text (mrkdwn is not allowed here)")
        value = obj.get("text")
        if not isinstance(value, str) or not value:
            self.err(where + ".text", "must be a non-empty string")
        elif key:
            self.max_chars(where + ".text", value, key)

    # -- blocks

    def blocks(self, blocks: Any, surface: Surface) -> None:
        if not isinstance(blocks, list):
            self.err("blocks", "must be a list")
            return
        self.max_items("blocks", blocks, f"{surface}.blocks")
        block_ids: set[str] = set()
        for i, block in enumerate(blocks):
            where = f"blocks[{i}]"
            if not isinstance(block, dict) or not isinstance(block.get("type"), str):
                self.err(where, "must be an object with a type")
                continue
            block_id = block.get("block_id")
            if block_id is not None:
                self.max_chars(where + ".block_id", block_id, "block.block_id")
                if block_id in block_ids:  # Slack rejects duplicate block_ids in one message/view
                    self.err(where + ".block_id", f"duplicate block_id {block_id!r}")
                block_ids.add(block_id)
            check = getattr(self, "block_" + block["type"], None)
            if check is not None:
                check(where, block)

    def block_section(self, where: str, block: dict) -> None:
        if block.get("text") is None and block.get("fields") is None:
            self.err(where, "a section needs text or fields")
        self.text(where + ".text", block.get("text"), "section.text.text", required=False)
        fields = block.get("fields")
        if fields is not None:
            self.max_items(where + ".fields", fields, "section.fields", minimum=1)
            for j, f in enumerate(fields if isinstance(fields, list) else []):
                self.text(f"{where}.fields[{j}]", f, "section.fields[].text")
        if block.get("accessory") is not None:
            self.element(where + ".accessory", block["accessory"], set())

    def block_header(self, where: str, block: dict) -> None:
        self.text(where + ".text", block.get("text"), "header.text.text", plain_only=True)

    def block_context(self, where: str, block: dict) -> None:
        elements = block.get("elements")
        self.max_items(where + ".elements", elements, "context.elements", minimum=1)
        for j, e in enumerate(elements if isinstance(elements, list) else []):
            if isinstance(e, dict) and e.get("type") == "image":
                self.image(f"{where}.elements[{j}]", e)
            else:
                self.text(f"{where}.elements[{j}]", e, None)

    def block_actions(self, where: str, block: dict) -> None:
        elements = block.get("elements")
        self.max_items(where + ".elements", elements, "actions.elements", minimum=1)
        action_ids: set[str] = set()  # Slack: action_id unique among the elements of its block
        for j, e in enumerate(elements if isinstance(elements, list) else []):
            self.element(f"{where}.elements[{j}]", e, action_ids)

    def block_input(self, where: str, block: dict) -> None:
        self.text(where + ".label", block.get("label"), "input.label.text", plain_only=True)
        self.text(where + ".hint", block.get("hint"), "input.hint.text", plain_only=True, required=False)
        if block.get("element") is None:
            self.err(where + ".element", "missing")
        else:
            self.element(where + ".element", block["element"], set())

    def block_image(self, where: str, block: dict) -> None:
        self.image(where, block)
        self.text(where + ".title", block.get("title"), None, plain_only=True, required=False)

    def block_markdown(self, where: str, block: dict) -> None:
        if not isinstance(block.get("text"), str) or not block["text"]:
            self.err(where + ".text", "must be a non-empty string")
        self.max_chars(where + ".text", block.get("text"), "markdown_block.text")

    def image(self, where: str, obj: dict) -> None:
        if obj.get("image_url") is None and obj.get("slack_file") is None:
            self.err(where, "needs image_url or slack_file")
        self.max_chars(where + ".image_url", obj.get("image_url"), "image_block.image_url")
        if not isinstance(obj.get("alt_text"), str) or not obj["alt_text"]:
            self.err(where + ".alt_text", "must be a non-empty string")
        self.max_chars(where + ".alt_text", obj.get("alt_text"), "image_block.alt_text")

    # -- elements and composition objects

    def element(self, where: str, e: Any, action_ids: set[str]) -> None:
        if not isinstance(e, dict) or not isinstance(e.get("type"), str):
            self.err(where, "must be an object with a type")
            return
        kind = e["type"]
        if kind == "image":
            self.image(where, e)
            return
        action_id = e.get("action_id")
        if action_id is not None:
            self.max_chars(where + ".action_id", action_id, "button.action_id")
            if action_id in action_ids:
                self.err(where + ".action_id", f"duplicate action_id {action_id!r} in this block")
            action_ids.add(action_id)
        self.text(where + ".placeholder", e.get("placeholder"), "element.placeholder.text",
                  plain_only=True, required=False)
        if e.get("confirm") is not None:
            self.confirm(where + ".confirm", e["confirm"])
        if kind == "button":
            self.text(where + ".text", e.get("text"), "button.text.text", plain_only=True)
            self.max_chars(where + ".value", e.get("value"), "button.value")
            self.max_chars(where + ".url", e.get("url"), "button.url")
            self.max_chars(where + ".accessibility_label", e.get("accessibility_label"), "button.accessibility_label")
            if e.get("style") not in (None, "primary", "danger"):
                self.err(where + ".style", f"must be primary or danger, not {e['style']!r}")
        if kind in _SELECTS_WITH_STATIC_OPTIONS:
            if (e.get("options") is None) == (e.get("option_groups") is None):
                self.err(where, "needs exactly one of options / option_groups")
            if e.get("option_groups") is not None:
                self.max_items(where + ".option_groups", e["option_groups"], "static_select.options")
                for j, group in enumerate(e["option_groups"] if isinstance(e["option_groups"], list) else []):
                    self.option_group(f"{where}.option_groups[{j}]", group)
        if e.get("options") is not None:
            options = e["options"]
            if kind == "overflow":
                low, high = self.limits["overflow.options"]
                if isinstance(options, list) and not low <= len(options) <= high:
                    self.err(where + ".options", f"{len(options)} options, overflow needs {low} to {high} (overflow.options)")
            else:
                self.max_items(where + ".options", options, "static_select.options", minimum=1)
            for j, option in enumerate(options if isinstance(options, list) else []):
                self.option(f"{where}.options[{j}]", option, plain_only=kind in _PLAIN_OPTION_ELEMENTS)

    def option(self, where: str, option: Any, *, plain_only: bool) -> None:
        if not isinstance(option, dict):
            self.err(where, "must be an option object")
            return
        self.text(where + ".text", option.get("text"), "option.text.text", plain_only=plain_only)
        if not isinstance(option.get("value"), str):
            self.err(where + ".value", "must be a string")
        self.max_chars(where + ".value", option.get("value"), "option.value")

    def option_group(self, where: str, group: Any) -> None:
        if not isinstance(group, dict):
            self.err(where, "must be an option group object")
            return
        self.text(where + ".label", group.get("label"), "option_group.label", plain_only=True)
        options = group.get("options")
        self.max_items(where + ".options", options, "static_select.options", minimum=1)
        for j, option in enumerate(options if isinstance(options, list) else []):
            self.option(f"{where}.options[{j}]", option, plain_only=True)

    def confirm(self, where: str, obj: Any) -> None:
        if not isinstance(obj, dict):
            self.err(where, "must be a confirmation dialog object")
            return
        self.text(where + ".title", obj.get("title"), "confirm.title.text", plain_only=True)
        self.text(where + ".text", obj.get("text"), "confirm.text.text")
        self.text(where + ".confirm", obj.get("confirm"), "confirm.confirm.text", plain_only=True)
        self.text(where + ".deny", obj.get("deny"), "confirm.deny.text", plain_only=True)


def _dropped_keys(sent: Any, kept: Any, where: str) -> list[str]:
    """Keys of ``sent`` that slack_sdk's round trip lost: fields it does not know (or empty values)."""
    out: list[str] = []
    if isinstance(sent, dict) and isinstance(kept, dict):
        for key, value in sent.items():
            if key not in kept:
                out.append(f"{where}.{key}: dropped by slack_sdk (unknown field or empty value)")
            else:
                out.extend(_dropped_keys(value, kept[key], f"{where}.{key}"))
    elif isinstance(sent, list) and isinstance(kept, list) and len(sent) == len(kept):
        for i, (a, b) in enumerate(zip(sent, kept)):
            out.extend(_dropped_keys(a, b, f"{where}[{i}]"))
    return out


def _sdk_errors(blocks: list) -> list[str]:
    """What slack_sdk's models reject: unknown block types, validators run by to_dict(), lost fields."""
    from slack_sdk.models.blocks import Block

    errors = []
    for i, block in enumerate(blocks):
        where = f"blocks[{i}]"
        if not isinstance(block, dict):
            continue  # reported by _Checker
        try:
            parsed = Block.parse(block)
            if parsed is None:
                errors.append(f"{where}: unknown block type {block.get('type')!r} (slack_sdk cannot parse it)")
                continue
            errors.extend(_dropped_keys(block, parsed.to_dict(), where))
        except Exception as exc:  # noqa: BLE001 - SlackObjectFormationError, TypeError... all are findings
            errors.append(f"{where}: slack_sdk: {type(exc).__name__}: {exc}")
    return errors


def check_blocks(blocks: list[dict[str, Any]], *, surface: Surface = "message") -> list[str]:
    """Block Kit problems of ``blocks`` on ``surface`` ("message" | "modal" | "home"); [] when fine."""
    if surface not in ("message", "modal", "home"):
        raise ValueError(f"unknown surface {surface!r}")
    checker = _Checker()
    checker.blocks(blocks, surface)
    if isinstance(blocks, list):
        checker.errors.extend(_sdk_errors(blocks))
    return checker.errors


def _maybe_json(value: Any) -> Any:
    """Form-encoded calls carry blocks/metadata as JSON strings."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def check_message(args: dict[str, Any], *, method: str = "chat.postMessage") -> list[str]:
    """Problems of a chat.postMessage / chat.update / chat.postEphemeral argument dict."""
    errors: list[str] = []
    present = {k for k, v in args.items() if v not in (None, "", [])}
    if spec_available():
        errors += [f"{a}: required by {method}" for a in required_args(method) if a not in present]
    if not present & {"text", "blocks", "attachments", "markdown_text"} and method != "chat.update":
        errors.append("no_text: one of text, blocks, attachments or markdown_text is required")
    text = args.get("text")
    if text is not None and not isinstance(text, str):
        errors.append("text: must be a string")
    elif isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX:
        errors.append(f"text: {len(text)} characters, more than {MESSAGE_TEXT_MAX}")
    markdown_text = args.get("markdown_text")
    if markdown_text is not None:
        if "text" in present or "blocks" in present:
            errors.append("markdown_text: cannot be combined with text or blocks (markdown_text_conflict)")
        if isinstance(markdown_text, str) and len(markdown_text) > MARKDOWN_TEXT_MAX:
            errors.append(f"markdown_text: {len(markdown_text)} characters, more than {MARKDOWN_TEXT_MAX}")
    blocks = _maybe_json(args.get("blocks"))
    if blocks is not None:
        errors += check_blocks(blocks, surface="message")
    metadata = _maybe_json(args.get("metadata"))
    if metadata is not None:
        if not isinstance(metadata, dict):
            errors.append("metadata: must be an object with event_type and event_payload")
        elif "entities" not in metadata:  # Work Object metadata has its own shape
            if not isinstance(metadata.get("event_type"), str) or not metadata["event_type"]:
                errors.append("metadata.event_type: must be a non-empty string")
            if not isinstance(metadata.get("event_payload"), dict):
                errors.append("metadata.event_payload: must be an object")
    for key in ("thread_ts", "ts"):
        if args.get(key) is not None and not re.fullmatch(r"\d+\.\d+", str(args[key])):
            errors.append(f"{key}: {args[key]!r} is not a Slack timestamp")
    return errors


def check_view(view: dict[str, Any]) -> list[str]:
    """Problems of a modal or home view (as passed to views.open/update/push/publish)."""
    if not isinstance(view, dict):
        return ["view: must be an object"]
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return [f"type: must be modal or home, not {kind!r}"]
    checker = _Checker()
    if kind == "modal":
        checker.text("title", view.get("title"), "modal.title.text", plain_only=True)
        checker.text("close", view.get("close"), "modal.close.text", plain_only=True, required=False)
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        checker.text("submit", view.get("submit"), "modal.submit.text", plain_only=True, required=has_input)
    checker.max_chars("private_metadata", view.get("private_metadata"), "view.private_metadata")
    checker.max_chars("callback_id", view.get("callback_id"), "view.callback_id")
    checker.blocks(view.get("blocks"), kind)
    errors = checker.errors
    if isinstance(view.get("blocks"), list):
        errors += _sdk_errors(view["blocks"])
    try:
        from slack_sdk.models.views import View

        View(**view).to_dict()
    except Exception as exc:  # noqa: BLE001 - any failure of the SDK model is a finding
        errors.append(f"view: slack_sdk: {type(exc).__name__}: {exc}")
    return errors


# ---------------------------------------------------------------------------- sample payloads


def java_sample(path_glob: str) -> list[dict[str, Any]]:
    """java-slack-sdk sample payloads matching a glob under json-logs/samples (sorted by path).

    E.g. ``java_sample("app-backend/views/*.json")``, ``java_sample("events/*.json")``. Values are
    placeholders ("", 123, false): use them for shape/tolerance tests only.
    """
    paths = sorted(JAVA_SAMPLES_DIR.glob(path_glob))
    if not paths:
        raise FileNotFoundError(f"no java-slack-sdk sample matches {path_glob!r} under {JAVA_SAMPLES_DIR}")
    return [json.loads(p.read_text(encoding="utf-8")) for p in paths]


def sdk_fixture_views() -> dict[str, dict[str, Any]]:
    """python-slack-sdk's real modal/home views (file name -> view): positive controls."""
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(SDK_FIXTURES_DIR.glob("view_*.json"))}
