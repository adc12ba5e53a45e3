"""What people read, in both languages, through the real app: no catalogue key ever reaches a person, the
/vigie answers speak like the help says they do, and wording rules hold in what is actually sent.

Every text the bot sends to the fake Slack (messages, thread replies, ephemerals, DMs, modals, Home tabs) and
every /vigie answer is collected while a mention goes from intake to publication, with the protocol in French
and then in English (so cards and threads are rendered in both), and people speaking French and English.
"""

from __future__ import annotations

import json
import re
import time
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from bot.i18n import catalogue, plurals
from tests.conftest import SIGNING_SECRET, TEST_PROTOCOL, drain, make_settings
from tests.driver import CM, FIN_EXPERT, LEGAL_EXPERT, LEGAL_LEAD, STRANGER, Driver
from tests.slack_requests import signed_headers

_events = count(1)
PREFIXES = sorted({key.split(".")[0] for lang in ("fr", "en") for key in [*catalogue(lang), *plurals(lang)]
                   if "." in key})
# "relay.header", "home.crisis.banner", "cmd.error.unknown": a catalogue prefix, a dot, a lower-case word
KEY_LIKE = re.compile(r"(?<![\w./@-])(?:%s)\.[a-z_]+(?:\.[a-z0-9_]+)*(?![\w/-])" % "|".join(map(re.escape, PREFIXES)))
NOT_TEXT = re.compile(r"<[^<>]*>|https?://\S+")


@pytest.fixture(params=["fr", "en"])
def settings(request, engine, slack, database_url, tmp_path):  # type: ignore[no-untyped-def]
    """The test protocol, in French (as shipped) or turned English: cards and threads follow its language."""
    text = TEST_PROTOCOL.read_text("utf-8").replace("roster: roster.csv", f"roster: {TEST_PROTOCOL.parent / 'roster.csv'}")
    if request.param == "en":
        text = text.replace("language: fr", "language: en", 1)
    path = Path(tmp_path) / "protocol.yaml"
    path.write_text(text, "utf-8")
    return make_settings(database_url, slack.url, VIGIE_PROTOCOL_FILE=str(path))


@pytest.fixture
def loop(http, slack, runtime):  # type: ignore[no-untyped-def]
    for user, locale in ((CM, "fr-FR"), (LEGAL_LEAD, "fr-FR"), (LEGAL_EXPERT, "en-US"), (STRANGER, "en-US"),
                         (FIN_EXPERT, "en-GB")):
        slack.add_user(user, name=user, locale=locale)
    return Driver(http, slack, runtime)


def texts_in(value: Any) -> list[str]:
    """The strings people read in a Slack payload: `text` fields (messages, Block Kit text objects, options)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in ("text", "title", "fallback") and isinstance(inner, str):
                found.append(inner)
            else:
                found += texts_in(inner)
    elif isinstance(value, list):
        for inner in value:
            found += texts_in(inner)
    return found


FILE_ENDINGS = {"yaml", "yml", "json", "jsonl", "csv", "png", "py", "db", "md", "example", "com", "org"}


def raw_keys(texts: list[str]) -> set[str]:
    """Key-like words ("relay.header") in `texts`; file names and hosts ("protocol.yaml", "x.com") aside."""
    return {hit for text in texts for hit in KEY_LIKE.findall(NOT_TEXT.sub(" ", text))
            if hit.rsplit(".", 1)[-1] not in FILE_ENDINGS}


def open_home(loop: Driver, user: str) -> None:
    body = json.dumps({
        "token": "legacy-verification-token", "team_id": "T0TEAM0001", "api_app_id": "A0VIGIE001",
        "type": "event_callback", "event_id": f"Ev0WORD{next(_events):05d}", "event_time": int(time.time()),
        "event": {"type": "app_home_opened", "user": user, "channel": "D0HOME0001", "tab": "home",
                  "event_ts": f"{time.time():.6f}"},
        "authorizations": [{"team_id": "T0TEAM0001", "user_id": "U0VIGIEBOT", "is_bot": True}],
    })
    r = loop.http.post("/slack/events", content=body,
                       headers=signed_headers(SIGNING_SECRET, body, content_type="application/json"))
    assert r.status_code == 200, r.text
    drain(loop.runtime)


def test_the_key_detector_finds_keys_and_spares_ordinary_text():
    assert raw_keys(["Voir home.crisis.banner ici", "relay.header", "(cmd.error.unknown)"]) == {
        "home.crisis.banner", "relay.header", "cmd.error.unknown"}
    assert raw_keys(["protocol.yaml:12", "<https://x.example/digest.png|lien>", "vigie digest", "n° 4 · x.com",
                     "Mention #4 (low)", "mail@relay.example"]) == set()


def test_no_catalogue_key_reaches_anyone_from_intake_to_publication(loop, slack, runtime):
    answers: list[str] = []
    mid = loop.intake("Un avocat annonce un procès contre la marque, 06 12 34 56 78")
    loop.click("mention_claim", mid, STRANGER)  # refused, in English
    loop.click("mention_claim", mid, LEGAL_EXPERT)
    loop.click("mention_draft", mid, LEGAL_EXPERT)
    loop.submit(LEGAL_EXPERT, {"text": "Notre reponse : appelez le 06 12 34 56 78.", "network": "x",
                               "language": "fr", "label": "internal"})
    v1 = loop.draft(mid)
    loop.click("draft_approve", v1.id, CM)  # refused: internal, findings
    loop.click("draft_request_changes", v1.id, CM)
    loop.submit(CM, {"reason": "Pas de numéro, merci."})
    loop.click("draft_edit", v1.id, LEGAL_EXPERT)
    loop.submit(LEGAL_EXPERT, {"text": "Merci pour votre message. Nous ne commentons pas une procédure en cours.",
                               "network": "x", "language": "fr", "label": "public"})
    v2 = loop.draft(mid)
    loop.click("draft_approve", v2.id, CM)
    loop.click("draft_approve", v2.id, LEGAL_LEAD)
    loop.click("draft_publish", v2.id, LEGAL_EXPERT)
    loop.submit(LEGAL_EXPERT, {"url": "https://x.example/status/1"})
    for user in (CM, LEGAL_EXPERT):
        for text in ("aide", "help", "statut", "status", "liste", "moi", f"voir {mid}", "protocole",
                     "protocol legal", "protocole nulle", "astreinte", "crise", "résumé", "statu", "voir x",
                     f"escalader {mid} urgent"):
            answers.append(loop.slash(text, user=user))
    open_home(loop, CM)
    open_home(loop, LEGAL_EXPERT)
    drain(runtime)

    sent = [c.args for c in slack.calls() if c.method.startswith(("chat.", "views."))]
    texts = [*answers, *(t for args in sent for t in texts_in(args))]
    assert len(texts) > 60
    assert raw_keys(texts) == set()
    # Both languages were rendered: the French protocol's cards and the English people's answers, or the reverse.
    joined = "\n".join(texts)
    assert "Nouvelle mention" in joined or "New mention" in joined
    assert "Type `/vigie help`" in joined and "Tapez `/vigie aide`" in joined


def test_vigie_protocol_names_channels_and_teams_not_ids_and_keys(loop):
    answer = loop.slash("protocole", user=CM)
    # <#C…> is how Slack shows a channel's current name; never the bare ID, nor "(C0LEGAL001)".
    assert "<#C0LEGAL001>" in answer and "(C0LEGAL001)" not in answer
    assert re.search(r"(?<![#\w])C0[A-Z0-9]{7,}(?!>)", answer) is None
    unknown = loop.slash("protocole nulle", user=CM)
    assert "Juridique" in unknown or "Legal" in unknown
    assert not re.search(r"\blegal\b|\bhr\b|\bgeneral\b", unknown)  # team labels, not the protocol's keys


def test_a_french_speaker_who_types_statu_is_told_statut_with_one_hint(loop):
    french = loop.slash("statu", user=CM)
    assert "statut" in french and "« status »" not in french and "“status”" not in french
    assert french.count("/vigie") == 1
    english = loop.slash("statu", user=STRANGER)
    assert "“status”" in english and english.count("/vigie") == 1


def test_help_says_what_the_answers_show(loop):
    """Each help line promises only what its answer holds: `statut` shows open mentions by team and deadlines
    (no drafts, no on-call), `voir` no history, `résumé` is for the asker alone."""
    mid = loop.intake("Un avocat annonce un procès contre la marque")
    help_fr = loop.slash("aide", user=CM)
    status_line = next(line for line in help_fr.splitlines() if "`/vigie statut`" in line)
    assert "astreinte" not in status_line and "brouillon" not in status_line
    status = loop.slash("statut", user=CM)
    assert "astreinte" not in status.lower() or "Astreinte" in status_line
    show_line = next(line for line in help_fr.splitlines() if "`/vigie voir" in line)
    assert "historique" not in show_line
    shown = loop.slash(f"voir {mid}", user=CM)
    assert "Brouillons" in shown and "Pourquoi ici" in shown


def test_a_draft_labelled_confidential_says_so_in_french_words():
    from bot.slack.views.cards import render_finding

    finding = {"code": "label_not_public", "text": "confidential", "params": {"label": "confidential"}}
    french, english = render_finding(finding, "fr"), render_finding(finding, "en")
    assert "«\u00a0confidentiel\u00a0»" in french and "confidential" not in french
    assert "“confidential”" in english


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_durations_are_babel_words_to_the_minute(lang):
    from datetime import timedelta

    from bot.slack.views.digest import duration_words

    assert duration_words(timedelta(minutes=59, seconds=58), lang).replace("\u202f", " ").replace("\xa0", " ") == {
        "fr": "1 h", "en": "1 hr"}[lang]
    for seconds in (1, 29, 31, 61, 3599, 3661, 86_399, 90_061, 200_000):
        words = duration_words(timedelta(seconds=seconds), lang)
        assert not re.search(r"\d\s*(s|sec|second)\b", words), words


def test_the_digest_names_its_time_zone_by_its_city():
    from bot.i18n import t
    from bot.slack.views.digest import zone_city

    assert t("digest.scope", "fr", date="lundi", team="Juridique", city=zone_city("Europe/Paris", "fr")) == (
        "lundi · Juridique · heure de Paris")
    assert zone_city("America/New_York", "en") == "New York" and zone_city("Nowhere/Else", "fr") == "Nowhere/Else"
