"""The App Home: what is waiting for each user, in their language, within Slack's limits."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from bot.i18n import LANGUAGES, catalogue
from bot.reports import home
from bot.reports.home import LOAD_LIMIT, HomeData, load_home
from bot.slack.views import home as home_views
from bot.slack.views.cards import slack_date
from bot.slack.views.home import SHOW_LIMIT, home_view
from bot.store.models import Crisis, Draft, Mention, ReviewDecision
from tests import slackspec
from tests.typography import fr

CM, CM2, DM = "U0CM00001", "U0CM00002", "U0DM00001"
LEGAL_LEAD, LEGAL_EXPERT, FIN_EXPERT, STRANGER = "U0LEG0001", "U0LEG0002", "U0FIN0002", "U0STRANGE1"
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday, within business hours
_seq = itertools.count(1)


@pytest.fixture
def home_texts():
    """The "home.*" texts of the .po catalogues the bot reads, by language."""
    return {lang: {k: v for k, v in catalogue(lang).items() if k.startswith("home.")} for lang in LANGUAGES}


def add_mention(engine, *, team="legal", state="open", owner=None, severity="medium", text="Un avocat annonce un procès.",
                received=NOW - timedelta(minutes=10), channel="C0LEGAL001", relay_ts="1700000000.000100") -> int:
    n = next(_seq)
    with Session(engine) as s:
        m = Mention(source="x", external_id=f"home-{n}", url=f"https://x.example/{n}", author="@someone", text=text,
                    published_at=received, received_at=received, team=team, severity=severity, state=state,
                    owner=owner, channel=channel, relay_ts=relay_ts, status="relayed")
        s.add(m)
        s.commit()
        return m.id


def add_draft(engine, mention_id: int, *, author: str, state="pending", version=1, approved_by=(),
              created=NOW - timedelta(hours=2)) -> int:
    with Session(engine) as s:
        d = Draft(mention_id=mention_id, version=version, author=author, text="Merci pour votre message.",
                  network="x", language="fr", label="public", state=state, created_at=created)
        s.add(d)
        s.flush()
        for user in approved_by:
            s.add(ReviewDecision(draft_id=d.id, user=user, kind="approve", at=created))
        s.commit()
        return d.id


def declare_crisis(engine, channel="C0CRISIS01") -> None:
    with Session(engine) as s:
        s.add(Crisis(declared_at=NOW - timedelta(hours=1), declared_by=CM, channel=channel))
        s.commit()


def load(runtime, user: str, lang: str = "fr", now: datetime = NOW) -> HomeData:
    return load_home(engine=runtime.engine, protocol=runtime.protocol, workflow=runtime.workflow,
                     escalation=runtime.escalation, user=user, lang=lang, now=now)


def texts_of(view: dict) -> str:
    out = []
    for block in view["blocks"]:
        if "text" in block:
            out.append(block["text"]["text"])
        out += [e["text"] for e in block.get("elements", []) if "text" in e]
    return "\n".join(out)


def assert_valid(view: dict) -> None:
    assert view["type"] == "home"
    assert len(view["blocks"]) <= 100
    for block in view["blocks"]:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        elif block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    assert "home." not in texts_of(view)  # no untranslated key
    if slackspec.spec_available():
        assert slackspec.check_view(view) == []


# --- your mentions ---------------------------------------------------------------------------------------------


def test_an_expert_sees_their_own_open_mentions_with_deadline_and_thread_link(runtime):
    engine = runtime.engine
    mine = add_mention(engine, state="claimed", owner=LEGAL_EXPERT, text="Procès <!channel> & co",
                       relay_ts="1700000000.000100")
    late = add_mention(engine, state="in_review", owner=LEGAL_EXPERT, received=NOW - timedelta(days=30),
                       channel=None, relay_ts=None)
    add_mention(engine, state="published", owner=LEGAL_EXPERT)  # closed: not waiting any more
    add_mention(engine, state="claimed", owner=LEGAL_LEAD)  # someone else's

    data = load(runtime, LEGAL_EXPERT)
    assert [i.mention_id for i in data.owned] == [late, mine]  # the oldest (most urgent) first
    assert data.owned_total == 2
    item = data.owned[1]
    assert item.team_name == "Juridique" and item.state == "claimed" and item.severity == "medium"
    with Session(engine) as s:
        expected = runtime.escalation.race(s.get(Mention, mine), crisis=False)
    assert item.deadline == (expected.stage, expected.deadline, False)
    assert item.deadline[0] == "approved"  # claimed: the first response is done
    assert data.owned[0].deadline[2] is True  # received a month ago: late
    assert item.permalink == ("C0LEGAL001", "1700000000.000100")

    view = home_view(data, protocol=runtime.protocol)
    assert_valid(view)
    text = texts_of(view)
    assert fr(f"<https://slack.com/archives/C0LEGAL001/p1700000000000100|n° {mine}>") in text
    assert fr(f"*n° {late}*") in text  # no relay yet: no link
    assert slack_date(expected.deadline) in text
    assert "En retard" in text and text.count("En retard") == 1
    assert "&lt;!channel&gt; &amp; co" in text and "<!channel>" not in text


# --- waiting for my approval -----------------------------------------------------------------------------------


def test_a_community_manager_sees_drafts_awaiting_them_but_not_their_own_nor_those_already_approved(runtime):
    engine = runtime.engine
    legal = add_mention(engine, state="in_review", owner=LEGAL_EXPERT)
    waiting = add_draft(engine, legal, author=LEGAL_EXPERT, version=2, created=NOW - timedelta(hours=3))
    add_draft(engine, legal, author=LEGAL_EXPERT, version=1, state="superseded")
    own = add_mention(engine, state="in_review", owner=CM, team="general")
    add_draft(engine, own, author=CM)
    approved = add_mention(engine, state="in_review", owner=LEGAL_EXPERT)
    approved_draft = add_draft(engine, approved, author=LEGAL_EXPERT, approved_by=[CM])
    by_other_cm = add_mention(engine, state="in_review", owner=FIN_EXPERT, team="finance")
    other_draft = add_draft(engine, by_other_cm, author=FIN_EXPERT, approved_by=[CM2])

    data = load(runtime, CM, lang="en")
    assert [(i.mention_id, i.draft_id, i.version, i.author) for i in data.awaiting_my_approval] == [
        (legal, waiting, 2, LEGAL_EXPERT), (by_other_cm, other_draft, 1, FIN_EXPERT)]
    assert data.awaiting_my_approval[0].age == timedelta(hours=3)
    assert data.awaiting_total == 2

    text = texts_of(home_view(data, protocol=runtime.protocol))
    assert f"Draft v2 by <@{LEGAL_EXPERT}>, submitted 3 hr ago" in text
    assert "Waiting for your approval (2)" in text

    # The legal lead covers team:legal, which the finance draft does not need; the author never sees their own.
    assert [i.draft_id for i in load(runtime, LEGAL_LEAD).awaiting_my_approval] == [waiting, approved_draft]
    assert load(runtime, LEGAL_EXPERT).awaiting_my_approval == []
    # The other community manager already approved the finance draft.
    cm2 = [i.mention_id for i in load(runtime, CM2).awaiting_my_approval]
    assert sorted(cm2) == sorted([legal, own, approved])


def test_a_declared_crisis_shows_a_banner_and_adds_the_crisis_approvers(runtime):
    engine = runtime.engine
    mid = add_mention(engine, state="in_review", owner=FIN_EXPERT, team="finance")
    draft = add_draft(engine, mid, author=FIN_EXPERT)
    before = load(runtime, DM)
    assert before.crisis is None and before.awaiting_my_approval == []
    assert home_view(before, protocol=runtime.protocol)["blocks"][0]["type"] == "header"

    declare_crisis(engine)
    data = load(runtime, DM)
    assert data.crisis is not None and data.crisis.channel == "C0CRISIS01"
    assert [i.draft_id for i in data.awaiting_my_approval] == [draft]  # decision makers approve during a crisis
    view = home_view(data, protocol=runtime.protocol)
    assert_valid(view)
    first = view["blocks"][0]["text"]["text"]
    assert "Crise déclarée" in first and "<#C0CRISIS01>" in first
    assert slack_date(NOW - timedelta(hours=1)) in first
    assert view["blocks"][2]["type"] == "header"

    # A channel given by name is outside text: escaped, not a link.
    odd = HomeData(user=DM, lang="en", owned=[], awaiting_my_approval=[], team_queue=[], on_call=home.OnCall(),
                   crisis=home.CrisisInfo(declared_at=NOW, channel="<!here>"))
    banner = home_view(odd, protocol=runtime.protocol)["blocks"][0]["text"]["text"]
    assert "Crisis declared" in banner and "&lt;!here&gt;" in banner and "<!here>" not in banner


# --- the team queue ---------------------------------------------------------------------------------------------


def test_the_queue_holds_the_open_unclaimed_mentions_of_my_teams(runtime):
    engine = runtime.engine
    old = add_mention(engine, team="finance", received=NOW - timedelta(hours=5), channel="C0FINANCE1")
    new = add_mention(engine, team="finance", received=NOW - timedelta(minutes=5), channel="C0FINANCE1")
    add_mention(engine, team="finance", state="claimed", owner=CM)
    add_mention(engine, team="finance", state="dismissed")
    legal = add_mention(engine, team="legal")
    hr = add_mention(engine, team="hr", channel="C0HR000001")

    fin = load(runtime, FIN_EXPERT, lang="en")
    assert [i.mention_id for i in fin.team_queue] == [new, old]  # newest first, finance only
    assert fin.queue_total == 2 and fin.owned == []
    assert fin.team_queue[0].deadline[0] == "first_response"
    text = texts_of(home_view(fin, protocol=runtime.protocol))
    assert "Your team's queue (2)" in text and f"|No. {new}>" in text and f"No. {legal}" not in text

    assert {i.mention_id for i in load(runtime, CM).team_queue} == {old, new, legal, hr}  # every team
    assert [i.mention_id for i in load(runtime, LEGAL_LEAD).team_queue] == [legal]


# --- nobody / on call --------------------------------------------------------------------------------------------


def test_someone_with_a_role_and_nothing_waiting_sees_an_empty_home_with_who_is_on_call(runtime):
    add_mention(runtime.engine, team="legal")
    add_draft(runtime.engine, add_mention(runtime.engine, state="in_review", owner=LEGAL_EXPERT),
              author=LEGAL_EXPERT)
    data = load(runtime, FIN_EXPERT, lang="en")
    assert (data.owned, data.awaiting_my_approval, data.team_queue, data.crisis) == ([], [], [], None)
    assert data.on_call.community_managers and data.on_call.decision_makers == (DM,)
    view = home_view(data, protocol=runtime.protocol)
    assert_valid(view)
    text = texts_of(view)
    assert "Nothing waiting for you 🎉" in text
    assert "more" not in text
    assert "On call now" in text and f"<@{DM}>" in text
    assert f"<@{data.on_call.community_managers[0]}>" in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_stranger_is_told_they_have_no_role_and_whom_to_ask_and_sees_nothing_else(runtime, lang):
    mid = add_mention(runtime.engine, team="legal", owner=STRANGER, state="claimed")  # owning grants nothing
    add_draft(runtime.engine, mid, author=LEGAL_EXPERT)
    declare_crisis(runtime.engine)
    data = load(runtime, STRANGER, lang=lang)
    assert not data.has_role
    assert (data.owned, data.awaiting_my_approval, data.team_queue, data.crisis) == ([], [], [], None)
    view = home_view(data, protocol=runtime.protocol)
    assert_valid(view)
    text = texts_of(view)
    said = {"fr": "Vous n'avez aucun rôle dans le protocole de réponse",
            "en": "You have no role in the response protocol"}[lang]
    assert said in text and f"<@{CM}>" in text and f"<@{CM2}>" in text
    assert fr(f"n° {mid}") not in text and f"No. {mid}" not in text and "procès" not in text
    assert "C0LEGAL001" not in text and "C0CRISIS01" not in text and "Juridique" not in text


# --- languages --------------------------------------------------------------------------------------------------


def test_both_languages_are_complete_and_rendered(runtime, home_texts):
    fr, en = home_texts["fr"], home_texts["en"]
    assert set(fr) == set(en) and all(k.startswith("home.") for k in fr)
    for key in fr:
        assert set(re.findall(r"{(\w+)}", fr[key])) == set(re.findall(r"{(\w+)}", en[key])), key
    source = Path(home_views.__file__).read_text("utf-8")
    used = set(re.findall(r'"(home\.[a-z_]+(?:\.[a-z_]+)*)"', source))  # every literal key (f-string prefixes aside)
    assert len(used) > 15 and used - set(fr) == set()
    for prefix, values in (("home.state.", ("open", "claimed", "in_review", "ready", "published", "dismissed")),
                           ("home.stage.", ("first_response", "approved", "published"))):
        assert {prefix + v for v in values} <= set(fr)

    engine = runtime.engine
    add_mention(engine, state="claimed", owner=CM, team="general", channel="C0GENERAL1")
    add_draft(engine, add_mention(engine, state="in_review", owner=LEGAL_EXPERT), author=LEGAL_EXPERT)
    add_mention(engine, team="hr", channel="C0HR000001")
    declare_crisis(engine)
    views = {lang: home_view(load(runtime, CM, lang=lang), protocol=runtime.protocol) for lang in LANGUAGES}
    for view in views.values():
        assert_valid(view)
    french, english = texts_of(views["fr"]), texts_of(views["en"])
    assert "Vos mentions (1)" in french and "Général" in french and "Ressources humaines" in french
    assert "Your mentions (1)" in english and "General" in english and "Human resources" in english
    assert "Crisis declared" in english and "Waiting for your approval (1)" in english
    assert views["fr"]["blocks"][2]["text"]["text"] == fr["home.header"]
    assert views["en"]["blocks"][2]["text"]["text"] == en["home.header"]


# --- limits ------------------------------------------------------------------------------------------------------


def test_long_lists_are_truncated_with_a_more_line_and_stay_within_slack_limits(runtime):
    slackspec.require_spec()
    engine = runtime.engine
    long_text = "Procès ! " * 400  # 3,600 characters
    for _ in range(LOAD_LIMIT + 10):
        add_mention(engine, state="claimed", owner=CM, text=long_text, severity="critical")
    for _ in range(LOAD_LIMIT + 5):
        add_mention(engine, team="general", channel="C0GENERAL1", text=long_text)
    for _ in range(SHOW_LIMIT + 3):
        add_draft(engine, add_mention(engine, state="in_review", owner=LEGAL_EXPERT), author=LEGAL_EXPERT)
    declare_crisis(engine)

    data = load(runtime, CM, lang="en")
    assert len(data.owned) == LOAD_LIMIT and data.owned_total == LOAD_LIMIT + 10
    assert len(data.team_queue) == LOAD_LIMIT and data.queue_total == LOAD_LIMIT + 5
    assert len(data.awaiting_my_approval) == data.awaiting_total == SHOW_LIMIT + 3

    view = home_view(data, protocol=runtime.protocol)
    assert slackspec.check_view(view) == []
    assert_valid(view)
    text = texts_of(view)
    assert f"… and {LOAD_LIMIT + 10 - SHOW_LIMIT} more" in text
    assert f"… and {LOAD_LIMIT + 5 - SHOW_LIMIT} more" in text
    assert "… and 3 more" in text
    assert len(view["blocks"]) > 3 * SHOW_LIMIT
    fr_view = home_view(load(runtime, CM, lang="fr"), protocol=runtime.protocol)
    assert slackspec.check_view(fr_view) == [] and "… et 3 de plus" in texts_of(fr_view)


def test_outside_text_is_escaped_and_odd_ids_are_not_rendered_as_links(runtime):
    item = home.MentionItem(mention_id=7, team="x", team_name="R&D <!here>", severity="high", state="open",
                            excerpt="<@U0CM00001> <https://evil.example|bank> \u202eabc", deadline=None,
                            permalink=("C0LEGAL001", "not-a-ts"))
    approval = home.ApprovalItem(mention_id=7, draft_id=1, version=1, author="<!channel>", age=timedelta(days=2))
    data = HomeData(user=CM, lang="en", owned=[item], awaiting_my_approval=[approval], team_queue=[item],
                    on_call=home.OnCall(community_managers=("<!everyone>",)), crisis=None)
    view = home_view(data, protocol=runtime.protocol)
    assert_valid(view)
    text = texts_of(view)
    for raw in ("<!here>", "<@U0CM00001>", "<https://evil", "<!channel>", "<!everyone>", "\u202e", "<https://slack"):
        assert raw not in text, raw
    assert "R&amp;D &lt;!here&gt;" in text and "&lt;!channel&gt;" in text and "*No. 7*" in text
    assert "submitted 2 days ago" in text and "Nothing waiting" not in text
