"""Digests as people receive them: posted once at the protocol's local time, previewed on demand."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.app import build_runtime
from bot.cli import app as cli
from bot.clock import ManualClock
from bot.store.models import DigestRun
from tests import slackspec
from tests.conftest import TEST_PROTOCOL, drain
from tests.usecases.test_protocol_enforced import CM1, Clocked

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def desk(engine, slack, settings):
    from fastapi.testclient import TestClient

    from bot.http import build_http_app

    clock = ManualClock(datetime(2026, 11, 23, 8, 0, tzinfo=PARIS))  # Monday 08:00, before the 08:30 digest
    slack.add_user(CM1, name="cm", locale="fr-FR")
    slack.add_user("U0LEG0002", name="expert", locale="en-US")
    runtime = build_runtime(settings, clock=clock)
    runtime.start()
    with TestClient(build_http_app(runtime)) as http:
        yield Clocked(http, slack, runtime, clock)
    runtime.stop()
    runtime.engine.dispose()


def digests_sent(slack) -> list:
    return [c for c in slack.calls("chat.postMessage") if c.args.get("blocks")
            and any("Résumé" in str(b) for b in c.args["blocks"])]


def test_daily_digests_go_out_once_at_the_local_time(desk):
    clock, slack = desk.clock, desk.slack
    clock.set(datetime(2026, 11, 22, 10, 0, tzinfo=PARIS))  # Sunday: some activity
    desk.intake("Un procès est annoncé", 1)
    desk.intake("Joli packaging", 2)
    clock.set(datetime(2026, 11, 23, 8, 29, tzinfo=PARIS))
    desk.sweep()
    assert digests_sent(slack) == []  # not before 08:30
    clock.set(datetime(2026, 11, 23, 8, 31, tzinfo=PARIS))
    desk.sweep()
    desk.sweep()  # a second sweep, or a second instance, posts nothing more
    sent = digests_sent(slack)
    channels = sorted(c.args["channel"] for c in sent)
    teams = ["C0FINANCE1", "C0GENERAL1", "C0HR000001", "C0LEGAL001"]
    cms = ["U0CM00001", "U0CM00002"]  # no company channel in the test protocol: each CM by direct message
    assert channels == sorted(teams + cms)  # the weekly summary (Monday 09:00) is not due yet at 08:31
    with Session(desk.runtime.engine) as s:
        runs = s.exec(select(DigestRun)).all()
    assert {(r.kind, r.scope, r.day) for r in runs} == {("daily", k, "2026-11-22") for k in
                                                         ("general", "finance", "legal", "hr", "*")}
    if slackspec.spec_available():
        for call in sent:
            assert slackspec.check_message(call.args) == []
    clock.set(datetime(2026, 11, 23, 9, 1, tzinfo=PARIS))
    desk.sweep()
    weekly_sent = [c for c in slack.calls("chat.postMessage") if "semaine" in str(c.args.get("blocks", ""))]
    assert sorted(c.args["channel"] for c in weekly_sent) == cms


def test_vigie_digest_is_a_private_preview_in_the_askers_language(desk):
    desk.clock.set(datetime(2026, 11, 22, 10, 0, tzinfo=PARIS))
    desk.intake("Un procès est annoncé", 1)
    desk.clock.set(datetime(2026, 11, 23, 7, 0, tzinfo=PARIS))
    fr = desk.slash("résumé", user=CM1)
    en = desk.slash("digest", user="U0LEG0002")
    assert "Résumé" in fr or "résumé" in fr.lower()
    assert "digest" in en.lower()
    week = desk.slash("résumé semaine", user=CM1)
    assert "Résumé de la semaine" in week and "Résumé de la semaine" not in fr
    drain(desk.runtime)
    assert digests_sent(desk.slack) == []  # a preview is for the asker only: nothing posted in channels


def test_vigie_digest_in_the_terminal_for_any_past_day(engine, database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"DATABASE_URL": database_url, "VIGIE_PROTOCOL_FILE": str(TEST_PROTOCOL)}
    for name in ("SLACK_BOT_TOKEN", "SLACK_API_URL"):
        monkeypatch.delenv(name, raising=False)
    r = CliRunner().invoke(cli, ["digest", "--team", "legal", "--date", "2026-11-20", "--lang", "en"], env=env)
    assert r.exit_code == 0, r.output
    assert "2026" in r.output or "Nov" in r.output
    bad = CliRunner().invoke(cli, ["digest", "--team", "sales"], env=env)
    assert bad.exit_code == 2 and "équipe inconnue" in bad.output  # the protocol's language (French)
    bad = CliRunner().invoke(cli, ["digest", "--date", "20/11/2026"], env=env)
    assert bad.exit_code == 2
