"""Slow clients cannot starve the server (bot.server): the live server, with short deadlines, against connections
that trickle a request one byte at a time, send nothing, or idle after a response. Each one is closed by the server
within its deadline (plus a margin for a shared machine; the deadline is calibrated on the same run's ordinary
requests, 1 s at least), while ordinary requests keep being answered; and past the connection limit a request is
refused at once with 503 instead of waiting.

On uvicorn's defaults, the same 20 trickling connections were all still open after 30 s.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from bot.app import Runtime, build_runtime
from tests.conftest import AUTH, SIGNING_SECRET, make_settings, mention
from tests.live import LiveServer, SlackClient, live_server

STEP = 0.2  # seconds between two trickled bytes
# The deadlines (head, body, idle kept-alive connection) are 1 s on a quiet machine. On a loaded one, ordinary
# requests can take longer than that, and the test could no longer tell "served while the trickles ran" from
# "served after they were cut off": so the deadline is measured against the same ordinary requests, timed on this
# run's server before the trickles start (calibration), and the margins follow it.
MIN_DEADLINE = 1.0
SERVED_FACTOR = 5  # the deadline is at least this many times the calibrated time of the ordinary requests


@dataclass
class Quick:
    """The live server with short deadlines, and the budgets this run measured for them."""

    server: LiveServer
    deadline: float  # seconds, for the head, the body and an idle kept-alive connection
    margin: float  # a shared 2-core machine may be slow to run the timer; without the deadline it would be forever
    trickle: int  # bytes trickled: STEP * trickle seconds, well past deadline + margin

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return self.server.url


def _ordinary(url: str, i: int) -> float:
    """The ordinary requests (intake, health, a signed Slack command); how long they took."""
    start = time.monotonic()
    with httpx.Client(base_url=url, timeout=60) as client:
        assert client.post("/intake/mentions", json=mention(i), headers=AUTH).status_code == 202
        assert client.get("/healthz").status_code == 200
    assert SlackClient(url, SIGNING_SECRET).command("aide", user="U0CM00001").status_code == 200
    return time.monotonic() - start


@pytest.fixture
def quick(engine, slack, database_url) -> Iterator[Quick]:
    rt: Runtime = build_runtime(make_settings(database_url, slack.url))
    rt.start()
    try:
        with live_server(rt) as calibration:  # the default deadlines (10 s, 30 s): nothing is cut off here
            _ordinary(calibration.url, 100)  # warm-up: first imports, first database connections
            served = max(_ordinary(calibration.url, 100 + k) for k in (1, 2))
        deadline = max(MIN_DEADLINE, round(SERVED_FACTOR * served, 1))
        margin = max(4.0, 2 * deadline)
        short = rt.settings.model_copy(update={"http_header_timeout_seconds": deadline,
                                               "http_body_timeout_seconds": deadline,
                                               "http_keep_alive_seconds": deadline})
        with live_server(rt, short) as server:
            yield Quick(server, deadline, margin, trickle=int(2 * (deadline + margin) / STEP))
    finally:
        rt.stop()
        rt.engine.dispose()


@dataclass
class Slow:
    """One connection sending `head` at once, then `trickle` one byte every STEP, until the server answers or
    closes; `closed_after` is how long the server let it live (from just before connecting), `answer` what it
    said; `connected` is set once the head is sent."""

    port: int
    head: bytes
    trickle: bytes
    wait: float  # how long to wait for the server's last bytes once it answered
    closed_after: float | None = None
    answer: bytes = b""
    connected: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        start = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            try:
                if self.head:
                    sock.sendall(self.head)
                self.connected.set()
                for i in range(len(self.trickle) + 1):
                    readable, _, _ = select.select([sock], [], [], STEP)
                    if readable:
                        break
                    if i < len(self.trickle):
                        sock.sendall(self.trickle[i:i + 1])
                else:
                    return  # never answered nor closed: closed_after stays None
                sock.settimeout(self.wait)
                while chunk := sock.recv(4096):
                    self.answer += chunk
            except (ConnectionResetError, BrokenPipeError):
                pass
            finally:
                self.connected.set()
            self.closed_after = time.monotonic() - start


def _head_trickle(q: Quick) -> Slow:
    head = b"POST /intake/mentions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: "
    return Slow(q.port, b"", head + b"a" * q.trickle, q.deadline + q.margin)


def _body_trickle(q: Quick) -> Slow:
    head = (b"POST /intake/mentions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Authorization: " + AUTH["Authorization"].encode()
            + b"\r\nContent-Length: %d\r\n\r\n" % (q.trickle + 500))
    return Slow(q.port, head, b'{"text": "' + b"a" * q.trickle, q.deadline + q.margin)


def _unread_body_trickle(q: Quick) -> Slow:
    # /healthz answers without reading the body; the client then keeps the connection busy with it.
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % (q.trickle + 500)
    return Slow(q.port, head, b"a" * q.trickle, q.deadline + q.margin)


def test_trickling_clients_are_cut_off_while_others_are_served(quick):
    kinds = [_head_trickle, _body_trickle, _unread_body_trickle]
    slow = [kinds[i % 3](quick) for i in range(20)]
    threads = [threading.Thread(target=s.run, name=f"slow-{i}") for i, s in enumerate(slow)]
    for thread in threads:
        thread.start()
    try:
        for s in slow:  # every trickle is under way before the ordinary requests go
            assert s.connected.wait(60), "a trickling client could not connect"
        # While they trickle: the intake, health and a signed Slack command are answered as usual, before the
        # server cuts any trickle off (the deadline is SERVED_FACTOR times what these took on this run's server).
        _ordinary(quick.url, 1)
        assert all(s.closed_after is None for s in slow), (quick.deadline, [s.closed_after for s in slow])
    finally:
        for thread in threads:
            thread.join(timeout=STEP * (quick.trickle + 60) + quick.margin)
    for s in slow:
        assert s.closed_after is not None, (s.head[:20], "never cut off", quick.deadline)
        # Not before the deadline (it is the deadline that cut it), and not long after it.
        assert quick.deadline * 0.9 <= s.closed_after < quick.deadline + quick.margin, (
            s.head[:20], s.closed_after, quick.deadline)
    for s in slow:
        if s.head.startswith(b"GET /healthz"):  # answered at once (200), then cut off when its body stalled
            assert s.answer.startswith(b"HTTP/1.1 200 "), s.answer[:40]
        else:
            assert s.answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), s.answer[:40]


def test_a_silent_connection_and_an_idle_kept_alive_one_are_closed(quick):
    deadline, margin = quick.deadline, quick.margin
    with socket.create_connection(("127.0.0.1", quick.port)) as silent:
        silent.settimeout(deadline + margin)
        start = time.monotonic()
        assert silent.recv(4096) == b""  # closed without a word: nothing was asked
        assert time.monotonic() - start < deadline + margin
    with socket.create_connection(("127.0.0.1", quick.port)) as kept:
        kept.settimeout(deadline + margin)
        kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = b""
        while b'"status"' not in answer:
            answer += kept.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200 ")
        start = time.monotonic()
        assert kept.recv(4096) == b""  # the keep-alive timeout
        assert time.monotonic() - start < deadline + margin


def test_past_the_connection_limit_requests_are_refused_at_once(engine, slack, database_url):
    settings = make_settings(database_url, slack.url, VIGIE_HTTP_MAX_CONNECTIONS=5, VIGIE_HTTP_HEADER_TIMEOUT=300)
    rt = build_runtime(settings)
    rt.start()
    held: list[socket.socket] = []
    try:
        with live_server(rt) as server:
            held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(5)]
            for sock in held:
                sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # a head begun, never finished
            deadline = time.monotonic() + 60  # a loaded machine may take a while to accept them
            while len(server.server.server_state.connections) < 5:
                assert time.monotonic() < deadline, "the server never held the 5 connections"
                time.sleep(0.01)
            with httpx.Client(base_url=server.url, timeout=60) as client:
                r = client.get("/healthz")
                assert r.status_code == 503 and r.text == "Service Unavailable"
                for sock in held:
                    sock.close()
                deadline = time.monotonic() + 60
                while len(server.server.server_state.connections) > 1:
                    assert time.monotonic() < deadline, "the closed connections were never let go"
                    time.sleep(0.01)
                assert client.get("/healthz").status_code == 200
    finally:
        for sock in held:
            sock.close()
        rt.stop()
        rt.engine.dispose()
