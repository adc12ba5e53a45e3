"""`vigie import --history`, automatic history by age, and `--dry-run [--json]`, through the CLI against a real
database (SQLite, or PostgreSQL with VIGIE_TEST_DATABASE_URL) and the fake Slack: history is stored, counted as
received and grouped, but gets no card and is never open; a dry run writes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from bot.cli import app
from bot.intake.schema import MentionIn
from bot.protocol.load import load_protocol
from bot.reports.digest import compute_digest
from bot.store import queries as q
from bot.store.models import AuditEvent, Mention, Outbox, Story
from tests.conftest import TEST_PROTOCOL, drain

ROOT = Path(__file__).parents[2]

runner = CliRunner()
NOW = datetime.now(UTC)


@pytest.fixture
def env(engine, database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL",
                 "VIGIE_PROTOCOL_FILE", "VIGIE_INTAKE_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    # The test protocol, with history after 48 hours (a copy next to its roster).
    folder = tmp_path / "protocol"
    folder.mkdir()
    (folder / "roster.csv").write_bytes((TEST_PROTOCOL.parent / "roster.csv").read_bytes())
    (folder / "protocol.yaml").write_text(TEST_PROTOCOL.read_text("utf-8") + "\nintake:\n  history_after: 48h\n",
                                          "utf-8")
    return {"DATABASE_URL": database_url, "VIGIE_PROTOCOL_FILE": str(folder / "protocol.yaml")}


def export(path, rows):  # type: ignore[no-untyped-def]
    """A generic CSV export: (id, text, published) rows."""
    lines = ["id;url;auteur;contenu;date;portée"]
    lines += [f"{i};https://x.example/{i};@a{i};{text};{when.isoformat()};100" for i, text, when in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


OLD = NOW - timedelta(days=20)
STORY = "La grève chez Acme bloque toutes les livraisons de la région depuis ce matin"


def old_rows(n: int = 30):  # type: ignore[no-untyped-def]
    rows = [(f"o{i}", f"Message numéro {i} sur un sujet différent {i * 7919}", OLD + timedelta(minutes=i))
            for i in range(n)]
    rows += [(f"s{i}", STORY, OLD + timedelta(hours=1, minutes=i)) for i in range(5)]  # one story of 5
    return rows


def counts(engine):  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return {"mentions": s.exec(select(func.count()).select_from(Mention)).one(),
                "outbox": s.exec(select(func.count()).select_from(Outbox)).one(),
                "audit": s.exec(select(func.count()).select_from(AuditEvent)).one(),
                "stories": s.exec(select(func.count()).select_from(Story)).one()}


def test_an_old_export_lands_as_history_without_a_single_card(tmp_path, env, engine, runtime, slack):
    f = export(tmp_path / "old.csv", old_rows())
    r = runner.invoke(app, ["import", str(f), "--source", "talkwalker", "--history"], env=env)
    assert r.exit_code == 0, r.output
    assert "35 mentions anciennes rangées dans l'historique, 0 relayée." in r.output
    with Session(engine) as s:
        stored = s.exec(select(Mention)).all()
        assert len(stored) == 35
        assert {m.state for m in stored if m.external_id.startswith("o")} == {"archived"}
        assert all(m.closed_at is not None and m.first_response_due is None for m in stored)
        story = [m for m in stored if m.external_id.startswith("s")]
        copies = [m for m in story if m.story_id is not None]  # the first leads the story, 4 copies join it
        assert len(copies) == 4 and {m.state for m in copies} == {"archived"}
        assert len({m.story_id for m in copies}) == 1
        assert s.exec(select(Story.size).where(Story.leader_id == copies[0].story_id)).one() == 5
        assert s.exec(select(Outbox)).all() == []
        # Received all at once, but published weeks ago: no volume spike.
        assert q.received_times_since(s, since=NOW - timedelta(hours=1)) == []
    drain(runtime)
    assert slack.calls("chat.postMessage") == []
    # The digest counts them as received today, none as open.
    protocol = load_protocol(env["VIGIE_PROTOCOL_FILE"])
    today = datetime.now(UTC).astimezone(protocol.tz).date()
    figures = compute_digest(engine, protocol=protocol, day=today, team=None, now=datetime.now(UTC))
    assert figures.received == 35
    assert figures.still_open == 0 and figures.oldest_open == ()
    # The same text arriving live now is news: it leads a new story, with its card, instead of joining history.
    live = runtime.vigie.ingest([MentionIn(source="x", external_id="live", url="https://x.example/live",
                                           author="@z", text=STORY, published_at=NOW)], actor="test")[0]
    assert live.relayed and live.story is None
    drain(runtime)
    assert len(slack.calls("chat.postMessage")) == 1


def test_mentions_older_than_the_protocol_setting_are_history_the_recent_ones_relayed(tmp_path, env, engine,
                                                                                       runtime, slack):
    rows = old_rows(10)[:10] + [("n1", "Acme ne répond plus au service client depuis hier", NOW - timedelta(hours=1)),
                                ("n2", "Mes résultats bancaires sont faux ce mois-ci", NOW - timedelta(hours=3))]
    r = runner.invoke(app, ["import", str(export(tmp_path / "mixed.csv", rows)), "--source", "x"], env=env)
    assert r.exit_code == 0, r.output
    assert "10 mentions anciennes rangées dans l'historique, 2 relayées." in r.output
    with Session(engine) as s:
        states = {m.external_id: m.state for m in s.exec(select(Mention)).all()}
    assert states["n1"] == states["n2"] == "open" and states["o3"] == "archived"
    drain(runtime)
    assert len(slack.calls("chat.postMessage")) == 2
    english = env | {"VIGIE_PROTOCOL_FILE": env["VIGIE_PROTOCOL_FILE"], "LANG": "en_US.UTF-8"}  # an English terminal
    (tmp_path / "protocol" / "protocol.yaml").write_text(
        (tmp_path / "protocol" / "protocol.yaml").read_text("utf-8").replace("language: fr", "language: en"), "utf-8")
    rows = [(f"e{i}", f"Another old message number {i} about {i * 31}", OLD) for i in range(1200)]
    r = runner.invoke(app, ["import", str(export(tmp_path / "en.csv", rows)), "--source", "x"], env=english)
    assert "1,200 old mentions stored as history, 0 relayed." in r.output, r.output


def test_a_dry_run_writes_nothing_and_tells_each_line(tmp_path, env, engine):
    rows = old_rows(3) + [("n1", "Acme ne répond plus au service client depuis hier", NOW - timedelta(hours=1))]
    f = export(tmp_path / "preview.csv", rows)
    with open(f, "a", encoding="utf-8") as fh:
        fh.write("bad;not a url;@z;Texte;2026-11-21T10:00:00+01:00;\n")
    runner.invoke(app, ["import", str(export(tmp_path / "known.csv", rows[:1])), "--source", "x"], env=env)
    before = counts(engine)
    r = runner.invoke(app, ["import", str(f), "--source", "x", "--dry-run"], env=env)
    assert r.exit_code == 1, r.output  # a refused line
    assert "ligne 2\u00a0: déjà connue (x, o0)" in r.output
    assert "ligne 3\u00a0: rangée dans l'historique (x, o1)" in r.output
    assert "ligne 10\u00a0: enregistrée et relayée (x, n1)" in r.output
    assert "ligne 11\u00a0: refusée — url" in r.output
    assert "Aperçu seulement\u00a0: rien n'a été écrit." in r.output
    assert counts(engine) == before
    r = runner.invoke(app, ["import", str(f), "--source", "x", "--dry-run", "--json"], env=env)
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(lines) == 10
    by_id = {row.get("external_id"): row for row in lines}
    assert by_id["o0"]["outcome"] == "known" and by_id["o1"]["outcome"] == "history"
    assert by_id["n1"]["outcome"] == "relayed"
    assert [row["outcome"] for row in lines if row.get("external_id", "").startswith("s")] == \
        ["history"] * 5  # copies of history are history too (the first leads the story)
    assert set(by_id["n1"]) >= {"source", "external_id", "url", "author", "text", "published_at", "language",
                                "reach", "outcome"}
    assert by_id["n1"]["url"] == "https://x.example/n1" and by_id["n1"]["reach"] == 100
    assert runner.invoke(app, ["import", str(f), "--json"], env=env).exit_code == 2  # --json is for previews
    assert lines[-1]["line"] == 11 and lines[-1]["outcome"] == "refused" and "url" in lines[-1]["error"]
    assert counts(engine) == before


def test_the_same_file_imported_twice_at_once_stores_each_mention_once(tmp_path, env, engine):
    f = export(tmp_path / "twice.csv", old_rows(40))
    # Two processes, as two people would run it (CliRunner swaps sys.stdout: not for threads), started by
    # threads released together.
    start = threading.Barrier(2)
    results = []
    command = [sys.executable, "-m", "bot", "import", str(f), "--source", "x", "--history", "--batch-size", "10"]
    child_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}

    def run() -> None:
        start.wait()
        results.append(subprocess.run(command, env=child_env, capture_output=True, text=True, timeout=120))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert [r.returncode for r in results] == [0, 0], [r.stderr[-2000:] for r in results]
    with Session(engine) as s:
        ids = s.exec(select(Mention.external_id)).all()
        assert sorted(ids) == sorted({i for i, _, _ in old_rows(40)})
        assert s.exec(select(Outbox)).all() == []
        received = s.exec(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action.in_(("mention.archived", "mention.grouped")))).one()  # type: ignore[attr-defined]
        assert received == 45  # one audit row per mention stored, none for the other import's duplicates
