"""A history import of a few thousand rows, through the CLI with its default 2,000-row transactions, on a real
database (SQLite, or PostgreSQL with VIGIE_TEST_DATABASE_URL): exactly the rows, teams, stories and counts it
should make, whatever the batch boundaries (stories span them), and no card, no open mention, no spike.

Not timed: `python -m bench import` measures the speed (BENCHMARKS.md, "Import")."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from bot.cli import app
from bot.protocol.load import load_protocol
from bot.reports.digest import compute_digest
from bot.store import rollups
from bot.store.models import AuditEvent, Mention, Outbox, Story, VolumeBucket
from tests.conftest import TEST_PROTOCOL

runner = CliRunner()
NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=20)
DISTINCT = 2_600
STORIES = 12  # texts each copied COPIES times, the copies spread over the whole file (so across batches)
COPIES = 40
STRIKE = 150  # distinct texts saying "grève": routed to the hr team by the test protocol


@pytest.fixture
def env(engine, database_url, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL",
                 "VIGIE_PROTOCOL_FILE", "VIGIE_INTAKE_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    return {"DATABASE_URL": database_url, "VIGIE_PROTOCOL_FILE": str(TEST_PROTOCOL)}


def _words(rng: random.Random, n: int) -> list[str]:
    """Made-up words (no protocol keyword, negative or crisis word can come out of these syllables)."""
    syllables = ["ba", "ko", "mi", "tu", "ze", "lo", "fi", "ra", "nu", "pe", "do", "vi", "ga", "ju", "ho"]
    words: set[str] = set()
    while len(words) < n:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def rows() -> list[tuple[str, str]]:
    """(id, text): distinct texts of 14 random words each, then every story's copies interleaved."""
    rng = random.Random(14)
    vocabulary = _words(rng, 3_000)
    texts = [" ".join(rng.choice(vocabulary) for _ in range(14)) for _ in range(DISTINCT)]
    for i in range(STRIKE):
        texts[i] = "grève " + texts[i]
    stories = [f"Histoire {k} " + " ".join(rng.choice(vocabulary) for _ in range(16)) for k in range(STORIES)]
    out = [(f"d{i}", text) for i, text in enumerate(texts)]
    copies = [(f"s{k}-{c}", stories[k]) for c in range(COPIES) for k in range(STORIES)]
    step = len(out) // len(copies) + 1
    for n, copy in enumerate(copies):  # one copy every few rows: each story's copies in every batch
        out.insert(n * (step + 1), copy)
    return out


def test_a_history_import_stores_exactly_its_rows_stories_and_counts(tmp_path, env, engine):
    data = rows()
    path = tmp_path / "history.csv"
    lines = ["id;url;auteur;contenu;date;portée"]
    lines += [f"{i};https://x.example/{i};@a{n % 97};{text};{(OLD + timedelta(seconds=n)).isoformat()};{n % 500}"
              for n, (i, text) in enumerate(data)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    total = DISTINCT + STORIES * COPIES
    assert len(data) == total

    r = runner.invoke(app, ["import", str(path), "--source", "export", "--history"], env=env)
    assert r.exit_code == 0, r.output
    assert f"{total} nouvelles mentions enregistrées" in r.output.replace("\u202f", "").replace("\u00a0", "")

    with Session(engine) as s:
        stored = s.exec(select(Mention.external_id, Mention.state, Mention.team, Mention.story_id,
                               Mention.closed_at, Mention.first_response_due, Mention.relay_outbox_id)).all()
        assert sorted(m.external_id for m in stored) == sorted(i for i, _ in data)  # each row once, nothing else
        assert {m.state for m in stored} == {"archived"}
        assert all(m.closed_at is not None and m.first_response_due is None and m.relay_outbox_id is None
                   for m in stored)
        teams = Counter(m.team for m in stored)
        assert teams == {"hr": STRIKE, "general": total - STRIKE}
        # One story per distinct text and per copied text, led by its first row; every other copy joins it.
        by_id = {m.external_id: m for m in stored}
        assert s.exec(select(func.count()).select_from(Story)).one() == DISTINCT + STORIES
        assert sum(m.story_id is not None for m in stored) == STORIES * (COPIES - 1)
        for k in range(STORIES):
            leader = by_id[f"s{k}-0"]
            assert leader.story_id is None
            members = {by_id[f"s{k}-{c}"].story_id for c in range(1, COPIES)}
            assert len(members) == 1
            story = s.exec(select(Story).where(Story.id == members.pop())).one()
            assert story.size == COPIES
        assert all(by_id[f"d{i}"].story_id is None for i in range(DISTINCT))
        sizes = s.exec(select(Story.size, func.count()).group_by(Story.size)).all()
        assert dict(sizes) == {1: DISTINCT, COPIES: STORIES}
        # No card, no refresh: nothing in the outbox. One audit event per mention stored.
        assert s.exec(select(func.count()).select_from(Outbox)).one() == 0
        kinds = AuditEvent.action.in_(("mention.archived", "mention.grouped"))  # type: ignore[attr-defined]
        actions = dict(s.exec(select(AuditEvent.action, func.count()).where(kinds).group_by(AuditEvent.action)).all())
        assert actions == {"mention.archived": DISTINCT + STORIES, "mention.grouped": STORIES * (COPIES - 1)}

    # Spike detection does not count history (it all arrived now, but was published weeks ago).
    rollups.count_volume(engine, now=datetime.now(UTC), since=NOW - timedelta(hours=1))
    with Session(engine) as s:
        assert s.exec(select(func.coalesce(func.sum(VolumeBucket.count), 0))).one() == 0
    # The digest counts every row as received today, none open; the daily rollup counts them by team.
    protocol = load_protocol(TEST_PROTOCOL)
    today = datetime.now(UTC).astimezone(protocol.tz).date()
    figures = compute_digest(engine, protocol=protocol, day=today, team=None, now=datetime.now(UTC))
    assert figures.received == total
    assert figures.still_open == 0
    lo, hi = rollups.local_day_bounds(today, protocol.tz)
    with engine.connect() as conn:
        counted = {(row["team"], row["source"], row["theme"]): row["received"]
                   for row in rollups.day_counts(conn, lo, hi)}
    assert counted[("", "", "")] == total
    assert counted[("hr", "export", "")] == STRIKE
    assert counted[("general", "export", "")] == total - STRIKE

    # Imported again: every row known, nothing added.
    r = runner.invoke(app, ["import", str(path), "--source", "export", "--history"], env=env)
    assert r.exit_code == 0, r.output
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Mention)).one() == total
        assert s.exec(select(func.count()).select_from(Story)).one() == DISTINCT + STORIES
