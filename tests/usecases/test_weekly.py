"""The weekly summary: a seeded week checked figure by figure against arithmetic done by hand, its rendering in
French and English within Slack's limits, and its posting once, on the protocol's day at its local time.

Times are Europe/Paris local time. The week W is Monday 2026-11-16 .. Sunday 2026-11-22 (CET, UTC+1); its
baseline is the 4 weeks before, Monday 2026-10-19 .. Sunday 2026-11-15, which holds the end of summer time
(2026-10-25): 2026-10-19 starts at 2026-10-18 22:00Z, not at midnight UTC. `now` is Monday 2026-11-23 09:00,
so the cutoff is the end of W. Same expectations on SQLite and PostgreSQL (the `engine` fixture).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.app import build_runtime
from bot.cli import app as cli
from bot.clock import ManualClock
from bot.http import build_http_app
from bot.protocol.load import load_protocol
from bot.reports.digest import BASELINE_WEEKS, compute_period, period_bounds, week_ending
from bot.slack.views.digest import digest_blocks, fallback_text, interpretation
from bot.store.models import Crisis, DigestRun, Draft, Mention, Reminder
from tests import slackspec
from tests.conftest import BOT_TOKEN, TEST_PROTOCOL, make_settings
from tests.usecases.test_protocol_enforced import CM1, Clocked
from tests.typography import fr

PARIS = ZoneInfo("Europe/Paris")
PROTOCOL = load_protocol(TEST_PROTOCOL)
MON, SUN = date(2026, 11, 16), date(2026, 11, 22)  # the week W
M = timedelta(minutes=1)
H = timedelta(hours=1)


def local(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=PARIS).astimezone(UTC)


def d(month: int, day: int) -> date:
    return date(2026, month, day)


NOW = local(d(11, 23), 9)
END_OF_W = local(d(11, 23), 0)
_ids = iter(range(1, 1_000_000))


def add(s: Session, *, received: datetime, team: str = "general", source: str = "x", tags: list[str] | None = None,
        state: str = "open", fr: timedelta | None = None, fr_due: timedelta | None = None,
        pub: timedelta | None = None, pub_due: timedelta | None = None, closed: datetime | None = None,
        channel: str | None = None, ts: str | None = None) -> int:
    """A mention; first response / publication times and dues are given from its reception."""
    n = next(_ids)
    at = lambda delta: None if delta is None else received + delta
    m = Mention(source=source, external_id=f"w{n}", url=f"https://x.example/{n}", author="@a", text="t",
                published_at=received, received_at=received, team=team, severity="low", tags=tags or [],
                state=state, first_response_at=at(fr), first_response_due=at(fr_due), published_at_reply=at(pub),
                published_due=at(pub_due), closed_at=closed if closed is not None else at(pub),
                channel=channel, relay_ts=ts)
    s.add(m)
    s.flush()
    assert m.id is not None
    return m.id


def remind(s: Session, mention_id: int, stage: str, step: str, at: datetime) -> None:
    s.add(Reminder(mention_id=mention_id, stage=stage, step=step, due_at=at, sent_at=at, recipients=[]))


def seed(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    ids: dict[str, int] = {}
    on_time = {"fr": H, "fr_due": 2 * H, "pub": 4 * H, "pub_due": 8 * H, "state": "published", "tags": ["produit"]}
    with Session(engine) as s:
        # --- baseline, Mon 2026-10-19 .. Sun 2026-11-15 -------------------------------------------------
        # bx: Sun 10-18 23:30 local (21:30Z) is before the baseline; it would pull the medians down.
        add(s, received=local(d(10, 18), 23, 30), **(on_time | {"fr": 10 * M, "pub": 10 * M}))
        # b0: Mon 10-19 00:30 local, summer time (10-18 22:30Z): the baseline's first local day.
        add(s, received=local(d(10, 19), 0, 30), **on_time)
        # b1..b8: 10:00 on 10-20, 10-23, 10-26, 10-29, 11-01, 11-04, 11-07, 11-10, all on time (1 h / 4 h).
        for k in range(8):
            add(s, received=local(d(10, 20) + timedelta(days=3 * k), 10), **on_time)
        # b9: Sun 11-15 23:50, answered in 5 min and published in 9 min, both before midnight: baseline.
        add(s, received=local(d(11, 15), 23, 50), **(on_time | {"fr": 5 * M, "pub": 9 * M}))
        # L: legal, 11-10 10:00, first response after 3 h (due 1 h: late), published after 6 h (due 8 h).
        ids["L"] = add(s, received=local(d(11, 10), 10), team="legal", tags=["rgpd"], state="published",
                       fr=3 * H, fr_due=H, pub=6 * H, pub_due=8 * H)
        remind(s, ids["L"], "first_response", "100%", local(d(11, 10), 11))
        # two tiktok mentions dismissed the same morning (no deadline)
        for day in (d(10, 22), d(11, 5)):
            add(s, received=local(day, 10), source="tiktok", state="dismissed", closed=local(day, 10, 30))
        s.add(Crisis(declared_at=local(d(11, 10), 9), declared_by=CM1, reason="old", ended_at=local(d(11, 10), 12)))

        # --- the week W, Mon 11-16 .. Sun 11-22 --------------------------------------------------------
        # g1: Mon 00:15 (Sun 23:15Z): first local minutes of W; 30 min / 2 h, on time.
        ids["g1"] = add(s, received=local(MON, 0, 15), tags=["sav"], state="published", fr=30 * M, fr_due=H,
                        pub=2 * H, pub_due=4 * H)
        # g2: Tue 10:00: first response 12:00 (due 11:00, late), published 15:00 (due 14:00, late).
        ids["g2"] = add(s, received=local(d(11, 17), 10), tags=["sav"], state="published", fr=2 * H, fr_due=H,
                        pub=5 * H, pub_due=4 * H, channel="C0GENERAL1", ts="1763370000.000200")
        # g3: Wed 14:00, dismissed at 14:30 before its dues: no breach.
        add(s, received=local(d(11, 18), 14), state="dismissed", closed=local(d(11, 18), 14, 30))
        # g4: Sun 23:45, open, first response due Monday 10:00 (after W): open, no breach.
        ids["g4"] = add(s, received=local(SUN, 23, 45), tags=["sav"], fr_due=local(d(11, 23), 10) - local(SUN, 23, 45))
        # l1: legal, Thu 11:00, answered in 20 min (due 1 h), publication due 15:00 still missing, in review.
        ids["l1"] = add(s, received=local(d(11, 19), 11), team="legal", tags=["rgpd"], state="in_review",
                        fr=20 * M, fr_due=H, pub_due=4 * H)
        s.add(Draft(mention_id=ids["l1"], version=1, author="U0LEG0002", text="r", network="x", language="fr",
                    label="public", state="pending", created_at=local(d(11, 19), 13)))
        # l2: legal, Fri 12:00, nobody answered: first response due 13:00 and publication due 17:00 pass.
        ids["l2"] = add(s, received=local(d(11, 20), 12), team="legal", fr_due=H, pub_due=5 * H,
                        channel="C0LEGAL001", ts="1763636400.000400")
        # f1: finance, Sat 09:00, 1 h / 3 h, on time.
        add(s, received=local(d(11, 21), 9), team="finance", state="published", fr=H, fr_due=2 * H, pub=3 * H,
            pub_due=4 * H)
        # t1..t4: a tiktok burst on Saturday night, dues on Monday: open, no breach.
        for k, mm in enumerate((0, 10, 20, 30), 1):
            ids[f"t{k}"] = add(s, received=local(d(11, 21), 22, mm), source="tiktok", fr_due=36 * H)
        # after W: Mon 11-23 00:05 local.
        add(s, received=local(d(11, 23), 0, 5))
        remind(s, ids["g2"], "first_response", "50%", local(d(11, 17), 10, 30))  # before the deadline
        remind(s, ids["g2"], "first_response", "100%", local(d(11, 17), 11))  # at it
        remind(s, ids["l2"], "first_response", "100%", local(d(11, 20), 13))  # at it
        remind(s, ids["l2"], "first_response", "+30m", local(d(11, 20), 13, 30))  # after it
        s.add(Crisis(declared_at=local(d(11, 20), 16, 45), declared_by=CM1, reason="<!channel> boycott",
                     ended_at=local(d(11, 20), 20), ended_by=CM1))
        s.commit()
    return ids


def weekly(engine, team: str | None = None):  # type: ignore[no-untyped-def]
    return compute_period(engine, protocol=PROTOCOL, period=week_ending(SUN), team=team, now=NOW,
                          per_team=team is None)


# ---------------------------------------------------------------------------- the period


def test_the_week_is_seven_local_days_ending_on_the_given_day() -> None:
    period = week_ending(SUN)
    assert (period.first, period.last, period.days, period.baseline) == (MON, SUN, 7, BASELINE_WEEKS)
    assert period_bounds(period, PARIS) == (datetime(2026, 11, 15, 23, tzinfo=UTC), END_OF_W)
    # The week of the autumn change (Mon 10-19 .. Sun 10-25) lasts 169 hours.
    start, end = period_bounds(week_ending(d(10, 25)), PARIS)
    assert (start, end - start) == (datetime(2026, 10, 18, 22, tzinfo=UTC), timedelta(hours=169))


# ---------------------------------------------------------------------------- figures


def test_company_week_figures(engine) -> None:  # type: ignore[no-untyped-def]
    ids = seed(engine)
    fig = weekly(engine)
    assert fig.cutoff == END_OF_W and fig.day == MON
    # received in W: g1 g2 g3 g4 l1 l2 f1 t1..t4 = 11 (bx, b9 and the Monday 00:05 one are not W).
    assert fig.received == 11
    # published g1 g2 f1, dismissed g3.
    assert (fig.published, fig.dismissed, fig.handled) == (3, 1, 4)
    # first responses: l1 20 min, g1 30 min, f1 1 h, g2 2 h; n=4: p50 = 2nd = 30 min, p90 = ceil(3.6) = 4th.
    assert (fig.first_response_p50, fig.first_response_p90) == (30 * M, 2 * H)
    # publications: g1 2 h, f1 3 h, g2 5 h; n=3: p50 = 2nd = 3 h, p90 = ceil(2.7) = 3rd = 5 h.
    assert (fig.publication_p50, fig.publication_p90) == (3 * H, 5 * H)
    # milestones with a due: first responses g1 ok, g2 late, l1 ok, f1 ok; publications g1 ok, g2 late, f1 ok;
    # dues passed unanswered: l1 pub, l2 fr, l2 pub -> 5 kept of 10.
    assert (fig.sla_total, fig.sla_kept) == (10, pytest.approx(5 / 10))
    # breaches by due: g2 fr Tue 11:00 (late), g2 pub Tue 14:00 (late), l1 pub Thu 15:00, l2 fr Fri 13:00,
    # l2 pub Fri 17:00 (overdue).
    assert [(b.mention_id, b.stage, b.kind) for b in fig.breaches] == [
        (ids["g2"], "first_response", "late"), (ids["g2"], "published", "late"),
        (ids["l1"], "published", "overdue"), (ids["l2"], "first_response", "overdue"),
        (ids["l2"], "published", "overdue"),
    ]
    assert fig.late_mentions == (ids["g2"], ids["l1"], ids["l2"])
    # open at the end of W: g4, l1, l2, t1..t4.
    assert fig.still_open == 7
    assert [o.mention_id for o in fig.oldest_open] == [ids[k] for k in ("l1", "l2", "t1", "t2", "t3", "t4", "g4")]
    assert fig.oldest_open[0].age == timedelta(days=3, hours=13)  # Thu 11:00 -> Mon 00:00
    # reminders in W: 4; at or after the deadline: g2 100%, l2 100%, l2 +30m.
    assert (fig.escalations.sent, fig.escalations.at_deadline) == (4, 3)
    assert [(c.reason, c.declared_in_period, c.ended_in_period) for c in fig.crises] == [
        ("<!channel> boycott", True, True)]
    # sources: x 7 in W against 11 in 4 weeks (2.75 a week): 7 >= 4.125 and 7 - 2.75 >= 3 -> grown;
    # tiktok 4 against 2 (0.5 a week) -> grown; x first (4.25 above its average against 3.5).
    assert [(g.key, g.count, g.average) for g in fig.grown_sources] == [("x", 7, 2.75), ("tiktok", 4, 0.5)]
    # themes: sav 3 (g1 g2 g4) against 0 -> grown; rgpd 1 against 1 -> not; produit 0.
    assert [(g.key, g.count, g.average) for g in fig.grown_themes] == [("sav", 3, 0.0)]
    assert fig.waiting_drafts_count == 1 and fig.waiting_drafts[0].mention_id == ids["l1"]

    prev = fig.previous
    # baseline: b0..b9, L, 2 tiktok = 13 received over 4 weeks; published b0..b9 and L = 11; dismissed 2.
    assert prev.received == pytest.approx(13 / 4)
    assert (prev.published, prev.dismissed, prev.handled) == (pytest.approx(11 / 4), 0.5, pytest.approx(13 / 4))
    # first responses: b9 5 min, b0..b8 9 x 1 h, L 3 h; n=11: p50 = ceil(5.5) = 6th = 1 h, p90 = ceil(9.9) = 10th.
    assert (prev.first_response_p50, prev.first_response_p90) == (H, H)
    # publications: b9 9 min, 9 x 4 h, L 6 h -> 4 h and 4 h.
    assert (prev.publication_p50, prev.publication_p90) == (4 * H, 4 * H)
    # 11 first responses (L late) + 11 publications, all with a due: 21 / 22, 22 milestones / 4 weeks.
    assert prev.sla_kept == pytest.approx(21 / 22) and prev.sla_total == pytest.approx(22 / 4)
    assert prev.escalations == pytest.approx(1 / 4)


def test_lines_per_team_add_up_to_the_company(engine) -> None:  # type: ignore[no-untyped-def]
    seed(engine)
    fig = weekly(engine)
    rows = [(x.team, x.received, x.handled, x.still_open, x.sla_total, x.sla_kept, x.first_response_p50, x.late)
            for x in fig.teams]
    assert rows == [
        # general: g1 g2 g3 g4 t1..t4; handled g1 g2 g3; open g4 t1..t4; 2 of 4 deadlines (g2's missed);
        # first responses 30 min and 2 h: p50 = 1st; late: g2.
        ("general", 8, 3, 5, 4, 0.5, 30 * M, 1),
        ("finance", 1, 1, 0, 2, 1.0, H, 0),
        ("legal", 2, 0, 2, 4, 0.25, 20 * M, 2),  # l1 l2, l1's first response on time, 3 dues missed
        ("hr", 0, 0, 0, 0, None, None, 0),
    ]
    assert sum(r[1] for r in rows) == fig.received and sum(r[3] for r in rows) == fig.still_open
    assert weekly(engine, team="legal").teams == ()  # a team's summary has no team lines


def test_a_teams_week(engine) -> None:  # type: ignore[no-untyped-def]
    ids = seed(engine)
    fig = weekly(engine, team="legal")
    assert (fig.received, fig.handled, fig.still_open, fig.sla_total) == (2, 0, 2, 4)
    assert fig.late_mentions == (ids["l1"], ids["l2"])
    assert (fig.escalations.sent, fig.escalations.at_deadline) == (2, 2)
    # baseline: L only (a quarter a week), its first response 3 h late and its publication on time.
    assert fig.previous.received == pytest.approx(1 / 4)
    assert (fig.previous.first_response_p50, fig.previous.sla_kept) == (3 * H, 0.5)


# ---------------------------------------------------------------------------- text and blocks


def test_interpretation_leads_with_the_late_answers_and_the_trend(engine) -> None:  # type: ignore[no-untyped-def]
    seed(engine)
    fig = weekly(engine)
    # 3 distinct late mentions (g2, l1, l2), l1 in review; 5 / 10 = 50 % kept against 21 / 22 = 95 %.
    assert interpretation(fig, lang="fr") == fr(
        "3 réponses en retard, dont 1 en attente de validation ; délais tenus : 50\xa0% "
        "(contre 95\xa0% les 4 semaines précédentes)")
    assert interpretation(fig, lang="en") == (
        "3 answers late, 1 of them waiting for approval; deadlines kept: 50% (against 95% over the previous "
        "4 weeks)")


def test_interpretation_of_a_quiet_week_and_of_a_crisis(engine) -> None:  # type: ignore[no-untyped-def]
    fig = weekly(engine)
    assert interpretation(fig, lang="fr") == fr("Semaine calme : aucune mention reçue, rien en attente")
    assert interpretation(fig, lang="en") == "Quiet week: no mention received, nothing waiting"
    with Session(engine) as s:  # a crisis declared on Saturday and still going on leads
        s.add(Crisis(declared_at=local(d(11, 21), 8, 15), declared_by=CM1, reason="grève"))
        s.commit()
    fig = weekly(engine)
    assert interpretation(fig, lang="fr") == fr("Crise déclarée samedi à 08:15 : grève")
    assert interpretation(fig, lang="en") == "Crisis declared on Saturday at 8:15\u202fAM: grève"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_weekly_blocks_in_both_languages(engine, lang: str) -> None:  # type: ignore[no-untyped-def]
    ids = seed(engine)
    fig = weekly(engine)
    blocks = digest_blocks(fig, protocol=PROTOCOL, lang=lang, title="Vigie")
    assert slackspec.check_blocks(blocks, surface="message") == []
    dump = json.dumps(blocks, ensure_ascii=False)
    assert "digest." not in dump and "weekly." not in dump  # every key found a text
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    assert texts[0] == "*" + interpretation(fig, lang=lang) + "*"
    assert "&lt;!channel&gt; boycott" in dump and "<!channel>" not in dump
    label = "n°\xa0" if lang == "fr" else "#"
    assert f"<https://slack.com/archives/C0GENERAL1/p1763370000000200|{label}{ids['g2']}>" in dump
    teams = next(x for x in texts if x.startswith("*Par équipe*" if lang == "fr" else "*By team*"))
    if lang == "fr":
        assert "lun. 16\u2009–\u2009dim. 22 nov. 2026" in dump
        assert ("• *Général* — reçues 8 · traitées 3 · encore ouvertes 5 · délais tenus 50\xa0% · première "
                "réponse 30\xa0min (médiane) · en retard 1") in teams
        assert "• *Ressources humaines* — reçues 0" in teams and "délais tenus —" in teams
        # a week's breach says which day
        assert "première réponse attendue le mar. 17 à 11:00, faite le mar. 17 à 12:00 (1\u202fh de retard)" in dump
        assert fr("_4 semaines précédentes : 3,2_") in dump  # 13 / 4 received a week
        assert fr("X (Twitter) : 7 (moyenne des 4 semaines précédentes : 2,8 par semaine)") in dump  # its name, not "x"
        assert "moyenne par semaine des 4 semaines précédentes" in dump
    else:
        assert "Mon, Nov 16\u2009–\u2009Sun, Nov 22, 2026" in dump
        assert ("• *General* — received 8 · handled 3 · still open 5 · deadlines kept 50% · first response "
                "30 min (median) · late 1") in teams
        assert ("first response due Tue 17 at 11:00\u202fAM, done Tue 17 at 12:00\u202fPM (1 hr late)") in dump
        assert "_previous 4 weeks: 3.2_" in dump
        assert "X (Twitter): 7 (previous 4 weeks' average: 2.8 a week)" in dump
    assert fallback_text(fig, protocol=PROTOCOL, lang=lang, title="T").startswith("T — ")


def test_many_teams_and_breaches_stay_within_slack_limits(engine) -> None:  # type: ignore[no-untyped-def]
    slackspec.require_spec()
    with Session(engine) as s:
        for i in range(150):  # 150 mentions of 30 team keys no longer in the protocol, each one late
            r = local(d(11, 18), 8) + i * M
            add(s, received=r, team=f"old-team-{i % 30:02d}", source=f"src{i % 40}", tags=[f"t{i}"], fr_due=H,
                channel="C0GENERAL1", ts=f"1763625{i:03d}.000100")
        for i in range(30):
            s.add(Crisis(declared_at=local(d(11, 19), 1) + i * M, declared_by=CM1, reason="y" * 300,
                         ended_at=local(d(11, 19), 2) + i * M))
        s.commit()
    fig = weekly(engine)
    assert len(fig.teams) == 4 + 30 and len(fig.breaches) == 150
    for lang in ("fr", "en"):
        blocks = digest_blocks(fig, protocol=PROTOCOL, lang=lang, title="T" * 400)
        assert slackspec.check_blocks(blocks, surface="message") == []
        texts = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
        more = {"fr": "… et {n} autres", "en": "… and {n} more"}[lang]
        assert texts[1].endswith(more.format(n=34 - 15))  # team lines: 15 shown
        assert texts[2].endswith(more.format(n=150 - 15))  # breaches: 15 shown
        assert all(len(x) <= 3000 for x in texts)


# ---------------------------------------------------------------------------- posting


@pytest.fixture
def desk(engine, slack, database_url, tmp_path):  # type: ignore[no-untyped-def]
    """The whole bot on Monday 2026-11-23 08:00 in Paris (the summary is due on Mondays at 09:00)."""
    def start(protocol_text: str | None = None) -> Clocked:
        path = TEST_PROTOCOL
        if protocol_text is not None:
            path = tmp_path / "protocol.yaml"
            path.write_text(protocol_text, encoding="utf-8")
            (tmp_path / "roster.csv").write_bytes((TEST_PROTOCOL.parent / "roster.csv").read_bytes())
        clock = ManualClock(datetime(2026, 11, 23, 8, 0, tzinfo=PARIS))
        runtime = build_runtime(make_settings(database_url, slack.url, VIGIE_PROTOCOL_FILE=str(path)), clock=clock)
        runtime.start()
        client = TestClient(build_http_app(runtime))
        client.__enter__()
        started.append((runtime, client))
        return Clocked(client, slack, runtime, clock)

    started: list = []
    yield start
    for runtime, client in started:
        client.__exit__(None, None, None)
        runtime.stop()
        runtime.engine.dispose()


def summaries(slack, title: str = "Résumé de la semaine") -> list:
    return [c for c in slack.calls("chat.postMessage")
            if c.args.get("blocks") and c.args["blocks"][0]["text"]["text"] == title]


def runs(engine) -> set[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return {(r.kind, r.scope, r.day) for r in s.exec(select(DigestRun).where(DigestRun.kind == "weekly")).all()}


def test_posted_once_on_the_protocols_day_at_its_local_time(desk, engine, slack) -> None:  # type: ignore[no-untyped-def]
    bot = desk()
    bot.clock.set(datetime(2026, 11, 19, 10, 0, tzinfo=PARIS))  # Thursday of the week: a legal mention
    bot.intake("Un procès est annoncé", 1)
    for when in (datetime(2026, 11, 22, 9, 30, tzinfo=PARIS),  # Sunday: not the day
                 datetime(2026, 11, 23, 8, 59, tzinfo=PARIS)):  # Monday, a minute early
        bot.clock.set(when)
        bot.sweep()
        assert summaries(slack) == [] and runs(engine) == set()
    bot.clock.set(datetime(2026, 11, 23, 9, 1, tzinfo=PARIS))
    bot.sweep()
    bot.sweep()  # a second sweep (or instance) posts nothing more: the DigestRun key
    sent = summaries(slack)
    assert sorted(c.args["channel"] for c in sent) == ["U0CM00001", "U0CM00002"]  # no company channel: DMs
    assert runs(engine) == {("weekly", "*", "2026-11-22")}  # the week ending yesterday
    dump = json.dumps(sent[0].args["blocks"], ensure_ascii=False)
    assert "lun. 16\u2009–\u2009dim. 22 nov. 2026" in dump and "Par équipe" in dump  # the protocol's language
    assert "• *Juridique* — reçues 1 ·" in dump
    if slackspec.spec_available():
        assert all(slackspec.check_message(c.args) == [] for c in sent)
    for when in (datetime(2026, 11, 23, 18, 0, tzinfo=PARIS), datetime(2026, 11, 24, 9, 5, tzinfo=PARIS)):
        bot.clock.set(when)  # later that Monday, and on Tuesday: nothing more
        bot.sweep()
    assert len(summaries(slack)) == 2
    bot.clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=PARIS))  # next Monday at 09:00 sharp: the next week
    bot.sweep()
    assert len(summaries(slack)) == 4
    assert runs(engine) == {("weekly", "*", "2026-11-22"), ("weekly", "*", "2026-11-29")}


def test_it_goes_to_the_company_channel_in_english_on_the_chosen_day(desk, engine, slack) -> None:  # type: ignore[no-untyped-def]
    text = TEST_PROTOCOL.read_text(encoding="utf-8").replace("language: fr", "language: en")
    text += '\ndigest:\n  weekly: {day: fri, time: "17:30"}\n  company_channel: C0VEILLE01\n'
    bot = desk(text)
    bot.clock.set(datetime(2026, 11, 23, 17, 31, tzinfo=PARIS))  # Monday: not the day any more
    bot.sweep()
    assert summaries(slack, "Weekly summary") == []
    bot.clock.set(datetime(2026, 11, 27, 17, 29, tzinfo=PARIS))  # Friday, a minute early
    bot.sweep()
    assert summaries(slack, "Weekly summary") == []
    bot.clock.set(datetime(2026, 11, 27, 17, 30, tzinfo=PARIS))
    bot.sweep()
    [call] = summaries(slack, "Weekly summary")
    assert call.args["channel"] == "C0VEILLE01"
    assert "Fri, Nov 20\u2009–\u2009Thu, Nov 26, 2026" in json.dumps(call.args["blocks"], ensure_ascii=False)
    assert runs(engine) == {("weekly", "*", "2026-11-26")}


# ---------------------------------------------------------------------------- on demand


def test_vigie_digest_week_in_the_terminal(engine, database_url, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    seed(engine)
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_API_URL"):
        monkeypatch.delenv(name, raising=False)
    env = {"DATABASE_URL": database_url, "VIGIE_PROTOCOL_FILE": str(TEST_PROTOCOL)}
    r = CliRunner().invoke(cli, ["digest", "--week", "--date", "2026-11-22", "--lang", "en"], env=env)
    assert r.exit_code == 0, r.output
    assert "Mon, Nov 16\u2009–\u2009Sun, Nov 22, 2026" in r.output and "By team" in r.output
    assert "3 answers late" in r.output
    r = CliRunner().invoke(cli, ["digest", "--week", "--date", "2026-11-22"], env=env)
    assert r.exit_code == 0 and "lun. 16\u2009–\u2009dim. 22 nov. 2026" in r.output  # the protocol's language
    r = CliRunner().invoke(cli, ["digest", "--week", "--team", "legal", "--date", "2026-11-22", "--lang", "en"],
                           env=env)
    assert r.exit_code == 0 and "Legal" in r.output and "By team" not in r.output


def test_vigie_digest_week_post_goes_where_the_company_digest_goes(engine, database_url, slack, tmp_path,
                                                                   monkeypatch) -> None:  # type: ignore[no-untyped-def]
    seed(engine)
    monkeypatch.chdir(tmp_path)
    env = {"DATABASE_URL": database_url, "VIGIE_PROTOCOL_FILE": str(TEST_PROTOCOL), "SLACK_BOT_TOKEN": BOT_TOKEN,
           "SLACK_API_URL": slack.url, "VIGIE_CHANNEL_INTERVAL": "0"}
    r = CliRunner().invoke(cli, ["digest", "--weekly", "--date", "2026-11-22", "--post"], env=env)
    assert r.exit_code == 0, r.output
    assert "Publié (2 messages envoyés, 0 en attente)." in r.output
    sent = summaries(slack)
    assert sorted(c.args["channel"] for c in sent) == ["U0CM00001", "U0CM00002"]  # no company channel: DMs
    assert "3 réponses en retard" in json.dumps(sent[0].args["blocks"], ensure_ascii=False)
