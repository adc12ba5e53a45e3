"""The generated corpora are what their generators write, and each error row points at its wrong word."""

from __future__ import annotations

import json

import pytest

from bench.corpus import heldout, wikipedia_fr


def _read(name: str) -> list[dict]:
    with open(heldout.HERE / name, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.mark.parametrize(("name", "expected"), [
    ("typos_fr_wikipedia.jsonl", wikipedia_fr.all_rows),
    ("heldout_fr.jsonl", lambda: heldout.rows("fr", heldout.FR_ERRORS, heldout.FR_CLEAN, "homophone")),
    ("heldout_en.jsonl", lambda: heldout.rows("en", heldout.EN_ERRORS, heldout.EN_CLEAN, "confusion")),
])
def test_generated_corpora_are_current_and_their_spans_right(name, expected):
    rows = _read(name)
    assert rows == expected(), f"{name} is stale: rerun its generator"
    assert len({r["id"] for r in rows}) == len(rows)
    for row in rows:
        for error in row["errors"]:
            assert row["text"][error["start"]:error["end"]] == error["wrong"] != error["right"]
    errors = [r for r in rows if r["errors"]]
    clean = {r["text"] for r in rows if not r["errors"]}
    # every error's corrected sentence is also a clean row: flagging the right word is a false alarm
    for row in errors:
        [e] = row["errors"]
        assert row["text"][:e["start"]] + e["right"] + row["text"][e["end"]:] in clean
