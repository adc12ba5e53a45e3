"""Reading the protocol file: YAML with the line of every setting, pydantic's errors as sentences, the entry
points; and the domain's routing table built from a loaded protocol.

People edit the file by hand, so every mistake must come back as a sentence that names the setting and its line:

    protocol.yaml:14: teams.finance.channel: doit être un identifiant de canal Slack comme C0123ABCD ou ...
"""

from __future__ import annotations

import difflib
import re
import types
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, SequenceNode

from bot.domain.oncall import Rotation
from bot.domain.routing import Router, RouteRule, RoutingTable, SeverityRules, Triage
from bot.protocol.errors import Loc, ProtocolError, ProtocolIssue, _format_path, _issue
from bot.protocol.schema import Protocol

__all__ = [
    "EXAMPLE_PROTOCOL",
    "ProtocolError",
    "load_protocol",
    "oncall_rotation",
    "parse_protocol",
    "router_for",
    "routing_table",
    "triage",
]

EXAMPLE_PROTOCOL = Path(__file__).parent.parent / "examples" / "protocol.example.yaml"

# --- YAML with line numbers --------------------------------------------------------------------------------

_MERGE_TAG = "tag:yaml.org,2002:merge"


def _index_nodes(
    loader: yaml.SafeLoader,
    node: Node,
    path: Loc,
    lines: dict[Loc, int],
    issues: list[ProtocolIssue],
    seen_nodes: set[int],
) -> None:
    """Record the line of every key and list item, and report keys written twice in one mapping."""
    if id(node) in seen_nodes:  # an alias (*name): already indexed, and cycles must not loop forever
        return
    seen_nodes.add(id(node))
    if isinstance(node, MappingNode):
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:  # "<<: *defaults" may be overridden on purpose
                continue
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                earlier = first_line.get(key)
            except TypeError:  # unhashable key: construct_document reports it with its line
                continue
            child = (*path, key)
            if earlier is not None:
                issues.append(_issue(_format_path(child), line, "duplicate_key", earlier=earlier))
                continue
            first_line[key] = line
            lines[child] = line
            _index_nodes(loader, value_node, child, lines, issues, seen_nodes)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            _index_nodes(loader, item, (*path, i), lines, issues, seen_nodes)


def _yaml_issue(exc: yaml.YAMLError, text: str) -> ProtocolIssue:
    """Turn PyYAML's report into a sentence and a line."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        return _issue("", line, "yaml_character", character=f"{exc.character:04x}")
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None) or ""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    if "'\\t'" in problem:
        code = "yaml_tab"
    elif problem.startswith("mapping values are not allowed"):
        code = "yaml_colon"
    elif problem.startswith("could not find expected ':'"):
        code = "yaml_key_value"
    elif "quoted scalar" in context or "flow" in context:
        # The problem shows at the end of the file; where the quote or bracket was opened helps more.
        context_mark = getattr(exc, "context_mark", None)
        line = context_mark.line + 1 if context_mark is not None else line
        code = "yaml_quote" if "quoted scalar" in context else "yaml_bracket"
    elif "could not determine a constructor" in problem:
        code = "yaml_tag"
    elif "another document" in problem:
        code = "yaml_documents"
    elif problem.startswith("expected <block end>"):
        code = "yaml_indentation"
    else:  # PyYAML's own words (English) for the rare cases above does not cover
        return _issue("", line, "yaml_invalid", detail=" ".join(filter(None, [context, problem])))
    return _issue("", line, code)


def _bad_timestamp(loader: yaml.SafeLoader, node: Node) -> ProtocolIssue:
    """The first value YAML takes for a date but that is not one (2026-02-30), with its line."""
    stack = [node]
    while stack:
        current = stack.pop(0)
        if isinstance(current, MappingNode):
            stack[:0] = [part for pair in current.value for part in pair]
        elif isinstance(current, SequenceNode):
            stack[:0] = list(current.value)
        elif current.tag == "tag:yaml.org,2002:timestamp":
            try:
                loader.construct_yaml_timestamp(current)
            except ValueError:
                return _issue("", current.start_mark.line + 1, "bad_date", value=current.value)
    return _issue("", None, "invalid_value")


def _read_yaml(text: str, filename: str) -> tuple[Any, dict[Loc, int]]:
    """yaml.safe_load, plus the line of every key and list item, and duplicate keys refused."""
    try:
        loader = yaml.SafeLoader(text)  # checks the characters at once
    except yaml.YAMLError as exc:
        raise ProtocolError([_yaml_issue(exc, text)], filename) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: dict[Loc, int] = {}
        issues: list[ProtocolIssue] = []
        _index_nodes(loader, node, (), lines, issues, set())
        if issues:
            raise ProtocolError(issues, filename)
        try:
            return loader.construct_document(node), lines
        except ValueError:  # an impossible date such as 2026-02-30, which YAML reads as a date
            raise ProtocolError([_bad_timestamp(loader, node)], filename) from None
    except yaml.YAMLError as exc:
        raise ProtocolError([_yaml_issue(exc, text)], filename) from None
    finally:
        loader.dispose()


# --- pydantic errors as sentences ------------------------------------------------------------------------

# pydantic's error types -> the catalogue key of their sentence (after "protocol.error."); the others below.
_KEYS = {
    "missing": "missing",
    "string_type": "string_type",
    "int_type": "whole_number",
    "int_parsing": "whole_number",
    "int_from_float": "whole_number",
    "list_type": "list_type",
    "tuple_type": "list_type",
    "dict_type": "section",
    "model_type": "section",
    "bool_type": "bool_type",
    "float_type": "number",
    "float_parsing": "number",
    "string_too_short": "string_too_short",
}


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The model found at `loc` in the protocol's structure, e.g. Team for ("teams", "finance")."""
    annotation: Any = Protocol
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return None
            annotation = field.annotation
        elif get_origin(annotation) in (list, dict):
            annotation = get_args(annotation)[-1]
        else:
            return None
    annotation = _unwrap(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _sentence(error: Any, loc: Loc) -> tuple[str, dict[str, Any]]:
    """The catalogue key (after "protocol.error.") and parameters of the sentence for one pydantic error."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    if "message_key" in ctx:  # ours, raised with _error
        return ctx["message_key"], {k: v for k, v in ctx.items() if k != "message_key"}
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        known = list(model.model_fields) if model else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        if close:
            return "extra_forbidden.suggest", {"suggestion": close[0]}
        return ("extra_forbidden.known", {"known": ", ".join(known)}) if known else ("extra_forbidden", {})
    if value is None and kind in ("string_type", "list_type", "dict_type", "model_type", "int_type"):
        # `channel: #veille-finance` is the classic: YAML reads everything after " #" as a comment.
        return ("empty_comment" if kind == "string_type" else "empty"), {}
    if kind in _KEYS:
        return _KEYS[kind], {}
    if kind in ("literal_error", "enum"):
        # pydantic writes the choices as "'a', 'b' or 'c'"; the sentence gets them back as a list.
        choices = re.split(r", | or ", str(ctx["expected"]))
        return "literal_error", {"choices": tuple(choices)}
    if kind in ("greater_than", "greater_than_equal", "less_than_equal"):
        bound = ctx.get("gt", ctx.get("ge", ctx.get("le")))
        return kind, {"limit": _number(bound)}
    if kind == "too_short":
        return ("too_short.one" if ctx["min_length"] == 1 else "too_short.other"), {"n": ctx["min_length"]}
    if kind == "string_too_long":
        return "string_too_long", {"n": ctx["max_length"]}
    # A type this file never produces in practice: pydantic's English words rather than nothing.
    return "invalid", {"detail": str(error["msg"]).removeprefix("Value error, ")}


def _issues(exc: ValidationError, lines: dict[Loc, int]) -> list[ProtocolIssue]:
    issues = []
    for error in exc.errors():
        loc: Loc = tuple(part for part in error["loc"] if part != "[key]")
        # A missing setting has no line of its own: point at its section (its closest known parent).
        probe = loc
        while probe and probe not in lines:
            probe = probe[:-1]
        key, params = _sentence(error, loc)
        issues.append(_issue(_format_path(loc), lines.get(probe), error["type"], key, **params))
    return issues


# --- entry points ------------------------------------------------------------------------------------------


def parse_protocol(text: str, filename: str = "<string>", base_dir: str | Path | None = None) -> Protocol:
    """Validate a protocol given as YAML text; raise ProtocolError listing every problem found.

    `base_dir` is the folder a relative `checks.roster` path starts from; by default, `filename`'s folder
    (the current directory for "<string>").
    """
    data, lines = _read_yaml(text, filename)
    if data is None:
        raise ProtocolError([_issue("", None, "file_empty")], filename)
    try:
        base = Path(base_dir) if base_dir is not None else Path(filename).parent
        return Protocol.model_validate(data, context={"base_dir": base})
    except ValidationError as exc:
        # Told in the file's own language when it names one we speak (else in French).
        lang = data.get("language") if isinstance(data, dict) else None
        raise ProtocolError(_issues(exc, lines), filename, lang if isinstance(lang, str) else None) from None


def load_protocol(path: str | Path) -> Protocol:
    """Read and validate the protocol file at `path`; raise ProtocolError on any problem."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # -sig: tolerate the BOM some editors add
    except UnicodeDecodeError:
        raise ProtocolError([_issue("", None, "file_encoding")], str(path)) from None
    except OSError as exc:
        # The system's reason (strerror) stays in the system's words.
        raise ProtocolError([_issue("", None, "file_unreadable", reason=exc.strerror or str(exc))], str(path)) from None
    return parse_protocol(text, str(path), base_dir=Path(path).parent)


# --- the protocol as domain data -----------------------------------------------------------------------------


def routing_table(protocol: Protocol) -> RoutingTable:
    """What triage needs from `protocol`, as the domain's plain data."""
    policy = protocol.severity
    return RoutingTable(
        teams=frozenset(protocol.teams),
        default_team=protocol.default_team,
        rules=tuple(
            RouteRule(
                team=rule.team,
                keywords=tuple(rule.keywords),
                patterns=tuple(zip(rule.patterns, rule.compiled_patterns, strict=True)),
                sources=frozenset(rule.sources),  # already lowercased by the protocol
                languages=frozenset(rule.languages),
            )
            for rule in protocol.routing
        ),
        severity=SeverityRules(
            default=policy.default,
            reach=tuple((t.at_least, t.severity) for t in policy.reach),
            negative_raise_by=policy.negative_cues.raise_by,
            negative_words=tuple(policy.negative_cues.words),
            crisis_severity=policy.crisis_words.severity,
            crisis_words=tuple(policy.crisis_words.words),
        ),
    )


def oncall_rotation(protocol: Protocol, role: str) -> Rotation | None:
    """The on-call rotation of `role` ("community_managers" or "decision_makers"); None when the protocol has none."""
    cfg = getattr(protocol.oncall, role, None)
    if cfg is None or not cfg.rotation:
        return None
    # The protocol gives the first handover as a local wall-clock time in its timezone.
    return Rotation(people=tuple(cfg.rotation), starts=cfg.starts.replace(tzinfo=protocol.tz), tz=protocol.tz)


# Routers by protocol identity: a Protocol is frozen, so its compiled router never goes stale. The weak
# reference drops the router with its protocol (and proves a reused id() is not a different protocol).
_routers: dict[int, tuple[weakref.ref[Protocol], Router]] = {}


def router_for(protocol: Protocol) -> Router:
    """The compiled router of `protocol`, built on first use."""
    key, routers = id(protocol), _routers  # the callback keeps its own reference: globals vanish at exit
    entry = routers.get(key)
    if entry is not None and entry[0]() is protocol:
        return entry[1]
    router = Router(routing_table(protocol))

    def forget(ref: weakref.ref[Protocol]) -> None:
        if routers.get(key, (None,))[0] is ref:
            routers.pop(key, None)

    # Two threads may build a router for the same protocol at once: both are equal, either may stay.
    routers[key] = (weakref.ref(protocol, forget), router)
    return router


def triage(
    *,
    text: str,
    source: str,
    language: str | None,
    reach: int | None,
    tags: Sequence[str],
    protocol: Protocol,
    forced_team: str | None = None,
) -> Triage:
    """Decide the team and severity of one mention with `protocol`'s rules (see `Router.triage`); the router is
    built once per protocol."""
    return router_for(protocol).triage(
        text=text, source=source, language=language, reach=reach, tags=tags, forced_team=forced_team
    )
