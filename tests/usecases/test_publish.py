"""The webhook publisher, against a real HTTP receiver on 127.0.0.1 that checks signatures like a company's
publishing tool would."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from bot.outbox.webhook import PublishResult, publish_webhook, sign, verify

SECRET = "whsec-test-0123456789"
NOW = 1_764_000_000  # the receiver's clock, fixed
PAYLOAD: dict[str, Any] = {
    "draft_id": 7,
    "text": "Nous avons bien vu votre message, nous revenons vers vous rapidement. ✨",
    "network": "x",
}


@dataclass
class Planned:
    status: int = 200
    body: bytes = b""
    delay: float = 0.0  # seconds before answering


@dataclass
class Received:
    idempotency_key: str | None
    signature_ok: bool
    content_type: str | None
    body: bytes


@dataclass
class Receiver:
    """Answers with the planned responses in order (then 200), after checking the signature with `verify`."""

    url: str
    plan: list[Planned] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    @property
    def keys(self) -> list[str | None]:
        return [r.idempotency_key for r in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                timestamp = int(self.headers.get("X-Vigie-Timestamp", ""))
            except ValueError:
                timestamp = 0
            signature = self.headers.get("X-Vigie-Signature", "")
            ok = verify(SECRET, timestamp, body, signature, now=NOW)
            state.received.append(
                Received(self.headers.get("Idempotency-Key"), ok, self.headers.get("Content-Type"), body)
            )
            planned = state.plan.pop(0) if state.plan else Planned()
            if not ok:  # what a receiver must do: refuse, and publish nothing
                planned = Planned(401, b'{"error": "bad signature"}')
            time.sleep(planned.delay)
            try:
                self.send_response(planned.status)
                self.send_header("Content-Length", str(len(planned.body)))
                self.end_headers()
                self.wfile.write(planned.body)
            except OSError:  # the client gave up waiting (timeout test)
                pass

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/vigie"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def publish(client: httpx.Client, url: str, key: str = "vigie-draft-7") -> PublishResult:
    return publish_webhook(
        client, url=url, secret=SECRET, payload=PAYLOAD, idempotency_key=key, timestamp=NOW - 2
    )


# --- signatures ----------------------------------------------------------------------------------------------


def test_sign_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), b"1764000000.{}", hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, b"{}") == "v1=" + expected


def test_verify() -> None:
    body = b'{"text":"ok"}'
    good = sign(SECRET, NOW, body)
    assert verify(SECRET, NOW, body, good, now=NOW + 300)
    assert verify(SECRET, NOW, body, good, now=NOW - 300)  # a receiver's clock may run behind
    assert not verify(SECRET, NOW, body, good, now=NOW + 301)  # replayed too late
    assert not verify(SECRET, NOW, body, good, now=NOW + 60, tolerance=30)
    assert not verify("other-secret", NOW, body, good, now=NOW)
    assert not verify(SECRET, NOW, body + b" ", good, now=NOW)
    assert not verify(SECRET, NOW + 1, body, good, now=NOW)  # the timestamp is signed too
    assert not verify(SECRET, NOW, body, good.removeprefix("v1="), now=NOW)
    assert not verify(SECRET, NOW, body, "v1=é", now=NOW)  # garbage does not raise


# --- against the receiver ------------------------------------------------------------------------------------


def test_success_with_public_url(receiver: Receiver) -> None:
    receiver.plan.append(Planned(201, b'{"url": "https://x.example/armorine/status/1"}'))
    with httpx.Client(timeout=5) as client:
        result = publish(client, receiver.url)
    assert result == PublishResult(
        ok=True, retryable=False, status=201, error=None, public_url="https://x.example/armorine/status/1"
    )
    [request] = receiver.received
    assert request.signature_ok and request.idempotency_key == "vigie-draft-7"
    assert request.content_type == "application/json"
    # Compact UTF-8 JSON: what was signed is exactly what a receiver parses.
    assert request.body == json.dumps(PAYLOAD, ensure_ascii=False, separators=(",", ":")).encode()
    assert json.loads(request.body) == PAYLOAD


@pytest.mark.parametrize("body", [b"", b"published", b"[1, 2]", b'{"url": 3}', b'{"url": "javascript:x"}'])
def test_success_without_a_usable_url(receiver: Receiver, body: bytes) -> None:
    receiver.plan.append(Planned(200, body))
    with httpx.Client(timeout=5) as client:
        result = publish(client, receiver.url)
    assert (result.ok, result.public_url, result.error) == (True, None, None)


def test_server_error_then_success_keeps_the_idempotency_key(receiver: Receiver) -> None:
    receiver.plan += [Planned(500, b"database is down"), Planned(200, b'{"url": "https://x.example/s/2"}')]
    with httpx.Client(timeout=5) as client:
        first = publish(client, receiver.url)
        assert (first.ok, first.retryable, first.status) == (False, True, 500)
        assert first.error is not None and "HTTP 500" in first.error and "127.0.0.1" in first.error
        second = publish(client, receiver.url)
    assert (second.ok, second.public_url) == (True, "https://x.example/s/2")
    # The receiver can tell the retry from a new publication.
    assert receiver.keys == ["vigie-draft-7", "vigie-draft-7"]


def test_bad_request_is_not_retried(receiver: Receiver) -> None:
    receiver.plan.append(Planned(400, b'{"error": "text too long for x"}'))
    with httpx.Client(timeout=5) as client:
        result = publish(client, receiver.url)
    assert (result.ok, result.retryable, result.status, result.public_url) == (False, False, 400, None)
    assert result.error is not None
    assert "refused the reply (HTTP 400)" in result.error and "text too long for x" in result.error


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (408, True),
        (425, True),
        (429, True),
        (502, True),
        (503, True),
        (401, False),
        (404, False),
        (422, False),
    ],
)
def test_statuses(receiver: Receiver, status: int, retryable: bool) -> None:
    receiver.plan.append(Planned(status, b"x" * 1000))
    with httpx.Client(timeout=5) as client:
        result = publish(client, receiver.url)
    assert (result.ok, result.retryable, result.status) == (False, retryable, status)
    assert result.error is not None and len(result.error) < 400  # fits Outbox.last_error


def test_redirect_is_not_followed(receiver: Receiver) -> None:
    receiver.plan.append(Planned(301))
    with httpx.Client(timeout=5) as client:
        result = publish(client, receiver.url)
    assert (result.ok, result.retryable, result.status) == (False, False, 301)


def test_timeout_is_retryable(receiver: Receiver) -> None:
    receiver.plan.append(Planned(200, b"{}", delay=1.0))
    with httpx.Client(timeout=0.2) as client:
        result = publish(client, receiver.url)
    assert (result.ok, result.retryable, result.status) == (False, True, None)
    assert result.error is not None and "did not answer in time" in result.error


def test_connection_refused_is_retryable() -> None:
    with socket.socket() as sock:  # a port nobody listens on any more
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with httpx.Client(timeout=5) as client:
        result = publish(client, f"http://127.0.0.1:{port}/hooks/vigie")
    assert (result.ok, result.retryable, result.status) == (False, True, None)
    assert result.error is not None and "could not reach" in result.error


def test_unusable_address_is_not_retried() -> None:
    with httpx.Client(timeout=5) as client:
        result = publish(client, "ftp://publish.example.org/vigie")
    assert (result.ok, result.retryable) == (False, False)


class Tampering(httpx.HTTPTransport):
    """Changes the body on the way, keeping the headers (and so the signature) as sent."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read().replace(b"rapidement", b"jamais")
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        return super().handle_request(
            httpx.Request(request.method, request.url, headers=headers, content=body)
        )


def test_tampered_body_is_rejected_by_the_receiver(receiver: Receiver) -> None:
    with httpx.Client(timeout=5, transport=Tampering()) as client:
        result = publish(client, receiver.url)
    [request] = receiver.received
    assert b"jamais" in request.body and not request.signature_ok
    assert (result.ok, result.retryable, result.status) == (False, False, 401)
