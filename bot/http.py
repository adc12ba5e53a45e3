"""The HTTP side: one ASGI app for Slack's requests, the intake API, health and metrics.

Bolt's `App.dispatch` is synchronous: it runs in a worker thread so a slow listener never blocks the event
loop (Bolt acks as soon as the listener calls `ack()` and finishes the rest in its own executor).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

import structlog
import uvicorn
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import TypeAdapter, ValidationError
from slack_bolt.request import BoltRequest
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool

from bot.i18n import t
from bot.intake.schema import (
    MAX_BATCH,
    MAX_BODY_BYTES,
    MentionIn,
    field_errors,
    field_summary,
    request_language,
)
from bot.outbox import slack_health

if TYPE_CHECKING:
    from bot.app import Runtime

log = structlog.get_logger(__name__)
SLACK_MAX_BODY = 1024 * 1024
_ONE = TypeAdapter(MentionIn)
_MANY = TypeAdapter(list[MentionIn])
# The database is down, restarting, unreachable, or every pooled connection is busy: the caller should retry
# later (503 + Retry-After), and nothing was stored since the batch is one transaction.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)


class BodyTooLarge(Exception):
    pass


async def read_capped(request: Request, limit: int) -> bytes:
    """Read at most `limit` bytes; refuse early on Content-Length, and while streaming otherwise."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _problem(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    """An error body: a stable `code` for programs, a `message` for people (in the sender's language)."""
    headers = {"Retry-After": str(extra.pop("retry_after"))} if "retry_after" in extra else None
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    return JSONResponse({"code": code, "message": message, **extra}, status_code=status, headers=headers)


def make_server(app: FastAPI, *, host: str, port: int) -> uvicorn.Server:
    """The one place the HTTP server is configured: `vigie serve`, `vigie run --port` and the live-server tests
    all run this configuration."""
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))


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
                "400": {"description": "The body is not JSON."},
                "401": {"description": "Missing or wrong bearer token."},
                "413": {"description": f"Body over {MAX_BODY_BYTES} bytes or more than {MAX_BATCH} mentions."},
                "422": {"description": "Invalid fields; each one is named."},
                "503": {"description": "The database is unavailable; try again after Retry-After seconds."},
            },
        },
    )
    async def intake(request: Request) -> Response:
        lang = request_language(request.headers.get("accept-language"), runtime.protocol.language)
        actor = token_name(request.headers.get("authorization"))
        if actor is None:
            if tokens:
                return _problem(401, "unauthorized", t("intake.error.unauthorized", lang))
            return _problem(401, "intake_disabled", t("intake.error.intake_disabled", lang))
        try:
            raw = await read_capped(request, MAX_BODY_BYTES)
        except BodyTooLarge:
            return _problem(413, "body_too_large", t("intake.error.body_too_large", lang, limit=MAX_BODY_BYTES))
        try:
            data = json.loads(raw)
        except UnicodeDecodeError:
            return _problem(400, "invalid_json", t("intake.error.invalid_encoding", lang))
        except json.JSONDecodeError as exc:
            return _problem(400, "invalid_json", t("intake.error.invalid_json", lang, line=exc.lineno,
                                                   column=exc.colno))
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
        try:
            results = await run_in_threadpool(runtime.vigie.ingest, mentions, actor=actor)
        except DATABASE_UNAVAILABLE as exc:
            log.warning("intake_database_unavailable", error=type(exc).__name__)
            return _problem(503, "database_unavailable", t("intake.error.database_unavailable", lang),
                            retry_after=5)
        runtime.metrics.ingested(results, door="api")
        body = {
            "accepted": sum(not r.duplicate for r in results),
            "duplicates": sum(r.duplicate for r in results),
            # "story": the id of the story a copy joined (the mention that has the card), else absent.
            "mentions": [{"id": r.id, "external_id": m.external_id, "source": m.source, "duplicate": r.duplicate,
                          **({"story": r.story} if r.story is not None else {})}
                         for r, m in zip(results, mentions, strict=True)],
        }
        return JSONResponse(body, status_code=202)

    @api.get("/healthz", summary="Liveness and database check")
    async def healthz(request: Request) -> Response:
        def check() -> None:
            with runtime.engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        try:
            await run_in_threadpool(check)
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

        @api.post("/slack/events", include_in_schema=False)
        async def slack_events(request: Request) -> Response:
            try:
                raw = await read_capped(request, SLACK_MAX_BODY)
            except BodyTooLarge:
                return PlainTextResponse("payload too large", status_code=413)
            bolt_req = BoltRequest(
                body=raw.decode("utf-8", errors="replace"),
                query=request.url.query,
                headers={k: [v] for k, v in request.headers.items()},
            )
            bolt_resp = await run_in_threadpool(bolt.dispatch, bolt_req)
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
        api.openapi_schema = schema
        return schema

    api.openapi = openapi  # type: ignore[method-assign]
    return api
