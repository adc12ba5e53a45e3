"""A fake Slack Socket Mode server for tests (standard library only).

A minimal RFC 6455 WebSocket server on 127.0.0.1, plain ``ws://`` (slack_sdk's builtin Socket Mode
client connects without TLS to any port but 443). It sends Slack's ``hello`` on connect, lets the test
push envelopes (``events_api``, ``interactive``, ``slash_commands``) and records the client's acks::

    with FakeSocketModeServer() as ws:
        slack.set_handler("apps.connections.open", lambda args: {"ok": True, "url": ws.url})
        ...
        ws.wait_for_connection()
        ws.send_envelope("interactive", payload, envelope_id="env-1")
        ack = ws.wait_for_ack("env-1")

Frames from the server are never masked; frames from the client must be (RFC 6455 section 5.1),
and unmasked ones are recorded in ``protocol_errors``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import time
import uuid
from typing import Any, Self

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + _GUID).encode("ascii")).digest()).decode("ascii")


def encode_frame(payload: bytes, opcode: int = OP_TEXT) -> bytes:
    """A single unmasked (server-to-client) frame with FIN set."""
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n <= 125:
        head += bytes([n])
    elif n <= 0xFFFF:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


class _Closed(Exception):
    pass


class _Client:
    """One accepted WebSocket connection."""

    def __init__(self, server: FakeSocketModeServer, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.buf = b""
        self.send_lock = threading.Lock()
        self.request_line = ""
        self.headers: dict[str, str] = {}
        self.open = False

    # -- low-level I/O

    def _recv_more(self) -> None:
        while True:
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                if self.server._stopping.is_set():
                    raise _Closed from None
                continue
            except OSError:
                raise _Closed from None
            if not chunk:
                raise _Closed
            self.buf += chunk
            return

    def _read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._recv_more()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def send_raw(self, data: bytes) -> None:
        with self.send_lock:
            self.sock.sendall(data)

    def send_frame(self, payload: bytes, opcode: int = OP_TEXT) -> None:
        self.send_raw(encode_frame(payload, opcode))

    # -- handshake and frames

    def handshake(self) -> None:
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > 65536:
                raise _Closed
            self._recv_more()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        self.request_line = lines[0]
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        key = self.headers.get("sec-websocket-key")
        method = self.request_line.partition(" ")[0]
        if (method != "GET" or not key or self.headers.get("upgrade", "").lower() != "websocket"
                or self.headers.get("sec-websocket-version") != "13"):
            self.send_raw(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            raise _Closed
        self.send_raw(
            (
                "HTTP/1.1 101 Switching Protocols\r\n"
                "Upgrade: websocket\r\n"
                "Connection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept_key(key)}\r\n"
                "\r\n"
            ).encode("ascii")
        )
        self.open = True

    def read_frame(self) -> tuple[int, bytes, bool]:
        """Return (opcode, payload, fin); unmasks client frames."""
        b1, b2 = self._read_exact(2)
        fin = bool(b1 & 0x80)
        opcode = b1 & 0x0F
        masked = bool(b2 & 0x80)
        n = b2 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", self._read_exact(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", self._read_exact(8))
        mask = self._read_exact(4) if masked else b""
        data = self._read_exact(n)
        if masked:
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        else:
            self.server._protocol_error(f"unmasked client frame (opcode {opcode})")
        return opcode, data, fin

    def serve(self) -> None:
        try:
            self.handshake()
            self.server._connected(self)
            self.send_frame(json.dumps(self.server.hello_message()).encode("utf-8"))
            message = b""
            message_op = OP_TEXT
            while not self.server._stopping.is_set():
                opcode, data, fin = self.read_frame()
                if opcode == OP_PING:
                    self.server._record_ping()
                    self.send_frame(data, OP_PONG)
                elif opcode == OP_PONG:
                    continue
                elif opcode == OP_CLOSE:
                    try:
                        self.send_frame(data[:2], OP_CLOSE)
                    except OSError:
                        pass
                    break
                elif opcode in (OP_TEXT, OP_BINARY, OP_CONT):
                    if opcode != OP_CONT:
                        message, message_op = b"", opcode
                    message += data
                    if fin:
                        if message_op == OP_TEXT:
                            self.server._received(message.decode("utf-8"))
                        message = b""
                else:
                    self.server._protocol_error(f"unknown opcode {opcode}")
        except (_Closed, OSError):
            pass
        finally:
            self.open = False
            self.close()
            self.server._disconnected(self)

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


class FakeSocketModeServer:
    """A fake ``wss-primary.slack.com``: one WebSocket endpoint speaking Slack's Socket Mode envelopes."""

    def __init__(self, app_id: str = "A0VIGIE001", ticket: str = "fake-ticket") -> None:
        self.app_id = app_id
        self.ticket = ticket
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._cond = threading.Condition()
        self._clients: list[_Client] = []
        self._connections = 0
        self.messages: list[Any] = []  # every text frame from clients (JSON-decoded when possible)
        self.acks: dict[str, dict[str, Any]] = {}  # envelope_id -> ack body
        self.sent: list[dict[str, Any]] = []  # envelopes pushed to clients
        self.request_lines: list[str] = []  # "GET /link/?ticket=... HTTP/1.1" per connection
        self.pings = 0
        self.protocol_errors: list[str] = []

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(0.1)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept_loop, daemon=True, name="fake-socket-mode")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()
        with self._cond:
            clients = list(self._clients)
        for client in clients:
            try:
                client.send_frame(struct.pack("!H", 1001), OP_CLOSE)
            except OSError:
                pass
            client.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError("FakeSocketModeServer is not started")
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link/?ticket={self.ticket}&app_id={self.app_id}"

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            sock.settimeout(0.2)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client = _Client(self, sock)
            threading.Thread(target=client.serve, daemon=True, name="fake-socket-mode-client").start()

    # ------------------------------------------------------------------ callbacks from connections

    def hello_message(self) -> dict[str, Any]:
        return {
            "type": "hello",
            "num_connections": 1,
            "debug_info": {"host": "applink-fake", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }

    def _connected(self, client: _Client) -> None:
        with self._cond:
            self._clients.append(client)
            self._connections += 1
            self.request_lines.append(client.request_line)
            self._cond.notify_all()

    def _disconnected(self, client: _Client) -> None:
        with self._cond:
            if client in self._clients:
                self._clients.remove(client)
            self._cond.notify_all()

    def _received(self, text: str) -> None:
        try:
            body: Any = json.loads(text)
        except ValueError:
            body = text
        with self._cond:
            self.messages.append(body)
            if isinstance(body, dict) and isinstance(body.get("envelope_id"), str):
                self.acks[body["envelope_id"]] = body
            self._cond.notify_all()

    def _record_ping(self) -> None:
        with self._cond:
            self.pings += 1

    def _protocol_error(self, message: str) -> None:
        with self._cond:
            self.protocol_errors.append(message)

    # ------------------------------------------------------------------ test API

    @property
    def connections(self) -> int:
        """How many WebSocket handshakes succeeded so far."""
        with self._cond:
            return self._connections

    def wait_for_connection(self, count: int = 1, timeout: float = 5.0) -> None:
        """Block until ``count`` clients are connected at the same time."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._clients) >= count, timeout=timeout):
                raise AssertionError(f"no Socket Mode client connected within {timeout}s")

    def send_envelope(self, type: str, payload: dict[str, Any], envelope_id: str | None = None,
                      *, accepts_response_payload: bool = False, retry_attempt: int = 0,
                      retry_reason: str = "") -> str:
        """Push one envelope to the most recent client; return its envelope_id."""
        envelope_id = envelope_id or str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if type == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        with self._cond:
            if not self._clients:
                raise AssertionError("no Socket Mode client connected")
            client = self._clients[-1]
            self.sent.append(envelope)
        client.send_frame(json.dumps(envelope, ensure_ascii=False).encode("utf-8"))
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """Block until the client acknowledged ``envelope_id``; return the ack body."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while envelope_id not in self.acks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"no ack for envelope {envelope_id!r} within {timeout}s; received: {self.messages!r}"
                    )
                self._cond.wait(remaining)
            return self.acks[envelope_id]
