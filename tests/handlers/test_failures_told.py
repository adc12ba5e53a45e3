"""A click that cannot be recorded is never taken for done: the person is told, in their language, and the
request is not answered as a success. The database is made read-only from the outside (as a full disk or an
operator would), so the code under test runs unchanged."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from bot.app import build_runtime
from bot.http import build_http_app
from bot.i18n import t
from bot.store.models import AuditEvent, Mention
from tests.conftest import AUTH, SIGNING_SECRET, drain, make_settings, mention
from tests.slack_requests import block_action, interactive_body, signed_headers
from tests.test_health import read_only

LEGAL_EXPERT = "U0LEG0002"


def _click(http, action_id: str, value: str, user: str):
    body = interactive_body(block_action(action_id=action_id, value=value, user=user, channel="C0LEGAL001"))
    return http.post("/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body))


def test_a_click_the_database_refuses_is_told_to_the_person_and_not_acknowledged(engine, slack, database_url):
    slack.add_user(LEGAL_EXPERT, name="expert", locale="en-GB")
    rt = build_runtime(make_settings(database_url, slack.url))
    rt.start()
    with TestClient(build_http_app(rt)) as http:
        r = http.post("/intake/mentions", headers=AUTH, json=mention(1, text="Un avocat annonce un procès"))
        mid = r.json()["mentions"][0]["id"]
        drain(rt)
    rt.stop()
    rt.engine.dispose()

    with read_only(engine, database_url) as url:
        frozen = build_runtime(make_settings(url, slack.url), migrate=False)
        try:
            with TestClient(build_http_app(frozen)) as http:
                r = _click(http, "mention_claim", str(mid), LEGAL_EXPERT)
            assert r.status_code != 200  # Slack shows the click failed; it was never "received"
            [told] = [c for c in slack.calls("chat.postEphemeral") if c.args["user"] == LEGAL_EXPERT]
            assert told.args["text"] == t("error.not_recorded", "en")
        finally:
            frozen.engine.dispose()
    with Session(engine) as s:
        assert s.get(Mention, mid).owner is None
        assert not s.exec(select(AuditEvent).where(AuditEvent.action == "mention.claimed")).all()


def test_an_unknown_holding_statement_key_is_refused_in_the_form(http, runtime, slack):
    """A signed submission naming a holding statement the protocol does not have (a stale form after the
    protocol changed, or a crafted one): a sentence in the form, nothing stored, no server error."""
    from bot.slack.views import modals
    from bot.store.models import Draft
    from tests.slack_requests import view_submission

    cm = "U0CM00001"
    slack.add_user(cm, name="cm", locale="fr-FR")
    r = http.post("/intake/mentions", headers=AUTH, json=mention(2, text="Un avocat annonce un procès"))
    mid = r.json()["mentions"][0]["id"]
    form = modals.holding_modal(mention_id=mid, statements=[("Disparue", "n-existe-plus")], lang="fr")
    body = interactive_body(view_submission(form, user=cm, values={"statement": "n-existe-plus"}))
    r = http.post("/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body))
    assert r.status_code == 200
    assert r.json() == {"response_action": "errors", "errors": {"statement": t("refusal.unknown_statement", "fr")}}
    with Session(runtime.engine) as s:
        assert s.exec(select(Draft)).all() == []
        [refused] = s.exec(select(AuditEvent).where(AuditEvent.action == "refused.holding_statement")).all()
    assert (refused.actor, refused.reason) == (cm, "unknown_statement")
