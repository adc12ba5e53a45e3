"""Slow clients cannot starve the server (bot.server): the live server, with short deadlines, against connections
that trickle a request one byte at a time, send nothing, or idle after a response. Each one is closed by the server
within its deadline (plus a margin for a shared machine), while ordinary requests keep being answered; and past
the connection limit a request is refused at once with 503 instead of waiting.

On uvicorn's defaults, the same 20 trickling connections were all still open after 30 s.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from bot.app import Runtime, build_runtime
from tests.conftest import AUTH, SIGNING_SECRET, make_settings, mention
from tests.live import LiveServer, SlackClient, live_server

DEADLINE = 1.0  # seconds, for the head, the body and an idle kept-alive connection
STEP = 0.2  # seconds between two trickled bytes
MARGIN = 4.0  # a shared 2-core machine may be slow to run the timer; without the deadline it would be forever
TRICKLE = 40  # bytes: 8 s of trickling, well past DEADLINE + MARGIN


@pytest.fixture
def quick(engine, slack, database_url) -> Iterator[LiveServer]:
    settings = make_settings(database_url, slack.url, VIGIE_HTTP_HEADER_TIMEOUT=DEADLINE,
                             VIGIE_HTTP_BODY_TIMEOUT=DEADLINE, VIGIE_HTTP_KEEP_ALIVE=DEADLINE)
    rt: Runtime = build_runtime(settings)
    rt.start()
    try:
        with live_server(rt) as server:
            yield server
    finally:
        rt.stop()
        rt.engine.dispose()


@dataclass
class Slow:
    """One connection sending `head` at once, then `trickle` one byte every STEP, until the server answers or
    closes; `closed_after` is how long the server let it live, `answer` what it said."""

    port: int
    head: bytes
    trickle: bytes
    closed_after: float | None = None
    answer: bytes = b""

    def run(self) -> None:
        start = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            try:
                if self.head:
                    sock.sendall(self.head)
                for i in range(len(self.trickle) + 1):
                    readable, _, _ = select.select([sock], [], [], STEP)
                    if readable:
                        break
                    if i < len(self.trickle):
                        sock.sendall(self.trickle[i:i + 1])
                else:
                    return  # never answered nor closed: closed_after stays None
                sock.settimeout(DEADLINE + MARGIN)
                while chunk := sock.recv(4096):
                    self.answer += chunk
            except (ConnectionResetError, BrokenPipeError):
                pass
            self.closed_after = time.monotonic() - start


def _head_trickle(port: int) -> Slow:
    return Slow(port, b"", b"POST /intake/mentions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * TRICKLE)


def _body_trickle(port: int) -> Slow:
    head = (b"POST /intake/mentions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Authorization: " + AUTH["Authorization"].encode() + b"\r\nContent-Length: 500\r\n\r\n")
    return Slow(port, head, b'{"text": "' + b"a" * TRICKLE)


def _unread_body_trickle(port: int) -> Slow:
    # /healthz answers without reading the body; the client then keeps the connection busy with it.
    return Slow(port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500\r\n\r\n", b"a" * TRICKLE)


def test_trickling_clients_are_cut_off_while_others_are_served(quick):
    kinds = [_head_trickle, _body_trickle, _unread_body_trickle]
    slow = [kinds[i % 3](quick.port) for i in range(20)]
    threads = [threading.Thread(target=s.run, name=f"slow-{i}") for i, s in enumerate(slow)]
    for thread in threads:
        thread.start()
    try:
        # While they trickle: the intake, health and a signed Slack command are answered as usual.
        with httpx.Client(base_url=quick.url, timeout=10) as client:
            assert client.post("/intake/mentions", json=mention(1), headers=AUTH).status_code == 202
            assert client.get("/healthz").status_code == 200
        assert SlackClient(quick.url, SIGNING_SECRET).command("aide", user="U0CM00001").status_code == 200
        assert all(s.closed_after is None for s in slow[:2])  # those were served while the trickles ran
    finally:
        for thread in threads:
            thread.join(timeout=STEP * (TRICKLE + 60) + MARGIN)
    for s in slow:
        assert s.closed_after is not None and s.closed_after < DEADLINE + MARGIN, (s.head[:20], s.closed_after)
    for s in slow:
        if s.head.startswith(b"GET /healthz"):  # answered at once (200), then cut off when its body stalled
            assert s.answer.startswith(b"HTTP/1.1 200 "), s.answer[:40]
        else:
            assert s.answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), s.answer[:40]


def test_a_silent_connection_and_an_idle_kept_alive_one_are_closed(quick):
    with socket.create_connection(("127.0.0.1", quick.port)) as silent:
        silent.settimeout(DEADLINE + MARGIN)
        start = time.monotonic()
        assert silent.recv(4096) == b""  # closed without a word: nothing was asked
        assert time.monotonic() - start < DEADLINE + MARGIN
    with socket.create_connection(("127.0.0.1", quick.port)) as kept:
        kept.settimeout(DEADLINE + MARGIN)
        kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = b""
        while b'"status"' not in answer:
            answer += kept.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200 ")
        start = time.monotonic()
        assert kept.recv(4096) == b""  # the keep-alive timeout
        assert time.monotonic() - start < DEADLINE + MARGIN


def test_past_the_connection_limit_requests_are_refused_at_once(engine, slack, database_url):
    settings = make_settings(database_url, slack.url, VIGIE_HTTP_MAX_CONNECTIONS=5, VIGIE_HTTP_HEADER_TIMEOUT=60)
    rt = build_runtime(settings)
    rt.start()
    held: list[socket.socket] = []
    try:
        with live_server(rt) as server:
            held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(5)]
            for sock in held:
                sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # a head begun, never finished
            deadline = time.monotonic() + 10
            while len(server.server.server_state.connections) < 5 and time.monotonic() < deadline:
                time.sleep(0.01)
            with httpx.Client(base_url=server.url, timeout=10) as client:
                r = client.get("/healthz")
                assert r.status_code == 503 and r.text == "Service Unavailable"
                for sock in held:
                    sock.close()
                deadline = time.monotonic() + 10
                while len(server.server.server_state.connections) > 1 and time.monotonic() < deadline:
                    time.sleep(0.01)
                assert client.get("/healthz").status_code == 200
    finally:
        for sock in held:
            sock.close()
        rt.stop()
        rt.engine.dispose()
