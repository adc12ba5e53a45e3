"""Where one claim's acknowledgement goes (issue 16): the app in this process (PostgreSQL when
VIGIE_TEST_DATABASE_URL is set, else SQLite), its outbox worker stopped so only the request runs; N claims one
at a time through the real HTTP app (signed as Slack signs), each timed in its parts, wall and CPU of the thread
(Python holds the GIL for that CPU): the whole request, Bolt's dispatch (in the request's thread: the redelivery
guard and Bolt's middleware; the listener runs in Bolt's executor), the redelivery guard, the claim's use case
(its transaction, the card update's row); then the same under cProfile (the top functions by cumulative time).

    VIGIE_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python -m bench.click_profile
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from starlette.testclient import TestClient

from bench.common import pct
from bot.app import build_runtime
from bot.http import build_http_app
from tests import dbutil
from tests.conftest import AUTH, BOT_TOKEN, SIGNING_SECRET, make_settings, mention
from tests.fakes.slack_api import FakeSlack
from tests.slack_requests import block_action, interactive_body, signed_headers

USER, CHANNEL = "U0LEG0002", "C0LEGAL001"


def timed(parts: dict[str, list[float]], name: str, fn):  # type: ignore[no-untyped-def]
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            parts[name].append((time.perf_counter() - started) * 1000)
            parts[name + " CPU"].append((time.thread_time() - cpu) * 1000)
    return wrapper


def profiled(prof: cProfile.Profile, fn):  # type: ignore[no-untyped-def]
    """`fn` profiled in whichever thread calls it (cProfile sees only the thread that enabled it)."""
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        if not prof.enabled:
            return fn(*args, **kwargs)
        inner = cProfile.Profile()
        inner.enable()
        try:
            return fn(*args, **kwargs)
        finally:
            inner.disable()
            prof.stats.append(inner)
    return wrapper


class Profiles:
    def __init__(self) -> None:
        self.enabled, self.stats = False, []


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.click_profile")
    p.add_argument("-n", type=int, default=60)
    args = p.parse_args(argv)
    fake = FakeSlack(token=BOT_TOKEN).start()
    with tempfile.TemporaryDirectory() as tmp, dbutil.fresh_database(Path(tmp)) as url:
        fake.add_user(USER, name="expert", locale="fr-FR")
        rt = build_runtime(make_settings(url, fake.url))
        parts: dict[str, list[float]] = defaultdict(list)
        profiles = Profiles()
        # The runtime is a frozen dataclass: its parts are wrapped in place, for this measure only.
        object.__setattr__(rt.workflow, "claim", timed(parts, "claim use case", profiled(profiles, rt.workflow.claim)))
        object.__setattr__(rt, "redelivered", timed(parts, "redelivery guard", profiled(profiles, rt.redelivered)))
        assert rt.bolt is not None
        object.__setattr__(rt.bolt, "dispatch", timed(parts, "bolt dispatch", profiled(profiles, rt.bolt.dispatch)))
        with TestClient(build_http_app(rt)) as client:
            mids = []
            for i in range(2 * args.n + 10):
                words = " ".join(f"mot{i}x{j}" for j in range(8))
                text = f"Un avocat annonce un procès contre la marque {i} {words}"
                r = client.post("/intake/mentions", headers=AUTH, json=mention(1000 + i, text=text))
                mids.append(r.json()["mentions"][0]["id"])
            while rt.worker.run_once():  # the cards posted (their ts known), then the worker stays stopped
                pass

            def click(mid: int) -> float:
                body = interactive_body(block_action(action_id="mention_claim", value=str(mid), user=USER,
                                                     channel=CHANNEL, message_ts="1.1"))
                started = time.perf_counter()
                r = client.post("/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body))
                assert r.status_code == 200, r.text
                return (time.perf_counter() - started) * 1000

            for mid in mids[:10]:  # warm-up
                click(mid)
            parts.clear()
            total = [click(mid) for mid in mids[10:10 + args.n]]
            print(f"{args.n} claims one at a time ({rt.engine.dialect.name}):")
            for name, v in [("request", total), *sorted(parts.items())]:
                print(f"  {name:22} p50 {pct(v, 50):6.1f}  p95 {pct(v, 95):6.1f}  mean {statistics.fmean(v):6.1f} ms")
            profiles.enabled = True
            for mid in mids[10 + args.n:10 + 2 * args.n]:
                click(mid)
            profiles.enabled = False
            out = io.StringIO()
            stats = pstats.Stats(profiles.stats[0], stream=out)
            for more in profiles.stats[1:]:
                stats.add(more)
            stats.sort_stats("cumulative").print_stats(60)
            print(out.getvalue()[:12000])
        rt.engine.dispose()
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
