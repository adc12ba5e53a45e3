"""A spike is one signal for as long as it lasts: crossing a clock hour while it goes on proposes nothing new,
and the crisis summary lists it once. Manual clock, the real HTTP app (tests/driver.py) and database."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from bot.app import build_runtime
from bot.clock import ManualClock
from bot.http import build_http_app
from bot.store.models import CrisisSignal
from tests.conftest import drain
from tests.driver import Driver

PARIS = ZoneInfo("Europe/Paris")
CM1 = "U0CM00001"


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def clocked(engine, slack, settings):  # type: ignore[no-untyped-def]
    clock = ManualClock(paris(2026, 11, 23, 9, 50))  # ten minutes before the hour turns
    slack.add_user(CM1, name=CM1, locale="fr-FR")
    runtime = build_runtime(settings, clock=clock)
    runtime.start()
    with TestClient(build_http_app(runtime)) as http:
        yield Driver(http, slack, runtime, clock)
    runtime.stop()
    runtime.engine.dispose()


def proposals(clocked: Driver) -> list:
    return [c for c in clocked.slack.calls("chat.postMessage")
            if c.args["channel"] == CM1 and c.args["text"].startswith("Pic de mentions")]


def spikes(clocked: Driver) -> list[CrisisSignal]:
    with Session(clocked.runtime.engine) as s:
        return list(s.exec(select(CrisisSignal).where(CrisisSignal.kind == "spike")).all())


def test_a_spike_crossing_the_hour_is_proposed_once(clocked: Driver) -> None:
    for i in range(6):  # 6 mentions in the window (1 h) against none in the baseline week (min 5)
        clocked.intake(f"Encore un message n°{i} sur la marque", 100 + i)
    clocked.sweep()
    assert len(proposals(clocked)) == 1
    clocked.at(paris(2026, 11, 23, 10, 5))  # the hour turned; the 6 mentions are still in the window
    for i in range(3):  # and it grows
        clocked.intake(f"Toujours la marque n°{i}", 200 + i)
    clocked.sweep()
    clocked.at(paris(2026, 11, 23, 10, 40))
    clocked.sweep()
    assert len(proposals(clocked)) == 1
    [signal] = spikes(clocked)
    assert signal.details["recent"] == 9  # the row follows the spike as it grows

    # Declared, then stood down: the timeline names the spike once.
    clocked.slash("crise declarer Pic sur la marque")
    drain(clocked.runtime, frozen=True)
    clocked.at(paris(2026, 11, 23, 11, 30))
    clocked.slash("crise fin Retour au calme")
    drain(clocked.runtime, frozen=True)
    ended = [c for c in clocked.slack.calls("chat.postMessage") if c.args["channel"] == "C0CRISIS01"][-1]
    assert "Fin de crise" in ended.args["text"]
    assert ended.args["text"].count("pic de mentions détecté") == 1, ended.args["text"]


def test_a_new_spike_after_a_quiet_window_is_proposed_again(clocked: Driver) -> None:
    for i in range(6):
        clocked.intake(f"Encore un message n°{i} sur la marque", 100 + i)
    clocked.sweep()
    clocked.at(paris(2026, 11, 23, 11, 0))  # the window holds none of them: the spike is over
    clocked.sweep()
    assert len(proposals(clocked)) == 1
    clocked.at(paris(2026, 11, 23, 15, 0))
    for i in range(12):  # a second burst, well above the (now small) baseline
        clocked.intake(f"Nouvelle vague n°{i}", 300 + i)
    clocked.sweep()
    assert len(proposals(clocked)) == 2
    assert len(spikes(clocked)) == 2
