"""Vendor pushes (bot.intake.pushes): each fixture body, laid out as the vendor sends it, gives exactly its
expected mentions; a body that is not the vendor's shape is refused naming the vendor's own fields."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from bot.intake.pushes import PUSHES, PushRefused, get_push, push_names, read_push
from bot.intake.schema import MentionIn

FIXTURES = Path(__file__).parents[1] / "fixtures" / "pushes"
INDEX = json.loads((FIXTURES / "index.json").read_text(encoding="utf-8"))


def body(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def expected(name: str) -> list[dict]:
    lines = (FIXTURES / name.replace(".json", ".expected.jsonl")).read_text(encoding="utf-8").splitlines()
    # Through MentionIn so that "...+00:00" and "...Z" are the same instant; no tag in these pushes.
    return [MentionIn.model_validate(json.loads(line)).model_dump(mode="json") for line in lines if line.strip()]


@pytest.mark.parametrize("name", sorted(INDEX))
def test_each_push_gives_exactly_its_expected_mentions(name):
    mentions = read_push(INDEX[name]["preset"], body(name), "fr")
    assert [m.model_dump(mode="json") for m in mentions] == expected(name)


def test_every_fixture_vendor_has_a_push_and_an_example_that_reads():
    assert {meta["preset"] for meta in INDEX.values()} == set(push_names())
    for push in PUSHES:
        assert push.read(push.example, "en"), push.name


def test_a_push_with_no_items_is_no_mention():
    assert read_push("meltwater", {"hook_id": "h", "documents": []}, "fr") == []


@pytest.mark.parametrize(("preset", "data", "where"), [
    ("meltwater", {"hook_id": "h"}, "documents"),
    ("meltwater", [], "documents"),
    ("talkwalker", {"result_content": {"data": "x"}}, "result_content.data"),
    ("brandwatch", {"results": None}, "results"),
    ("mention", {"mentions": {"id": 1}}, "mentions"),
])
def test_a_body_that_is_not_the_vendors_shape_names_the_list_it_lacks(preset, data, where):
    with pytest.raises(PushRefused) as refused:
        read_push(preset, data, "en")
    assert refused.value.shape
    [error] = refused.value.fields
    assert error["field"] == where and error["code"] == "missing"
    assert where in error["message"] and "missing" in error["message"]


def test_each_item_at_fault_is_named_by_the_vendors_path():
    data = body("meltwater.json")
    del data["documents"][1]["url"]
    data["documents"][2]["published_date"] = "hier soir"
    data["documents"][3]["content"] = {"title": None, "opening_text": "  "}
    data["documents"][0]["metrics"]["reach"] = -5
    data["documents"].append("not an object")
    with pytest.raises(PushRefused) as refused:
        read_push("meltwater", data, "fr")
    got = {(e["field"], e["code"]) for e in refused.value.fields}
    assert got == {("documents[1].url", "missing"), ("documents[2].published_date", "datetime_parsing"),
                   ("documents[3].content.opening_text", "missing"), ("documents[0].metrics.reach",
                                                                      "greater_than_equal"),
                   ("documents[4]", "model_type")}
    assert all(e["message"] for e in refused.value.fields)


def test_talkwalker_wrapped_items_are_named_with_their_wrapper():
    data = body("talkwalker.json")
    data["result_content"]["data"][2]["data"]["title"] = 12
    data["result_content"]["data"][1] = {"other": {}}
    with pytest.raises(PushRefused) as refused:
        read_push("talkwalker", data, "en")
    assert {(e["field"], e["code"]) for e in refused.value.fields} == {
        ("result_content.data[2].data.title", "string_type"), ("result_content.data[1].data", "model_type")}


def test_an_author_missing_falls_back_to_the_publication_and_an_unknown_language_is_left_to_detection():
    data = copy.deepcopy(body("meltwater.json"))
    data["documents"][0]["author"] = None
    data["documents"][0]["lang"] = "und"
    [first, *_] = read_push("meltwater", data, "fr")
    assert first.author == "Le Quotidien Lyonnais" and first.language is None


def test_wrong_types_never_escape_as_exceptions():
    odd = [None, True, 1.5, "x", [], {}, {"a": [1]}, 10**30, "1" * 500]
    for push in PUSHES:
        for value in odd:
            for key in ("url", "id", "resourceId", "published", "date", "published_date", "author", "lang",
                        "reach", "tags", "content", "title", "sentiment", "tone", "engagement", "enrichments",
                        "metrics", "guid", "perma_link", "created_time", "text", "from", "author_id", "language"):
                data = copy.deepcopy(push.example)
                items = data.get("documents") or data.get("mentions") or data.get("results") or data.get("data")
                item = items[0] if items else data["result_content"]["data"][0]["data"]
                item[key] = value
                try:
                    push.read(data, "fr")
                except PushRefused as exc:
                    assert exc.fields and all(f["message"] for f in exc.fields)


def test_names_are_case_insensitive_and_file_only_presets_have_no_push():
    assert get_push("Meltwater") is get_push("meltwater")
    assert get_push("hootsuite") is None and get_push("generic") is None
