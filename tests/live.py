"""The real server on a real port, and people clicking at the same instant.

`LiveServer` runs the application's own HTTP server configuration (`bot.server.make_server`: the one `vigie serve`
runs) on 127.0.0.1, port 0, in a thread. `SlackClient` sends requests exactly as Slack does (form-encoded,
signed with the signing secret, through a real socket), so Bolt's real signature check accepts them.
`simultaneously` releases several requests at once on a barrier: double clicks, two approvers in the same
second, an edit landing while someone approves.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx

from bot.http import build_http_app
from bot.server import make_server
from tests.slack_requests import interactive_body, signed_headers

T = TypeVar("T")


class LiveServer:
    """`settings` (optional) overrides the runtime's settings for the HTTP server only (its deadlines and limits)."""

    def __init__(self, runtime: Any, settings: Any = None):
        self.runtime = runtime
        self.app = build_http_app(runtime)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.server = make_server(self.app, host="127.0.0.1", port=self.port, settings=settings or runtime.settings)
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self._sock]},
                                        name="live-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        # uvicorn installs signal handlers only in the main thread; in this thread it skips them.
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise AssertionError("the live server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


@contextmanager
def live_server(runtime: Any, settings: Any = None) -> Iterator[LiveServer]:
    server = LiveServer(runtime, settings).start()
    try:
        yield server
    finally:
        server.stop()


class SlackClient:
    """Sends what Slack sends, signed, to a live server. One `httpx.Client` per thread (connection pools are not
    shared across the racing threads, as two people's clicks come from different connections)."""

    def __init__(self, base_url: str, secret: str):
        self.base_url, self.secret = base_url, secret
        self._local = threading.local()

    def _client(self) -> httpx.Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = httpx.Client(base_url=self.base_url, timeout=30)
        return client

    def post_body(self, body: str, *, headers: dict[str, str] | None = None) -> httpx.Response:
        return self._client().post("/slack/events", content=body,
                                   headers=headers or signed_headers(self.secret, body))

    def interaction(self, payload: dict[str, Any]) -> httpx.Response:
        return self.post_body(interactive_body(payload))

    def command(self, text: str, *, user: str, channel: str = "C0GENERAL1", trigger: str | None = None,
                headers: dict[str, str] | None = None) -> httpx.Response:
        body = slash_command_body(text, user=user, channel=channel, trigger=trigger)
        return self.post_body(body, headers=headers)


def slash_command_body(text: str, *, user: str, channel: str = "C0GENERAL1", trigger: str | None = None) -> str:
    """A `/vigie` command as Slack sends it (a form, not a JSON payload)."""
    from tests.slack_requests import trigger_id

    return urlencode({
        "token": "legacy-verification-token", "team_id": "T0TEAM0001", "team_domain": "acme",
        "channel_id": channel, "channel_name": "general", "user_id": user, "user_name": user.lower(),
        "command": "/vigie", "text": text, "api_app_id": "A0VIGIE001", "is_enterprise_install": "false",
        "response_url": "https://hooks.slack.invalid/commands/T0/1/abc", "trigger_id": trigger or trigger_id(),
    })


def simultaneously(calls: Sequence[Callable[[], T]], *, timeout: float = 30) -> list[T]:
    """Run `calls` in threads released together on a barrier; return their results in order (re-raising the
    first exception)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int, fn: Callable[[], T]) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[i] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, fn), name=f"racer-{i}") for i, fn in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    if errors:
        raise errors[0]
    return results
