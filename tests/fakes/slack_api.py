"""A fake Slack Web API server for tests (standard library only).

Point the real client at it::

    with FakeSlack(token="xoxb-test") as fake:
        client = slack_sdk.WebClient(base_url=fake.url, token="xoxb-test")
        client.chat_postMessage(channel="#alerts", text="hi")
        (call,) = fake.wait_for("chat.postMessage")

What it models, deliberately close to Slack:

* every answer is HTTP 200 with ``{"ok": false, "error": ...}`` on failure, except injected
  HTTP errors and rate limiting (HTTP 429 + ``Retry-After`` + ``{"ok": false, "error": "ratelimited"}``);
* arguments may come as JSON, as a form body or as query args, whatever the method's documented
  HTTP verb (slack_sdk mixes all three); JSON-valued form fields (``blocks``, ``view``...) are decoded;
* required arguments are read from the slack-api-ref spec (``spec_dir``), or from a built-in copy;
* ``conversations.*``, ``chat.update``/``delete``/``getPermalink`` and ``reactions.add`` need a
  channel ID: only ``chat.postMessage``/``chat.postEphemeral`` resolve ``#names``;
* ``conversations.history`` lists top-level messages (and broadcast replies), newest first, and
  includes ``metadata`` only with ``include_all_metadata``; thread replies come from
  ``conversations.replies``.

Calls are recorded on arrival (``calls()`` may show an in-flight call whose ``status`` is still
``None`` while an injected ``delay`` runs); ``wait_for`` counts *answered* calls only, so once it
returns, the state change of those calls (a stored message, a view...) is visible.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from email.message import Message
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

DEFAULT_SPEC_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "slack-spec"

# Argument names whose value is a JSON document. Form posts (and some clients' JSON posts) carry
# them as JSON strings; we decode them so tests can assert on structures.
JSON_ARGS = frozenset(
    {"blocks", "attachments", "metadata", "view", "files", "unfurls", "user_auth_blocks", "outputs"}
)
# A channel-like ID (C/G/D) or user ID (U/W); anything else passed as a channel is a name.
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_TS = re.compile(r"^\d+\.\d+$")
# Required arguments (without token) of the methods answered here, as slack-api-ref lists them.
# Used when the spec dir is absent; test_fake_slack checks this mirror against the spec.
BUILTIN_REQUIRED: dict[str, list[str]] = {
    "auth.test": [],
    "chat.postMessage": ["channel"],
    "chat.update": ["ts", "channel"],
    "chat.postEphemeral": ["user", "channel"],
    "chat.getPermalink": ["channel", "message_ts"],
    "chat.delete": ["ts", "channel"],
    "conversations.history": ["channel"],
    "conversations.replies": ["channel", "ts"],
    "conversations.info": ["channel"],
    "conversations.join": ["channel"],
    "users.info": ["user"],
    "views.open": ["view"],
    "views.update": ["view"],
    "views.push": ["view"],
    "views.publish": ["user_id", "view"],
    "reactions.add": ["name", "timestamp", "channel"],
    "apps.connections.open": [],
    "files.getUploadURLExternal": ["length", "filename"],
    "files.completeUploadExternal": ["files"],
}
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT = 40_000


@dataclass
class Call:
    """One HTTP request received by the fake."""

    method: str
    args: dict[str, Any]
    headers: Message  # case-insensitive lookup: call.headers["content-type"]
    token: str | None
    at: float  # time.monotonic() on arrival
    http_method: str = "POST"
    body: bytes = b""
    status: int | None = None  # HTTP status answered (None while in flight)
    response: dict[str, Any] | None = None  # JSON answered

    @property
    def ok(self) -> bool:
        return bool(self.response and self.response.get("ok"))


@dataclass
class _Fault:
    error: str | None
    status: int
    retry_after: int | None
    delay: float
    send_retry_after: bool = True
    hang_up: bool = False  # carry the call out, then close the connection without answering


class _SlackError(Exception):
    """Raised by method handlers; becomes an HTTP 200 ``{"ok": false, "error": ...}`` answer."""

    def __init__(self, error: str, **extra: Any):
        super().__init__(error)
        self.body = {"ok": False, "error": error, **extra}


def _invalid_arguments(*messages: str) -> _SlackError:
    return _SlackError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {m}" for m in messages]})


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _truthy(value: Any) -> bool:
    # slack_sdk turns booleans into "1"/"0" in form and query args; JSON bodies keep true/false.
    return value is True or (isinstance(value, (str, int)) and str(value).lower() in ("1", "true"))


def _ts_key(ts: str) -> Decimal:
    return Decimal(ts)


def _short_hash(text: str, length: int = 10) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:length].upper()


@cache
def _load_method_spec(spec_dir: str, method: str) -> dict | None:
    path = Path(spec_dir) / "slack-api-ref" / "docs.slack.dev" / "methods" / f"{method}.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        self.server.fake._serve(self)

    def do_GET(self) -> None:
        self.server.fake._serve(self)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default listen backlog (5) overflows when the bot posts from many threads at once, and a
    # dropped SYN costs the client a 1 s retransmission: make room.
    request_queue_size = 128
    fake: FakeSlack


class FakeSlack:
    """In-process fake of the Slack Web API. Thread-safe; usable as a context manager."""

    team_id = "T0VIGIE01"
    team_domain = "vigie-test"
    bot_user_id = "U0VIGIEBOT"
    bot_id = "B0VIGIEBOT"
    app_id = "A0VIGIEAPP"

    def __init__(
        self,
        token: str | None = None,
        *,
        app_token: str | None = None,
        scopes: list[str] | None = None,
        spec_dir: str | Path | None = DEFAULT_SPEC_DIR,
        block_checker: Callable[..., list[str]] | None = None,
    ):
        """
        token: when set, every method but apps.connections.open requires exactly this bearer token.
        app_token: when set, apps.connections.open requires exactly this (xapp-) token.
        scopes: when set, the bot's granted scopes: a method whose spec lists bot scopes, none of
            which is granted, answers ``missing_scope`` (needs the spec).
        spec_dir: root of the slack-spec data, read for required arguments and scopes; when absent,
            the built-in copy BUILTIN_REQUIRED is used and scopes are not checked.
        block_checker: optional ``f(blocks, surface=...) -> list[str]`` (e.g. ``slackspec.check_blocks``);
            when given, messages answer ``invalid_blocks`` and views ``invalid_arguments`` on errors.
        """
        self.token = token
        self.app_token = app_token
        self.scopes = None if scopes is None else set(scopes)
        self.spec_dir = Path(spec_dir) if spec_dir is not None else None
        self.block_checker = block_checker
        self.stats: Counter[str] = Counter()
        self._cond = threading.Condition(threading.RLock())
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._last_ts_us = 0
        # Directory data (kept across reset()).
        self._channel_names: dict[str, str] = {}  # name -> id
        self._channels: dict[str, dict[str, Any]] = {}  # id -> info
        self._users: dict[str, dict[str, Any]] = {}
        self._handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        # Called with every call received, before it is answered (the caller is still waiting): a test looks
        # at what the caller holds meanwhile (tests/scenarios/test_no_slack_call_in_transaction.py).
        self.on_call: Callable[[Call], None] | None = None
        self._clear_state()

    def _clear_state(self) -> None:
        self._calls: list[Call] = []
        self._messages: dict[str, list[dict[str, Any]]] = {}  # channel id -> records, oldest first
        self._ephemerals: list[dict[str, Any]] = []
        self._views: dict[str, dict[str, Any]] = {}  # view id -> view
        self._home_views: dict[str, str] = {}  # user id -> view id
        self._used_triggers: set[str] = set()
        self._uploads: dict[str, dict[str, Any]] = {}  # file id -> {"filename", "length", "data"}
        self._faults: dict[str, deque[_Fault]] = {}
        self._channel_faults: dict[str, str] = {}
        self._rate: float | None = None
        self._burst = 1.0
        self._token_refusal: str | None = None
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, last refill)
        self._method_rates: dict[str, tuple[float, float]] = {}  # method -> (per second, burst), workspace-wide
        self.stats.clear()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeSlack:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            # A short poll interval keeps stop() (and so each test's teardown) fast.
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="FakeSlack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # cut injected delays short
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL for ``WebClient(base_url=...)``; ends with "/" (the client appends the method)."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    # ------------------------------------------------------------------ recorded calls

    def calls(self, method: str | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self._calls if method is None or c.method == method]

    def last(self, method: str) -> Call:
        found = self.calls(method)
        if not found:
            raise AssertionError(f"no {method} call recorded; seen: {self._seen()}")
        return found[-1]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until ``count`` answered calls of ``method`` exist; return all answered ones."""

        def answered() -> list[Call]:
            return [c for c in self._calls if c.method == method and c.status is not None]

        with self._cond:
            if not self._cond.wait_for(lambda: len(answered()) >= count, timeout=timeout):
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {count} {method} call(s); "
                    f"got {len(answered())}; seen: {self._seen()}"
                )
            return answered()

    def _seen(self) -> str:
        with self._cond:
            counts = Counter(c.method for c in self._calls)
        return ", ".join(f"{m} x{n}" for m, n in counts.items()) or "nothing"

    def reset(self) -> None:
        """Forget calls, messages, views, uploads, stats, queued faults and rate limiting.

        Registered users/channels, the ``#name`` -> ID map and custom handlers are kept.
        """
        with self._cond:
            self._clear_state()

    # ------------------------------------------------------------------ test setup / inspection

    def channel_id(self, name: str) -> str:
        """Stable fake ID for ``#name`` / ``name`` (IDs are returned unchanged)."""
        if _CHANNEL_ID.match(name):
            return name
        name = name.lstrip("#")
        with self._cond:
            return self._channel_names.setdefault(name, "C" + _short_hash(name))

    def add_channel(
        self, name: str, *, is_private: bool = False, is_member: bool = True, locale: str | None = None
    ) -> str:
        """Register a channel; with ``is_member=False`` posts answer ``not_in_channel`` until joined."""
        cid = self.channel_id(name)
        with self._cond:
            self._channels[cid] = {
                "id": cid,
                "name": name.lstrip("#"),
                "is_private": is_private,
                "is_member": is_member,
                "locale": locale,
            }
        return cid

    def add_user(
        self,
        id: str,
        name: str | None = None,
        *,
        locale: str = "en-US",
        display_name: str | None = None,
        tz: str = "UTC",
        is_bot: bool = False,
        deleted: bool = False,
        email: str | None = None,
    ) -> None:
        """Register a user. ``name`` is the person's real name (also the default display name)."""
        real_name = name or f"User {id}"
        with self._cond:
            self._users[id] = self._user_record(
                id, real_name, display_name if display_name is not None else real_name,
                locale=locale, tz=tz, is_bot=is_bot, deleted=deleted, email=email,
            )

    def add_message(
        self,
        channel: str,
        text: str,
        *,
        user: str = "U0HUMAN01",
        thread_ts: str | None = None,
        blocks: list | None = None,
        metadata: dict | None = None,
    ) -> str:
        """Store a message as if a human had posted it; returns its ts."""
        with self._cond:
            record = self._new_message(self.channel_id(channel), text=text, blocks=blocks, metadata=metadata,
                                       thread_ts=thread_ts, user=user, bot=False)
            return record["ts"]

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Current state of a channel (after updates/deletes), oldest first, thread replies included.

        Each dict has at least ``ts``, ``text``, ``blocks``, ``metadata``, ``thread_ts`` (None when unset).
        """
        with self._cond:
            return copy.deepcopy(self._messages.get(self.channel_id(channel), []))

    def ephemerals(self, channel: str | None = None) -> list[dict[str, Any]]:
        with self._cond:
            cid = None if channel is None else self.channel_id(channel)
            return copy.deepcopy([e for e in self._ephemerals if cid is None or e["channel"] == cid])

    def views(self) -> dict[str, dict[str, Any]]:
        """Views opened/pushed/updated/published, by view ID (current state)."""
        with self._cond:
            return copy.deepcopy(self._views)

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        with self._cond:
            vid = self._home_views.get(user_id)
            return copy.deepcopy(self._views[vid]) if vid else None

    def uploads(self) -> dict[str, dict[str, Any]]:
        """Files uploaded through files.getUploadURLExternal + the upload URL, by file ID."""
        with self._cond:
            return copy.deepcopy(self._uploads)

    def set_handler(self, method: str, handler: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        """Answer ``method`` with ``handler(args)`` (after the token and argument checks)."""
        with self._cond:
            self._handlers[method] = handler

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
        delay: float = 0.0,
        send_retry_after: bool = True,
    ) -> None:
        """Queue ``times`` special answers for the next calls of ``method``.

        status=429 -> ``Retry-After`` (default 1; none at all with ``send_retry_after=False``) +
        ``ratelimited``; status>=500 -> that status with ``internal_error`` (or ``error``); status=200 with
        ``error`` -> a normal Slack error; ``delay`` sleeps before answering (alone, it only slows a normal
        answer down).
        """
        fault = _Fault(error=error, status=status, retry_after=retry_after, delay=delay,
                       send_retry_after=send_retry_after)
        with self._cond:
            self._faults.setdefault(method, deque()).extend(fault for _ in range(times))

    def hang_next(self, method: str, seconds: float, *, carried_out: bool = True, times: int = 1) -> None:
        """Hold the next ``times`` calls of ``method`` for ``seconds`` before answering: longer than the
        client's timeout, the client sees a timeout.

        carried_out=True: the call then takes effect (a message is stored), as when Slack did the work but
        the answer never reached the client; False: it is dropped (answered 503 to nobody).
        Wait for it with ``wait_for(method)``: a hung call counts once it has been answered.
        """
        if carried_out:
            self.fail_next(method, delay=seconds, times=times)
        else:
            self.fail_next(method, delay=seconds, status=503, error="service_unavailable", times=times)

    def hang_up_next(self, method: str, *, times: int = 1) -> None:
        """Carry out the next ``times`` calls of ``method`` (a post is stored), then close the connection
        without answering: the client sees the connection lost after sending (``RemoteDisconnected``)."""
        fault = _Fault(error=None, status=200, retry_after=None, delay=0.0, hang_up=True)
        with self._cond:
            self._faults.setdefault(method, deque()).extend(fault for _ in range(times))

    def refuse_token(self, error: str | None = "token_revoked") -> None:
        """Every bot-token call answers ``error`` (token_revoked, invalid_auth, account_inactive...) until
        ``refuse_token(None)``: a revoked token, a deactivated install."""
        with self._cond:
            self._token_refusal = error

    def fail_channel(self, channel: str, error: str = "channel_not_found") -> None:
        """Every call naming this channel answers ``error`` until ``heal_channel``."""
        with self._cond:
            self._channel_faults[self.channel_id(channel)] = error

    def heal_channel(self, channel: str) -> None:
        with self._cond:
            self._channel_faults.pop(self.channel_id(channel), None)

    def rate_limit(self, per_channel_per_second: float | None = 1.0, *, burst: float = 1.0) -> None:
        """Token bucket per channel for chat.postMessage (Slack: ~1 msg/s/channel); None disables."""
        with self._cond:
            self._rate = per_channel_per_second
            self._burst = burst
            self._buckets.clear()

    def rate_limit_method(self, method: str, per_minute: float | None, *, burst: float = 1.0) -> None:
        """Token bucket for the whole workspace on `method` (Slack's tiers: chat.update is Tier 3, about 50
        a minute); None removes it. Answers 429 + Retry-After beyond it, as Slack does."""
        with self._cond:
            if per_minute is None:
                self._method_rates.pop(method, None)
            else:
                self._method_rates[method] = (per_minute / 60.0, burst)
            self._buckets.pop(f"method:{method}", None)

    # ------------------------------------------------------------------ HTTP plumbing

    def _serve(self, req: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(req.path)
        method = parts.path.lstrip("/").removeprefix("api/")  # also accept Slack's /api/<method> layout
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length) if length else b""
        if method.startswith("_upload/"):
            return self._serve_upload(req, method.split("/", 1)[1], body)

        try:
            args, bad_json = self._parse_args(parts.query, req.headers, body), False
        except ValueError:  # malformed JSON / form body
            args, bad_json = dict(parse_qsl(parts.query, keep_blank_values=True)), True
        token = None
        auth = req.headers.get("Authorization") or ""
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        body_token = args.pop("token", None)  # legacy: token as an argument
        token = token or body_token
        call = Call(method=method, args=args, headers=req.headers, token=token, at=time.monotonic(),
                    http_method=req.command, body=body)
        if self.on_call is not None:
            self.on_call(call)
        with self._cond:
            self._calls.append(call)
            queue = self._faults.get(method)
            fault = queue.popleft() if queue else None
        if fault and fault.delay:
            self._stopping.wait(fault.delay)  # interruptible, so stop() never hangs on it
        with self._cond:
            if bad_json:
                status, headers, answer = 200, {}, {"ok": False, "error": "invalid_json"}
            else:
                status, headers, answer = self._answer(call, fault)
            call.status, call.response = status, answer
            if status == 429:
                self.stats["ratelimited"] += 1
            self._cond.notify_all()
        if fault and fault.hang_up:
            req.close_connection = True  # done, but the client never hears it
            return
        self._reply(req, status, answer, headers)

    @staticmethod
    def _parse_args(query: str, headers: Message, body: bytes) -> dict[str, Any]:
        args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        ctype = headers.get_content_type()
        if body and ctype == "application/json":
            parsed = json.loads(body.decode("utf-8"))
            if isinstance(parsed, dict):
                args.update(parsed)
        elif body and ctype == "application/x-www-form-urlencoded":
            args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        for key in JSON_ARGS & args.keys():
            value = args[key]
            if isinstance(value, str) and value[:1] in ("[", "{"):
                try:
                    args[key] = json.loads(value)
                except ValueError:
                    pass  # leave it: the method check reports the bad format
        return args

    @staticmethod
    def _reply(req: BaseHTTPRequestHandler, status: int, answer: Any, headers: dict[str, str]) -> None:
        data = answer if isinstance(answer, bytes) else json.dumps(answer).encode("utf-8")
        try:
            req.send_response(status)
            ctype = "text/plain" if isinstance(answer, bytes) else "application/json; charset=utf-8"
            req.send_header("Content-Type", ctype)
            req.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                req.send_header(name, value)
            req.end_headers()
            req.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. timed out on an injected delay)

    def _serve_upload(self, req: BaseHTTPRequestHandler, file_id: str, body: bytes) -> None:
        with self._cond:
            upload = self._uploads.get(file_id)
            if upload is not None:
                upload["data"] = body
        if upload is None:
            return self._reply(req, 404, b"file not found", {})
        self._reply(req, 200, f"OK - {len(body)}".encode(), {})

    # ------------------------------------------------------------------ answering (lock held)

    def _answer(self, call: Call, fault: _Fault | None) -> tuple[int, dict[str, str], dict[str, Any]]:
        if fault and (fault.error or fault.status != 200):
            if fault.status == 429:
                retry = 1 if fault.retry_after is None else fault.retry_after
                headers = {"Retry-After": str(retry)} if fault.send_retry_after else {}
                return 429, headers, {"ok": False, "error": fault.error or "ratelimited"}
            if fault.status >= 500:
                return fault.status, {}, {"ok": False, "error": fault.error or "internal_error"}
            return fault.status, {}, {"ok": False, "error": fault.error}

        handler = self._handlers.get(call.method) or getattr(self, "_m_" + call.method.replace(".", "_"), None)
        if handler is None:
            return 200, {}, {"ok": False, "error": "unknown_method", "req_method": call.method}
        try:
            self._check_token(call)
            self._check_scopes(call.method)
            self._check_required(call.method, call.args)
            self._check_channel_faults(call.args)
            limited = self._check_rate_limit(call)
            if limited is not None:
                return limited
            answer = handler(call.args)
        except _SlackError as err:
            return 200, {}, err.body
        except Exception as exc:  # noqa: BLE001 - a fake bug or an odd argument type: answer, don't hang up
            return 500, {}, {"ok": False, "error": "fake_internal_error", "detail": repr(exc)}
        return 200, {}, answer

    def _check_token(self, call: Call) -> None:
        if not call.token:
            raise _SlackError("not_authed")
        is_socket = call.method == "apps.connections.open"
        # App-level tokens only work for apps.connections.*; bot tokens don't open sockets.
        if call.token.startswith("xapp-") != is_socket:
            raise _SlackError("not_allowed_token_type")
        expected = self.app_token if is_socket else self.token
        if expected is not None and call.token != expected:
            raise _SlackError("invalid_auth")
        if self._token_refusal and not is_socket:
            raise _SlackError(self._token_refusal)

    def _spec(self, method: str) -> dict | None:
        if self.spec_dir is None:
            return None
        return _load_method_spec(str(self.spec_dir), method)

    def _check_scopes(self, method: str) -> None:
        spec = self._spec(method)
        if self.scopes is None or spec is None or not isinstance(spec.get("scope"), dict):
            return
        accepted = spec["scope"].get("bot") or []
        # The spec lists alternatives (e.g. conversations.history: channels:/groups:/im:/mpim:history).
        if accepted and not self.scopes.intersection(accepted):
            raise _SlackError("missing_scope", needed=",".join(accepted), provided=",".join(sorted(self.scopes)))

    def _check_required(self, method: str, args: dict[str, Any]) -> None:
        spec = self._spec(method)
        if spec is not None:
            required = (spec.get("args") or {}).get("required") or []
        else:
            required = BUILTIN_REQUIRED.get(method, [])
        missing = [a for a in required if a != "token" and not _present(args.get(a))]
        if missing:
            raise _invalid_arguments(*(f"missing required field: {a}" for a in missing))
        # Conditions the spec states only in prose.
        if method in ("chat.postMessage", "chat.postEphemeral") and not any(
            _present(args.get(a)) for a in ("text", "blocks", "attachments", "markdown_text")
        ):
            raise _SlackError("no_text")
        if method in ("views.open", "views.push") and not (
            _present(args.get("trigger_id")) or _present(args.get("interactivity_pointer"))
        ):
            raise _invalid_arguments("missing required field: trigger_id or interactivity_pointer")
        if method == "views.update" and not (_present(args.get("view_id")) or _present(args.get("external_id"))):
            raise _invalid_arguments("missing required field: view_id or external_id")

    def _check_channel_faults(self, args: dict[str, Any]) -> None:
        for key in ("channel", "channel_id"):
            value = args.get(key)
            if isinstance(value, str) and value:
                error = self._channel_faults.get(self.channel_id(value))
                if error:
                    raise _SlackError(error)

    def _check_rate_limit(self, call: Call) -> tuple[int, dict[str, str], dict[str, Any]] | None:
        if call.method in self._method_rates:
            rate, burst = self._method_rates[call.method]
            limited = self._take(f"method:{call.method}", rate, burst)
            if limited:
                return limited
        if self._rate is None or call.method != "chat.postMessage":
            return None
        return self._take(self._resolve_post_channel(call.args["channel"]), self._rate, self._burst)

    def _take(self, bucket: str, rate: float, burst: float) -> tuple[int, dict[str, str], dict[str, Any]] | None:
        now = time.monotonic()
        tokens, last = self._buckets.get(bucket, (burst, now))
        tokens = min(burst, tokens + (now - last) * rate)
        if tokens >= 1.0:
            self._buckets[bucket] = (tokens - 1.0, now)
            return None
        self._buckets[bucket] = (tokens, now)
        retry = max(1, math.ceil((1.0 - tokens) / rate))
        return 429, {"Retry-After": str(retry)}, {"ok": False, "error": "ratelimited"}

    # ------------------------------------------------------------------ state helpers (lock held)

    def _next_ts(self) -> str:
        # Wall-clock based (bots compare ts with "now"), strictly increasing, unique.
        self._last_ts_us = max(int(time.time() * 1_000_000), self._last_ts_us + 1)
        return f"{self._last_ts_us // 1_000_000}.{self._last_ts_us % 1_000_000:06d}"

    def _resolve_post_channel(self, channel: str) -> str:
        """chat.postMessage accepts IDs, #names and user IDs (which open a DM)."""
        if _USER_ID.match(channel):
            return "D" + _short_hash(channel)
        return self.channel_id(channel)

    def _require_channel_id(self, channel: Any) -> str:
        if not isinstance(channel, str) or not _CHANNEL_ID.match(channel):
            raise _SlackError("channel_not_found")
        return channel

    def _channel_info(self, cid: str) -> dict[str, Any]:
        info = self._channels.get(cid)
        if info is None:
            name = next((n for n, i in self._channel_names.items() if i == cid), f"channel-{cid.lower()}")
            info = {"id": cid, "name": name, "is_private": False, "is_member": True, "locale": None}
            self._channels[cid] = info
        return info

    def _require_member(self, cid: str) -> None:
        if not cid.startswith("D") and not self._channel_info(cid)["is_member"]:
            raise _SlackError("not_in_channel")

    def _find(self, cid: str, ts: Any) -> dict[str, Any]:
        for record in self._messages.get(cid, []):
            if record["ts"] == ts:
                return record
        raise _SlackError("message_not_found")

    def _new_message(self, cid: str, *, text: Any, blocks: Any, metadata: Any, thread_ts: Any,
                     user: str, bot: bool, attachments: Any = None, reply_broadcast: bool = False,
                     files: list | None = None) -> dict[str, Any]:
        if thread_ts:
            # Slack threads hang off the parent: replying to a reply lands in the parent's thread, and
            # the parent gets thread_ts == ts. An unknown thread_ts is accepted as is (Slack does too).
            parent = next((m for m in self._messages.get(cid, []) if m["ts"] == thread_ts), None)
            if parent is not None:
                thread_ts = parent["thread_ts"] or parent["ts"]
                self._find(cid, thread_ts)["thread_ts"] = thread_ts
        record = {
            "type": "message",
            "ts": self._next_ts(),
            "text": text or "",
            "blocks": blocks,
            "attachments": attachments,
            "metadata": metadata,
            "thread_ts": thread_ts or None,
            "reply_broadcast": bool(reply_broadcast and thread_ts),
            "user": user,
            "bot_id": self.bot_id if bot else None,
            "app_id": self.app_id if bot else None,
            "team": self.team_id,
            "files": files,
            "reactions": [],
            "edited": None,
        }
        self._messages.setdefault(cid, []).append(record)
        return record

    def _render(self, cid: str, record: dict[str, Any], *, with_metadata: bool = True) -> dict[str, Any]:
        """A stored record as Slack shows it: unset fields omitted, thread summary on parents."""
        out = {k: v for k, v in record.items() if v not in (None, [], False)}
        out["text"] = record["text"]
        if not with_metadata:
            out.pop("metadata", None)
        replies = [m for m in self._messages.get(cid, []) if m["thread_ts"] == record["ts"] and m is not record]
        if replies:
            out["thread_ts"] = record["ts"]
            out["reply_count"] = len(replies)
            out["reply_users"] = sorted({m["user"] for m in replies})
            out["latest_reply"] = replies[-1]["ts"]
        return out

    def _check_message_content(self, args: dict[str, Any], *, too_long: str | None) -> None:
        blocks = args.get("blocks")
        if blocks is not None:
            if not isinstance(blocks, list) or not all(isinstance(b, dict) and "type" in b for b in blocks):
                raise _SlackError("invalid_blocks_format")
            if len(blocks) > MAX_MESSAGE_BLOCKS:
                limit = f"must provide an array of no more than {MAX_MESSAGE_BLOCKS} items [json-pointer:/blocks]"
                raise _SlackError("invalid_blocks", errors=[limit])
            if self.block_checker is not None:
                errors = self.block_checker(blocks, surface="message")
                if errors:
                    raise _SlackError("invalid_blocks", errors=errors)
        if _present(args.get("markdown_text")) and (_present(args.get("text")) or _present(blocks)):
            raise _SlackError("markdown_text_conflict")
        metadata = args.get("metadata")
        if metadata is not None and not (
            isinstance(metadata, dict)
            and (
                (isinstance(metadata.get("event_type"), str) and isinstance(metadata.get("event_payload"), dict))
                or isinstance(metadata.get("entities"), list)  # Work Object entity metadata
            )
        ):
            raise _SlackError("invalid_metadata_format")
        text = args.get("text")
        if too_long and isinstance(text, str) and len(text) > MAX_TEXT:
            raise _SlackError(too_long)

    def _check_view(self, view: Any, *, kinds: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(view, dict):
            raise _invalid_arguments("view must be a JSON object [json-pointer:/view]")
        if view.get("type") not in kinds:
            raise _invalid_arguments(f"view type must be one of {', '.join(kinds)} [json-pointer:/view/type]")
        blocks = view.get("blocks")
        if not isinstance(blocks, list):
            raise _invalid_arguments("missing required field: blocks [json-pointer:/view]")
        if len(blocks) > MAX_VIEW_BLOCKS:
            raise _invalid_arguments(f"no more than {MAX_VIEW_BLOCKS} items allowed [json-pointer:/view/blocks]")
        if self.block_checker is not None:
            errors = self.block_checker(blocks, surface=view["type"])
            if errors:
                raise _invalid_arguments(*errors)
        return view

    def _use_trigger(self, args: dict[str, Any]) -> None:
        trigger = args.get("trigger_id") or args.get("interactivity_pointer")
        if trigger in self._used_triggers:
            raise _SlackError("exchanged_trigger_id")  # Slack trigger IDs are single-use
        self._used_triggers.add(trigger)

    def _store_view(self, view: dict[str, Any], *, view_id: str | None = None, **extra: Any) -> dict[str, Any]:
        vid = view_id or "V" + f"{next(self._ids):010d}"
        stored = {
            **copy.deepcopy(view),
            "id": vid,
            "team_id": self.team_id,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
            "state": {"values": {}},
            "hash": f"{time.time():.6f}.{_short_hash(vid + str(next(self._ids)), 8)}",
            **extra,
        }
        stored.setdefault("root_view_id", vid)
        stored.setdefault("previous_view_id", None)
        self._views[vid] = stored
        return copy.deepcopy(stored)

    def _user_record(self, uid: str, real_name: str, display_name: str, *, locale: str, tz: str,
                     is_bot: bool, deleted: bool, email: str | None) -> dict[str, Any]:
        handle = re.sub(r"\W+", ".", real_name.lower()).strip(".") or uid.lower()
        profile = {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": display_name,
            "display_name_normalized": display_name,
            "image_48": f"https://avatars.example.invalid/{uid}_48.png",
        }
        if email:
            profile["email"] = email
        return {
            "id": uid, "team_id": self.team_id, "name": handle, "real_name": real_name, "deleted": deleted,
            "is_bot": is_bot, "is_app_user": False, "tz": tz, "tz_offset": 0, "locale": locale,
            "profile": profile,
        }

    # ------------------------------------------------------------------ Slack methods (lock held)

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True, "url": f"https://{self.team_domain}.slack.com/", "team": "Vigie Test",
            "user": "vigie", "team_id": self.team_id, "user_id": self.bot_user_id, "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        # Port 9 (discard): a Socket Mode client pointed at it fails to connect, as it should.
        return {"ok": True, "url": "wss://127.0.0.1:9/link/?ticket=fake-ticket&app_id=" + self.app_id}

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._resolve_post_channel(args["channel"])
        self._require_member(cid)
        self._check_message_content(args, too_long=None)
        text = args.get("text")
        if isinstance(text, str) and len(text) > MAX_TEXT:
            text = text[:MAX_TEXT]  # chat.postMessage truncates rather than failing
        record = self._new_message(
            cid, text=text, blocks=args.get("blocks"), metadata=args.get("metadata"), thread_ts=args.get("thread_ts"),
            user=self.bot_user_id, bot=True, attachments=args.get("attachments"),
            reply_broadcast=_truthy(args.get("reply_broadcast")),
        )
        return {"ok": True, "channel": cid, "ts": record["ts"], "message": self._render(cid, record)}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._require_channel_id(args["channel"])
        record = self._find(cid, args["ts"])
        if record["bot_id"] is None:
            raise _SlackError("cant_update_message")
        self._check_message_content(args, too_long="msg_too_long")
        # Like Slack, fields left out keep their previous value ([] clears blocks).
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in args and args[key] is not None:
                record[key] = args[key]
        record["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {"ok": True, "channel": cid, "ts": record["ts"], "text": record["text"],
                "message": self._render(cid, record)}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._resolve_post_channel(args["channel"])
        self._require_member(cid)
        self._check_message_content(args, too_long="msg_too_long")
        ts = self._next_ts()
        self._ephemerals.append({
            "channel": cid, "user": args["user"], "ts": ts, "text": args.get("text") or "",
            "blocks": args.get("blocks"), "thread_ts": args.get("thread_ts") or None,
        })
        return {"ok": True, "message_ts": ts}

    def _m_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._require_channel_id(args["channel"])
        record = self._find(cid, args["ts"])
        if record["bot_id"] is None:
            raise _SlackError("cant_delete_message")
        self._messages[cid].remove(record)
        return {"ok": True, "channel": cid, "ts": record["ts"]}

    def _m_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._require_channel_id(args["channel"])
        record = self._find(cid, args["message_ts"])
        link = f"https://{self.team_domain}.slack.com/archives/{cid}/p{record['ts'].replace('.', '')}"
        if record["thread_ts"] and record["thread_ts"] != record["ts"]:
            link += f"?thread_ts={record['thread_ts']}&cid={cid}"
        return {"ok": True, "channel": cid, "permalink": link}

    def _page(self, items: list[dict[str, Any]], args: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
        """Apply limit/cursor (cursor = opaque offset)."""
        limit = min(int(args.get("limit") or 100), 999)
        cursor = str(args.get("cursor") or "")
        if cursor and not cursor.startswith("fake_offset:"):
            raise _SlackError("invalid_cursor")
        start = int(cursor.split(":", 1)[1]) if cursor else 0
        page = items[start:start + limit]
        more = start + limit < len(items)
        return page, f"fake_offset:{start + limit}" if more else ""

    @staticmethod
    def _in_window(ts: str, args: dict[str, Any]) -> bool:
        """oldest < ts < latest (<= with inclusive); either bound may be absent."""
        inclusive = _truthy(args.get("inclusive"))
        key = _ts_key(ts)
        oldest, latest = args.get("oldest"), args.get("latest")
        after_oldest = not _present(oldest) or key > _ts_key(str(oldest)) or (inclusive and key == _ts_key(str(oldest)))
        before_latest = not _present(latest) or key < _ts_key(str(latest)) or (inclusive and key == _ts_key(str(latest)))
        return after_oldest and before_latest

    def _m_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._require_channel_id(args["channel"])
        self._require_member(cid)
        for key in ("oldest", "latest"):
            if _present(args.get(key)) and not _TS.match(str(args[key])) and not str(args[key]).isdigit():
                raise _SlackError(f"invalid_ts_{key}")
        top = [m for m in self._messages.get(cid, [])
               if m["thread_ts"] in (None, m["ts"]) or m["reply_broadcast"]]
        window = [m for m in reversed(top) if self._in_window(m["ts"], args)]  # newest first
        page, cursor = self._page(window, args)
        with_metadata = _truthy(args.get("include_all_metadata"))
        return {
            "ok": True,
            "messages": [self._render(cid, m, with_metadata=with_metadata) for m in page],
            "has_more": bool(cursor),
            "pin_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    def _m_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._require_channel_id(args["channel"])
        try:
            record = self._find(cid, args["ts"])
        except _SlackError:
            raise _SlackError("thread_not_found") from None
        parent = self._find(cid, record["thread_ts"]) if record["thread_ts"] else record
        replies = [m for m in self._messages[cid] if m["thread_ts"] == parent["ts"] and m is not parent]
        # The parent always comes first; oldest/latest/limit apply to the replies (oldest first).
        page, cursor = self._page([m for m in replies if self._in_window(m["ts"], args)], args)
        with_metadata = _truthy(args.get("include_all_metadata"))
        return {
            "ok": True,
            "messages": [self._render(cid, m, with_metadata=with_metadata) for m in [parent, *page]],
            "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor},
        }

    def _m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._require_channel_id(args["channel"])
        info = self._channel_info(cid)
        channel = {
            "id": cid, "name": info["name"], "is_channel": cid.startswith("C"), "is_im": cid.startswith("D"),
            "is_private": info["is_private"], "is_member": info["is_member"], "is_archived": False,
            "created": 1700000000,
        }
        if _truthy(args.get("include_locale")):
            channel["locale"] = info["locale"] or "en-US"
        return {"ok": True, "channel": channel}

    def _m_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        """A 1:1 DM with `users` (the same channel chat.postMessage opens for a user ID); group DMs and
        `channel` (resume an existing one) are not modelled."""
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if len(users) != 1 or not _USER_ID.match(users[0]):
            raise _SlackError("user_not_found" if users else "users_list_not_supplied")
        cid = self._resolve_post_channel(users[0])
        return {"ok": True, "channel": {"id": cid}}

    def _m_conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._require_channel_id(args["channel"])
        self._channel_info(cid)["is_member"] = True
        return {"ok": True, "channel": self._m_conversations_info({"channel": cid})["channel"]}

    def _m_conversations_create(self, args: dict[str, Any]) -> dict[str, Any]:
        name = str(args["name"])
        if not re.fullmatch(r"[a-z0-9_-]{1,80}", name):
            raise _SlackError("invalid_name")
        if name in {c["name"] for c in self._channels.values()}:
            raise _SlackError("name_taken")
        cid = self.add_channel("#" + name, is_private=_truthy(args.get("is_private")))
        return {"ok": True, "channel": self._m_conversations_info({"channel": cid})["channel"]}

    def _m_conversations_invite(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._require_channel_id(args["channel"])
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if not users or not all(_USER_ID.match(u) for u in users):
            raise _SlackError("user_not_found")
        return {"ok": True, "channel": self._m_conversations_info({"channel": cid})["channel"]}

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        uid = args["user"]
        if not isinstance(uid, str) or not _USER_ID.match(uid):
            raise _SlackError("user_not_found")
        user = self._users.get(uid) or self._user_record(
            uid, f"User {uid}", f"user-{uid.lower()}", locale="en-US", tz="UTC",
            is_bot=False, deleted=False, email=None,
        )
        user = copy.deepcopy(user)
        if not _truthy(args.get("include_locale")):
            user.pop("locale")  # like Slack: only with include_locale
        return {"ok": True, "user": user}

    def _m_reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = self._require_channel_id(args["channel"])
        record = self._find(cid, args["timestamp"])
        name = str(args["name"]).strip(":")
        reaction = next((r for r in record["reactions"] if r["name"] == name), None)
        if reaction is None:
            reaction = {"name": name, "users": [], "count": 0}
            record["reactions"].append(reaction)
        if self.bot_user_id in reaction["users"]:
            raise _SlackError("already_reacted")
        reaction["users"].append(self.bot_user_id)
        reaction["count"] += 1
        return {"ok": True}

    def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._check_view(args["view"], kinds=("modal",))
        self._use_trigger(args)
        return {"ok": True, "view": self._store_view(view)}

    def _m_views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._check_view(args["view"], kinds=("modal",))
        self._use_trigger(args)
        return {"ok": True, "view": self._store_view(view)}

    def _m_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._check_view(args["view"], kinds=("modal", "home"))
        if _present(args.get("view_id")):
            current = self._views.get(args["view_id"])
        else:
            current = next((v for v in self._views.values() if v.get("external_id") == args["external_id"]), None)
        if current is None:
            raise _SlackError("not_found")
        if _present(args.get("hash")) and args["hash"] != current["hash"]:
            raise _SlackError("hash_conflict")
        return {"ok": True, "view": self._store_view(view, view_id=current["id"],
                                                     root_view_id=current["root_view_id"])}

    def _m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        view = self._check_view(args["view"], kinds=("home",))
        user_id = args["user_id"]
        current_id = self._home_views.get(user_id)
        if _present(args.get("hash")) and (current_id is None or args["hash"] != self._views[current_id]["hash"]):
            raise _SlackError("hash_conflict")
        stored = self._store_view(view, view_id=current_id)
        self._home_views[user_id] = stored["id"]
        return {"ok": True, "view": stored}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        try:
            length = int(args["length"])
        except (TypeError, ValueError):
            raise _invalid_arguments("length must be an integer") from None
        file_id = "F" + f"{next(self._ids):010d}"
        self._uploads[file_id] = {"filename": args["filename"], "length": length, "data": None}
        return {"ok": True, "upload_url": f"{self.url}_upload/{file_id}", "file_id": file_id}

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args["files"]
        if not isinstance(files, list) or not all(isinstance(f, dict) and "id" in f for f in files):
            raise _invalid_arguments("files must be a JSON array of {id, title}")
        out = []
        for f in files:
            upload = self._uploads.get(f["id"])
            if upload is None or upload["data"] is None:
                raise _SlackError("file_not_found")
            out.append({"id": f["id"], "name": upload["filename"], "title": f.get("title") or upload["filename"],
                        "size": len(upload["data"])})
        channel = args.get("channel_id") or args.get("channels")
        if channel:
            cid = self._require_channel_id(str(channel).split(",")[0])
            self._new_message(cid, text=args.get("initial_comment"), blocks=args.get("blocks"), metadata=None,
                              thread_ts=args.get("thread_ts"), user=self.bot_user_id, bot=True, files=out)
        return {"ok": True, "files": out}
