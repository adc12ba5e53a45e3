"""Shared fixtures: a real database (SQLite, or PostgreSQL when VIGIE_TEST_DATABASE_URL is set), a fake Slack
Web API on a real HTTP port, and the real application wired to both."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings

from bot.app import Runtime, build_runtime
from bot.config import Settings
from bot.http import build_http_app
from bot.store import db
from tests import dbutil, slackspec
from tests.fakes.slack_api import FakeSlack

# Speed is measured in bench/, not asserted by a clock: no per-example deadline (CI machines are shared).
hypothesis_settings.register_profile("vigie", deadline=None)
hypothesis_settings.load_profile("vigie")

BOT_TOKEN = "xoxb-test-0000000000-vigie"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
INTAKE_TOKEN = "intake-secret-0123456789abcdef"
FIXTURES = Path(__file__).parent / "fixtures"
TEST_PROTOCOL = FIXTURES / "protocol.yaml"
MANIFEST_SCOPES = None  # filled lazily from manifest.yaml


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with dbutil.fresh_database(tmp_path_factory.mktemp("db")) as url:
        engine = db.make_engine(url)
        db.upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture
def engine(database_url: str):  # type: ignore[no-untyped-def]
    engine = db.make_engine(database_url)
    dbutil.empty_tables(engine)
    yield engine
    engine.dispose()


def _manifest_scopes() -> list[str]:
    import yaml

    manifest = yaml.safe_load((Path(__file__).parents[1] / "manifest.yaml").read_text())
    return list(manifest["oauth_config"]["scopes"]["bot"])


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    """The fake Slack: checks the token, required arguments, the manifest's scopes and Block Kit limits."""
    checker = slackspec.check_blocks if slackspec.spec_available() else None
    fake = FakeSlack(token=BOT_TOKEN, scopes=_manifest_scopes(), block_checker=checker)
    fake.start()
    yield fake
    fake.stop()


def make_settings(database_url: str, slack_url: str, **extra: object) -> Settings:
    values: dict[str, object] = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_url,
        "DATABASE_URL": database_url,
        "VIGIE_PROTOCOL_FILE": str(TEST_PROTOCOL),
        "VIGIE_INTAKE_TOKENS": INTAKE_TOKEN,
        "VIGIE_RUN_SCHEDULER": False,
        "VIGIE_CHANNEL_INTERVAL": 0.0,
    }
    values.update(extra)
    # _env_file=None: a developer's own .env must not leak into the tests.
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(engine, slack: FakeSlack, database_url: str) -> Settings:  # type: ignore[no-untyped-def]
    return make_settings(database_url, slack.url)


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    """The whole application with its outbox worker running (the scheduler is off: tests drive it)."""
    rt = build_runtime(settings)
    rt.start()
    yield rt
    rt.stop()
    rt.engine.dispose()


@pytest.fixture
def http(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(build_http_app(runtime)) as client:
        yield client


# Neutral words (no protocol keyword among them) that make each test mention's text its own: mentions
# with the same text are copies, grouped into one story with one card (bot.store.stories).
_WORDS = (  # noqa: SIM905 -- a paragraph reads better than 60 quoted words
    "pomme nuage vélo table jardin lampe rivière crayon fenêtre montagne tapis bougie horloge panier "
    "violon cerise château sable bouteille plume tigre orange miroir échelle valise tomate étoile "
    "fourchette chapeau ballon girafe citron nappe boussole tambour lavande pinceau marmite hibou cactus "
    "trottinette parapluie coquillage moulin grenier tulipe aquarelle luge écharpe pelote framboise "
    "guitare phare radis sapin toboggan vanille wagon yaourt zèbre"
).split()


def mention(i: int = 1, **overrides: object) -> dict[str, object]:
    words = " ".join(random.Random(i).sample(_WORDS, 12))
    body: dict[str, object] = {
        "source": "x",
        "external_id": f"post-{i}",
        "url": f"https://x.example/status/{i}",
        "author": f"@someone{i}",
        "text": f"Un client se plaint du service après-vente ({words}).",
        "published_at": "2026-11-21T09:30:00+01:00",
    }
    body.update(overrides)
    return body


def _pending_later(runtime: Runtime) -> int:
    from sqlmodel import Session, func, select

    from bot.store.models import Outbox

    with Session(runtime.engine) as s:
        return s.exec(select(func.count()).select_from(Outbox).where(
            Outbox.status == "pending", Outbox.next_attempt_at > runtime.clock.now())).one()


AUTH = {"Authorization": f"Bearer {INTAKE_TOKEN}"}


def drain(runtime: Runtime, timeout: float = 10.0, *, frozen: bool = False) -> dict[str, int]:
    """Wait until the outbox has nothing pending or in flight; return the counts by status.

    frozen=True is for tests whose clock only moves when they move it: rows due later (a story card's
    throttled refresh, a retry) can only go out after the test advances the clock, so they are not waited for.
    """
    import time

    deadline = time.monotonic() + timeout
    executor = runtime.bolt._listener_runner.listener_executor if runtime.bolt else None
    while True:
        busy = executor is not None and executor.in_flight > 0
        counts = runtime.vigie.outbox_counts()
        waiting = counts.get("pending", 0) - (_pending_later(runtime) if frozen else 0)
        if not busy and not waiting and not counts.get("sending"):
            return counts
        if time.monotonic() > deadline:
            raise AssertionError(f"outbox not drained after {timeout}s: {counts}")
        runtime.worker.wake()
        time.sleep(0.02)


@pytest.fixture(autouse=True)
def _terminal_in_french(monkeypatch: pytest.MonkeyPatch) -> None:
    """The `vigie` command speaks the terminal's language (issue 15): the tests' terminal is French, like the test
    protocol, whatever the machine's locale. tests/test_cli_terminal.py tries the other locales."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
