"""The intake API, end to end: HTTP in, stored once, relayed once into the right channel through the fake Slack."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from bot.intake.schema import MAX_BATCH, MAX_BODY_BYTES
from bot.store.models import AuditEvent, Mention, Outbox
from tests.conftest import AUTH, drain, mention
from tests.typography import fr


def test_a_mention_is_stored_and_relayed_once_to_its_team_channel(http, slack, runtime):
    body = mention(1, text="Les résultats du T3 sont décevants, le dividende baisse ?", reach=12_000)
    r = http.post("/intake/mentions", json=body, headers=AUTH)
    assert r.status_code == 202, r.text
    answer = r.json()
    assert answer["accepted"] == 1 and answer["duplicates"] == 0
    mention_id = answer["mentions"][0]["id"]

    [call] = slack.wait_for("chat.postMessage")
    assert call.args["channel"] == "C0FINANCE1"
    assert call.args["metadata"]["event_payload"]["outbox_id"]
    card = json.dumps(call.args["blocks"], ensure_ascii=False)
    assert "résultats" in card and "dividende" in card  # the reason names the keywords found
    assert "12" in card and "moyenne, forte audience" in card  # reach 12,000 raised the severity to medium
    assert fr(f"mention n° {mention_id}") in card
    assert [a["action_id"] for a in call.args["blocks"][-1]["elements"]] == [
        "mention_claim", "mention_draft", "mention_reroute", "mention_dismiss", "mention_open_post", "mention_more"]

    drain(runtime)
    with Session(runtime.engine) as s:
        stored = s.get(Mention, mention_id)
        assert stored.team == "finance" and stored.severity == "medium"
        assert {r["code"] for r in stored.reasons} >= {"route.keyword", "severity.reach"}
        assert stored.status == "relayed" and stored.relay_ts == call.response["ts"]
        audit = s.exec(select(AuditEvent).where(AuditEvent.mention_id == mention_id)).all()
        assert [a.action for a in audit] == ["mention.received"]


def test_the_same_mention_again_is_acknowledged_as_duplicate_and_not_relayed(http, slack, runtime):
    first = http.post("/intake/mentions", json=mention(7), headers=AUTH)
    slack.wait_for("chat.postMessage")
    again = http.post("/intake/mentions", json=mention(7, text="changed text, same id"), headers=AUTH)
    assert again.status_code == 202
    assert again.json()["duplicates"] == 1 and again.json()["accepted"] == 0
    assert again.json()["mentions"][0]["id"] == first.json()["mentions"][0]["id"]
    runtime.worker.run_once()
    assert len(slack.calls("chat.postMessage")) == 1
    with Session(runtime.engine) as s:
        assert len(s.exec(select(Mention)).all()) == 1
        assert len(s.exec(select(Outbox)).all()) == 1


def test_a_batch_with_duplicates_inside_it(http, slack):
    batch = [mention(i) for i in range(5)] + [mention(2)]
    r = http.post("/intake/mentions", json=batch, headers=AUTH)
    assert r.status_code == 202
    flags = [m["duplicate"] for m in r.json()["mentions"]]
    assert flags == [False] * 5 + [True]
    slack.wait_for("chat.postMessage", count=5)


def test_unrouted_mentions_fall_back_to_the_general_team(http, slack):
    http.post("/intake/mentions", json=mention(1, text="Joli packaging !"), headers=AUTH)
    [call] = slack.wait_for("chat.postMessage")
    assert call.args["channel"] == "C0GENERAL1"
    assert "Aucune règle ne la vise" in json.dumps(call.args["blocks"], ensure_ascii=False)


def test_wrong_or_missing_token_is_401(http, slack):
    assert http.post("/intake/mentions", json=mention()).status_code == 401
    r = http.post("/intake/mentions", json=mention(), headers={"Authorization": "Bearer nope-nope-nope-nope"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert http.post("/intake/mentions", content=b"{not json", headers=AUTH | {"content-type": "application/json"}
                     ).status_code == 400
    assert slack.calls("chat.postMessage") == []


def test_bad_json_is_400_with_a_sentence(http):
    r = http.post("/intake/mentions", content=b'{"source": "x",', headers=AUTH | {"Accept-Language": "en"})
    assert r.status_code == 400
    assert r.json() == {"code": "invalid_json", "message": "body is not valid JSON (line 1, column 16)"}
    r = http.post("/intake/mentions", content=b'{"source": "\xff"}', headers=AUTH | {"Accept-Language": "en"})
    assert r.json() == {"code": "invalid_json", "message": "body is not valid JSON: it must be encoded in UTF-8"}


# French is the test protocol's language: the default when Accept-Language asks for neither fr nor en.
ERRORS = {
    "fr": {"unauthorized": "jeton Bearer absent ou incorrect",
           "invalid_json": "le corps n'est pas du JSON valide (ligne 1, colonne 16)",
           "too_many_mentions": fr(f"{MAX_BATCH + 1} mentions dans une seule requête ; {MAX_BATCH} au plus"),
           "empty_batch": "la liste des mentions est vide",
           "invalid_mention": fr("mention invalide : url : doit être une adresse http ou https ; author : est "
                                 "obligatoire ; reach : doit valoir au moins 0")},
    "en": {"unauthorized": "missing or wrong bearer token",
           "invalid_json": "body is not valid JSON (line 1, column 16)",
           "too_many_mentions": f"{MAX_BATCH + 1} mentions in one request; at most {MAX_BATCH}",
           "empty_batch": "the list of mentions is empty",
           "invalid_mention": "invalid mention: url: must be an http or https URL; author: is required; reach: must "
                              "be at least 0"},
}


@pytest.mark.parametrize(("header", "lang"), [
    (None, "fr"), ("de-DE,de;q=0.9", "fr"), ("fr-FR", "fr"), ("en-GB", "en"),
    ("de, en;q=0.8, fr;q=0.5", "en"), ("en;q=0.2, fr-CA;q=0.9", "fr"), ("en;q=oops, fr;q=0.1", "fr"),
])
def test_error_bodies_have_a_code_and_a_message_in_the_senders_language(http, header, lang):
    h = {"Accept-Language": header} if header else {}
    got = {}
    r = http.post("/intake/mentions", json=mention(), headers=h)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    got[r.json()["code"]] = r.json()["message"]
    r = http.post("/intake/mentions", content=b'{"source": "x",', headers=AUTH | h)
    got[r.json()["code"]] = r.json()["message"]
    r = http.post("/intake/mentions", json=[mention(i) for i in range(MAX_BATCH + 1)], headers=AUTH | h)
    assert r.status_code == 413
    got[r.json()["code"]] = r.json()["message"]
    r = http.post("/intake/mentions", json=[], headers=AUTH | h)
    assert r.status_code == 422 and r.json()["fields"] == []
    got[r.json()["code"]] = r.json()["message"]
    bad = mention(1, url="javascript:alert(1)", reach=-5)
    del bad["author"]
    r = http.post("/intake/mentions", json=bad, headers=AUTH | h)
    assert r.status_code == 422
    got[r.json()["code"]] = r.json()["message"]
    # each field: where, pydantic's error type as its stable code, and a sentence
    assert [(f["field"], f["code"]) for f in r.json()["fields"]] == [
        ("url", "url_scheme"), ("author", "missing"), ("reach", "greater_than_equal")]
    assert got == ERRORS[lang]


def test_every_field_error_reads_as_a_sentence_in_both_languages(http):
    batch = [mention(1, language="fra", text="  ", source="", published_at="yesterday", tags=["t"] * 51,
                     external_id="e" * 201), 7,
             mention(3, reach="many", author=None, tags="one", published_at=[1])]
    for lang in ("fr", "en"):
        r = http.post("/intake/mentions", json=batch, headers=AUTH | {"Accept-Language": lang})
        assert r.status_code == 422
        fields = {f["field"]: f["message"] for f in r.json()["fields"]}
        assert set(fields) >= {"[0].language", "[0].text", "[0].source", "[0].published_at", "[0].tags",
                               "[0].external_id", "[1]", "[2].reach", "[2].author", "[2].tags", "[2].published_at"}
        assert len(set(fields.values())) >= 9  # no catch-all: each kind of error says what is wrong
        invalid = {"fr": "n'est pas valide", "en": "is not valid"}[lang]
        assert invalid not in fields.values()
        if lang == "fr":
            assert fields["[0].external_id"] == "dépasse 200 caractères"
            assert fields["[0].tags"] == "a plus de 50 éléments"
            assert fields["[1]"] == "doit être un objet JSON (une mention)"
            assert fields["[2].reach"] == "doit être un nombre entier"
        else:
            assert fields["[0].text"] == "is blank" and fields["[0].source"] == "is blank"
            assert fields["[0].language"].startswith("must be a two-letter")
            assert fields["[2].published_at"].startswith("must be an ISO 8601 date")


def test_invalid_fields_are_422_and_each_is_named(http, runtime):
    bad = mention(1, url="javascript:alert(1)", published_at="yesterday", reach=-5)
    del bad["author"]
    r = http.post("/intake/mentions", json=bad, headers=AUTH)
    assert r.status_code == 422
    fields = {f["field"] for f in r.json()["fields"]}
    assert fields == {"url", "published_at", "reach", "author"}
    batch = [mention(1), mention(2, text="   ")]
    r = http.post("/intake/mentions", json=batch, headers=AUTH)
    assert r.status_code == 422
    assert [f["field"] for f in r.json()["fields"]] == ["[1].text"]
    with Session(runtime.engine) as s:  # a refused batch stores nothing: the sender can resend it whole
        assert s.exec(select(Mention)).all() == []


def test_too_large_is_413(http):
    too_many = [mention(i) for i in range(MAX_BATCH + 1)]
    assert http.post("/intake/mentions", json=too_many, headers=AUTH).status_code == 413
    huge = b'{"text": "' + b"a" * (MAX_BODY_BYTES + 10) + b'"}'
    r = http.post("/intake/mentions", content=huge, headers=AUTH | {"content-type": "application/json"})
    assert r.status_code == 413


def test_nul_bytes_are_refused_naming_each_field_and_odd_unicode_is_stored(http, slack, runtime):
    # NUL used to be dropped: "a\x00b" and "ab" became the same external id. Now it is refused, field by field.
    bad = mention(1, external_id="a\x00b", author="x\x00y", tags=["ok", "t\x00"], url="https://x.example/\x00")
    r = http.post("/intake/mentions", json=bad, headers=AUTH | {"Accept-Language": "en"})
    assert r.status_code == 422
    assert {(f["field"], f["code"]) for f in r.json()["fields"]} == {
        ("external_id", "nul_character"), ("author", "nul_character"), ("tags.1", "nul_character"),
        ("url", "nul_character")}
    assert {f["message"] for f in r.json()["fields"]} == {"contains a NUL character (U+0000), which is refused"}
    with Session(runtime.engine) as s:
        assert s.exec(select(Mention)).all() == []
    r = http.post("/intake/mentions", json=mention(1, text="a b \u202e txt.exe\u2028\U000e0041"), headers=AUTH)
    assert r.status_code == 202
    [call] = slack.wait_for("chat.postMessage")
    assert "\u202e" not in json.dumps(call.args, ensure_ascii=False)


@pytest.mark.parametrize(("field", "value", "code"), [
    ("reach", False, "int_type"), ("reach", True, "int_type"), ("reach", "12", "int_type"),
    ("reach", 12.5, "int_type"), ("reach", [12], "int_type"), ("reach", 1e300, "less_than_equal"),
    ("published_at", 1763713800, "datetime_type"), ("published_at", "1763713800", "datetime_type"),
    ("published_at", True, "datetime_type"), ("text", 12, "string_type"), ("author", ["a"], "string_type"),
    ("tags", "a,b", "list_type"), ("tags", [1], "string_type"), ("source", {"a": 1}, "string_type"),
])
def test_types_are_strict_as_the_openapi_document_says(http, runtime, field, value, code):
    r = http.post("/intake/mentions", json=mention(1, **{field: value}), headers=AUTH)
    assert r.status_code == 422, r.text
    [error] = r.json()["fields"]
    assert error["field"].split(".")[0] == field and error["code"] == code
    with Session(runtime.engine) as s:
        assert s.exec(select(Mention)).all() == []


def test_a_whole_number_written_with_a_fraction_is_a_whole_number(http, runtime):
    # JSON Schema (and so the OpenAPI document) counts 12.0 as an integer; JSON senders may write it so.
    r = http.post("/intake/mentions", json=mention(1, reach=12000.0), headers=AUTH)
    assert r.status_code == 202, r.text
    with Session(runtime.engine) as s:
        assert s.exec(select(Mention.reach)).one() == 12000


def test_unknown_fields_are_refused_by_name(http):
    r = http.post("/intake/mentions", json=[mention(1), mention(2, langage="fr", Reach=3)],
                  headers=AUTH | {"Accept-Language": "en"})
    assert r.status_code == 422
    assert [(f["field"], f["code"]) for f in r.json()["fields"]] == [("[1].langage", "extra_forbidden"),
                                                                      ("[1].Reach", "extra_forbidden")]
    assert r.json()["fields"][0]["message"] == ("is not a field of a mention (fields: source, external_id, url, "
                                                "author, text, published_at, language, reach, tags, engagement, "
                                                "sentiment)")
    assert fr("[1].langage : n'est pas un champ d'une mention (champs\u202f: source,") in http.post(
        "/intake/mentions", json=[mention(1), mention(2, langage="fr")], headers=AUTH).json()["message"]


@pytest.mark.parametrize(("body", "code", "message"), [
    (b"[" * 100_000, "too_deep", "the body nests more than 64 levels of lists and objects; a mention has three"),
    (b'{"tags": ' + b"[" * 65 + b"]" * 65 + b"}", "too_deep", "the body nests more than 64 levels"),
    (b'{"text": "\xff\xfe"}', "invalid_json", "body is not valid JSON: it must be encoded in UTF-8"),
    (b'{"reach": ' + b"9" * 5000 + b"}", "invalid_json", "the body holds a number too long to read"),
    (b"\x00", "invalid_json", "body is not valid JSON (line 1, column 1)"),
])
def test_hostile_bodies_are_400_with_a_sentence(http, body, code, message):
    r = http.post("/intake/mentions", content=body,
                  headers=AUTH | {"content-type": "application/json", "Accept-Language": "en"})
    assert r.status_code == 400
    assert r.json()["code"] == code and r.json()["message"].startswith(message)


def test_brackets_inside_strings_are_not_nesting(http, slack):
    r = http.post("/intake/mentions", json=mention(1, text="[" * 5000 + "{" * 5000), headers=AUTH)
    assert r.status_code == 202, r.text


def test_openapi_describes_the_intake(http):
    doc = http.get("/openapi.json").json()
    op = doc["paths"]["/intake/mentions"]["post"]
    assert set(op["responses"]) >= {"202", "400", "401", "413", "422", "503"}
    schema = doc["components"]["schemas"]["MentionIn"]
    assert set(schema["required"]) == {"source", "external_id", "url", "author", "text", "published_at"}
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_health_and_metrics(http, slack):
    assert http.get("/healthz").json()["status"] == "ok"
    http.post("/intake/mentions", json=mention(1), headers=AUTH)
    http.post("/intake/mentions", json=mention(1), headers=AUTH)
    metrics = http.get("/metrics").text
    assert 'vigie_mentions_total{door="api",outcome="new"} 1.0' in metrics
    assert 'vigie_mentions_total{door="api",outcome="duplicate"} 1.0' in metrics
