"""A real `vigie serve` process killed (SIGKILL) in the middle of a burst, then restarted: every accepted
mention is stored and relayed exactly once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, col, select

from bot.store.models import Mention, Outbox
from tests.conftest import BOT_TOKEN, INTAKE_TOKEN, SIGNING_SECRET, TEST_PROTOCOL, mention

ROOT = Path(__file__).parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(database_url: str, slack_url: str, port: int, tmp: Path,
                 **extra_env: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VIGIE_", "DATABASE_URL"))}
    env.update({
        "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": slack_url,
        "DATABASE_URL": database_url, "VIGIE_PROTOCOL_FILE": str(TEST_PROTOCOL),
        "VIGIE_INTAKE_TOKENS": INTAKE_TOKEN, "VIGIE_RUN_SCHEDULER": "false", "VIGIE_OUTBOX_LEASE": "3",
        "VIGIE_CHANNEL_INTERVAL": "0.05",  # the fake allows 20 per second per channel
        "PYTHONPATH": str(ROOT),
    })
    env.update(extra_env)
    with open(tmp / f"server-{port}.log", "ab") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(port)], cwd=tmp, env=env,
                                stdout=subprocess.DEVNULL, stderr=log)
    # Generous: three instances starting at once on a shared 2-core machine take a while to import and migrate.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise AssertionError((tmp / f"server-{port}.log").read_text()[-3000:])
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not start")


def test_sigkill_mid_burst_loses_and_repeats_nothing(engine, slack, database_url, tmp_path):
    # Slack answers slowly and paces channels, so the kill lands with deliveries queued and in flight.
    slack.rate_limit(per_channel_per_second=20, burst=5)
    accepted: list[str] = []
    port = free_port()
    server = start_server(database_url, slack.url, port, tmp_path)
    stop = threading.Event()

    def burst(start: int, count: int, port: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            for i in range(start, start + count):
                if stop.is_set():
                    return
                team_word = ["résultats", "procès", "grève", "bonjour"][i % 4]
                try:
                    r = client.post("/intake/mentions", json=mention(i, text=f"{team_word} n°{i}"),
                                    headers={"Authorization": f"Bearer {INTAKE_TOKEN}"})
                except httpx.HTTPError:
                    continue  # the server died under us: not accepted, the client would resend
                if r.status_code == 202:
                    accepted.append(f"post-{i}")

    # The kill lands at the worst moment for exactly-once: Slack has stored the 15th relay, the process dies
    # before it reads the answer, so that row's `ts` is never written and it stays claimed ("in doubt").
    relays = 0

    def post_then_die(args: dict) -> dict:
        nonlocal relays
        answer = slack._m_chat_postMessage(args)
        relays += 1
        if relays == 15:
            os.kill(server.pid, signal.SIGKILL)  # no shutdown handler runs
        return answer

    slack.set_handler("chat.postMessage", post_then_die)
    sender = threading.Thread(target=burst, args=(0, 400, port))
    sender.start()
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        server.kill()
        pytest.fail("the outbox never delivered 15 relays")
    stop.set()
    sender.join()
    killed_after = len(accepted)
    assert 15 <= killed_after < 400, "the kill must land mid-burst"

    with Session(engine) as s:
        in_doubt = s.exec(select(Outbox).where(Outbox.status == "sending", col(Outbox.ts).is_(None))).all()
    assert in_doubt, "the kill must leave a delivery accepted by Slack but not recorded"

    port2 = free_port()
    slack.set_handler("chat.postMessage", slack._m_chat_postMessage)
    server2 = start_server(database_url, slack.url, port2, tmp_path)
    try:
        stop.clear()
        burst(1000, 40, port2)  # the restarted process keeps taking mentions
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with Session(engine) as s:
                pending = s.exec(select(Outbox).where(Outbox.status != "sent")).all()
            if not pending:
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"{len(pending)} relays still undelivered")
    finally:
        server2.send_signal(signal.SIGTERM)
        server2.wait(10)

    with Session(engine) as s:
        stored = {m.external_id: m for m in s.exec(select(Mention)).all()}
        outbox_ids = {o.mention_id: o.id for o in s.exec(select(Outbox)).all()}
    assert set(accepted) <= set(stored), "an accepted mention was lost"
    posted = Counter()
    for channel in ("C0FINANCE1", "C0LEGAL001", "C0HR000001", "C0GENERAL1"):
        for message in slack.messages(channel):
            posted[message["metadata"]["event_payload"]["outbox_id"]] += 1
    repeated = {k: n for k, n in posted.items() if n > 1}
    # The in-doubt rows were resolved by looking in the channel, not by posting again.
    assert slack.calls("conversations.history"), "the restarted worker never checked an in-doubt delivery"
    assert not repeated, f"relayed more than once: {repeated}"
    assert set(posted) == set(outbox_ids.values()), "a stored mention was never relayed"
    assert all(m.status == "relayed" and m.relay_ts for m in stored.values())
