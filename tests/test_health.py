"""Honest health and start-up: /healthz fails when the database cannot be written (as the intake then does), and a
database that cannot be reached at start-up is one sentence naming DATABASE_URL, not the driver's traceback.

The database is made read-only from the outside, the way an operator or a full disk would: on PostgreSQL with
`ALTER DATABASE ... SET default_transaction_read_only`, on SQLite by opening the file read-only (mode=ro in
DATABASE_URL). The code under test is not touched.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.app import build_runtime
from bot.cli import app as cli
from bot.http import build_http_app
from bot.store.deliveries import HEALTH_KEY
from bot.store.models import SlackDelivery
from tests.conftest import AUTH, BOT_TOKEN, SIGNING_SECRET, TEST_PROTOCOL, make_settings, mention
from tests.typography import fr

runner = CliRunner()


@contextmanager
def read_only(engine, database_url: str) -> Iterator[str]:
    """A DATABASE_URL for the same database, which now refuses every write."""
    if engine.dialect.name == "sqlite":
        path = make_url(database_url).database
        yield f"sqlite:///file:{path}?mode=ro&uri=true"
        return
    name = make_url(database_url).database
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    try:
        yield database_url  # new connections are read-only
    finally:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("SET default_transaction_read_only = off"))
            conn.execute(text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only'))


def test_healthz_writes_and_answers_503_when_the_database_cannot_be_written(engine, slack, database_url):
    rt = build_runtime(make_settings(database_url, slack.url))
    with TestClient(build_http_app(rt)) as http:
        r = http.get("/healthz")
        assert r.status_code == 200 and r.json()["status"] == "ok"
    with Session(engine) as s:  # the probe is a real, committed write
        assert s.exec(select(SlackDelivery.key)).all() == [HEALTH_KEY]
    rt.engine.dispose()

    with read_only(engine, database_url) as url:
        frozen = build_runtime(make_settings(url, slack.url), migrate=False)
        try:
            with TestClient(build_http_app(frozen)) as http:
                # Reads still work: the old SELECT 1 check said 200 here.
                with frozen.engine.connect() as conn:
                    assert conn.execute(text("SELECT count(*) FROM mention")).scalar_one() == 0
                r = http.get("/healthz", headers={"Accept-Language": "en"})
                assert r.status_code == 503 and r.headers["retry-after"] == "5"
                assert r.json()["code"] == "database_unavailable"
                assert r.json()["message"].startswith("database unavailable: ")
                # ... and the intake, which must store before it answers, is unavailable for the same reason.
                r = http.post("/intake/mentions", json=mention(1), headers=AUTH)
                assert r.status_code == 503 and r.json()["code"] == "database_unavailable"
        finally:
            frozen.engine.dispose()

    rt = build_runtime(make_settings(database_url, slack.url))  # writable again: healthy again
    with TestClient(build_http_app(rt)) as http:
        assert http.get("/healthz").status_code == 200
    rt.engine.dispose()


# --- an unreachable database at start-up -------------------------------------------------------------------


@pytest.fixture
def env(tmp_path, monkeypatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL", "DATABASE_URL",
                 "VIGIE_PROTOCOL_FILE", "VIGIE_INTAKE_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    return {"VIGIE_PROTOCOL_FILE": str(TEST_PROTOCOL), "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_APP_TOKEN": "xapp-1-A0VIGIE001-1-abcdef",
            "SLACK_API_URL": "http://127.0.0.1:9/api/"}


def _closed_port() -> int:
    import socket

    with socket.socket() as s:  # bound, never listening: connections to it are refused at once
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


UNREACHABLE = {
    "postgresql": lambda tmp: f"postgresql://vigie:hunter2-secret@127.0.0.1:{_closed_port()}/vigie",
    "sqlite": lambda tmp: f"sqlite:///{tmp / 'no-such-folder' / 'vigie.db'}",
}


@pytest.mark.parametrize("kind", UNREACHABLE)
@pytest.mark.parametrize("command", [["serve", "--port", "9"], ["run"], ["db", "upgrade"], ["db", "current"],
                                     ["outbox", "retry"]])
def test_an_unreachable_database_at_start_up_is_one_sentence(env, tmp_path: Path, kind, command):
    url = UNREACHABLE[kind](tmp_path)
    r = runner.invoke(cli, command, env=env | {"DATABASE_URL": url})
    assert r.exit_code == 2, r.output
    lines = [line for line in r.output.splitlines() if line.strip()]
    # One sentence in the terminal's language, then the driver's own words on a line of their own (issue 15).
    assert len(lines) == 2, r.output
    line, detail = lines
    assert "Traceback" not in r.output and "hunter2" not in r.output
    assert line.startswith(fr("Configuration : la base de données de DATABASE_URL ("))
    shown = url.replace("hunter2-secret", "***").replace("postgresql://", "postgresql+psycopg://")
    assert f"({shown}) " in line
    assert line.endswith("vérifiez qu'elle tourne et qu'elle est joignable, et l'adresse, l'utilisateur et le mot de "
                         "passe de DATABASE_URL.")
    assert "Connection refused" not in line and "unable to open" not in line
    assert detail.startswith("  Système\u202f: ")
    assert ("Connection refused" if kind == "postgresql" else "unable to open database file") in detail


def test_the_sentence_is_in_the_terminals_language(env, tmp_path):
    env = env | {"LANG": "en_US.UTF-8", "DATABASE_URL": f"sqlite:///{tmp_path / 'missing' / 'x.db'}"}
    r = runner.invoke(cli, ["db", "upgrade"], env=env)
    assert r.exit_code == 2
    sentence, detail = r.output.strip().splitlines()
    assert sentence.startswith("Configuration: the database of DATABASE_URL (sqlite:///")
    assert sentence.endswith("cannot be reached or opened; check that it is running and reachable, and "
                             "the address, user and password in DATABASE_URL.")
    assert detail.startswith("  System: ")
