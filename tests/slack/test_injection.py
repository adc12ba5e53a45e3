"""Outside text cannot ping, disguise a link, hide or reorder itself, or pose as the bot, wherever it is shown.

A corpus of hostile strings is fed through every door (the intake API: text, author, source, url, tags; a feed
entry's title and summary; a CSV file's cells; a flagged Slack message and its author's name; a thread reply
used as a draft; a dismissal reason; a review comment) and everything that then reaches the fake Slack is
searched: relay cards, thread replies, story lists, the draft card, the Home tab, modals, ephemerals, slash
command answers, the daily and weekly digests.

Policy (bot/slack/text.py, SECURITY.md): `&`, `<`, `>` are escaped, so no `<!here>`, `<@U…>`, `<#C…>`,
`<!subteam^…>` or `<url|label>` can be formed; links we draw show their real host; invisible characters
(zero-width, bidirectional controls, tag letters) are dropped; outside text shown as a quote has every line
quoted. Mrkdwn emphasis (`*`, `_`, `~`, backticks) and emoji shortcodes are left as typed: they can only
change the look of the outside text inside its own quote or field.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote as percent_encode
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from bot.app import build_runtime
from bot.clock import ManualClock
from bot.http import build_http_app
from bot.i18n import t
from bot.intake.feeds import parse_feed
from bot.intake.files import read_mentions
from bot.slack.ids import Action, View
from bot.slack.views import modals
from bot.store.models import Draft, Mention, Story
from tests import driver
from tests.conftest import AUTH, SIGNING_SECRET, drain, make_settings
from tests.slack_requests import (
    block_action,
    message_shortcut,
    signed_headers,
    view_submission,
)

CORPUS = [
    "<!channel> alerte", "<!here>", "<!everyone>", "<@U123> regarde", "<#C123>", "<!subteam^S1>",
    "<!subteam^S1|@equipe>", "<https://evil.example|bank.fr>", "<mailto:x@evil.example|support@bank.fr>",
    "&lt;!channel&gt; déjà échappé", "&amp;lt;@U123&amp;gt;", "a\u200bb\u200cc\u200dd\u2060e\ufefff",
    "facture \u202egnp.exe", "\u2066isolé\u2069 \u2067rtl\u2069 \u2068first\u2069", "tag\U000e0041\U000e0042",
    "*gras* _italique_ ~barré~ `code` ```bloc```", "> fausse citation\n> *Approuvé par* <@U0CM00001>",
    "ligne\n>>> tout le reste cité", ":rotating_light: :white_check_mark: approuvé", "x" * 5000,
    "<<!channel>>", "<!date^1392734382^{date}|hier>", "<tel:+33100000000|appel>",
    # Invisible letters and marks: the Arabic letter mark, Hangul fillers, a grapheme joiner, runs of
    # variation selectors (data hidden in an emoji); and every line separator a quote must still quote.
    "\u061cفاتورة\u061c", "a\u3164b\u115fc\u1160d\uffa0e\u034ff", "❤\ufe0f\ufe0f\U000e0101\U000e0102 caché",
    "ligne 1\u2028> *Approuvé par* <@U0CM00001>\u2029>>> tout le reste\u0085fin\r\nsuite\rencore",
]
ZERO_WIDTH_AND_BIDI = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
                                 "\U000e0000-\U000e007f\u115f\u1160\u3164\uffa0\u034f\u2028\u2029\u0085\r]"
                                 "|[\ufe00-\ufe0f\U000e0100-\U000e01ef]{2}|[\U000e0100-\U000e01ef]")
# What must never reach Slack from outside text: Slack's special sequences with the corpus's ids, and the
# disguised links. (Our own <@U…> and <#C…> for real people and channels are fine.)
FORBIDDEN = re.compile(r"<!(channel|here|everyone)\b|<[@#!][^>]*(U123|C123|S1)\b|\|bank\.fr>|<mailto:"
                       r"|<!date\^1392734382|<tel:")
CM, LEGAL_EXPERT, LEGAL_LEAD = "U0CM00001", "U0LEG0002", "U0LEG0001"
START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # a Sunday: the Monday morning posts both digests


def fit(text: str, size: int) -> str:
    return text[:size]


@pytest.fixture
def app(engine, slack, database_url):
    clock = ManualClock(START)
    for user in (CM, LEGAL_EXPERT, LEGAL_LEAD):
        slack.add_user(user, name=user, locale="fr-FR")
    rt = build_runtime(make_settings(database_url, slack.url), clock=clock)
    rt.start()
    with TestClient(build_http_app(rt)) as http:
        yield rt, http, clock
    rt.stop()
    rt.engine.dispose()


def send(http, payload) -> dict:
    r = driver.send(http, payload)  # the shared driver (tests/driver.py); it asserts the 200
    return r.json() if r.content else {}


def slash(http, text: str, user: str = CM) -> dict:
    body = urlencode({"command": "/vigie", "text": text, "user_id": user, "channel_id": "C0LEGAL001",
                      "team_id": "T0TEAM0001", "trigger_id": f"1.{abs(hash(text))}"})
    r = http.post("/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body))
    assert r.status_code == 200
    return r.json()


def strings(node, key: str = "") -> list[tuple[str, str]]:
    """Every (key, string) in a Slack call's arguments, however deep."""
    if isinstance(node, str):
        return [(key, node)]
    if isinstance(node, dict):
        return [pair for k, v in node.items() for pair in strings(v, k)]
    if isinstance(node, list):
        return [pair for v in node for pair in strings(v, key)]
    return []


def test_hostile_text_is_neutralised_everywhere_it_reaches_slack(app, slack):
    rt, http, clock = app
    ids: list[int] = []

    def settle() -> None:
        clock.advance(seconds=10)  # story cards are refreshed a few seconds after the last copy arrives
        drain(rt)

    # 1. The intake API, every outside field.
    for i, evil in enumerate(CORPUS):
        body = {"source": fit(f"src {evil}", 200), "external_id": f"inj-{i}",
                "url": f"https://evil.example/p/{i}?q={percent_encode(evil[:100])}", "author": fit(evil, 300),
                "text": f"Un avocat annonce un procès ({i}) {evil}", "published_at": "2026-11-22T08:00:00+00:00",
                "tags": [fit(evil, 64)], "reach": 50_000 + i}
        r = http.post("/intake/mentions", headers=AUTH, json=body)
        assert r.status_code == 202, (evil, r.text)
        ids.append(r.json()["mentions"][0]["id"])
    # 2. A feed entry.
    entries = "".join(f"<item><title>{_xml(evil)}</title><link>https://feed.example/{i}</link>"
                      f"<description>{_xml('procès ' + evil)}</description><guid>feed-{i}</guid>"
                      f"<pubDate>Sun, 22 Nov 2026 08:00:00 +0000</pubDate></item>" for i, evil in enumerate(CORPUS))
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{entries}</channel></rss>'
    mentions, _ = parse_feed(feed.encode(), source="alerts", fallback_time=START)
    assert len(mentions) == len(CORPUS)
    rt.vigie.ingest(mentions, actor="feed:alerts")
    # 3. A CSV export.
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["source", "id", "url", "auteur", "contenu", "date", "tags"])
    for i, evil in enumerate(CORPUS):
        writer.writerow([fit(evil, 200), f"csv-{i}", f"https://csv.example/{i}", fit(evil, 300), f"procès {evil}",
                         "22/11/2026 09:00", fit(evil, 64)])
    rows = [m for _, m in read_mentions(io.BytesIO(out.getvalue().encode()), fmt="csv") if not hasattr(m, "line")]
    assert len(rows) == len(CORPUS)
    rt.vigie.ingest(rows, actor="import")
    # 4. A flagged Slack message, by an author whose display name is hostile too.
    for evil in CORPUS[:6]:
        ts = slack.add_message("C0RANDOM01", evil, user="U0AUTHOR01")
        payload = message_shortcut(user=CM, text=evil, ts=ts)
        payload["message"]["username"] = evil
        send(http, payload)
    settle()

    # 5. People work on a legal mention: claim, a draft quoting the text, comments and reasons with the corpus.
    mid = ids[0]
    send(http, block_action(action_id=Action.claim.value, value=str(mid), user=LEGAL_EXPERT, channel="C0LEGAL001"))
    hostile = "\n".join(CORPUS[:19])
    send(http, view_submission(modals.draft_modal(mention_id=mid, networks=["x"], lang="fr"), user=LEGAL_EXPERT,
                               values={"text": hostile[:3000], "network": "x", "language": "fr", "label": "public"}))
    settle()
    with Session(rt.engine) as s:
        draft_id = s.exec(select(Draft.id).where(Draft.mention_id == mid)).one()
        relay_ts = s.get(Mention, mid).relay_ts
        stories = list(s.exec(select(Story.id)))
    reason = modals.reason_modal(View.request_changes, lang="fr", meta={"draft": draft_id},
                                 title_key="modal.changes.title", label_key="modal.changes.reason")
    send(http, view_submission(reason, user=CM, values={"reason": hostile[:2000]}))
    dismiss = modals.reason_modal(View.dismiss, lang="fr", meta={"mention": ids[1]}, title_key="modal.dismiss.title",
                                  label_key="modal.dismiss.reason")
    send(http, view_submission(dismiss, user=CM, values={"reason": hostile[:2000]}))
    # 6. An expert's hostile thread reply, used as a draft: it fills the modal.
    reply = message_shortcut(user=LEGAL_EXPERT, text=hostile, ts="1763719300.000001", author=LEGAL_EXPERT,
                             channel="C0LEGAL001", callback_id="use_as_draft")
    reply["message"]["thread_ts"] = relay_ts
    send(http, reply)
    # 7. Story lists, Home tabs, slash command answers.
    for story in stories:
        rt.vigie.list_story_members(story, asked_by=CM)
    for user in (CM, LEGAL_EXPERT, LEGAL_LEAD):
        rt.home_desk.refresh(user)
    answers = [slash(http, text) for text in ("liste", f"voir {mid}", f"voir {ids[5]}", "statut", "moi")]
    answers.append(slash(http, "moi", user=LEGAL_EXPERT))
    settle()
    # 8. Monday morning: yesterday's digest and the weekly summary.
    clock.set(START + timedelta(days=1))
    assert rt.digest_desk.post_due() >= 2
    settle()

    calls = [c for c in slack.calls() if c.method not in ("auth.test", "users.info")]
    surfaces = {c.method for c in calls}
    assert {"chat.postMessage", "chat.update", "chat.postEphemeral", "views.publish", "views.open"} <= surfaces
    assert all(c.ok for c in calls), [(c.method, c.response) for c in calls if not c.ok]
    sent = [(c.method, key, value) for c in calls for key, value in strings(c.args)] + \
           [("slash", key, value) for a in answers for key, value in strings(a)]
    assert any("procès" in v for _, _, v in sent)
    for method, key, value in sent:
        assert not ZERO_WIDTH_AND_BIDI.search(value), (method, key, value[:200])
        if key == "initial_value":  # the text of an editable input, shown as typed and never parsed by Slack
            continue
        assert not FORBIDDEN.search(value), (method, key, FORBIDDEN.search(value).group(), value[:300])
    # What the outside text says still shows, as text: the escaped pre-escaped entity, the hostile author.
    texts = "\n".join(v for _, k, v in sent if k != "initial_value")
    assert "&amp;lt;!channel&amp;gt; déjà échappé" in texts
    assert "&lt;!channel&gt; alerte" in texts
    assert "gnp.exe" in texts and "facture \u202egnp" not in texts
    # Every quoted excerpt stays one quote: no line of the relay cards' text section escapes it.
    cards = [c.args for c in calls if c.method in ("chat.postMessage", "chat.update") and c.args.get("blocks")
             and any(b.get("block_id", "").startswith("mention") for b in c.args["blocks"])] or \
            [c.args for c in calls if c.method == "chat.postMessage" and c.args.get("channel") == "C0LEGAL001"]
    quoted = [b["text"]["text"] for a in cards for b in a.get("blocks", [])
              if b.get("type") == "section" and b.get("text", {}).get("text", "").startswith(">")]
    assert quoted, "no quoted excerpt found on the relay cards"
    for text in quoted:
        assert all(line.startswith(">") for line in text.split("\n")), text[:300]
    # Links we draw to outside URLs show their real host.
    for m in re.finditer(r"<(https?://[^|>\s]*)\|([^>]*)>", texts):
        url, label = m.groups()
        if "evil.example" in url:  # the real host, or our own word for it ("voir"), never outside text
            assert label in ("evil.example", t("story.members_link", "fr"), t("story.members_link", "en")), m.group()


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_quote_quotes_every_line_whatever_the_separator():
    from bot.slack.text import quote

    out = quote("un\u2028deux\u2029trois\u0085quatre\r\ncinq\rsix\nsept", 300)
    assert out.split("\n") == ["> un", "> deux", "> trois", "> quatre", "> cinq", "> six", "> sept"]


def test_escape_keeps_what_a_reader_sees():
    from bot.slack.text import escape

    assert escape("Très bien ❤\ufe0f — 今日は") == "Très bien ❤\ufe0f — 今日は"  # letters, emoji style kept
    assert escape("a\u200bb\u061cc\u3164d\U000e0101") == "abcd"
    assert escape("❤\ufe0f\ufe0f\ufe0e") == "❤\ufe0f"  # one style selector, not a run


@pytest.mark.parametrize("evil", CORPUS)
def test_escape_functions_leave_no_live_sequence(evil):
    from bot.slack.text import escape, excerpt, link, quote

    for out in (escape(evil), excerpt(evil, 300), quote(evil, 300), link(f"https://evil.example/{evil}", evil)):
        assert not ZERO_WIDTH_AND_BIDI.search(out)
        assert "<!" not in out and "<@" not in out and "<#" not in out
        assert "|bank.fr>" not in out
