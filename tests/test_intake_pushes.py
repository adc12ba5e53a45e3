"""POST /intake/{preset} through the real HTTP app: a vendor's own push, behind the intake's token, stored once
(replayed, or delivered twice at the same instant on the live server), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from bot.intake.schema import MentionIn
from bot.store.models import Mention
from tests.conftest import AUTH
from tests.live import live_server, simultaneously

FIXTURES = Path(__file__).parent / "fixtures" / "pushes"
INDEX = json.loads((FIXTURES / "index.json").read_text(encoding="utf-8"))
FIELDS = ("source", "external_id", "url", "author", "text", "published_at", "reach")


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def expected(name: str) -> list[MentionIn]:
    lines = (FIXTURES / name.replace(".json", ".expected.jsonl")).read_text(encoding="utf-8").splitlines()
    return [MentionIn.model_validate(json.loads(line)) for line in lines if line.strip()]


def stored(runtime) -> list[tuple]:
    with Session(runtime.engine) as s:
        rows = s.exec(select(Mention).order_by(Mention.source, Mention.external_id)).all()
        return [tuple(getattr(m, f) for f in FIELDS) for m in rows]


def rows_of(mentions: list[MentionIn]) -> list[tuple]:
    return sorted(tuple(str(m.url) if f == "url" else getattr(m, f) for f in FIELDS) for m in mentions)


def test_without_the_token_a_push_is_refused_and_nothing_stored(http, runtime):
    data = fixture("meltwater.json")
    assert http.post("/intake/meltwater", json=data).status_code == 401
    r = http.post("/intake/meltwater", json=data, headers={"Authorization": "Bearer nope-nope-nope-nope"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    # An unknown preset says nothing to a caller without the token either.
    assert http.post("/intake/nosuchtool", json=data).status_code == 401
    assert stored(runtime) == []


def test_each_vendor_push_is_stored_once_with_its_fields(http, runtime):
    want = []
    for name, meta in sorted(INDEX.items()):
        r = http.post(f"/intake/{meta['preset']}", json=fixture(name), headers=AUTH)
        assert r.status_code == 202, r.text
        answer = r.json()
        mentions = expected(name)
        assert answer["preset"] == meta["preset"] and answer["accepted"] + answer["duplicates"] == len(mentions)
        assert [m["external_id"] for m in answer["mentions"]] == [m.external_id for m in mentions]
        want += mentions
    # talkwalker_chunk.json's item is also in no other push: every expected mention is one row.
    assert stored(runtime) == rows_of(want)
    with Session(runtime.engine) as s:
        langs = {(m.source, m.external_id): m.language for m in s.exec(select(Mention)).all()}
    assert all(langs[(m.source, m.external_id)] == m.language for m in want)


def test_a_replayed_push_is_stored_once(http, runtime):
    first = http.post("/intake/mention", json=fixture("mention.json"), headers=AUTH)
    again = http.post("/intake/mention", json=fixture("mention.json"), headers=AUTH)
    assert first.status_code == again.status_code == 202
    assert first.json()["accepted"] == 4 and again.json()["duplicates"] == 4 and again.json()["accepted"] == 0
    assert [m["id"] for m in again.json()["mentions"]] == [m["id"] for m in first.json()["mentions"]]
    assert len(stored(runtime)) == 4


def test_an_unknown_preset_is_a_404_with_a_sentence(http, runtime):
    r = http.post("/intake/hootsuite", json={"x": 1}, headers=AUTH | {"Accept-Language": "en"})
    assert r.status_code == 404
    assert r.json()["code"] == "unknown_preset"
    assert "hootsuite" in r.json()["message"] and "meltwater" in r.json()["message"]
    r = http.post("/intake/nosuchtool", json={"x": 1}, headers=AUTH | {"Accept-Language": "fr"})
    assert r.status_code == 404 and "outils" in r.json()["message"]


def test_a_body_of_another_shape_is_a_422_naming_what_is_missing(http, runtime):
    r = http.post("/intake/meltwater", json=fixture("brandwatch.json"), headers=AUTH | {"Accept-Language": "en"})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_push" and "documents" in r.json()["message"]
    assert r.json()["fields"][0]["field"] == "documents"
    broken = fixture("brandwatch.json")
    del broken["results"][1]["url"]
    r = http.post("/intake/brandwatch", json=broken, headers=AUTH | {"Accept-Language": "en"})
    assert r.status_code == 422 and [f["field"] for f in r.json()["fields"]] == ["results[1].url"]
    assert "results[1].url" in r.json()["message"]
    assert stored(runtime) == []  # all or nothing, as /intake/mentions


@pytest.mark.parametrize(("body", "status"), [
    (b"{not json", 400), (b"[" * 100 + b"]" * 100, 400), (b"\xff\xfe", 400), (b"null", 422), (b"12", 422),
    (b'"documents"', 422), (b'{"documents": [null, 1, "x", []]}', 422),
])
def test_hostile_bodies_are_refused_never_a_500(http, runtime, body, status):
    r = http.post("/intake/meltwater", content=body, headers=AUTH | {"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert r.json()["message"]


def test_too_many_items_is_a_413_and_an_empty_push_stores_nothing(http, runtime):
    item = fixture("meltwater.json")["documents"][0]
    many = {"documents": [dict(item, id=f"id-{i}") for i in range(501)]}
    assert http.post("/intake/meltwater", json=many, headers=AUTH).status_code == 413
    r = http.post("/intake/meltwater", json={"hook_id": "h", "documents": []}, headers=AUTH)
    assert r.status_code == 202 and r.json()["accepted"] == 0 and r.json()["mentions"] == []
    assert stored(runtime) == []


def test_the_openapi_document_has_a_path_per_preset_with_its_example(http):
    doc = http.get("/openapi.json").json()
    presets = {m["preset"] for m in INDEX.values()}
    assert "/intake/{preset}" not in doc["paths"]
    for preset in presets:
        op = doc["paths"][f"/intake/{preset}"]["post"]
        assert set(op["responses"]) >= {"202", "400", "401", "413", "422", "503"}
        assert op["security"] == [{"bearer": []}]
        example = op["requestBody"]["content"]["application/json"]["example"]
        r = http.post(f"/intake/{preset}", json=example, headers=AUTH)
        assert r.status_code == 202 and r.json()["accepted"] == 1, r.text


def test_the_same_push_delivered_twice_at_once_is_stored_once(runtime):
    # The vendor's retry racing its first delivery: two threads released on a barrier against the live server.
    with live_server(runtime) as server:
        clients = [httpx.Client(base_url=server.url, timeout=30) for _ in range(2)]
        try:
            for round_ in range(10):
                data = fixture("meltwater.json")
                for doc in data["documents"]:
                    doc["id"] = f"{doc['id']}-r{round_}"
                answers = simultaneously([lambda c=c: c.post("/intake/meltwater", json=data, headers=AUTH)
                                          for c in clients])
                assert [a.status_code for a in answers] == [202, 202], [a.text for a in answers]
                assert sum(a.json()["accepted"] for a in answers) == 4
                ids = [[m["id"] for m in a.json()["mentions"]] for a in answers]
                assert ids[0] == ids[1]
        finally:
            for client in clients:
                client.close()
    assert len(stored(runtime)) == 40
