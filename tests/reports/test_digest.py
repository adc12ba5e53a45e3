"""The daily digest: every figure checked against arithmetic done by hand on a seeded 8-day history.

The `engine` fixture (tests/conftest.py) gives SQLite, or PostgreSQL when VIGIE_TEST_DATABASE_URL is set, so
the same expectations hold for both SQL dialects (percentiles and durations are computed by the database).

Times are written in Europe/Paris local time (UTC+1 in November). The digest's day D is Friday 2026-11-20:
[2026-11-19 23:00Z, 2026-11-20 23:00Z). `now` is D+1 08:00 local, so the cutoff is the end of D.
"""

from __future__ import annotations

import json
import re
import string
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.numbers import format_percent
from sqlmodel import Session, select

from bot.i18n import catalogue
from bot.protocol.load import load_protocol
from bot.reports.digest import compute_digest, day_bounds
from bot.slack.views import digest as digest_mod
from bot.slack.text import escape
from bot.slack.views.digest import digest_blocks, interpretation
from bot.store.models import Crisis, Draft, Mention, Reminder
from tests import slackspec
from tests.typography import fr

PARIS = ZoneInfo("Europe/Paris")
D = date(2026, 11, 20)
PROTOCOL = load_protocol(Path(__file__).parents[1] / "fixtures" / "protocol.yaml")
# The "digest.*" texts of the .po catalogues the bot reads.
TEXTS = {lang: {k: v for k, v in catalogue(lang).items() if k.startswith("digest.")} for lang in ("fr", "en")}
M = timedelta(minutes=1)
H = timedelta(hours=1)


def local(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=PARIS).astimezone(UTC)


NOW = local(D + timedelta(days=1), 8)
END_OF_D = local(D + timedelta(days=1), 0)


@pytest.fixture
def digest_texts():  # type: ignore[no-untyped-def]
    """The digest's texts are in the .po catalogues the bot reads: nothing to add (kept for the tests' signatures)."""
    yield


# ---------------------------------------------------------------------------- seeding

_ids = iter(range(1, 100_000))


def add_mention(s: Session, *, received: datetime, team: str = "general", source: str = "x",
                tags: list[str] | None = None, state: str = "open", fr_due: datetime | None = None,
                fr_at: datetime | None = None, pub_due: datetime | None = None, pub_at: datetime | None = None,
                closed: datetime | None = None, channel: str | None = None, ts: str | None = None) -> int:
    n = next(_ids)
    m = Mention(source=source, external_id=f"e{n}", url=f"https://x.example/{n}", author="@a", text="t",
                published_at=received, received_at=received, team=team, severity="low", tags=tags or [],
                state=state, first_response_due=fr_due, first_response_at=fr_at, published_due=pub_due,
                published_at_reply=pub_at, closed_at=closed, channel=channel, relay_ts=ts)
    s.add(m)
    s.flush()
    assert m.id is not None
    return m.id


def reminder(s: Session, mention_id: int, stage: str, step: str, at: datetime) -> None:
    s.add(Reminder(mention_id=mention_id, stage=stage, step=step, due_at=at, sent_at=at, recipients=[]))


def draft(s: Session, mention_id: int, version: int, state: str, created: datetime) -> None:
    s.add(Draft(mention_id=mention_id, version=version, author="U0CM00001", text="r", network="x", language="fr",
                label="public", state=state, created_at=created))


def seed(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    ids: dict[str, int] = {}
    with Session(engine) as s:
        # --- the 7 previous days (D-7 .. D-1): 21 ordinary "x" mentions, 3 a day, all on time:
        # first response after 30 min (due 1 h), published after 2 h (due 4 h).
        for i in range(21):
            r = local(D - timedelta(days=1 + i % 7), 9, i)
            add_mention(s, received=r, tags=["produit"], state="published", fr_due=r + H, fr_at=r + 30 * M,
                        pub_due=r + 4 * H, pub_at=r + 2 * H, closed=r + 2 * H)
        # D-1 23:30 local: belongs to D-1 (answered in 10 min, published in 20 min, both before midnight).
        r = local(D - timedelta(days=1), 23, 30)
        ids["m0"] = add_mention(s, received=r, state="published", fr_due=r + H, fr_at=r + 10 * M,
                                pub_due=r + 4 * H, pub_at=r + 20 * M, closed=r + 20 * M)
        # one tiktok mention on D-3, on time (30 min / 2 h).
        r = local(D - timedelta(days=3), 10)
        add_mention(s, received=r, source="tiktok", state="published", fr_due=r + H, fr_at=r + 30 * M,
                    pub_due=r + 4 * H, pub_at=r + 2 * H, closed=r + 2 * H)
        # legal m12, D-2 10:00: answered in 30 min (due 1 h), publication due 14:00 missed (that was D-2's
        # breach, not D's); still claimed, so still open at the end of D.
        r = local(D - timedelta(days=2), 10)
        ids["m12"] = add_mention(s, received=r, team="legal", tags=["rgpd"], state="claimed", fr_due=r + H,
                                 fr_at=r + 30 * M, pub_due=local(D - timedelta(days=2), 14))
        reminder(s, ids["m12"], "published", "100%", local(D - timedelta(days=2), 14))

        # --- day D
        r = local(D, 9)  # m1: answered in 30 min, published in 2 h, both on time
        ids["m1"] = add_mention(s, received=r, tags=["sav"], state="published", fr_due=local(D, 10),
                                fr_at=local(D, 9, 30), pub_due=local(D, 13), pub_at=local(D, 11),
                                closed=local(D, 11), channel="C0GENERAL1", ts="1763625600.000100")
        r = local(D, 10)  # m2: answered at 12:00 (due 11:00: late), published 15:00 (due 14:00: late)
        ids["m2"] = add_mention(s, received=r, tags=["sav"], state="published", fr_due=local(D, 11),
                                fr_at=local(D, 12), pub_due=local(D, 14), pub_at=local(D, 15), closed=local(D, 15),
                                channel="C0GENERAL1", ts="1763629200.000200")
        r = local(D, 11)  # m3 (legal): answered in 20 min, publication due 15:00 still missing (in review)
        ids["m3"] = add_mention(s, received=r, team="legal", tags=["rgpd"], state="in_review",
                                fr_due=local(D, 12), fr_at=local(D, 11, 20), pub_due=local(D, 15))
        r = local(D, 12)  # m4 (legal): nobody answered; first response due 13:00 and publication due 17:00 pass
        ids["m4"] = add_mention(s, received=r, team="legal", state="open", fr_due=local(D, 13),
                                pub_due=local(D, 17), channel="C0LEGAL001", ts="1763636400.000400")
        r = local(D, 14)  # m5: dismissed at 14:30, before its dues: no breach
        ids["m5"] = add_mention(s, received=r, state="dismissed", fr_due=local(D, 15), pub_due=local(D, 18),
                                closed=local(D, 14, 30))
        for k, mm in enumerate((0, 10, 20, 30)):  # m6..m9: tiktok burst at 22:xx, dues tomorrow morning
            ids[f"m{6 + k}"] = add_mention(s, received=local(D, 22, mm), source="tiktok", state="open",
                                           fr_due=local(D + timedelta(days=1), 10),
                                           pub_due=local(D + timedelta(days=1), 14))
        # m10: 23:30 local on D (22:30Z): belongs to D, not D+1.
        ids["m10"] = add_mention(s, received=local(D, 23, 30), tags=["sav"], state="open",
                                 fr_due=local(D + timedelta(days=1), 10))
        # m11: D+1 00:10 local: not D.
        ids["m11"] = add_mention(s, received=local(D + timedelta(days=1), 0, 10), state="open")

        # drafts: m3 v1 superseded, v2 pending since D 13:00
        draft(s, ids["m3"], 1, "superseded", local(D, 12))
        draft(s, ids["m3"], 2, "pending", local(D, 13))
        # reminders sent on D
        reminder(s, ids["m2"], "first_response", "50%", local(D, 10, 30))  # before the deadline
        reminder(s, ids["m2"], "first_response", "100%", local(D, 11))  # at the deadline (due 11:00)
        reminder(s, ids["m4"], "first_response", "100%", local(D, 13))  # at the deadline
        reminder(s, ids["m4"], "first_response", "+30m", local(D, 13, 30))  # after it
        reminder(s, ids["m3"], "approved", "+1h", local(D, 16))  # no stored deadline: "+" step is after it
        reminder(s, ids["m4"], "published", "+12h", local(D + timedelta(days=1), 1))  # D+1: not D
        # crises: one on D (16:45-20:00) with outside text in its reason, one on D-3 (not shown on D)
        s.add(Crisis(declared_at=local(D, 16, 45), declared_by="U0CM00001", reason="<!channel> boycott",
                     ended_at=local(D, 20), ended_by="U0CM00001"))
        s.add(Crisis(declared_at=local(D - timedelta(days=3), 9), declared_by="U0CM00001", reason="old",
                     ended_at=local(D - timedelta(days=3), 12)))
        s.commit()
    return ids


# ---------------------------------------------------------------------------- figures


def test_day_bounds_are_local_days() -> None:
    start, end = day_bounds(D, PARIS)
    assert start == datetime(2026, 11, 19, 23, tzinfo=UTC) and end == datetime(2026, 11, 20, 23, tzinfo=UTC)
    # The autumn DST change (2026-10-25) makes a 25-hour local day.
    start, end = day_bounds(date(2026, 10, 25), PARIS)
    assert end - start == timedelta(hours=25)


def test_company_wide_figures(engine) -> None:  # type: ignore[no-untyped-def]
    ids = seed(engine)
    fig = compute_digest(engine, protocol=PROTOCOL, day=D, team=None, now=NOW)
    assert fig.cutoff == END_OF_D
    # received on D: m1 m2 m3 m4 m5, m6..m9, m10 (23:30 local) = 10; m11 (D+1 00:10) is not D.
    assert fig.received == 10
    # published on D: m1 (11:00), m2 (15:00); dismissed: m5; handled = 2 + 1.
    assert (fig.published, fig.dismissed, fig.handled) == (2, 1, 3)
    # first responses on D: m3 20 min, m1 30 min, m2 2 h. n=3: p50 = ceil(1.5)=2nd = 30 min, p90 = ceil(2.7)=3rd.
    assert fig.first_response_p50 == 30 * M
    assert fig.first_response_p90 == 2 * H
    # publications on D: m1 2 h, m2 5 h. n=2: p50 = ceil(1.0)=1st = 2 h, p90 = ceil(1.8)=2nd = 5 h.
    assert (fig.publication_p50, fig.publication_p90) == (2 * H, 5 * H)
    # deadlines settled on D: milestones m1 fr ok, m2 fr late, m3 fr ok, m1 pub ok, m2 pub late, and dues
    # passed unanswered m4 fr (13:00), m3 pub (15:00), m4 pub (17:00) -> 3 kept of 8.
    assert fig.sla_total == 8
    assert fig.sla_kept == pytest.approx(3 / 8)
    # breaches sorted by due: m2 fr late (11:00), m4 fr overdue (13:00), m2 pub late (14:00),
    # m3 pub overdue (15:00), m4 pub overdue (17:00). m5 was dismissed before its dues; m12's was on D-2.
    assert [(b.mention_id, b.stage, b.kind) for b in fig.breaches] == [
        (ids["m2"], "first_response", "late"), (ids["m4"], "first_response", "overdue"),
        (ids["m2"], "published", "late"), (ids["m3"], "published", "overdue"), (ids["m4"], "published", "overdue"),
    ]
    assert fig.breaches[0].at == local(D, 12) and fig.breaches[0].due == local(D, 11)
    assert (fig.breaches[0].channel, fig.breaches[0].relay_ts) == ("C0GENERAL1", "1763629200.000200")
    assert fig.breaches[1].at is None
    assert fig.late_mentions == (ids["m2"], ids["m4"], ids["m3"])
    # open at the end of D: m12 (claimed since D-2), m3, m4, m6..m9, m10 = 8 (m11 arrives after the cutoff).
    assert fig.still_open == 8
    # ages at D+1 00:00 local: m12 from D-2 10:00 = 2 d 14 h; m3 13 h; m4 12 h; m6 2 h; m7 1 h 50; ...; m10 30 min.
    assert [(o.mention_id, o.age) for o in fig.oldest_open] == [
        (ids["m12"], timedelta(days=2, hours=14)), (ids["m3"], 13 * H), (ids["m4"], 12 * H),
        (ids["m6"], 2 * H), (ids["m7"], 110 * M), (ids["m8"], 100 * M), (ids["m9"], 90 * M), (ids["m10"], 30 * M),
    ]
    # reminders sent on D: 5 (the D+1 one is not); at/after the deadline: m2 100%, m4 100%, m4 +30m,
    # m3 approved +1h = 4 (m2 50% was before).
    assert (fig.escalations.sent, fig.escalations.at_deadline) == (5, 4)
    # crises: only the one declared and ended on D
    assert [(c.reason, c.declared_in_period, c.ended_in_period) for c in fig.crises] == [("<!channel> boycott", True, True)]
    # sources: tiktok today 4, before 1 -> avg 1/7: 4 >= 1.5 x 0.14 and 4 - 0.14 >= 3 -> grown.
    # x today 6 (m1-m5, m10), before 21 + m0 = 22 -> avg 3.14: 6 >= 4.71 but 6 - 3.14 = 2.86 < 3 -> not grown.
    assert [(g.key, g.count) for g in fig.grown_sources] == [("tiktok", 4)]
    assert fig.grown_sources[0].average == pytest.approx(1 / 7)
    # themes: sav today 3 (m1 m2 m10), before 0 -> 3 - 0 >= 3 -> grown; rgpd today 1 -> not; produit today 0.
    assert [(g.key, g.count, g.average) for g in fig.grown_themes] == [("sav", 3, 0.0)]
    # pending drafts: m3 v2 since D 13:00, now D+1 08:00 -> 19 h
    assert fig.waiting_drafts_count == 1
    assert [(w.mention_id, w.version, w.age) for w in fig.waiting_drafts] == [(ids["m3"], 2, 19 * H)]

    prev = fig.previous
    # previous 7 days: received 21 + m0 + tiktok + m12 = 24; published 21 + m0 + tiktok = 23; none dismissed.
    assert prev.received == pytest.approx(24 / 7)
    assert (prev.published, prev.dismissed, prev.handled) == (pytest.approx(23 / 7), 0, pytest.approx(23 / 7))
    # first responses: m0 10 min then 23 x 30 min -> p50 = p90 = 30 min.
    assert (prev.first_response_p50, prev.first_response_p90) == (30 * M, 30 * M)
    # publications: m0 20 min then 22 x 2 h -> p50 = p90 = 2 h.
    assert (prev.publication_p50, prev.publication_p90) == (2 * H, 2 * H)
    # 24 first responses + 23 publications, all on time, and m12's publication due D-2 14:00 still missing:
    # 47 / 48; 48 deadlines / 7 days.
    assert prev.sla_kept == pytest.approx(47 / 48) and prev.sla_total == pytest.approx(48 / 7)
    # one reminder (m12, D-2) in 7 days.
    assert prev.escalations == pytest.approx(1 / 7)


def test_team_figures(engine) -> None:  # type: ignore[no-untyped-def]
    ids = seed(engine)
    fig = compute_digest(engine, protocol=PROTOCOL, day=D, team="legal", now=NOW)
    # legal on D: m3, m4 received; nothing published or dismissed.
    assert (fig.received, fig.handled, fig.dismissed) == (2, 0, 0)
    # one first response (m3, 20 min): both percentiles are it; no publication.
    assert (fig.first_response_p50, fig.first_response_p90) == (20 * M, 20 * M)
    assert (fig.publication_p50, fig.publication_p90) == (None, None)
    assert (fig.sla_kept, fig.sla_total) == (0.25, 4)  # m3 fr on time; m4 fr, m3 pub, m4 pub overdue: 1 / 4
    assert fig.late_mentions == (ids["m4"], ids["m3"])
    assert fig.still_open == 3  # m12, m3, m4
    assert (fig.escalations.sent, fig.escalations.at_deadline) == (3, 3)  # m4 100%, m4 +30m, m3 +1h
    # x in legal: today 2 (m3, m4), before 1 (m12): 2 - 0.14 < 3 -> not grown; rgpd today 1 -> not grown.
    assert fig.grown_sources == () and fig.grown_themes == ()
    assert fig.waiting_drafts_count == 1
    assert fig.previous.received == pytest.approx(1 / 7)  # m12
    assert fig.previous.first_response_p50 == 30 * M


def test_day_boundary_in_local_time(engine) -> None:  # type: ignore[no-untyped-def]
    seed(engine)
    # D+1 (computed at D+1 08:00, so the cutoff is now): only m11 (00:10 local) was received; m10 (D 23:30) not.
    nxt = compute_digest(engine, protocol=PROTOCOL, day=D + timedelta(days=1), team=None, now=NOW)
    assert nxt.received == 1
    assert nxt.cutoff == NOW
    assert nxt.still_open == 9  # the 8 open at the end of D, and m11
    # D-1: the 3 loop mentions of that day (i = 0, 7, 14) and m0 at 23:30 local (22:30Z).
    prev = compute_digest(engine, protocol=PROTOCOL, day=D - timedelta(days=1), team=None, now=NOW)
    assert prev.received == 4
    assert prev.first_response_p50 == 30 * M  # 10, 30, 30, 30 min: ceil(2) = 2nd
    assert prev.publication_p50 == 2 * H  # 20 min, 2 h, 2 h, 2 h


def test_quiet_day(engine, digest_texts) -> None:  # type: ignore[no-untyped-def]
    fig = compute_digest(engine, protocol=PROTOCOL, day=D, team=None, now=NOW)
    assert (fig.received, fig.handled, fig.still_open, fig.sla_total) == (0, 0, 0, 0)
    assert fig.sla_kept is None and fig.first_response_p50 is None and fig.previous.sla_kept is None
    assert interpretation(fig, lang="fr") == fr("Journée calme : aucune mention reçue, rien en attente")
    assert interpretation(fig, lang="en") == "Quiet day: no mention received, nothing waiting"
    blocks = digest_blocks(fig, protocol=PROTOCOL, lang="en", title="Digest")
    assert slackspec.check_blocks(blocks, surface="message") == []


# ---------------------------------------------------------------------------- rendering


def test_interpretation_lines(engine, digest_texts) -> None:  # type: ignore[no-untyped-def]
    seed(engine)
    fig = compute_digest(engine, protocol=PROTOCOL, day=D, team=None, now=NOW)
    # 3 distinct late mentions (m2, m4, m3); only m3 is in review.
    assert interpretation(fig, lang="fr") == "3 réponses en retard, dont 1 en attente de validation"
    assert interpretation(fig, lang="en") == "3 answers late, 1 of them waiting for approval"
    legal = compute_digest(engine, protocol=PROTOCOL, day=D, team="legal", now=NOW)
    assert interpretation(legal, lang="en", team_name="Legal") == "2 answers late, 1 of them waiting for approval"
    # D-1: every deadline kept; m12 and the others of later days are not open yet... m12 (received D-2) is.
    prev = compute_digest(engine, protocol=PROTOCOL, day=D - timedelta(days=1), team=None, now=NOW)
    assert prev.breaches == ()
    assert interpretation(prev, lang="fr") == fr("Tout est dans les délais ; 1 mention encore ouverte")
    assert interpretation(prev, lang="en") == "Everything on time; 1 mention still open"


def test_interpretation_all_waiting_and_one_team(engine, digest_texts) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        for hh in (9, 10):  # two legal mentions in review, publication due at 12:00 and 13:00, both missed
            add_mention(s, received=local(D, hh), team="legal", state="in_review", fr_due=local(D, hh + 1),
                        fr_at=local(D, hh, 10), pub_due=local(D, hh + 3))
        s.commit()
    fig = compute_digest(engine, protocol=PROTOCOL, day=D, team=None, now=NOW)
    assert interpretation(fig, lang="fr") == "2 réponses en retard, toutes en attente de validation"
    assert interpretation(fig, lang="en") == "2 answers late, all waiting for approval"
    with Session(engine) as s:  # a third, open one in legal too: not all waiting, but all in one team
        add_mention(s, received=local(D, 11), team="legal", fr_due=local(D, 12))
        s.commit()
    fig = compute_digest(engine, protocol=PROTOCOL, day=D, team=None, now=NOW)
    names = {"legal": "Legal"}
    assert interpretation(fig, lang="en", team_names=names) == "3 answers late, 2 of them waiting for approval"
    with Session(engine) as s:
        for m in s.exec(select(Mention)).all():
            m.state = "claimed"
        s.commit()
    fig = compute_digest(engine, protocol=PROTOCOL, day=D, team=None, now=NOW)
    assert interpretation(fig, lang="en", team_names=names) == "3 answers late, all for the Legal team"
    assert interpretation(fig, lang="fr", team_names={"legal": "Juridique"}) == (
        "3 réponses en retard, toutes pour l'équipe Juridique")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_grown_source_is_named_as_the_cards_name_it(engine, lang: str) -> None:  # type: ignore[no-untyped-def]
    """The growth line and the lead say "TikTok", "X (Twitter)", never the stored key; a source the catalogue does
    not know is shown as written, escaped once (the lead is plain text escaped by its callers)."""
    from dataclasses import replace

    from bot.reports.growth import Growth

    quiet = compute_digest(engine, protocol=PROTOCOL, day=D, team=None, now=NOW)
    fig = replace(quiet, grown_sources=(Growth("tiktok", 4, 0.5), Growth("twitter", 9, 2.0), Growth("R&D <blog>", 3, 0.0)))
    lead = interpretation(fig, lang=lang)
    assert "TikTok" in lead and "tiktok" not in lead
    blocks = digest_blocks(fig, protocol=PROTOCOL, lang=lang, title="Vigie")
    [growth] = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b
                and TEXTS[lang]["digest.s.grown_sources"] in b["text"]["text"]]
    assert "• TikTok" in growth and "• X (Twitter)" in growth and "• R&amp;D &lt;blog&gt;" in growth
    assert "tiktok" not in growth and "twitter" not in growth
    assert "*" + escape(lead) + "*" == blocks[1]["text"]["text"]  # escaped once, by the blocks
    assert slackspec.check_blocks(blocks, surface="message") == []


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_blocks_in_both_languages(engine, digest_texts, lang: str) -> None:  # type: ignore[no-untyped-def]
    ids = seed(engine)
    fig = compute_digest(engine, protocol=PROTOCOL, day=D, team=None, now=NOW)
    blocks = digest_blocks(fig, protocol=PROTOCOL, lang=lang, title="Vigie")
    assert slackspec.check_blocks(blocks, surface="message") == []
    dump = json.dumps(blocks, ensure_ascii=False)
    assert "digest." not in dump  # every key found a text
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "Vigie"}}
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    fields = [f["text"] for b in blocks if b["type"] == "section" for f in b.get("fields", [])]
    assert texts[0] == "*" + interpretation(fig, lang=lang) + "*"
    label = "n°\xa0" if lang == "fr" else "#"
    # links to the relay card only where channel and ts are known (m2, m4), plain for m3
    m2_link = f"<https://slack.com/archives/C0GENERAL1/p1763629200000200|{label}{ids['m2']}>"
    assert m2_link in dump
    assert f"<https://slack.com/archives/C0LEGAL001/p1763636400000400|{label}{ids['m4']}>" in dump
    assert f"|{label}{ids['m3']}>" not in dump and f"{label}{ids['m3']}" in dump
    # outside text is escaped: the crisis reason cannot ping the channel
    assert "<!channel>" not in dump and "&lt;!channel&gt; boycott" in dump
    # numbers, percentages and durations in the locale; times in Paris time
    sla = next(f for f in fields if f.startswith("*" + TEXTS[lang]["digest.f.sla"]))
    assert format_percent(3 / 8, locale=lang) in sla
    if lang == "fr":
        assert "38\xa0%" in sla and "(3 sur 8)" in sla
        assert "vendredi 20 novembre 2026" in dump
        assert "attendue à 11:00, faite à 12:00 (1\u202fh de retard)" in dump
        assert "ouverte depuis 2\u202fj 14\u202fh" in dump
        assert "3,4" in dump  # 24 / 7 received a day, French decimal comma
    else:
        assert "38%" in sla and "(3 of 8)" in sla
        assert "Friday, November 20, 2026" in dump
        assert "due at 11:00\u202fAM, done at 12:00\u202fPM (1 hr late)" in dump
        assert "open for 2 days 14 hr" in dump
        assert "3.4" in dump


def test_many_items_are_truncated_within_slack_limits(engine, digest_texts) -> None:  # type: ignore[no-untyped-def]
    slackspec.require_spec()
    with Session(engine) as s:
        for i in range(120):  # 120 open mentions whose first response due passed on D
            r = local(D, 8) + i * M
            s.add(Mention(source=f"src{i % 60}", external_id=f"b{i}", url="https://x.example/b", author="@b",
                          text="t", published_at=r, received_at=r, team="general", severity="low",
                          tags=[f"tag{i}"], first_response_due=r + H, channel="C0GENERAL1",
                          relay_ts=f"1763625{i:03d}.000100"))
        s.commit()
    with Session(engine) as s:
        ids = [m.id for m in s.exec(select(Mention).order_by(Mention.id)).all()]
        for i, mid in enumerate(ids[:40]):
            draft(s, mid, 1, "pending", local(D, 9) + i * M)
        for i in range(40):
            s.add(Crisis(declared_at=local(D, 1) + i * M, declared_by="U0CM00001", reason="x" * 300,
                         ended_at=local(D, 2) + i * M))
        s.commit()
    fig = compute_digest(engine, protocol=PROTOCOL, day=D, team=None, now=NOW)
    assert len(fig.breaches) == 120 and fig.still_open == 120
    assert len(fig.oldest_open) == 10 and len(fig.waiting_drafts) == 10 and fig.waiting_drafts_count == 40
    for lang in ("fr", "en"):
        blocks = digest_blocks(fig, protocol=PROTOCOL, lang=lang, title="T" * 400)
        assert slackspec.check_blocks(blocks, surface="message") == []
        assert len(blocks) <= 50
        texts = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
        assert all(len(x) <= 3000 for x in texts)
        more = TEXTS[lang]["digest.more.other"]
        # breaches: 15 lines shown, 120 - 15 = 105 more; open: 10 listed of 120; drafts: 10 of 40;
        # crises: 40 lines of ~330 characters: as many as fit in 3000 characters (8), the rest counted.
        assert more.format(n=105) in texts[1]
        assert more.format(n=110) in texts[2]
        assert more.format(n=30) in texts[3]
        crisis_text = texts[-1]
        shown = crisis_text.count("\n•")
        assert shown + int(re.search(r"(\d+)\D*$", crisis_text).group(1)) == 40  # type: ignore[union-attr]
        assert len(crisis_text) <= 3000


def test_digest_texts_are_complete() -> None:
    """Same keys and placeholders in both languages; every key the code uses is present; all start digest."""
    assert set(TEXTS) == {"fr", "en"}
    assert set(TEXTS["fr"]) == set(TEXTS["en"])
    fmt = string.Formatter()
    for key in TEXTS["fr"]:
        assert key.startswith("digest.")
        names = [{f for _, f, _, _ in fmt.parse(TEXTS[lang][key]) if f} for lang in ("fr", "en")]
        assert names[0] == names[1], key
    source = Path(digest_mod.__file__).read_text("utf-8")
    for key in re.findall(r'"(digest\.[a-z0-9_.]+)"', source):
        if key.endswith("."):
            continue
        plural = {f"{key}.one", f"{key}.other"}
        assert key in TEXTS["fr"] or plural <= set(TEXTS["fr"]), key
    for dynamic in ("stage.first_response", "stage.published", "state.open", "state.claimed", "state.in_review",
                    "state.ready", "state.published", "state.dismissed"):
        assert f"digest.{dynamic}" in TEXTS["fr"]


@pytest.mark.parametrize("team", [None, "legal"])
def test_daily_series_for_the_chart_matches_the_full_digest(engine, team) -> None:  # type: ignore[no-untyped-def]
    from bot.reports.digest import daily_series

    seed(engine)
    series = daily_series(engine, protocol=PROTOCOL, last_day=D, days=8, team=team)
    assert [d for d, _, _ in series] == [D - timedelta(days=back) for back in range(7, -1, -1)]
    assert sum(n for _, n, _ in series) > 0
    for day, received, median in series:
        full = compute_digest(engine, protocol=PROTOCOL, day=day, team=team, now=NOW)
        assert (received, median) == (full.received, full.first_response_p50)
