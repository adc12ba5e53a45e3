"""The benchmark suite must not rot: its cheap parts run here at smoke sizes on the real app (a `vigie serve`
process, the fake Slack pacing one message per second per channel), and its own checks are checked."""

from __future__ import annotations

import re
from collections import Counter
from email.message import Message
from itertools import pairwise

from bench import ack, intake, report, storm
from bench.common import Section, pct, running_app, wait_drained
from bench.storm_data import storm as make_storm
from tests.fakes.slack_api import Call


def _figures(section: Section) -> dict[str, float | None]:
    return {f.name: f.value for f in section.figures}


def test_quick_bench_runs_on_the_real_app(engine, database_url, tmp_path):
    storm_s, ack_s, intake_s = Section("Storm — db"), Section("Ack — db"), Section("Intake — db")
    with running_app(database_url, tmp_path) as app:
        # The storm first: it waits for the whole outbox to drain, which the intake part would fill.
        storm.run(app, storm_s, copies=120, stories=4, distinct=4, duration=2.0, batch=8, drain_timeout=60)
        ack.run(app, ack_s, requests=5, cards_per_channel=1)
        wait_drained(database_url, timeout=60)
        intake.run(app, intake_s, latency_n=2, single_n=16, batches=1, batch=50, rounds=1, tmp=tmp_path)

    s = _figures(storm_s)
    assert s["Mentions sent"] == 124
    assert s["Mentions lost (sent, not stored)"] == 0
    assert s["429s left unhandled"] == 0
    assert s["Time until every card is current (outbox empty), from the storm's start"] is not None
    assert 0 < s["Slack calls made"] < 124, "a storm must cost fewer Slack calls than mentions"
    assert s["Relay cards posted (expected: one per story and per distinct post)"] >= 8

    a = _figures(ack_s)
    for kind in ("`/vigie status`", "button click (claim)"):
        assert 0 < a[f"Ack of {kind}, p50"] <= a[f"Ack of {kind}, p99"] < 3000  # within Slack's 3 s
    assert not any("not answered 200" in f.note for f in ack_s.figures)
    assert len(ack_s.details["slash_ms"]) == len(ack_s.details["click_ms"]) == 5

    i = _figures(intake_s)
    assert len(intake_s.details["relay_ms"]) == 2
    for what in ("one mention per request, 8 client threads", "batches of 50"):
        assert i[f"Intake, {what}"] > 0 and i[f"Floor, {what}"] > 0
        assert i[f"Intake / floor, {what}"] > 0
        assert i[f"Intake, {what}: CPU per mention"] > 0  # the server's CPU at least (and the backends')
    assert "Intake / floor, one mention per request, 8 client threads" in report.markdown({
        "date": "d", "quick": True, "seconds": 1.0, "load_end": None, "skipped": [], "sections": [intake_s],
        "machine": {"cpu": "x", "cores": 2, "ram_gib": 4, "os": "L", "kernel": "6", "python": "3", "postgresql": None,
                    "commit": "a", "dirty": False, "load": None}})

    results = {"date": "2026-11-21 10:00 UTC", "quick": True, "seconds": 30.0, "load_end": (1.0, 1.0, 1.0),
               "skipped": [], "sections": [storm_s, ack_s, intake_s],
               "machine": {"cpu": "x", "cores": 2, "ram_gib": 4, "os": "Linux", "kernel": "6", "python": "3.11",
                           "postgresql": None, "commit": "abc1234", "dirty": False, "load": (1.0, 1.0, 1.0)}}
    text = report.markdown(results)
    assert "| Slack calls made |" in text and "p99 < 100 ms" in text and "QUICK MODE" in text


def test_the_report_replaces_only_its_own_block(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\nHow to run.\n\n## Analysis\n\nWritten by people.\n", encoding="utf-8")
    report.write(path, "## Run 1\n")
    report.write(path, "## Run 2\n")
    text = path.read_text(encoding="utf-8")
    assert "## Run 2" in text and "## Run 1" not in text
    assert text.index("How to run.") < text.index("## Run 2") < text.index("Written by people.")


def _call(method: str, status: int, at: float, outbox_id: int | None = None, **args: object) -> Call:
    if outbox_id is not None:
        args["metadata"] = {"event_type": "vigie_outbox", "event_payload": {"outbox_id": outbox_id}}
    ok = status == 200
    return Call(method=method, args=dict(args), headers=Message(), token="x", at=at, status=status,
                response={"ok": ok} if ok else {"ok": False, "error": "ratelimited"})


def test_a_429_counts_as_handled_only_when_the_same_call_later_succeeds():
    calls = [
        _call("chat.postMessage", 429, 1.0, outbox_id=1, channel="C1"),
        _call("chat.postMessage", 200, 2.0, outbox_id=1, channel="C1"),  # the retry: handled
        _call("chat.postMessage", 200, 2.5, outbox_id=3, channel="C1"),
        _call("chat.postMessage", 429, 3.0, outbox_id=2, channel="C1"),  # never retried
        _call("chat.update", 429, 4.0, channel="C1", ts="1.1"),
        _call("chat.update", 200, 3.5, channel="C1", ts="1.1"),  # before the 429: not a retry
    ]
    unhandled = storm.unhandled_429s(calls)
    assert len(unhandled) == 2
    assert "('outbox', 2)" in unhandled[0] and "chat.update" in unhandled[1]


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert (pct(values, 50), pct(values, 95), pct(values, 99), pct(values, 100)) == (50, 95, 99, 100)
    assert pct([7.0], 99) == 7.0


def _pairs(text: str) -> set[tuple[str, str]]:
    words = re.findall(r"\w+", text.lower())
    return set(pairwise(words))


def test_the_storm_is_seeded_bilingual_and_shaped_like_a_storm():
    posts = make_storm(7, copies=500, stories=20, distinct=100, duration=10.0)
    assert posts == make_storm(7, copies=500, stories=20, distinct=100, duration=10.0)
    assert posts != make_storm(8, copies=500, stories=20, distinct=100, duration=10.0)
    assert len(posts) == 600 and len({p.external_id for p in posts}) == len({p.url for p in posts}) == 600
    sizes = Counter(p.story for p in posts if p.story is not None)
    assert len(sizes) == 20 and sum(sizes.values()) == 500
    assert sizes.most_common(1)[0][1] > 4 * min(sizes.values()), "a few stories carry most of the storm"
    assert {p.language for p in posts} == {"fr", "en"}
    assert any(p.text.startswith("RT @") for p in posts)
    assert any(p.source == "news" and p.author in p.text for p in posts), "syndicated titles name their site"
    assert [p.offset for p in posts] == sorted(p.offset for p in posts) and posts[-1].offset < 10.0
    # Copies are not all exact: near-copies are what makes grouping hard.
    for story in range(20):
        texts = {p.text for p in posts if p.story == story}
        assert len(texts) > 1, f"story {story} has only exact copies"
    # The distinct posts really are distinct: no two share half of their word pairs.
    distinct = [_pairs(p.text) for p in posts if p.story is None]
    assert len(distinct) == 100
    worst = max(len(a & b) / len(a | b) for i, a in enumerate(distinct) for b in distinct[i + 1:])
    assert worst < 0.5
