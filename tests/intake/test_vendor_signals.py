"""Each vendor's sentiment, engagement and tags columns are carried (tests/fixtures/exports/*/*.signals.jsonl: one
line per data row, written from the files' own cells), stored with the mention, and a vendor's "negative" raises
the severity like a negative tone of the text; nothing raw (the label, the count) reaches Slack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.domain.routing import ReasonCode, Router, RoutingTable, SeverityRules
from bot.intake.files import LineError, read_mentions
from bot.intake.schema import MentionIn
from bot.intake.signals import sentiment_label
from bot.store.models import Mention
from tests.conftest import drain

EXPORTS = Path(__file__).parents[1] / "fixtures" / "exports"
FIXTURES = sorted(EXPORTS.glob("*/*.csv"))


def _read(path: Path) -> list:
    options = json.loads(path.with_suffix(".options.json").read_text())
    with read_mentions(path, default_timezone=options["timezone"], date_order=options["date_order"],
                       preset=options["preset"], skip_rows=options["skip_rows"], lang="en") as reader:
        return [item for _, item in reader]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_vendor_columns_are_carried(path: Path):
    wanted = [json.loads(line) for line in path.with_suffix(".signals.jsonl").read_text().splitlines()]
    items = _read(path)
    assert len(items) == len(wanted)
    for number, (item, want) in enumerate(zip(items, wanted, strict=True), start=1):
        if not want:  # a refused line
            assert isinstance(item, LineError), number
            continue
        assert (item.sentiment, item.engagement, item.tags) == (want["sentiment"], want["engagement"],
                                                                want["tags"]), (number, item)


def test_every_vendor_file_carries_a_sentiment():
    for path in FIXTURES:
        signals = [json.loads(line) for line in path.with_suffix(".signals.jsonl").read_text().splitlines()]
        assert any(s.get("sentiment") == "negative" for s in signals), path


@pytest.mark.parametrize(("value", "label"), [
    ("Negative", "negative"), ("négatif", "negative"), ("NEG", "negative"), (-3, "negative"), ("-1", "negative"),
    ("-0,4", "negative"), ("Positif", "positive"), (5, "positive"), ("Neutre", "neutral"), (0, "neutral"),
    ("mixed", None), ("", None), (True, None), ("nan", None), ("1e400", None),
])
def test_sentiment_words_and_numbers(value, label):
    assert sentiment_label(value) == label


def _router(tone: bool = True) -> Router:
    return Router(RoutingTable(teams=frozenset({"care"}), default_team="care", severity=SeverityRules(tone=tone)),
                  detect=lambda text: "fr")


def test_a_vendor_negative_raises_like_a_negative_tone():
    plain = "Commande reçue hier, le colis est arrivé."
    router = _router()
    neutral = router.triage(text=plain, source="brandwatch", language="fr", reach=None)
    raised = router.triage(text=plain, source="brandwatch", language="fr", reach=None, sentiment="negative")
    assert neutral.severity.value == "low" and raised.severity.value == "medium"
    assert [r.params for r in raised.reasons if r.code == ReasonCode.severity_tone_vendor] == [
        {"source": "brandwatch", "severity": "medium"}]
    for other in ("neutral", "positive", None):
        assert router.triage(text=plain, source="x", language="fr", reach=None, sentiment=other).severity.value == "low"
    # The tone switched off in the protocol: the vendor's tone is off too.
    assert _router(tone=False).triage(text=plain, source="x", language="fr", reach=None,
                                      sentiment="negative").severity.value == "low"
    # Our own reading, when stronger, is the one that raises (and is the reason given), never both added.
    angry = "Service client honteux, scandaleux, nul, je suis furieux et dégoûté !!!"
    own = router.triage(text=angry, source="x", language="fr", reach=None)
    both = router.triage(text=angry, source="x", language="fr", reach=None, sentiment="negative")
    assert own.severity == both.severity
    assert not any(r.code == ReasonCode.severity_tone_vendor for r in both.reasons)


def test_the_api_refuses_a_sentiment_it_does_not_know():
    base = {"source": "x", "external_id": "1", "url": "https://x.example/1", "author": "a", "text": "t",
            "published_at": "2026-11-21T09:30:00Z"}
    assert MentionIn.model_validate(base | {"sentiment": "negative", "engagement": 12}).engagement == 12
    for bad in ({"sentiment": "angry"}, {"engagement": -1}, {"engagement": "12"}):
        with pytest.raises(ValueError):
            MentionIn.model_validate(base | bad)


def test_stored_with_the_mention_and_never_shown_raw(runtime, slack):
    path = EXPORTS / "brandwatch" / "mentions_export.csv"
    mentions = [item for item in _read(path) if not isinstance(item, LineError)]
    results = runtime.vigie.ingest(mentions, actor="test")
    drain(runtime)
    with Session(runtime.engine) as session:
        stored = {m.external_id: m for m in session.exec(select(Mention)).all()}
    signals = [json.loads(line) for line in path.with_suffix(".signals.jsonl").read_text().splitlines()]
    readable = [s for s in signals if s]
    assert len(stored) == len(mentions) == len(readable)
    for mention, want in zip(mentions, readable, strict=True):
        row = stored[mention.external_id]
        expected = {k: v for k, v in (("engagement", want["engagement"]), ("sentiment", want["sentiment"]))
                    if v is not None}
        assert row.extra == (expected or None)
        assert row.tags == want["tags"]
        if want["sentiment"] == "negative" and row.severity != "critical":
            assert row.severity != "low", row.text  # raised, by the vendor or by our own reading
    vendor_raised = [m for m in stored.values()
                     if any(r["code"] == "severity.tone_vendor" for r in m.reasons)]
    assert vendor_raised, "the vendor's negative raised at least one mention our reading found neutral"
    cards = [json.dumps(c.args, ensure_ascii=False) for c in slack.calls("chat.postMessage")]
    assert len(cards) == sum(r.relayed for r in results) > 0
    text = "\n".join(cards)
    assert "ton négatif selon Brandwatch" in text  # the reason, in the protocol's language
    assert '"negative"' not in text and "Engagement" not in text and "engagement" not in text
