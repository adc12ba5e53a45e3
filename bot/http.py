"""The HTTP side: one ASGI app for Slack's requests, the intake API, health and metrics.

Bolt's `App.dispatch` is synchronous: it runs in a worker thread so a slow listener never blocks the event
loop (Bolt acks as soon as the listener calls `ack()` and finishes the rest in its own executor). Slack's
requests and intake's run in thread pools of their own (`threads`): a burst of intake requests cannot take
every thread and make a click wait for one (FastAPI's default is one pool of 40 for every route).

Every body from outside is read with a size cap and decoded with JSON limits (bot.edge); a Slack request also
passes bot.slack.verify (signature first, then shape) before Bolt sees it. The server itself is bot.server.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
import structlog
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import TypeAdapter, ValidationError
from slack_bolt.context.context import BoltContext
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool

from bot.edge import MAX_JSON_DEPTH, BadJson, BodyIncomplete, BodyTooLarge, load_json, read_capped
from bot.i18n import t
from bot.intake.pushes import PUSHES, Push, PushRefused, get_push, push_names, push_schema
from bot.intake.schema import (
    MAX_BATCH,
    MAX_BODY_BYTES,
    MentionIn,
    field_errors,
    field_summary,
    request_language,
)
from bot.outbox.queue import slack_health
from bot.slack.verify import Refusal, SlackGate
from bot.store.deliveries import probe_write

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = structlog.get_logger(__name__)
SLACK_MAX_BODY = 1024 * 1024
_ONE = TypeAdapter(MentionIn)
_MANY = TypeAdapter(list[MentionIn])
# The database is down, restarting, unreachable, or every pooled connection is busy: the caller should retry
# later (503 + Retry-After), and nothing was stored since the batch is one transaction.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)
READ_ONLY = "25006"  # PostgreSQL's read_only_sql_transaction (psycopg raises it as an InternalError)
# Threads for each kind of request's blocking work. Slack's: as many as Bolt's listener executor (bot.app), each
# request holds one until its listener acks. Intake's: a bound below the database pool (10 + 10 connections), so
# a flood of intake requests waits on the event loop for a thread (cheaply) rather than holding every
# connection; the rest of the routes (health) keep FastAPI's default pool.
SLACK_THREADS = 16
INTAKE_THREADS = 8
_POOLS = {name: RunVar[CapacityLimiter](f"vigie_{name}_threads") for name in ("slack", "intake")}
_SIZES = {"slack": SLACK_THREADS, "intake": INTAKE_THREADS}
T = TypeVar("T")


async def threads(pool: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `fn` in a worker thread of `pool` ("slack" or "intake"). One limiter per event loop (as anyio keeps
    its default one), so an app served again on another loop (the tests' clients) gets limiters of that loop."""
    var = _POOLS[pool]
    try:
        limiter = var.get()
    except LookupError:
        limiter = CapacityLimiter(_SIZES[pool])
        var.set(limiter)
    return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs), limiter=limiter)


def unavailable(exc: BaseException) -> bool:
    """The database cannot store now; a database that is up but read-only counts too (SQLite says so with an
    OperationalError, PostgreSQL with an InternalError), as it is not a bug of the request nor of Vigie."""
    return isinstance(exc, DATABASE_UNAVAILABLE) or (
        isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) == READ_ONLY)


def _problem(status: int, code: str, message: str, *, bearer: bool = False, **extra: Any) -> JSONResponse:
    """An error body: a stable `code` for programs, a `message` for people (in the sender's language)."""
    headers = {"Retry-After": str(extra.pop("retry_after"))} if "retry_after" in extra else None
    if bearer:
        headers = {"WWW-Authenticate": "Bearer"}
    return JSONResponse({"code": code, "message": message, **extra}, status_code=status, headers=headers)


# bot.edge's reasons for refusing a JSON body -> (intake error code, catalogue key)
_JSON_PROBLEMS = {
    "encoding": ("invalid_json", "intake.error.invalid_encoding"),
    "syntax": ("invalid_json", "intake.error.invalid_json"),
    "depth": ("too_deep", "intake.error.too_deep"),
    "number": ("invalid_json", "intake.error.number_too_long"),
}


def build_http_app(runtime: Runtime, *, with_slack: bool = True) -> FastAPI:
    api = FastAPI(title="Vigie", version="0.1.0", docs_url=None, redoc_url=None,
                  description="Mentions in, triaged, relayed to the right Slack channel.")
    tokens = [t.get_secret_value().encode() for t in runtime.settings.intake_tokens]

    def token_name(header: str | None) -> str | None:
        if not header or not header.startswith("Bearer "):
            return None
        given = header.removeprefix("Bearer ").strip().encode()
        # Compare against every token, always, so timing says nothing about which one nearly matched.
        matches = [hmac.compare_digest(given, tok) for tok in tokens]
        if not any(matches):
            return None
        return "intake:" + hashlib.sha256(given).hexdigest()[:8]

    @api.post(
        "/intake/mentions",
        status_code=202,
        summary="Submit one mention or a list of mentions",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"oneOf": [
                    {"$ref": "#/components/schemas/MentionIn"},
                    {"type": "array", "items": {"$ref": "#/components/schemas/MentionIn"},
                     "minItems": 1, "maxItems": MAX_BATCH},
                ]}}},
            },
            "security": [{"bearer": []}],
            "responses": {
                "202": {"description": "Stored (durably) and queued for relay; duplicates are marked."},
                "400": {"description": f"The body is not JSON in UTF-8, or nests more than {MAX_JSON_DEPTH} "
                                       "levels of lists and objects."},
                "401": {"description": "Missing or wrong bearer token."},
                "413": {"description": f"Body over {MAX_BODY_BYTES} bytes or more than {MAX_BATCH} mentions."},
                "422": {"description": "Invalid or unknown fields (a NUL character included); each one is named."},
                "503": {"description": "The database is unavailable; try again after Retry-After seconds."},
            },
        },
    )
    async def intake(request: Request) -> Response:
        lang = request_language(request.headers.get("accept-language"), runtime.protocol.language)
        actor = token_name(request.headers.get("authorization"))
        if actor is None:
            return refused(lang)
        data = await read_body(request, lang)
        if isinstance(data, Response):
            return data
        batch = isinstance(data, list)
        if batch and len(data) > MAX_BATCH:
            return _problem(413, "too_many_mentions", t("intake.error.too_many_mentions", lang, count=len(data),
                                                        limit=MAX_BATCH))
        if batch and not data:
            return _problem(422, "empty_batch", t("intake.error.empty_batch", lang), fields=[])
        try:
            mentions = _MANY.validate_python(data) if batch else [_ONE.validate_python(data)]
        except ValidationError as exc:
            fields = field_errors(exc, batch=batch, lang=lang)
            summary = field_summary(fields, lang)
            return _problem(422, "invalid_mention", t("intake.error.invalid_mention", lang, summary=summary),
                            fields=fields)
        return await store(mentions, actor, lang, door="api")

    def refused(lang: str) -> Response:
        if tokens:
            return _problem(401, "unauthorized", t("intake.error.unauthorized", lang), bearer=True)
        return _problem(401, "intake_disabled", t("intake.error.intake_disabled", lang), bearer=True)

    async def read_body(request: Request, lang: str) -> Any:
        """The JSON body, or the Response refusing it (too large, cut off, not JSON, too deep)."""
        try:
            raw = await read_capped(request, MAX_BODY_BYTES)
        except BodyTooLarge:
            return _problem(413, "body_too_large", t("intake.error.body_too_large", lang, limit=MAX_BODY_BYTES))
        except BodyIncomplete:
            return _problem(400, "body_incomplete", t("edge.body_incomplete", lang))
        try:
            return load_json(raw)
        except BadJson as exc:
            code, key = _JSON_PROBLEMS[exc.reason]
            return _problem(400, code, t(key, lang, **exc.params))

    async def store(mentions: list[MentionIn], actor: str, lang: str, *, door: str,
                    **extra: Any) -> Response:
        """Stored in one transaction before the 202 (durable before acknowledged), or a 503 and nothing stored."""
        try:
            results = await threads("intake", runtime.vigie.ingest, mentions, actor=actor) if mentions else []
        except (*DATABASE_UNAVAILABLE, DBAPIError) as exc:
            if not unavailable(exc):
                raise
            log.warning("intake_database_unavailable", error=type(exc).__name__)
            return _problem(503, "database_unavailable", t("intake.error.database_unavailable", lang),
                            retry_after=5)
        runtime.metrics.ingested(results, door=door)
        body = {
            **extra,
            "accepted": sum(not r.duplicate for r in results),
            "duplicates": sum(r.duplicate for r in results),
            # "story": the id of the story a copy joined (the mention that has the card), else absent.
            "mentions": [{"id": r.id, "external_id": m.external_id, "source": m.source, "duplicate": r.duplicate,
                          **({"story": r.story} if r.story is not None else {})}
                         for r, m in zip(results, mentions, strict=True)],
        }
        return JSONResponse(body, status_code=202)

    # Documented as one path per preset (see push_operation), each with its own body schema and example.
    @api.post("/intake/{preset}", status_code=202, include_in_schema=False)
    async def intake_push(request: Request, preset: str) -> Response:
        lang = request_language(request.headers.get("accept-language"), runtime.protocol.language)
        actor = token_name(request.headers.get("authorization"))
        if actor is None:
            return refused(lang)
        push = get_push(preset)
        if push is None:
            return _problem(404, "unknown_preset", t("intake.error.unknown_preset", lang, preset=preset[:40],
                                                     presets=", ".join(push_names())))
        data = await read_body(request, lang)
        if isinstance(data, Response):
            return data
        try:
            mentions = push.read(data, lang)
        except PushRefused as exc:
            summary = field_summary(exc.fields, lang)
            return _problem(422, "invalid_push", t("intake.error.invalid_push", lang, vendor=push.label,
                                                   summary=summary), fields=exc.fields)
        if len(mentions) > MAX_BATCH:
            return _problem(413, "too_many_mentions", t("intake.error.too_many_mentions", lang,
                                                        count=len(mentions), limit=MAX_BATCH))
        return await store(mentions, actor, lang, door="push", preset=push.name)

    @api.get("/healthz", summary="Liveness and database check (a real write)",
             responses={503: {"description": "The database cannot be written; intake would fail too."}})
    async def healthz(request: Request) -> Response:
        try:
            # A write, committed: a database that answers reads but cannot store (full disk, read-only) is down
            # for Vigie, whose intake must store before it answers.
            await run_in_threadpool(probe_write, runtime.engine, now=runtime.clock.now())
        except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
            lang = request_language(request.headers.get("accept-language"), runtime.protocol.language)
            return _problem(503, "database_unavailable",
                            t("intake.error.health_database", lang, error=type(exc).__name__), retry_after=5)
        body: dict[str, Any] = {"status": "ok", "outbox": await run_in_threadpool(runtime.vigie.outbox_counts)}
        # Slack deliveries held for a person (a refused token, a channel that refuses the bot): still 200, as the
        # intake works and stores everything, but said here for whoever watches.
        slack = await run_in_threadpool(slack_health, runtime.engine)
        if slack:
            body["slack"] = slack
            body["status"] = "degraded" if "token_refused" in slack else "ok"
        return JSONResponse(body)

    @api.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
    async def metrics() -> Response:
        body, content_type = runtime.metrics.render()
        return Response(body, media_type=content_type)

    if with_slack and runtime.bolt is not None:
        bolt = runtime.bolt
        secret = runtime.settings.slack_signing_secret
        gate = SlackGate(secret.get_secret_value()) if secret and secret.get_secret_value().strip() else None

        @api.post("/slack/events", include_in_schema=False)
        async def slack_events(request: Request) -> Response:
            lang = request_language(request.headers.get("accept-language"), runtime.protocol.language)
            try:
                raw = await read_capped(request, SLACK_MAX_BODY)
            except BodyTooLarge:
                return _problem(413, "body_too_large", t("slack.refused.body_too_large", lang, limit=SLACK_MAX_BODY))
            except BodyIncomplete:
                return _problem(400, "body_incomplete", t("edge.body_incomplete", lang))
            checked = gate.check(raw, request.headers) if gate else Refusal(401, "signature")
            if isinstance(checked, Refusal):
                log.info("slack_request_refused", code=checked.code, **checked.params)
                return _problem(checked.status, checked.code, t(f"slack.refused.{checked.code}", lang, **checked.params))
            text, body = checked
            bolt_req = BoltRequest(body=text, query=request.url.query,
                                   headers={k: [v] for k, v in request.headers.items()})
            if bolt_req.body != body:  # Bolt lost a command whose text says "payload" (see parse_like_bolt)
                bolt_req.body = body
                bolt_req.context = build_context(BoltContext(), body)
            bolt_resp = await threads("slack", bolt.dispatch, bolt_req)
            return Response(bolt_resp.body, status_code=bolt_resp.status,
                            headers={k: v[0] for k, v in bolt_resp.headers.items() if v and k.lower() != "content-length"})

    def openapi() -> dict[str, Any]:
        if api.openapi_schema:
            return api.openapi_schema
        schema = get_openapi(title=api.title, version=api.version, description=api.description, routes=api.routes)
        mention_schema = MentionIn.model_json_schema(ref_template="#/components/schemas/{model}")
        defs = mention_schema.pop("$defs", {})
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {}).update({"MentionIn": mention_schema, **defs})
        components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        for push in PUSHES:
            components["schemas"][f"Push_{push.name}"] = push_schema(push)
            schema["paths"][f"/intake/{push.name}"] = {"post": push_operation(push)}
        api.openapi_schema = schema
        return schema

    api.openapi = openapi  # type: ignore[method-assign]
    return api


def push_operation(push: Push) -> dict[str, Any]:
    """The OpenAPI operation of POST /intake/<preset>: the vendor's own body, its example, the intake's answers."""
    return {
        "summary": f"Submit a push from {push.label}",
        "description": "The tool's own JSON, as its webhook sends it (any other /intake/<name> is a 404). Each "
                       f"item becomes a mention, stored once as with /intake/mentions. Source: {push.source_note}.",
        "operationId": f"intake_push_{push.name}",
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/Push_{push.name}"}, "example": push.example}}},
        "security": [{"bearer": []}],
        "responses": {
            "202": {"description": "Every item stored (durably) and queued for relay; duplicates are marked. "
                                   "A push with no items is acknowledged with nothing stored."},
            "400": {"description": f"The body is not JSON in UTF-8, or nests more than {MAX_JSON_DEPTH} "
                                   "levels of lists and objects."},
            "401": {"description": "Missing or wrong bearer token."},
            "413": {"description": f"Body over {MAX_BODY_BYTES} bytes or more than {MAX_BATCH} items."},
            "422": {"description": "Not the tool's shape, or items that cannot be mentions: each field at fault "
                                   "is named by the tool's own path (documents[2].url)."},
            "503": {"description": "The database is unavailable; try again after Retry-After seconds."},
        },
    }
