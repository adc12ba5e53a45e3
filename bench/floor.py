"""The floors the intake figures are divided by (issue 16): a minimal app on the same server stack as `vigie
serve` (FastAPI on uvicorn through `bot.server.make_server`, the engine of `bot.store.db.make_engine`, the
request's database work in Starlette's thread pool), which parses the JSON body and stores the mentions in
a table of their own with nothing else: no triage, no story, no outbox, no audit.

- `POST /floor/single`: one mention, one INSERT, one commit per request;
- `POST /floor/batch`: a list of mentions stored by one `INSERT ... SELECT FROM unnest(...)` (PostgreSQL;
  SQLite has no arrays: one `executemany` INSERT), one commit per request.

Run as `python -m bench.floor --port P --database-url URL` (bench/intake.py starts it beside the app, on a
database of the same kind, and drives both with the same client in the same run).
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from bot.store.db import make_engine

COLUMNS = ("source", "external_id", "url", "author", "text", "published_at", "language", "reach")
TABLE = """CREATE TABLE IF NOT EXISTS floor_mention (
    id {pk}, source VARCHAR(200) NOT NULL, external_id VARCHAR(200) NOT NULL, url TEXT NOT NULL,
    author VARCHAR(300) NOT NULL, text TEXT NOT NULL, published_at {ts} NOT NULL, language VARCHAR(8),
    reach INTEGER, UNIQUE (source, external_id))"""
_SINGLE = {"postgresql": "INSERT INTO floor_mention (source, external_id, url, author, text, published_at, language, "
                         "reach) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
           "sqlite": "INSERT INTO floor_mention (source, external_id, url, author, text, published_at, language, "
                     "reach) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"}
_BATCH_PG = ("INSERT INTO floor_mention (source, external_id, url, author, text, published_at, language, reach) "
             "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::timestamptz[], "
             "%s::text[], %s::int[]) RETURNING id")


def _row(m: dict[str, Any]) -> tuple[Any, ...]:
    return (m["source"], m["external_id"], m["url"], m["author"], m["text"],
            datetime.fromisoformat(m["published_at"]), m.get("language"), m.get("reach"))


def build(database_url: str) -> FastAPI:
    engine = make_engine(database_url)
    dialect = engine.dialect.name
    with engine.begin() as conn:
        conn.exec_driver_sql(TABLE.format(pk="SERIAL PRIMARY KEY" if dialect == "postgresql" else
                                          "INTEGER PRIMARY KEY", ts="TIMESTAMPTZ" if dialect == "postgresql" else "TEXT"))
    api = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    def store_one(m: dict[str, Any]) -> int:
        row = _row(m)
        if dialect == "sqlite":
            row = (*row[:5], row[5].isoformat(), *row[6:])
        with engine.begin() as conn:
            return int(conn.exec_driver_sql(_SINGLE[dialect], row).scalar_one())

    def store_many(items: list[dict[str, Any]]) -> int:
        rows = [_row(m) for m in items]
        with engine.begin() as conn:
            if dialect == "postgresql":
                return len(conn.exec_driver_sql(_BATCH_PG, tuple(list(col) for col in zip(*rows, strict=True))).all())
            conn.exec_driver_sql(_SINGLE[dialect].removesuffix(" RETURNING id"),
                                 [(*r[:5], r[5].isoformat(), *r[6:]) for r in rows])
            return len(rows)

    @api.post("/floor/single", status_code=202)
    async def single(request: Request) -> Response:
        m = json.loads(await request.body())
        new_id = await run_in_threadpool(store_one, m)
        return Response(json.dumps({"id": new_id}), status_code=202, media_type="application/json")

    @api.post("/floor/batch", status_code=202)
    async def batch(request: Request) -> Response:
        items = json.loads(await request.body())
        n = await run_in_threadpool(store_many, items)
        return Response(json.dumps({"accepted": n}), status_code=202, media_type="application/json")

    @api.get("/healthz")
    async def healthz() -> Response:
        return Response("ok")

    return api


def main() -> None:
    from bot.config import Settings
    from bot.server import make_server

    parser = argparse.ArgumentParser(prog="python -m bench.floor")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()
    # The HTTP limits of `vigie serve`, at their defaults (Settings itself needs Slack's secrets).
    fields = Settings.model_fields
    settings = SimpleNamespace(**{name: fields[name].default for name in (
        "http_header_timeout_seconds", "http_body_timeout_seconds", "http_keep_alive_seconds",
        "http_max_connections", "http_max_header_bytes")})
    make_server(build(args.database_url), host="127.0.0.1", port=args.port, settings=settings).run()  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
