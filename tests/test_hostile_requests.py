"""No traceback from outside: every hostile request of issue #11 (and a few more), sent to the live server on a real
port, gets a 4xx, and nothing logged (structlog and stdlib logging configured as in production, uvicorn's own
loggers, and anything written to stdout or stderr) contains a traceback or an error.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import time

import httpx
import structlog

from bot import logs
from tests.conftest import AUTH, SIGNING_SECRET, mention
from tests.live import live_server
from tests.slack.test_slack_gate import MALFORMED, UNSIGNED_BODIES
from tests.slack_requests import signed_headers

JSON_TYPE = {"content-type": "application/json"}


def _signed_bytes(body: bytes, content_type: str) -> dict[str, str]:
    import hashlib
    import hmac

    ts = int(time.time())
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:%d:" % ts + body, hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


def _slack_requests() -> list[tuple[str, bytes, dict[str, str]]]:
    out = []
    for i, body in enumerate(UNSIGNED_BODIES):
        out.append((f"unsigned {i}", body, {"Content-Type": "application/x-www-form-urlencoded"}))
        out.append((f"unsigned {i}, timestamp not a number", body,
                    {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=0"}))
    out.append(("signed, not UTF-8", b"payload=\xff\xfe", _signed_bytes(b"payload=\xff\xfe",
                                                                       "application/x-www-form-urlencoded")))
    for name, (body, content_type, _code, _field) in MALFORMED.items():
        out.append((f"signed, {name}", body.encode(), _signed_bytes(body.encode(), content_type)))
    return out


def _intake_requests() -> list[tuple[str, bytes, dict[str, str]]]:
    def as_json(value) -> bytes:
        return json.dumps(value).encode()

    return [
        ("intake, not UTF-8", b'{"text": "\xff"}', AUTH | JSON_TYPE),
        ("intake, nested 100,000 deep", b"[" * 100_000, AUTH | JSON_TYPE),
        ("intake, objects nested 100,000 deep", b'{"a":' * 100_000, AUTH | JSON_TYPE),
        ("intake, a 5,000-digit number", b'{"reach": ' + b"7" * 5000 + b"}", AUTH | JSON_TYPE),
        ("intake, not JSON", b"source=x", AUTH | JSON_TYPE),
        ("intake, NUL in the id", as_json(mention(1, external_id="a\x00b")), AUTH | JSON_TYPE),
        ("intake, NUL in the text", as_json(mention(1, text="\x00")), AUTH | JSON_TYPE),
        ("intake, reach false", as_json(mention(1, reach=False)), AUTH | JSON_TYPE),
        ("intake, reach as text", as_json(mention(1, reach="12")), AUTH | JSON_TYPE),
        ("intake, reach 1e400", b'{"reach": 1e400}', AUTH | JSON_TYPE),
        ("intake, date as a number", as_json(mention(1, published_at=1763713800)), AUTH | JSON_TYPE),
        ("intake, unknown keys", as_json(mention(1, holding_statement="x", Source="y")), AUTH | JSON_TYPE),
        ("intake, a list of lists", as_json([[mention(1)]]), AUTH | JSON_TYPE),
        ("intake, a bare string", b'"mention"', AUTH | JSON_TYPE),
        ("intake, empty body", b"", AUTH | JSON_TYPE),
        ("intake, no token, deep body", b"[" * 100_000, JSON_TYPE),
    ]


RAW = {
    "not HTTP": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40,
    "bad request line": b"GET /healthz\r\n\r\n",
    "header over the size limit": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40_000 + b"\r\n\r\n",
    "bad Content-Length": b"POST /intake/mentions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    "two Content-Lengths": b"POST /intake/mentions HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2"
                           b"\r\n\r\nab",
    "broken chunk": b"POST /slack/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n",
    "NUL in a header": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
}


def _raw_status(port: int, data: bytes) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(data)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def test_every_hostile_request_gets_a_4xx_and_no_traceback_is_logged(runtime, capfd):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))  # exc_info printed if any
    root = logging.getLogger()
    old_handlers, old_level = root.handlers[:], root.level
    logs.configure("DEBUG", "console")  # production's configuration, at its most talkative
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    statuses: dict[str, int] = {}
    try:
        with live_server(runtime) as server:
            uvicorn_logger = logging.getLogger("uvicorn")  # it does not propagate to the root logger
            uvicorn_logger.addHandler(handler)
            try:
                with httpx.Client(base_url=server.url, timeout=30) as client:
                    def status(method: str, path: str, body: bytes = b"", headers: dict | None = None) -> int:
                        try:
                            return client.request(method, path, content=body, headers=headers).status_code
                        except httpx.TransportError as exc:  # a connection cut: recorded, not a 4xx
                            return -len(type(exc).__name__)

                    for name, body, headers in _slack_requests():
                        statuses[name] = status("POST", "/slack/events", body, headers)
                    for name, body, headers in _intake_requests():
                        statuses[name] = status("POST", "/intake/mentions", body, headers)
                    statuses["GET on the Slack endpoint"] = status("GET", "/slack/events")
                    statuses["PUT on the intake"] = status("PUT", "/intake/mentions", b"{}")
                    statuses["unknown path"] = status("GET", "/../../etc/passwd")
                    statuses["signed, Slack body too large"] = status(
                        "POST", "/slack/events", b"a" * (1024 * 1024 + 1), signed_headers(SIGNING_SECRET, "a"))
                for name, data in RAW.items():
                    statuses[f"raw, {name}"] = _raw_status(server.port, data)
            finally:
                uvicorn_logger.removeHandler(handler)
    finally:
        root.removeHandler(handler)
        root.handlers[:] = old_handlers
        root.setLevel(old_level)
        structlog.reset_defaults()
    captured = capfd.readouterr()
    output = stream.getvalue() + captured.out + captured.err

    assert len(statuses) > 70
    wrong = {name: status for name, status in statuses.items() if not 400 <= status < 500}
    assert wrong == {}
    assert "slack_request_refused" in output  # the refusals were logged, one line each
    for bad in ("Traceback", "Exception in ASGI application", "ERROR ", "[error", "listener_failed"):
        assert bad not in output, output[output.find(bad) - 500:output.find(bad) + 1500]
