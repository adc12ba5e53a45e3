"""The issue-14 fixtures are what they claim to be: each file decodes in its declared encoding and has the
declared layout, each expected.jsonl has exactly one line per data row / item, every JSON parses, and every
expected date is an ISO 8601 instant in UTC. These tests check the DATA, not the importer."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXPORTS = FIXTURES / "exports"
PUSHES = FIXTURES / "pushes"
FEEDS = FIXTURES / "feeds2"
ALERTS = FIXTURES / "alerts"
SLACK_SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "slack-spec" / "java-slack-sdk" / "json-logs" / "samples" / "events"

VENDORS = {"meltwater", "talkwalker", "brandwatch", "synthesio", "radarly", "mention", "sprout", "hootsuite", "agorapulse", "radian6"}
MENTION_KEYS = {"source", "external_id", "url", "author", "text", "published_at", "language", "reach"}
UTC_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$")
BOMS = {"utf-8": b"\xef\xbb\xbf", "utf-16-le": b"\xff\xfe"}

LAYOUTS = sorted(EXPORTS.glob("*/*.layout.json"))


def read_jsonl(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n"), f"{path.name}: last line not terminated"
    lines = text.splitlines()
    assert all(line.strip() for line in lines), f"{path.name}: blank line"
    return [json.loads(line) for line in lines]


def check_mention(item: dict, where: str, *, language_may_be_null: bool = False, date_may_be_null: bool = False) -> None:
    if "error" in item:
        assert set(item) == {"error"} and isinstance(item["error"], str) and item["error"], where
        return
    extra = set(item) - MENTION_KEYS
    assert MENTION_KEYS <= set(item), f"{where}: missing {MENTION_KEYS - set(item)}"
    # The vendor's own signals (bot.intake.signals), where a push carries them.
    assert extra <= {"warning", "warnings", "sentiment", "engagement", "tags"}, f"{where}: unexpected keys {extra}"
    assert item.get("sentiment", "negative") in ("negative", "neutral", "positive"), where
    assert isinstance(item.get("engagement", 0), int) and isinstance(item.get("tags", []), list), where
    if "warnings" in item:  # the feed's own words for an entry it could not read whole: a non-empty list
        assert isinstance(item["warnings"], list) and all(isinstance(w, str) and w for w in item["warnings"]), where
    for key in ("source", "external_id", "url", "author", "text"):
        assert isinstance(item[key], str) and item[key].strip(), f"{where}: {key} empty"
    assert item["url"].startswith(("http://", "https://", "{origin}/")), f"{where}: url {item['url']!r}"
    when = item["published_at"]
    if when is None:
        assert date_may_be_null and (item.get("warning") or item.get("warnings")), f"{where}: null date without a warning"
    else:
        assert UTC_ISO.match(when), f"{where}: published_at {when!r} is not ISO 8601 in UTC with an offset"
        datetime.fromisoformat(when)
    lang = item["language"]
    assert (lang is None and language_may_be_null) or (isinstance(lang, str) and re.fullmatch(r"[a-z]{2}", lang)), f"{where}: language {lang!r}"
    reach = item["reach"]
    assert reach is None or (isinstance(reach, int) and not isinstance(reach, bool) and reach >= 0), f"{where}: reach {reach!r}"


# --- exports -------------------------------------------------------------------------------------------------

def test_every_vendor_has_a_layout_and_meltwater_two():
    vendors = {p.parent.name for p in LAYOUTS}
    assert vendors == VENDORS
    assert len([p for p in LAYOUTS if p.parent.name == "meltwater"]) >= 2


@pytest.mark.parametrize("layout_path", LAYOUTS, ids=lambda p: f"{p.parent.name}/{p.name.split('.')[0]}")
def test_export_decodes_and_has_one_expected_line_per_row(layout_path: Path):
    layout = json.loads(layout_path.read_text(encoding="utf-8"))
    stem = layout_path.name.removesuffix(".layout.json")
    raw = (layout_path.parent / layout["file"]).read_bytes()
    bom = layout["bom"]
    if bom:
        assert raw.startswith(BOMS[bom]), f"declared BOM {bom} missing"
    else:
        assert not raw.startswith((BOMS["utf-8"], BOMS["utf-16-le"])), "undeclared BOM"
    encoding = layout["encoding"]
    text = raw.decode(encoding)  # strict: a wrongly encoded byte fails here
    if encoding == "cp1252":
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")  # really Windows-1252, not UTF-8 that happens to be ASCII
    text = text.lstrip("\ufeff")
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=layout["delimiter"]))
    header_at = layout["header_row"]
    header = records[header_at]
    assert len(header) >= 5 and len(set(header)) == len(header), f"header row {header_at} is not a header: {header[:4]}"
    rows = records[header_at + 1 :]
    for i, row in enumerate(rows):
        assert len(row) == len(header), f"data row {i + 1} has {len(row)} cells, header {len(header)}"
    expected = read_jsonl(layout_path.parent / f"{stem}.expected.jsonl")
    assert len(expected) == len(rows) == layout["data_rows"]
    assert 8 <= len(rows) <= 15
    for i, item in enumerate(expected):
        check_mention(item, f"{stem} line {i + 1}")
        if "error" not in item:
            assert item["source"] == layout_path.parent.name
    assert any("error" not in item for item in expected) and any("error" in item for item in expected)
    assert {item["language"] for item in expected if "error" not in item} >= {"fr", "en"}
    options = json.loads((layout_path.parent / f"{stem}.options.json").read_text(encoding="utf-8"))
    assert set(options) == {"timezone", "date_order", "preset", "skip_rows"}
    ZoneInfo(options["timezone"])
    assert options["date_order"] in ("dmy", "mdy", None)
    assert options["skip_rows"] is None or (isinstance(options["skip_rows"], int) and options["skip_rows"] >= 0)


def test_exports_cover_the_encodings_and_separators_of_issue_14():
    layouts = [json.loads(p.read_text(encoding="utf-8")) for p in LAYOUTS]
    assert {l["encoding"] for l in layouts} >= {"utf-8-sig", "cp1252", "utf-16"}
    assert {l["delimiter"] for l in layouts} >= {",", ";", "\t"}
    assert any(l["header_row"] > 0 for l in layouts)
    multiline = 0
    for p in LAYOUTS:
        l = json.loads(p.read_text(encoding="utf-8"))
        text = (p.parent / l["file"]).read_bytes().decode(l["encoding"]).lstrip("\ufeff")
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=l["delimiter"]))
        multiline += any("\n" in cell for row in rows for cell in row)
    assert multiline >= 3


def test_sources_md_names_every_vendor():
    sources = (EXPORTS / "SOURCES.md").read_text(encoding="utf-8").lower()
    for vendor in VENDORS:
        assert vendor in sources


# --- dates ---------------------------------------------------------------------------------------------------

def test_dates_jsonl():
    items = read_jsonl(EXPORTS / "dates.jsonl")
    assert len(items) >= 40
    assert len({(i["text"], i["timezone"], i["date_order"]) for i in items}) == len(items), "duplicate case"
    for i, item in enumerate(items):
        assert {"text", "timezone", "date_order", "expected"} <= set(item), i
        ZoneInfo(item["timezone"])
        assert item["date_order"] in ("dmy", "mdy", None)
        assert item["expected"] is None or UTC_ISO.match(item["expected"]), item
    assert sum(i["expected"] is None for i in items) >= 5
    texts = {i["text"] for i in items}
    for needed in ("21-Nov-2026", "21/11/2026 9h30", "21.11.2026 09:30", "21/11/26", "samedi 21 novembre 2026 09:30", "01/02/2026 07:15"):
        assert needed in texts


# --- pushes --------------------------------------------------------------------------------------------------

def dig(obj, path: str):
    for part in path.split("."):
        obj = obj[part]
    return obj if isinstance(obj, list) else [obj]


def test_pushes():
    index = json.loads((PUSHES / "index.json").read_text(encoding="utf-8"))
    assert {v["preset"] for v in index.values()} >= {"meltwater", "talkwalker", "mention", "brandwatch"}
    assert set(index) == {p.name for p in PUSHES.glob("*.json")} - {"index.json"}
    for name, spec in index.items():
        payload = json.loads((PUSHES / name).read_text(encoding="utf-8"))
        expected = read_jsonl(PUSHES / name.replace(".json", ".expected.jsonl"))
        assert len(dig(payload, spec["items"])) == len(expected) >= 1, name
        for i, item in enumerate(expected):
            check_mention(item, f"{name} line {i + 1}")
            assert item["source"] == spec["preset"]


# --- feeds ---------------------------------------------------------------------------------------------------

def feed_index():
    return json.loads((FEEDS / "feeds.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("entry", feed_index(), ids=lambda e: e["file"])
def test_feed(entry):
    path = FEEDS / entry["file"]
    stem = path.name.rsplit(".", 1)[0]
    headers = json.loads((FEEDS / f"{stem}.headers.json").read_text(encoding="utf-8"))
    content_type = headers["Content-Type"]
    charset = re.search(r"charset=([\w-]+)", content_type).group(1)
    raw = path.read_bytes()
    text = raw.decode(charset)  # strict, in the encoding the HTTP header declares
    if charset.lower() != "utf-8":
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        assert "encoding=" not in text.split("?>", 1)[0], "this case is about a charset given only by HTTP"
    root = ET.fromstring(text.split("?>", 1)[1] if text.startswith("<?xml") else text)
    atom = "{http://www.w3.org/2005/Atom}"
    entries = root.findall(f"{atom}entry") if root.tag == f"{atom}feed" else root.findall("channel/item")
    expected = read_jsonl(FEEDS / f"{stem}.expected.jsonl")
    assert len(entries) == len(expected)
    for i, item in enumerate(expected):
        check_mention(item, f"{stem} line {i + 1}", date_may_be_null=True)
        assert item["source"] == entry["source"]
    assert entry["path"].startswith("/")


def test_feeds_cover_issue_14_cases():
    names = {e["file"] for e in feed_index()}
    assert {p.name for p in FEEDS.iterdir() if p.suffix in (".rss", ".atom")} == names
    assert any(not read_jsonl(FEEDS / (n.rsplit(".", 1)[0] + ".expected.jsonl")) for n in names), "an empty feed"
    all_text = "".join((FEEDS / n).read_bytes().decode("latin-1") for n in names)
    for needle in ("sam., 21 nov. 2026 09:30:00 +0100", "21/11/2026 09:30", " CET<", " CEST<", " EST<", "&lt;Support&gt;", "<link>/acme-greve</link>"):
        assert needle in all_text, needle


# --- Slack alerts --------------------------------------------------------------------------------------------

def sample_keys(name: str) -> set[str]:
    return set(json.loads((SLACK_SAMPLES / name).read_text(encoding="utf-8"))["event"])


def test_alerts():
    index = json.loads((ALERTS / "index.json").read_text(encoding="utf-8"))
    assert {e["file"] for e in index} == {p.name for p in ALERTS.glob("*.json")} - {"index.json"}
    shapes = {"MessagePayload.json", "MessageBotPayload.json", "MessageChangedPayload.json"}
    known = set().union(*(sample_keys(s) for s in shapes)) | {"channel_type", "event_ts", "previous_message", "hidden"} if SLACK_SAMPLES.exists() else None
    subtypes = set()
    for entry in index:
        payload = json.loads((ALERTS / entry["file"]).read_text(encoding="utf-8"))
        assert payload["type"] == "event_callback" and payload["event_id"] and payload["team_id"]
        event = payload["event"]
        assert event["type"] == "message" and event["channel"] and re.fullmatch(r"\d{10}\.\d{6}", event["ts"])
        subtypes.add(event.get("subtype"))
        if known is not None:
            assert set(event) <= known, f"{entry['file']}: keys Slack does not send {set(event) - known}"
        message = event.get("message", event)
        for att in message.get("attachments", []):
            assert isinstance(att.get("id"), int)
        expected = read_jsonl(ALERTS / entry["file"].replace(".json", ".expected.jsonl"))
        for i, item in enumerate(expected):
            check_mention(item, f"{entry['file']} line {i + 1}", language_may_be_null=True)
    assert {None, "bot_message", "message_changed"} <= subtypes
