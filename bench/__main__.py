"""Benchmarks on the real app over HTTP (see BENCHMARKS.md):

    VIGIE_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python -m bench

Each part starts a real `vigie serve` process against the fake Slack of the test suite, which answers
chat.postMessage beyond one message per second per channel with HTTP 429 and Retry-After:

- ack: acknowledgement time of `/vigie status` and of a claim button click (signed as Slack signs);
- intake: intake → relay posted (not throttled), then throughput one mention per request and in batches,
  each as a ratio to its floor (bench/floor.py) measured in the same run, with CPU per mention;
- storm: 10,000 mentions in 60 s (20 stories of near-copies and 100 distinct posts);
- digest: the daily digest over 1,000,000 stored mentions on PostgreSQL, its time and peak memory;
- steady: the story index after a restart (first request, load, memory), the outbox's pick cost under a
  backlog, the sweep's first volume count (bench/steady.py);
- warm: on PostgreSQL, a database already holding mentions, 50,000 live stories and an outbox backlog
  (`--warm-mentions N`, default 200,000; the issue's figure is 1,000,000): intake of a mix against its floor,
  8 people clicking while intake runs at half its rate, click to card updated, Slack calls per mention, RSS and
  the first request after a restart (bench/warm.py).

ack and intake run on SQLite and, when VIGIE_TEST_DATABASE_URL is set, on PostgreSQL; the storm runs on
PostgreSQL when it is set (SQLite otherwise); the digest needs PostgreSQL. A full run of every part writes
its figures into BENCHMARKS.md; `--quick` (small sizes, a smoke test) and sub-selections only print,
unless `--write`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

from bench import ack, digest, intake, report, steady, storm, warm
from bench.common import ROOT, Section, dialect_name, fresh_database, machine, running_app, wait_drained
from tests import dbutil

PARTS = ("ack", "intake", "storm", "digest", "steady", "warm")
SIZES = {
    "full": {"ack": 300, "cards": 5, "latency": 40, "single": 1000, "batches": 6, "batch": 500, "rounds": 3,
             "storm": {"copies": 9_900, "stories": 20, "distinct": 100, "duration": 60.0, "batch": 25,
                       "drain_timeout": 900.0},
             "digest": 1_000_000, "steady": {"stories": 50_000, "mentions": 10_000}},
    # A smoke test: every path runs, the figures mean little.
    "quick": {"ack": 10, "cards": 1, "latency": 4, "single": 50, "batches": 1, "batch": 100, "rounds": 1,
              "storm": {"copies": 200, "stories": 5, "distinct": 5, "duration": 3.0, "batch": 10,
                        "drain_timeout": 60.0},
              "digest": 20_000, "steady": {"stories": 2_000, "mentions": 1_000}},
}


def run(parts: list[str], *, quick: bool, keep_digest_db: bool = False, sqlite_only: bool = False,
        warm_mentions: int | None = None) -> dict:
    """Run the parts; `sqlite_only` ignores VIGIE_TEST_DATABASE_URL (the smoke test uses it)."""
    sizes = SIZES["quick" if quick else "full"]
    pg = None if sqlite_only else dbutil.postgres_admin_url()
    started = time.monotonic()
    results: dict = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "quick": quick,
                     "machine": machine(pg), "sections": [], "skipped": []}
    with tempfile.TemporaryDirectory(prefix="vigie-bench-") as tmp_name:
        tmp = Path(tmp_name)
        databases = ["sqlite", "postgresql"] if pg else ["sqlite"]
        for kind in databases:
            if not {"ack", "intake"} & set(parts):
                break
            with fresh_database(kind, tmp) as url, running_app(url, tmp) as app:
                name = dialect_name(url)
                if "ack" in parts:
                    section = Section(f"Acknowledgement time (HTTP response of /slack/events) — {name}")
                    ack.run(app, section, requests=sizes["ack"], cards_per_channel=sizes["cards"])
                    results["sections"].append(section)
                    # The clicks queued card updates and notices: the latency below is measured on an idle outbox.
                    wait_drained(url, timeout=300)
                if "intake" in parts:
                    section = Section(f"Intake — {name}")
                    intake.run(app, section, latency_n=sizes["latency"], single_n=sizes["single"],
                               batches=sizes["batches"], batch=sizes["batch"], rounds=sizes["rounds"], tmp=tmp)
                    results["sections"].append(section)
        if "storm" in parts:
            kind = "postgresql" if pg else "sqlite"
            with fresh_database(kind, tmp) as url, running_app(url, tmp) as app:
                s = sizes["storm"]
                section = Section(f"Storm: {s['copies'] + s['distinct']:,} mentions in {s['duration']:.0f} s "
                                  f"— {dialect_name(url)}")
                storm.run(app, section, **s)
                results["sections"].append(section)
        if "digest" in parts:
            if pg:
                section = Section(f"Daily digest over {sizes['digest']:,} stored mentions — PostgreSQL")
                digest.run(pg, section, n=sizes["digest"], keep=keep_digest_db)
                results["sections"].append(section)
            else:
                results["skipped"].append("the digest over stored mentions (needs PostgreSQL: set "
                                          "VIGIE_TEST_DATABASE_URL)")
        if "steady" in parts:  # bench/steady.py
            section = Section("Steady: story index after a restart, outbox under backlog, first sweep")
            steady.run(section, tmp, kinds=["sqlite", "postgresql"] if pg else ["sqlite"],
                       stories_n=sizes["steady"]["stories"], mentions_n=sizes["steady"]["mentions"])
            results["sections"].append(section)
        if "warm" in parts:  # bench/warm.py
            if pg:
                sizes_w = warm.QUICK if quick else warm.Sizes()
                if warm_mentions:
                    sizes_w = replace(sizes_w, mentions=warm_mentions)
                section = Section(f"Warm: {sizes_w.mentions:,} mentions, {min(sizes_w.stories, sizes_w.mentions // 2):,} "
                                  "live stories, an outbox backlog — PostgreSQL")
                warm.run(pg, section, tmp, sizes_w)
                results["sections"].append(section)
            else:
                results["skipped"].append("the warm bench (needs PostgreSQL: set VIGIE_TEST_DATABASE_URL)")
    results["seconds"] = time.monotonic() - started
    results["load_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    return results


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["language"]:  # the language checks have their own runner and options (bench/language.py)
        from bench import language

        return language.main(argv[1:])
    if argv[:1] == ["import"]:  # `python -m bench import`: its own figures (bench/importing.py)
        from bench import importing

        return importing.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("parts", nargs="*", choices=[[], *PARTS], metavar="PART",
                        help=f"parts to run, among {', '.join(PARTS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test, not figures")
    parser.add_argument("--write", action="store_true",
                        help="write BENCHMARKS.md even for --quick or a sub-selection")
    parser.add_argument("--no-write", action="store_true", help="only print, even for a full run")
    parser.add_argument("--json", type=Path, help="also save every raw number to this file")
    parser.add_argument("--keep-digest-db", action="store_true",
                        help="keep the seeded vigie_bench database (and reuse it next time)")
    parser.add_argument("--warm-mentions", type=int, help="mentions in the warm part's database "
                        "(default 200,000; the issue's figure: 1,000,000)")
    args = parser.parse_args(argv)
    parts = list(args.parts) or list(PARTS)
    results = run(parts, quick=args.quick, keep_digest_db=args.keep_digest_db, warm_mentions=args.warm_mentions)
    text = report.markdown(results)
    print(text)
    if args.json:
        raw = {**results, "sections": [asdict(s) for s in results["sections"]]}
        args.json.write_text(json.dumps(raw, indent=1, default=str), encoding="utf-8")
    full = set(parts) == set(PARTS) and not args.quick
    if args.write or (full and not args.no_write):
        report.write(ROOT / "BENCHMARKS.md", text)
        print("BENCHMARKS.md updated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
