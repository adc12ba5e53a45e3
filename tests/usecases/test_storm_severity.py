"""A story that grows into a storm raises its leader's severity ("30 reprises"), through the intake API, also
when the copies arrive at once; and a high-reach mention with a negative tone proposes a crisis."""

from __future__ import annotations

import json

import httpx
from sqlmodel import Session, select

from bot.store.models import AuditEvent, CrisisSignal, Mention, Story
from tests.conftest import AUTH, drain, mention
from tests.live import live_server, simultaneously
from tests.typography import fr

ANGRY = "Encore un retard de livraison chez ACME, troisième fois ce mois-ci, je suis déçu"  # medium: its tone
VARIANTS = [ANGRY, f"RT @jeanne_l: {ANGRY}", f"{ANGRY} https://t.co/AbC123 #boycott", ANGRY.upper()]


def _post(http, i: int, text: str, **extra) -> dict:
    r = http.post("/intake/mentions", headers=AUTH, json=mention(i, text=text, **extra))
    assert r.status_code == 202, r.text
    return r.json()["mentions"][0]


def _leader(runtime, leader_id: int) -> Mention:
    with Session(runtime.engine) as s:
        return s.exec(select(Mention).where(Mention.id == leader_id)).one()


def _storm_reasons(m: Mention) -> list[dict]:
    return [r for r in m.reasons if r["code"] == "severity.storm"]


def test_thirty_copies_raise_the_leader_to_high_and_the_card_says_why(http, runtime, slack):
    leader = _post(http, 1, ANGRY)
    before = _leader(runtime, leader["id"]).severity
    assert before == "medium", before  # the post alone is not high: the storm raises it
    for i in range(1, 9):
        assert _post(http, 10 + i, VARIANTS[i % len(VARIANTS)], author=f"@fan{i}")["story"] == leader["id"]
    assert _leader(runtime, leader["id"]).severity == before  # 9 copies: no storm yet
    for i in range(9, 30):
        assert _post(http, 10 + i, VARIANTS[i % len(VARIANTS)], author=f"@fan{i}")["story"] == leader["id"]
    drain(runtime, timeout=20)

    stored = _leader(runtime, leader["id"])
    assert stored.severity == "high"
    assert [r["params"] for r in _storm_reasons(stored)] == [{"copies": 30, "severity": "high"}]
    with Session(runtime.engine) as s:
        raised = s.exec(select(AuditEvent).where(AuditEvent.action == "mention.severity_raised")).all()
    assert [e.after["severity"] for e in raised] == ["high"]

    [post] = slack.calls("chat.postMessage")
    updates = [c for c in slack.calls("chat.update") if c.args["ts"] == post.response["ts"]]
    assert updates, "the card was never updated"
    last = json.dumps(updates[-1].args["blocks"], ensure_ascii=False)
    assert "haute, 30 reprises" in last and "Haute" not in last, last  # the severity once, with its reason


def test_copies_posted_at_once_make_one_story_whose_leader_has_the_right_severity(runtime):
    """Copies released together on a barrier against the live server (SQLite, or PostgreSQL with
    VIGIE_TEST_DATABASE_URL): the story counts them all and its leader ends high with the final count."""
    with live_server(runtime) as server:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            r = client.post("/intake/mentions", headers=AUTH, json=mention(1, text=ANGRY))
            assert r.status_code == 202, r.text
            leader_id = r.json()["mentions"][0]["id"]

        def send(k: int):
            def call() -> int:
                with httpx.Client(base_url=server.url, timeout=30) as c:
                    for j in range(5):  # several requests per thread: the storm grows while others write
                        i = 100 + k * 10 + j
                        resp = c.post("/intake/mentions", headers=AUTH,
                                      json=mention(i, text=VARIANTS[i % len(VARIANTS)], author=f"@fan{i}"))
                        assert resp.status_code == 202, resp.text
                        assert resp.json()["mentions"][0]["story"] == leader_id
                return k
            return call

        simultaneously([send(k) for k in range(6)])  # 30 copies + the leader = 31 mentions
        drain(runtime, timeout=20)

    with Session(runtime.engine) as s:
        stories = [st for st in s.exec(select(Story)).all() if st.size > 1]
        assert [(st.id, st.size) for st in stories] == [(leader_id, 31)]
    stored = _leader(runtime, leader_id)
    assert stored.severity == "high"
    [storm] = _storm_reasons(stored)
    assert storm["params"]["severity"] == "high" and storm["params"]["copies"] >= 30


def test_a_high_reach_mention_with_a_very_negative_tone_proposes_a_crisis(http, runtime, slack):
    """No listed negative word, only the tone: the high-reach signal takes the tone reasons too."""
    text = "Honestly the worst customer service ever. Terrible, terrible, absolutely awful and useless"
    posted = _post(http, 1, text, reach=runtime.protocol.crisis.high_reach + 1, language="en")
    with Session(runtime.engine) as s:
        codes = {r["code"] for r in s.exec(select(Mention).where(Mention.id == posted["id"])).one().reasons}
    assert codes & {"severity.tone", "severity.tone_strong"} and "severity.negative" not in codes, codes
    drain(runtime)
    runtime.crisis.detect()
    with Session(runtime.engine) as s:
        kinds = [sig.kind for sig in s.exec(select(CrisisSignal)).all()]
    assert "high_reach" in kinds


def test_a_high_reach_mention_without_negative_tone_proposes_nothing(http, runtime):
    text = "ACME delivered my order a day early, great job to the team"
    _post(http, 1, text, reach=runtime.protocol.crisis.high_reach + 1, language="en")
    drain(runtime)
    runtime.crisis.detect()
    with Session(runtime.engine) as s:
        kinds = [sig.kind for sig in s.exec(select(CrisisSignal)).all()]
    assert "high_reach" not in kinds
