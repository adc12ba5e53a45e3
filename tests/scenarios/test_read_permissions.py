"""Reads behind roles, proved on the running app: for every read and every kind of person, exactly which
mentions appear and which never do.

The real server (`tests/live.py`: `vigie serve`'s own configuration on a real port) gets requests signed as
Slack signs them, and answers through the fake Slack Web API over HTTP; the database is SQLite or PostgreSQL
(`VIGIE_TEST_DATABASE_URL`). Mentions of four teams, the legal team's (a private channel) included, are
stored through the intake API and worked on (claimed, assigned, drafted), then each person reads them with
`/vigie liste`, `voir ID`, `statut`, `moi`, `résumé`, the Home tab and a story's "List them" button.

Who sees what is written here from the rule in the README and SECURITY.md, not from the code: community
managers and decision makers see every team; a team's lead and experts that team; anybody else nothing, and
a sentence saying they have no role and whom to ask. Each mention is looked for by everything that could
give it away: its number, a word of its text, its author, its URL, its team's name.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.app import build_runtime
from bot.clock import ManualClock
from bot.i18n import t
from tests.conftest import AUTH, SIGNING_SECRET, TEST_PROTOCOL, drain, make_settings
from tests.live import SlackClient, live_server
from tests.slack_requests import block_action, signed_headers

PARIS = ZoneInfo("Europe/Paris")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)  # mentions arrive and are worked on
TUESDAY = datetime(2026, 11, 24, 9, 0, tzinfo=PARIS)  # they are read (the digest preview covers Monday)

PEOPLE = {  # kind -> (Slack user, Slack locale)
    "community_manager": ("U0CM00002", "fr-FR"),
    "decision_maker": ("U0DM00001", "en-US"),
    "legal_lead": ("U0LEG0001", "fr-FR"),
    "legal_expert": ("U0LEG0002", "fr-FR"),
    "double_command": ("U0NEWBIE1", "en-US"),  # a legal expert under double command
    "finance_expert": ("U0FIN0002", "en-US"),
    "no_role": ("U0STRANGE1", "fr-FR"),  # a workspace member the protocol names nowhere
}
ALL = frozenset({"legal", "finance", "hr", "general"})
SEES = {
    "community_manager": ALL,
    "decision_maker": ALL,
    "legal_lead": frozenset({"legal"}),
    "legal_expert": frozenset({"legal"}),
    "double_command": frozenset({"legal"}),
    "finance_expert": frozenset({"finance"}),
    "no_role": frozenset(),
}
TEAM_NAMES = {"legal": ("Juridique", "Legal"), "finance": ("Finance",), "hr": ("Ressources humaines", "Human resources"),
              "general": ("Général", "General")}


@dataclass(frozen=True)
class Spec:
    team: str
    word: str  # a word of its text found nowhere else
    text: str
    copy_of: str | None = None


# Texts are far enough apart not to be taken for copies of each other (bot.store.stories); copies say "RT".
SPECS = {
    "legal_open": Spec("legal", "Vermillon", "Vermillon : un avocat annonce un procès contre la marque pour "
                                             "publicité mensongère sur les emballages."),
    "legal_copy_a": Spec("legal", "Vermillon", "", copy_of="legal_open"),
    "legal_copy_b": Spec("legal", "Vermillon", "", copy_of="legal_open"),
    "legal_review": Spec("legal", "Cobalt", "Cobalt : votre application ne respecte pas le RGPD, mes données "
                                            "circulent partout et je saisis la CNIL."),
    "legal_assigned": Spec("legal", "Ocre", "Ocre : procès en vue pour le contrat signé l'an dernier avec le "
                                            "fournisseur de cartons."),
    "legal_critical": Spec("legal", "Safre", "Safre : boycott général et procès collectif après l'incident de la "
                                             "semaine dernière."),
    "finance_open": Spec("finance", "Turquoise", "Turquoise : vos résultats trimestriels sont décevants et la "
                                                 "communication financière reste opaque."),
    "finance_copy": Spec("finance", "Turquoise", "", copy_of="finance_open"),
    "finance_review": Spec("finance", "Indigo", "Indigo : le dividende baisse encore cette année, les petits "
                                                "porteurs sont oubliés."),
    "hr_open": Spec("hr", "Magenta", "Magenta : une grève est annoncée à l'usine de Lille pour jeudi prochain."),
    "general_open": Spec("general", "Corail", "Corail : joli packaging, bravo pour la nouvelle boîte en carton "
                                              "recyclé."),
}
COPIES = {k for k, spec in SPECS.items() if spec.copy_of}
OPEN = set(SPECS) - COPIES  # every mention but the copies is still open (open, claimed or in review)
UNCLAIMED = {"legal_open", "finance_open", "hr_open", "general_open"}
LEGAL_EXPERT, FIN_EXPERT, LEGAL_LEAD = PEOPLE["legal_expert"][0], PEOPLE["finance_expert"][0], PEOPLE["legal_lead"][0]
OWNER = {"legal_review": LEGAL_EXPERT, "legal_critical": LEGAL_EXPERT, "finance_review": FIN_EXPERT,
         "legal_assigned": FIN_EXPERT}  # the legal lead gave a legal mention to a finance expert: owning grants nothing
# Pending drafts and who the protocol asks to approve them (never their author): a community manager always,
# legal for legal matters, a decision maker for critical ones.
AWAITING = {
    "legal_review": {"community_manager", "legal_lead", "double_command"},
    "legal_critical": {"community_manager", "decision_maker", "legal_lead", "double_command"},
    "finance_review": {"community_manager"},
}
STORIES = {"legal_open": "legal", "finance_open": "finance"}  # story leader -> team


def author(key: str) -> str:
    return f"@auteur_{key}"


def url(key: str) -> str:
    return f"https://x.example/status/{key.replace('_', '-')}-77"


class World:
    """The app on a real port with the mentions above, and a way to read as each person."""

    def __init__(self, runtime, slack, server):
        self.runtime, self.slack, self.server = runtime, slack, server
        self.client = SlackClient(server.url, SIGNING_SECRET)
        self.ids: dict[str, int] = {}
        self.events = iter(range(1, 10**6))

    # --- reading, as Slack sends it ------------------------------------------------------------------------

    def command(self, text: str, kind: str) -> str:
        return self.command_as(text, PEOPLE[kind][0])

    def command_as(self, text: str, user: str) -> str:
        """`/vigie text` typed by `user`: the ephemeral answer's text and blocks."""
        r = self.client.command(text, user=user, channel="C0GENERAL1")
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["response_type"] == "ephemeral"
        return answer["text"] + json.dumps(answer.get("blocks") or [], ensure_ascii=False)

    def home(self, kind: str) -> str:
        return self.home_as(PEOPLE[kind][0])

    def home_as(self, user: str) -> str:
        """`user` opens the Home tab: the view Vigie then publishes for them."""
        before = len(self.slack.calls("views.publish"))
        body = json.dumps({
            "token": "legacy-verification-token", "team_id": "T0TEAM0001", "api_app_id": "A0VIGIE001",
            "type": "event_callback", "event_id": f"Ev0READ{next(self.events):05d}", "event_time": int(time.time()),
            "event": {"type": "app_home_opened", "user": user, "channel": "D0HOME0001", "tab": "home",
                      "event_ts": f"{time.time():.6f}"},
            "authorizations": [{"team_id": "T0TEAM0001", "user_id": "U0VIGIEBOT", "is_bot": True}],
        })
        r = self.client.post_body(body, headers=signed_headers(SIGNING_SECRET, body, content_type="application/json"))
        assert r.status_code == 200, r.text
        drain(self.runtime, frozen=True)
        published = [c for c in self.slack.calls("views.publish")[before:] if c.args["user_id"] == user]
        assert published, f"no Home tab published for {user}"
        return json.dumps(published[-1].args["view"], ensure_ascii=False)

    def list_story(self, leader: str, kind: str) -> tuple[list[str], list[str]]:
        """Click "List them" on a story's card as `kind`: (listings posted in its thread, ephemerals to them)."""
        user = PEOPLE[kind][0]
        mention = self.runtime.vigie.mention(self.ids[leader])
        posts, told = len(self.slack.calls("chat.postMessage")), len(self.slack.calls("chat.postEphemeral"))
        r = self.client.interaction(block_action(action_id="story_members", value=str(self.ids[leader]), user=user,
                                                 channel=mention.channel, message_ts=mention.relay_ts))
        assert r.status_code == 200, r.text
        drain(self.runtime, frozen=True)
        listings = [c.args["text"] for c in self.slack.calls("chat.postMessage")[posts:]
                    if c.args.get("thread_ts") == mention.relay_ts]
        ephemerals = [c.args["text"] for c in self.slack.calls("chat.postEphemeral")[told:] if c.args["user"] == user]
        return listings, ephemerals

    # --- what a text gives away ----------------------------------------------------------------------------

    def found(self, text: str) -> dict[str, set[str]]:
        """For each mention, which of its traces are in `text`: "id", "word", "author", "url"."""
        traces: dict[str, set[str]] = {}
        for key, spec in SPECS.items():
            mid = self.ids[key]
            hits = set()
            # Its number as Vigie writes it: "n° 12", "No. 12", "#12" (and not the start of "n° 123").
            if re.search(rf"(?:n°|No\.|#)\s?{mid}(?!\d)", text):
                hits.add("id")
            if spec.word in text and not spec.copy_of:  # a copy's words are its leader's: found as the leader's
                hits.add("word")
            if author(key) in text:
                hits.add("author")
            if url(key) in text:
                hits.add("url")
            if hits:
                traces[key] = hits
        return traces

    def shown(self, text: str) -> set[str]:
        return set(self.found(text))

    def assert_hides(self, text: str, kind: str, what: str) -> None:
        """No trace of any mention of a team `kind` may not see: number, words, author, URL, team name."""
        hidden = {key for key, spec in SPECS.items() if spec.team not in SEES[kind]}
        leaked = {key: hits for key, hits in self.found(text).items() if key in hidden}
        assert leaked == {}, f"{what} shows {kind} mentions of other teams: {leaked}"
        for team in ALL - SEES[kind]:
            for name in TEAM_NAMES[team]:
                assert not re.search(rf"\b{name}\b", text), f"{what} names the {team} team to {kind}"


@contextmanager
def _world(settings, slack) -> Iterator[World]:
    clock = ManualClock(MONDAY)
    for user, locale in PEOPLE.values():
        slack.add_user(user, name=user, locale=locale)
    slack.add_channel("C0LEGAL001", is_private=True)  # the legal team's private channel
    runtime = build_runtime(settings, clock=clock)
    runtime.start()
    try:
        with live_server(runtime) as server:
            w = World(runtime, slack, server)
            _store(w, clock)
            clock.set(TUESDAY)
            yield w
    finally:
        runtime.stop()
        runtime.engine.dispose()


@pytest.fixture
def world(engine, slack, settings):
    with _world(settings, slack) as w:
        yield w


def _store(w: World, clock: ManualClock) -> None:
    wf = w.runtime.workflow
    with httpx.Client(base_url=w.server.url, timeout=30) as intake:
        for n, (key, spec) in enumerate(SPECS.items(), start=1):
            clock.set(MONDAY.replace(minute=n))
            text = f"RT {author(spec.copy_of)}: {SPECS[spec.copy_of].text}" if spec.copy_of else spec.text
            r = intake.post("/intake/mentions", headers=AUTH, json={
                "source": "x", "external_id": f"read-{key}", "url": url(key), "author": author(key), "text": text,
                "published_at": MONDAY.isoformat()})
            assert r.status_code == 202, r.text
            [stored] = r.json()["mentions"]
            w.ids[key] = stored["id"]
            if spec.copy_of:
                assert stored.get("story") == w.ids[spec.copy_of], f"{key} should join {spec.copy_of}'s story"
            drain(w.runtime, frozen=True)
    for key, spec in SPECS.items():  # routed as the test says
        assert w.runtime.vigie.mention(w.ids[key]).team == spec.team, key
    assert w.runtime.vigie.mention(w.ids["legal_critical"]).severity == "critical"

    def ok(outcome) -> None:
        assert outcome.ok, outcome.message

    for key in ("legal_review", "legal_critical", "finance_review"):
        ok(wf.claim(mention_id=w.ids[key], actor=OWNER[key]))
        ok(wf.submit_draft(mention_id=w.ids[key], actor=OWNER[key], text="Merci pour votre message, nous regardons.",
                           network="x", language="fr", label="public"))
    ok(wf.assign(mention_id=w.ids["legal_assigned"], actor=LEGAL_LEAD, assignee=FIN_EXPERT))
    drain(w.runtime, frozen=True)


def _visible(kind: str, keys: set[str]) -> set[str]:
    return {key for key in keys if SPECS[key].team in SEES[kind]}


def _no_role(kind: str) -> str:
    lang = PEOPLE[kind][1][:2]
    return t("access.no_role", lang, cms="<@U0CM00001>, <@U0CM00002>")


# --- the matrix ---------------------------------------------------------------------------------------------


def test_list_shows_exactly_the_open_mentions_of_the_teams_one_sees(world):
    for kind in PEOPLE:
        text = world.command("liste", kind)
        world.assert_hides(text, kind, "/vigie liste")
        if kind == "no_role":
            assert text.startswith(_no_role(kind)), text
            continue
        expected = _visible(kind, OPEN)
        assert world.shown(text) == expected, kind
        for key in expected:
            assert {"id", "word"} <= world.found(text)[key], (kind, key)


def test_show_answers_a_hidden_mention_exactly_like_an_unknown_one(world):
    for kind in PEOPLE:
        unknown = world.command("voir 2147483647", kind)
        for key, spec in SPECS.items():
            text = world.command(f"voir {world.ids[key]}", kind)
            world.assert_hides(text, kind, f"/vigie voir ({key})")
            if kind == "no_role":
                assert text.startswith(_no_role(kind)), text
            elif spec.team in SEES[kind]:
                traces = {"id", "author", "url"} | (set() if spec.copy_of else {"word"})
                assert world.found(text).get(key, set()) >= traces, (kind, key, text)
                assert "state." not in text  # every state has its words (a copy is "grouped")
            else:
                assert text == unknown, (kind, key)  # no hint that it exists


def test_acting_on_a_hidden_mention_by_its_id_is_answered_like_an_unknown_id(world):
    """`/vigie attribuer ID` and `/vigie escalader ID` answer a mention one may not see exactly as an unknown id
    (a refusal naming one's role would say that it exists), and change nothing."""
    for kind in ("finance_expert", "no_role"):
        for verb in ("escalader {id} urgent", "attribuer {id} <@U0FIN0002|x>"):
            unknown = world.command(verb.format(id=2147483647), kind)
            for key, spec in SPECS.items():
                if spec.team in SEES[kind] or spec.copy_of:
                    continue
                assert world.command(verb.format(id=world.ids[key]), kind) == unknown, (kind, verb, key)


def test_status_counts_and_lists_only_the_teams_one_sees(world):
    for kind in PEOPLE:
        text = world.command("statut", kind)
        world.assert_hides(text, kind, "/vigie statut")
        if kind == "no_role":
            assert text.startswith(_no_role(kind)), text
            continue
        lang = PEOPLE[kind][1][:2]
        for team in SEES[kind]:
            name = world.runtime.protocol.team(team).name.get(lang)
            count = len(_visible(kind, {k for k in OPEN if SPECS[k].team == team}))
            assert t("cmd.status.team", lang, team=name, count=count) in text, (kind, team)
        expected = _visible(kind, OPEN)
        shown = world.shown(text)
        # The five nearest deadlines: all of them when one sees five or fewer.
        assert shown <= expected and len(shown) == min(5, len(expected)), (kind, shown)


def test_mine_shows_owned_mentions_one_sees_and_the_drafts_awaiting_ones_approval(world):
    for kind in PEOPLE:
        text = world.command("moi", kind)
        world.assert_hides(text, kind, "/vigie moi")
        if kind == "no_role":
            assert text.startswith(_no_role(kind)), text
            continue
        user = PEOPLE[kind][0]
        owned = _visible(kind, {k for k, owner in OWNER.items() if owner == user})
        awaited = {k for k, kinds in AWAITING.items() if kind in kinds}
        assert world.shown(text) == owned | awaited, kind
    # The finance expert owns a legal mention (assigned by the legal lead) and still does not see it.
    assert "legal_assigned" not in world.shown(world.command("moi", "finance_expert"))


def test_digest_preview_is_the_company_for_all_teams_a_teams_for_its_members_a_sentence_for_others(world):
    digests = world.runtime.digest_desk
    monday = MONDAY.date()
    for kind in PEOPLE:
        text = world.command("résumé", kind)
        world.assert_hides(text, kind, "/vigie résumé")
        if kind == "no_role":
            assert text.startswith(_no_role(kind)), text
            continue
        # The oldest open mentions it lists (ten at most; copies are not open) are those of the teams one sees.
        assert world.shown(text) == _visible(kind, OPEN), kind
        lang = PEOPLE[kind][1][:2]
        scope = None if SEES[kind] == ALL else next(iter(SEES[kind]))
        assert world.command("résumé", kind) == _built(digests, scope, monday, lang)


def _built(digests, team, day, lang) -> str:
    text, blocks = digests.build(team=team, day=day, lang=lang)
    return text + json.dumps(blocks, ensure_ascii=False)


def test_home_tab_shows_owned_queued_and_awaited_mentions_of_the_teams_one_sees(world):
    for kind in PEOPLE:
        view = world.home(kind)
        world.assert_hides(view, kind, "the Home tab")
        if kind == "no_role":
            assert _no_role(kind) in view
            assert world.shown(view) == set()
            continue
        user = PEOPLE[kind][0]
        owned = _visible(kind, {k for k, owner in OWNER.items() if owner == user})
        # The queue is work to pick up: every team's for a community manager, one's own team's for its members,
        # none for a decision maker (who claims nothing).
        queue = set() if kind == "decision_maker" else _visible(kind, UNCLAIMED)
        awaited = {k for k, kinds in AWAITING.items() if kind in kinds}
        assert world.shown(view) == owned | queue | awaited, kind
        for key in owned | queue:
            assert "word" in world.found(view)[key], (kind, key)  # the excerpt is shown


def test_list_them_on_a_story_only_for_those_who_see_its_team(world):
    for kind in PEOPLE:
        for leader, team in STORIES.items():
            listings, told = world.list_story(leader, kind)
            copies = {k for k in COPIES if SPECS[k].copy_of == leader}
            if team in SEES[kind]:
                assert len(listings) == 1 and told == [], (kind, leader)
                assert all(author(k) in listings[0] and url(k) in listings[0] for k in copies), listings[0]
                continue
            assert listings == [], f"{kind} had {team}'s story listed"
            lang = PEOPLE[kind][1][:2]
            said = _no_role(kind) if kind == "no_role" else t("refusal.not_team_member", lang)
            assert told == [said], (kind, leader, told)
            world.assert_hides(" ".join(told), kind, "the answer to 'List them'")


@pytest.mark.parametrize("locale", ["fr-FR", "en-US"])
def test_a_member_with_no_role_gets_one_sentence_in_their_language_for_every_read(world, locale):
    stranger = "U0STRANGE2"
    world.slack.add_user(stranger, name=stranger, locale=locale)
    expected = t("access.no_role", locale[:2], cms="<@U0CM00001>, <@U0CM00002>")
    for command in ("liste", "list", "statut", "status", "moi", "mine", "résumé", "digest", "résumé semaine",
                    "voir 2147483647", *(f"voir {mid}" for mid in world.ids.values())):
        assert world.command_as(command, stranger) == expected + "[]", command
    assert expected in world.home_as(stranger)
    # Help and the protocol (its teams, people and deadlines: no mention) stay open to everyone.
    assert "/vigie" in world.command_as("aide", stranger)


def test_a_reviewer_the_protocol_asks_for_sees_that_mention_and_not_the_rest_of_its_team(engine, slack,
                                                                                          database_url, tmp_path):
    """During a crisis whose approvers include legal, a legal expert must approve finance replies: they see the
    finance mention whose draft awaits them (voir, moi, Home), and the finance team's list stays closed."""
    protocol = tmp_path / "protocol.yaml"
    text = TEST_PROTOCOL.read_text()
    assert "crisis:\n" in text
    protocol.write_text(text.replace("crisis:\n", 'crisis:\n  approvers: [decision_maker, "team:legal"]\n'))
    (tmp_path / "roster.csv").write_text((TEST_PROTOCOL.parent / "roster.csv").read_text())
    settings = make_settings(database_url, slack.url, VIGIE_PROTOCOL_FILE=str(protocol))
    with _world(settings, slack) as w:
        review = w.ids["finance_review"]
        for kind in ("legal_lead", "double_command"):  # before the crisis: nothing of finance's
            assert "finance_review" not in w.shown(w.command(f"voir {review}", kind))
        w.runtime.crisis.declare(by=PEOPLE["decision_maker"][0], reason="test", lang="fr")
        drain(w.runtime, frozen=True)
        for kind in ("legal_lead", "legal_expert", "double_command"):
            shown = w.found(w.command(f"voir {review}", kind)).get("finance_review", set())
            assert {"id", "word", "author", "url"} <= shown, kind
            assert "finance_review" in w.shown(w.command("moi", kind)), kind
            assert "finance_review" in w.shown(w.home(kind)), kind
            for read in ("liste", "statut", "résumé"):  # the team's lists: still closed
                assert w.shown(w.command(read, kind)) <= _visible(kind, set(SPECS)), (kind, read)
            # Only the mention under review: not the finance mention nobody asked legal about.
            assert w.command(f"voir {w.ids['finance_open']}", kind) == w.command("voir 2147483647", kind)
        assert w.command(f"voir {review}", "no_role").startswith(_no_role("no_role"))
