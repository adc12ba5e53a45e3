"""The HTTP server: uvicorn, configured in one place. `vigie serve`, `vigie run --port` and the live-server tests
all run `make_server`, with the limits a server that faces the Internet needs, each one a setting (bot.config).

uvicorn has a keep-alive timeout and a connection limit, but no limit on how long a client may take to send a
request: a connection that sends its head one byte a second, or nothing at all, is kept forever, and enough of them
take every connection slot. Measured on uvicorn's defaults: 20 connections trickling a request at 1 byte/s were all
still open after 30 s. `DeadlineProtocol` adds that limit to uvicorn's own h11 protocol.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import h11
import structlog
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

if TYPE_CHECKING:
    from bot.config import Settings

log = structlog.get_logger(__name__)
_TIMEOUT_RESPONSE = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                     b"content-length: 30\r\nconnection: close\r\n\r\nrequest not received in time\r\n")


class DeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on reading each request: the head (request line and headers) within
    `head_timeout` seconds of its first byte, or of the connection for its first request; then the body within
    `body_timeout` seconds. A request that misses its deadline is answered 408 and its connection closed (a
    connection that sent nothing is just closed); the application, if it was reading the body, sees the client
    disconnect (bot.edge.read_capped turns that into BodyIncomplete). An idle kept-alive connection is left to
    uvicorn's keep-alive timeout.

    The deadline follows h11's view of the client's side: IDLE (waiting for a head), SEND_BODY, then DONE."""

    head_timeout = 10.0
    body_timeout = 30.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._phase: str | None = None
        self._timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._watch(new_request=True)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch(new_request=False)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch(new_request=False)

    def connection_lost(self, exc: Exception | None) -> None:
        self._arm(None)
        super().connection_lost(exc)

    def _watch(self, *, new_request: bool) -> None:
        if self.transport.is_closing():
            self._arm(None)
            return
        state = self.conn.their_state
        if state is h11.IDLE:
            # Part of a head is waiting in h11's buffer, or the connection is new: the head's clock runs (from its
            # first byte: an armed deadline is not moved by later bytes).
            started = new_request or self._phase == "head" or bool(self.conn.trailing_data[0])
            self._arm("head" if started else None)
        elif state is h11.SEND_BODY:
            self._arm("body")
        else:  # the whole request is in (or the connection is over): the application's time is not limited here
            self._arm(None)

    def _arm(self, phase: str | None) -> None:
        if phase == self._phase:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._phase, self._timer = phase, None
        if phase is not None:
            delay = self.head_timeout if phase == "head" else self.body_timeout
            self._timer = self.loop.call_later(delay, self._expired, phase)

    def _expired(self, phase: str) -> None:
        self._phase, self._timer = None, None
        if self.transport.is_closing():
            return
        log.debug("http_request_too_slow", phase=phase, client=self.client and self.client[0])
        cycle = self.cycle if phase == "body" else None
        if cycle is not None:
            # What connection_lost does, done now: the application's receive() returns http.disconnect, and
            # anything it sends afterwards is dropped instead of colliding with the 408 below.
            cycle.disconnected = True
            cycle.message_event.set()
        body_unanswered = cycle is not None and not cycle.response_started
        head_begun = phase == "head" and bool(self.conn.trailing_data[0])
        if body_unanswered or head_begun:  # say why it ends; a connection that never sent a byte is just closed
            self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()


class HeadLimit:
    """Refuses (431) a request whose head is larger than `limit` bytes. h11's max_incomplete_event_size bounds a
    head that is still arriving, but one that arrives whole in a single read (up to 64 KiB) passes it."""

    def __init__(self, app: Any, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"") + sum(
                len(name) + len(value) + 4 for name, value in scope["headers"])
            if size > self.limit:
                await send({"type": "http.response.start", "status": 431,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]})
                await send({"type": "http.response.body", "body": b"request head too large"})
                return
        await self.app(scope, receive, send)


def deadline_protocol(settings: Settings) -> type[DeadlineProtocol]:
    """A DeadlineProtocol class with the configured timeouts (uvicorn builds one instance per connection)."""
    attrs: dict[str, Any] = {"head_timeout": settings.http_header_timeout_seconds,
                             "body_timeout": settings.http_body_timeout_seconds}
    return type("VigieHTTPProtocol", (DeadlineProtocol,), attrs)


def make_server(app: Any, *, host: str, port: int, settings: Settings) -> uvicorn.Server:
    """The one place the HTTP server is configured: `vigie serve`, `vigie run --port` and the live-server tests
    all run this configuration."""
    return uvicorn.Server(uvicorn.Config(
        HeadLimit(app, settings.http_max_header_bytes), host=host, port=port, log_level="warning", lifespan="off",
        http=deadline_protocol(settings),  # h11, whatever else is installed: the deadlines are built on it
        ws="none",  # no WebSocket endpoint: an Upgrade request is answered as plain HTTP
        timeout_keep_alive=settings.http_keep_alive_seconds,  # type: ignore[arg-type]  # a float works (call_later)
        limit_concurrency=settings.http_max_connections,
        h11_max_incomplete_event_size=settings.http_max_header_bytes,
    ))
