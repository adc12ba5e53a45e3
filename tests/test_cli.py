"""The `vigie` command as a person uses it: clear sentences, right exit codes, nothing lost."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app
from bot.models import Mention, Outbox
from tests.conftest import TEST_PROTOCOL

runner = CliRunner()


@pytest.fixture
def env(engine, database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL",
                 "VIGIE_PROTOCOL_FILE", "VIGIE_INTAKE_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    return {"DATABASE_URL": database_url, "VIGIE_PROTOCOL_FILE": str(TEST_PROTOCOL)}


def test_protocol_check_accepts_the_example_and_names_field_and_line(tmp_path, env):
    ok = runner.invoke(app, ["protocol", "check", str(TEST_PROTOCOL)], env=env)
    assert ok.exit_code == 0 and "is valid" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(TEST_PROTOCOL.read_text().replace("channel: C0LEGAL001", "channel: legal-team"))
    line = next(i for i, l in enumerate(bad.read_text().splitlines(), 1) if "legal-team" in l)
    r = runner.invoke(app, ["protocol", "check", str(bad)], env=env)
    assert r.exit_code == 1
    assert f"bad.yaml:{line}: teams.legal.channel:" in r.output


def test_import_keeps_every_valid_line_and_reports_the_others(tmp_path, env, engine):
    csv = tmp_path / "export.csv"
    csv.write_text(
        "id;url;auteur;contenu;date;portée\n"
        "a1;https://x.example/1;@ana;Les résultats sont bons;21/11/2026 09:30;12 500\n"
        "a2;not a url;@bob;Texte;21/11/2026 09:31;3\n"
        "a3;https://x.example/3;@cid;Grève demain;2026-11-21T10:00:00+01:00;\n",
        encoding="utf-8-sig")
    r = runner.invoke(app, ["import", str(csv), "--source", "talkwalker"], env=env)
    assert r.exit_code == 1, r.output
    assert "line 3: url" in r.output
    assert "2 new mention(s) stored, 0 already known, 1 line(s) with errors" in r.output
    with Session(engine) as s:
        stored = {m.external_id: m for m in s.exec(select(Mention)).all()}
        assert set(stored) == {"a1", "a3"}
        assert stored["a1"].team == "finance" and stored["a1"].reach == 12500
        assert stored["a3"].team == "hr"
        assert len(s.exec(select(Outbox)).all()) == 2  # relays queued for the running bot
    again = runner.invoke(app, ["import", str(csv), "--source", "talkwalker"], env=env)
    assert "0 new mention(s) stored, 2 already known" in again.output


def test_import_with_a_column_mapping_and_jsonl(tmp_path, env, engine):
    f = tmp_path / "export.jsonl"
    f.write_text('{"guid": "j1", "link": "https://x.example/j1", "who": "@z", "body": "Un avis", '
                 '"when": "2026-11-21T08:00:00Z"}\n{broken\n', encoding="utf-8")
    r = runner.invoke(app, ["import", str(f), "--source", "rss", "--map", "author=who", "--map", "text=body",
                            "--map", "external_id=guid", "--map", "url=link", "--map", "published_at=when"],
                      env=env)
    assert "line 2" in r.output and "1 new mention(s) stored" in r.output
    bad_map = runner.invoke(app, ["import", str(f), "--map", "nosuchfield=x"], env=env)
    assert bad_map.exit_code == 2 and "--map" in bad_map.output


def test_missing_or_wrong_settings_stop_with_one_sentence(env):
    r = runner.invoke(app, ["serve"], env=env)
    assert r.exit_code == 2
    assert "SLACK_BOT_TOKEN is not set" in r.output and "OAuth & Permissions" in r.output
    r = runner.invoke(app, ["run"], env=env | {"SLACK_BOT_TOKEN": "xoxb-1"})
    assert r.exit_code == 2 and "SLACK_APP_TOKEN is not set" in r.output
    r = runner.invoke(app, ["serve"], env=env | {"SLACK_BOT_TOKEN": "xoxp-user-token"})
    assert r.exit_code == 2 and "SLACK_BOT_TOKEN is wrong (must start with xoxb-)" in r.output
    r = runner.invoke(app, ["db", "current"], env=env | {"DATABASE_URL": "mysql://x"})
    assert r.exit_code == 2 and "DATABASE_URL is wrong" in r.output
    r = runner.invoke(app, ["db", "current"], env=env | {"VIGIE_PROTOCOL_FILE": "/nonexistent/p.yaml"})
    assert r.exit_code == 2 and "VIGIE_PROTOCOL_FILE is wrong (no file at /nonexistent/p.yaml)" in r.output


def test_a_broken_protocol_stops_start_up_with_its_errors(tmp_path, env):
    bad = tmp_path / "p.yaml"
    bad.write_text(TEST_PROTOCOL.read_text().replace("default_team: general", "default_team: sales"))
    r = runner.invoke(app, ["serve"], env=env | {"VIGIE_PROTOCOL_FILE": str(bad), "SLACK_BOT_TOKEN": "xoxb-1",
                                                 "SLACK_SIGNING_SECRET": "s"})
    assert r.exit_code == 2
    assert "default_team" in r.output and "p.yaml:" in r.output


def test_db_upgrade_reports_the_revision(env):
    r = runner.invoke(app, ["db", "upgrade"], env=env)
    from alembic.script import ScriptDirectory

    from bot.db import MIGRATIONS

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert r.exit_code == 0 and f"revision {head}" in r.output


def test_a_token_slack_refuses_stops_start_up_with_one_sentence(env, slack):
    r = runner.invoke(app, ["serve"], env=env | {"SLACK_BOT_TOKEN": "xoxb-revoked", "SLACK_SIGNING_SECRET": "s",
                                                 "SLACK_API_URL": slack.url})
    assert r.exit_code == 2
    assert "Slack refused SLACK_BOT_TOKEN" in r.output and "invalid_auth" in r.output


def test_an_unreachable_slack_api_stops_start_up_with_one_sentence(env):
    r = runner.invoke(app, ["serve"], env=env | {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
                                                 "SLACK_API_URL": "http://127.0.0.1:9/api/"})
    assert r.exit_code == 2
    assert "could not be reached at http://127.0.0.1:9/api/" in r.output and "Traceback" not in r.output


def test_audit_export_for_a_period(env, engine, tmp_path):
    from datetime import datetime

    from bot.db import session_scope
    from bot.models import AuditEvent

    with session_scope(engine) as s:
        s.add(AuditEvent(at=datetime(2026, 11, 20, 23, 59, tzinfo=UTC), actor="U1", action="a.before"))
        s.add(AuditEvent(at=datetime(2026, 11, 21, 10, 0, tzinfo=UTC), actor="U1", action="a.inside",
                         reason="parce que"))
    out = tmp_path / "audit.csv"
    r = runner.invoke(app, ["audit", "export", "--from", "2026-11-21", "--format", "csv", "-o", str(out)], env=env)
    assert r.exit_code == 0, r.output
    lines = out.read_text().splitlines()
    assert len(lines) == 2 and "a.inside" in lines[1] and "parce que" in lines[1]
    bad = runner.invoke(app, ["audit", "export", "--from", "21/11/2026"], env=env)
    assert bad.exit_code == 2 and "2026-11-21" in bad.output
