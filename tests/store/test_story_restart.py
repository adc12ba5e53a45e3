"""A story survives a restart with its signature: the new process loads the stored signatures (nothing is
recomputed) in the background, and a near-copy arriving after the restart joins the story it belongs to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from bot.app import build_runtime
from bot.clock import ManualClock
from bot.domain.storms import shape, signature_blob
from bot.http import build_http_app
from bot.store.models import Story
from bot.store.story_index import StoryIndex
from tests.conftest import AUTH, mention
from tests.store.test_storms import BASE, DISTINCT, VARIANTS


def _post(http, i: int, text: str) -> dict:
    r = http.post("/intake/mentions", headers=AUTH, json=mention(i, text=text))
    assert r.status_code == 202, r.text
    return r.json()["mentions"][0]


def test_a_story_survives_a_restart_with_its_signature(settings, engine):
    clock = ManualClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    first = build_runtime(settings, clock=clock)
    with TestClient(build_http_app(first)) as http:
        leader = _post(http, 1, BASE)
        others = [_post(http, 10 + i, text) for i, text in enumerate(DISTINCT)]
    first.engine.dispose()
    with Session(engine) as s:
        stories = {st.id: st for st in s.exec(select(Story)).all()}
    assert set(stories) == {leader["id"], *(o["id"] for o in others)}
    assert stories[leader["id"]].signature == signature_blob(shape(BASE))  # stored with the story

    clock.advance(hours=2)
    second = build_runtime(settings, clock=clock)  # a restart: a new process, a new (empty) index
    assert len(second.vigie.stories) == 0
    with TestClient(build_http_app(second)) as http:
        # The first request starts the load and waits for it a bounded time only (LOAD_WAIT); the load
        # itself goes on in the background.
        _post(http, 99, "Une toute autre nouvelle : ACME ouvre une boutique à Bordeaux près de la gare")
        assert second.vigie.stories.wait_loaded(10)
        copy = _post(http, 100, VARIANTS[4])  # a near-copy (two words changed), not an exact one
        later = _post(http, 101, VARIANTS[5])
    second.engine.dispose()
    assert copy["story"] == leader["id"] and later["story"] == leader["id"]
    index = second.vigie.stories
    assert index.recomputed == 0  # every shape came from the stored signatures
    assert len(index) == len(stories) + 1


def test_rows_stored_without_a_signature_are_recomputed_once_loaded(engine):
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with engine.begin() as conn:
        for i, text in enumerate([BASE, *DISTINCT], start=1):
            s = shape(text)
            conn.execute(Story.__table__.insert(), {  # type: ignore[attr-defined]
                "id": i, "key": s.fingerprint, "fingerprint": s.fingerprint, "normalised": text, "leader_id": i,
                "team": "general", "size": 1, "reach": 0, "authors": [], "first_at": now, "last_at": now,
                "signature": None if i == 1 else signature_blob(s)})
    index = StoryIndex(background=False)
    with engine.connect() as conn:
        index.catch_up(conn, now)
    assert index.recomputed == 1 and len(index) == 1 + len(DISTINCT)
    assert index.find(shape(VARIANTS[4]), now) == 1


def test_a_full_index_evicts_the_least_recently_active_loaded_stories_first(engine):
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    texts = [BASE, *DISTINCT]
    with engine.begin() as conn:
        for i, text in enumerate(texts, start=1):
            s = shape(text)
            conn.execute(Story.__table__.insert(), {  # type: ignore[attr-defined]
                "id": i, "key": s.fingerprint, "fingerprint": s.fingerprint, "normalised": text, "leader_id": i,
                "team": "general", "size": 1, "reach": 0, "authors": [], "first_at": now,
                # BASE's story is the most recently active one, though the oldest by id
                "last_at": now - timedelta(minutes=10 * (len(texts) - i if i > 1 else -1)),
                "signature": signature_blob(s)})
    index = StoryIndex(background=False, capacity=len(texts))
    with engine.connect() as conn:
        index.catch_up(conn, now)
    index.add(99, shape("Une toute nouvelle histoire sur ACME et ses camions électriques livrés à Paris"), now)
    assert index.find(shape(BASE), now) == 1  # kept
    assert index.find(shape(DISTINCT[0]), now) is None  # the least recently active went first
    assert len(index) == len(texts)
