"""Hostile input, generated: the intake API from its own OpenAPI document (schemathesis), the protocol loader
and the CSV/JSON Lines importer (hypothesis).

Short runs are always on; `VIGIE_FUZZ_LONG=1` runs many more examples (minutes, not seconds).
"""

from __future__ import annotations

import copy
import csv
import io
import json
import os
from typing import Any

import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.intake.files import LineError, read_mentions
from bot.intake.schema import MentionIn
from bot.protocol.load import ProtocolError, parse_protocol
from bot.protocol.schema import Protocol
from tests.conftest import AUTH, TEST_PROTOCOL

LONG = os.environ.get("VIGIE_FUZZ_LONG") == "1"
API_EXAMPLES = 1000 if LONG else 50


def test_api_never_fails_and_answers_as_documented(http, runtime):
    # The real app (database, outbox, fake Slack behind it), read from its own /openapi.json. schemathesis's
    # pytest integration (from_fixture) does not run under pytest 9, so each operation's strategy is driven here.
    api = schemathesis.openapi.from_asgi("/openapi.json", http.app)
    operations = [result.ok() for result in api.get_all_operations()]
    assert {(op.method.upper(), op.path) for op in operations} >= {("POST", "/intake/mentions"), ("GET", "/healthz")}
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=API_EXAMPLES, suppress_health_check=list(HealthCheck), database=None)
        def call(case):
            # With the real intake token, so generated valid mentions go all the way to the database.
            case.call_and_validate(headers=AUTH)

        call()


# --- the protocol loader -----------------------------------------------------------------------------------

PROTOCOL_TEXT = TEST_PROTOCOL.read_text(encoding="utf-8")
PROTOCOL_DATA = yaml.safe_load(PROTOCOL_TEXT)
HOSTILE_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30),
    st.sampled_from(["", "#", "<!channel>", "C0", "U0", "2026-13-45", "25:99", "-1h", "1e400", "*" * 500,
                     "[", "{a: b", "!!python/object:os.system ls", "&anchor", "*alias", "\u202eevil", "\x00"]),
    st.lists(st.text(max_size=5), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
PROTOCOL_EXAMPLES = 2000 if LONG else 150


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        out += _paths(child, (*prefix, key))
    return out


PROTOCOL_PATHS = _paths(PROTOCOL_DATA)


def _load(text: str) -> Protocol | ProtocolError:
    try:
        return parse_protocol(text, "protocol.yaml", base_dir=TEST_PROTOCOL.parent)
    except ProtocolError as exc:  # anything else escapes and fails the test
        assert exc.issues and all(issue.message.strip() for issue in exc.issues)
        return exc


@given(path=st.sampled_from(PROTOCOL_PATHS), value=HOSTILE_VALUES, drop=st.booleans())
@settings(max_examples=PROTOCOL_EXAMPLES)
def test_a_protocol_with_one_bad_value_is_refused_with_its_field_and_line(path, value, drop):
    data = copy.deepcopy(PROTOCOL_DATA)
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    if drop:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    result = _load(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    if isinstance(result, ProtocolError):
        # The person is told where: a field, and a line whenever the problem is in the file (a removed
        # top-level section has no line of its own).
        assert all(issue.field or issue.line for issue in result.issues), str(result)
        if not drop:
            assert any(issue.line for issue in result.issues), str(result)


@given(text=st.one_of(st.text(max_size=300),
                      st.lists(st.sampled_from(PROTOCOL_TEXT.splitlines()), max_size=60).map("\n".join)))
@settings(max_examples=PROTOCOL_EXAMPLES)
def test_any_text_is_a_protocol_or_a_protocol_error(text):
    # Shuffled lines of a real protocol reach deep into validation; random text tests the YAML layer.
    _load(text)


# --- the CSV / JSON Lines importer -------------------------------------------------------------------------

IMPORT_EXAMPLES = 1000 if LONG else 100
COLUMNS = ["source", "id", "url", "auteur", "Contenu", "date", "lang", "reach", "tags"]
CELL = st.one_of(st.text(max_size=40), st.sampled_from(
    ["", " ", '"', '""', ";", ",", "\t", "\r", "\n", "=cmd|' /C calc'!A0", "12,5K", "-3", "1e999", "2026-02-30",
     "21/11/2026 09:30", "javascript:alert(1)", "https://", "\ufeff", "\x00", "é" * 300]))


def valid_row(i: int) -> list[str]:
    return ["x", f"ok-{i}", f"https://x.example/{i}", "@a", f"texte {i}", "2026-11-21T09:30:00+01:00",
            "fr", "12 500", "a;b"]


@given(rows=st.lists(st.one_of(st.tuples(st.just(False), st.lists(CELL, max_size=11)),
                               st.tuples(st.just(True), st.integers(0, 10**6).map(valid_row))), max_size=25),
       delimiter=st.sampled_from([",", ";", "\t"]))
@settings(max_examples=IMPORT_EXAMPLES)
def test_csv_rows_give_mentions_or_errors_at_their_line(rows, delimiter):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(COLUMNS)
    planted: dict[int, str] = {}  # line -> external_id of a valid row written there
    for valid, row in rows:
        line = out.getvalue().count("\n") + 1
        writer.writerow(row)
        if valid:
            planted[line] = row[1]
    total_lines = out.getvalue().count("\n")
    items = list(read_mentions(io.BytesIO(out.getvalue().encode("utf-8", "surrogatepass")), fmt="csv"))
    lines = [line for line, _ in items]
    assert lines == sorted(set(lines)) and all(2 <= line <= total_lines for line in lines)
    for line, item in items:
        if isinstance(item, LineError):
            assert item.line == line and item.message
    kept = {line: item.external_id for line, item in items if isinstance(item, MentionIn)}
    assert {line: kept.get(line) for line in planted} == planted


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                      max_size=3), max_leaves=10)
RECORD = st.fixed_dictionaries({}, optional={
    key: JSON_VALUES for key in ("source", "id", "url", "author", "text", "published_at", "language", "reach",
                                 "tags")})


@given(lines=st.lists(st.one_of(
    st.tuples(st.just(False), st.one_of(RECORD.map(json.dumps), JSON_VALUES.map(json.dumps),
                                        st.text(max_size=40).map(lambda s: s.replace("\n", " ")))),
    st.tuples(st.just(True), st.integers(0, 10**6).map(lambda i: json.dumps(dict(zip(COLUMNS, valid_row(i),
                                                                                     strict=True)))))),
    max_size=25))
@settings(max_examples=IMPORT_EXAMPLES)
def test_jsonl_lines_give_mentions_or_errors_at_their_line(lines):
    body = "\n".join(line for _, line in lines) + "\n"
    planted = {n: json.loads(line)["id"] for n, (valid, line) in enumerate(lines, start=1) if valid}
    items = list(read_mentions(io.BytesIO(body.encode("utf-8", "surrogatepass")), fmt="jsonl", source="fuzz"))
    for line, item in items:
        assert 1 <= line <= len(lines)
        if isinstance(item, LineError):
            assert item.line == line and item.message
    kept = {line: item.external_id for line, item in items if isinstance(item, MentionIn)}
    assert {line: kept.get(line) for line in planted} == planted

