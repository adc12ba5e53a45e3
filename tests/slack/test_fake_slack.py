"""Tests of tests/fakes/slack_api.py, driven through the real slack_sdk.WebClient."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
import urllib.parse
import urllib.request
from urllib.error import URLError

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from tests import slackspec
from tests.fakes.slack_api import BUILTIN_REQUIRED, FakeSlack

TOKEN = "xoxb-vigie-test"
TS = re.compile(r"^\d{10}\.\d{6}$")


@pytest.fixture
def fake():
    with FakeSlack(token=TOKEN) as server:
        yield server


@pytest.fixture
def client(fake):
    return WebClient(base_url=fake.url, token=TOKEN)


def slack_error(call, *args, **kwargs) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        call(*args, **kwargs)
    return info.value


# --------------------------------------------------------------------------- basics


def test_url_auth_test_and_recorded_call(fake, client):
    assert fake.url.endswith("/")
    answer = client.auth_test()
    assert answer["ok"] and answer["user_id"] == fake.bot_user_id and answer["team_id"] == fake.team_id
    call = fake.last("auth.test")
    assert call.token == TOKEN
    assert call.headers["authorization"] == f"Bearer {TOKEN}"
    assert call.status == 200 and call.ok
    assert call.at <= time.monotonic()


def test_post_maps_channel_name_and_echoes_message(fake, client):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*alerte*"}}]
    metadata = {"event_type": "vigie_alert", "event_payload": {"id": "a1"}}
    first = client.chat_postMessage(channel="#alerts", text="alerte", blocks=blocks, metadata=metadata)
    second = client.chat_postMessage(channel="#alerts", text="encore", thread_ts=first["ts"])

    assert first["channel"] == second["channel"] == fake.channel_id("#alerts") == fake.channel_id("alerts")
    assert re.fullmatch(r"C[0-9A-F]{10}", first["channel"])
    assert fake.channel_id("#other") != first["channel"]
    assert TS.match(first["ts"]) and TS.match(second["ts"]) and second["ts"] > first["ts"]
    message = first["message"]
    assert (message["text"], message["blocks"], message["metadata"]) == ("alerte", blocks, metadata)
    assert second["message"]["thread_ts"] == first["ts"]
    assert fake.last("chat.postMessage").args["channel"] == "#alerts"  # args are recorded as sent


def test_ts_unique_and_increasing_under_concurrent_posts(fake, client):
    def post(n: int) -> None:
        for i in range(10):
            client.chat_postMessage(channel="C0ALERTS01", text=f"{n}-{i}")

    threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    fake.wait_for("chat.postMessage", count=80)
    for t in threads:
        t.join()
    stamps = [m["ts"] for m in fake.messages("C0ALERTS01")]
    assert len(stamps) == len(set(stamps)) == 80
    assert stamps == sorted(stamps, key=float)
    assert all(c.response["ts"] in stamps for c in fake.calls("chat.postMessage"))


def test_update_changes_state_and_keeps_omitted_fields(fake, client):
    blocks = [{"type": "divider"}]
    posted = client.chat_postMessage(channel="C0ALERTS01", text="v1", blocks=blocks)
    updated = client.chat_update(channel=posted["channel"], ts=posted["ts"], text="v2")
    assert updated["ts"] == posted["ts"] and updated["message"]["text"] == "v2"
    (state,) = fake.messages("C0ALERTS01")
    assert (state["ts"], state["text"], state["blocks"], state["metadata"], state["thread_ts"]) == (
        posted["ts"], "v2", blocks, None, None,
    )
    assert slack_error(client.chat_update, channel="C0ALERTS01", ts="1.000001", text="x").response[
        "error"] == "message_not_found"
    # Only chat.postMessage/postEphemeral resolve names: chat.update needs the ID.
    assert slack_error(client.chat_update, channel="#alerts", ts=posted["ts"], text="x").response[
        "error"] == "channel_not_found"
    human = fake.add_message("C0ALERTS01", "written by a person")
    assert slack_error(client.chat_update, channel="C0ALERTS01", ts=human, text="x").response[
        "error"] == "cant_update_message"


def test_history_newest_first_window_paging_and_metadata(fake, client):
    channel = "C0ALERTS01"
    stamps = [
        client.chat_postMessage(
            channel=channel, text=f"m{i}", metadata={"event_type": "vigie_alert", "event_payload": {"n": i}}
        )["ts"]
        for i in range(3)
    ]
    plain = client.conversations_history(channel=channel)
    assert [m["ts"] for m in plain["messages"]] == stamps[::-1]
    assert all("metadata" not in m for m in plain["messages"])  # as Slack: only on request

    rich = client.conversations_history(channel=channel, include_all_metadata=True)
    assert [m["metadata"]["event_payload"]["n"] for m in rich["messages"]] == [2, 1, 0]

    newer = client.conversations_history(channel=channel, oldest=stamps[0])
    assert [m["ts"] for m in newer["messages"]] == stamps[:0:-1]  # oldest is exclusive
    inclusive = client.conversations_history(channel=channel, oldest=stamps[0], inclusive=True)
    assert len(inclusive["messages"]) == 3

    page = client.conversations_history(channel=channel, limit=2)
    assert [m["ts"] for m in page["messages"]] == stamps[:0:-1] and page["has_more"]
    rest = client.conversations_history(channel=channel, limit=2, cursor=page["response_metadata"]["next_cursor"])
    assert [m["ts"] for m in rest["messages"]] == stamps[:1] and not rest["has_more"]

    assert client.conversations_history(channel="C0EMPTY001")["messages"] == []
    assert slack_error(client.conversations_history, channel="#alerts").response["error"] == "channel_not_found"


def test_threads_stay_out_of_history_and_come_back_through_replies(fake, client):
    parent = client.chat_postMessage(channel="C0ALERTS01", text="parent")["ts"]
    reply = client.chat_postMessage(channel="C0ALERTS01", text="reply", thread_ts=parent)["ts"]
    history = client.conversations_history(channel="C0ALERTS01")["messages"]
    assert [m["ts"] for m in history] == [parent]
    assert history[0]["reply_count"] == 1 and history[0]["latest_reply"] == reply
    replies = client.conversations_replies(channel="C0ALERTS01", ts=parent)["messages"]
    assert [m["ts"] for m in replies] == [parent, reply]
    assert slack_error(client.conversations_replies, channel="C0ALERTS01", ts="1.000001").response[
        "error"] == "thread_not_found"


# --------------------------------------------------------------------------- faults


def test_injected_429_surfaces_as_slack_api_error_with_retry_after(fake, client):
    fake.fail_next("chat.postMessage", status=429, retry_after=7)
    err = slack_error(client.chat_postMessage, channel="C0ALERTS01", text="x")
    assert err.response.status_code == 429
    assert err.response.headers["Retry-After"] == "7"
    assert err.response["error"] == "ratelimited"
    assert fake.stats["ratelimited"] == 1
    assert fake.messages("C0ALERTS01") == []
    assert client.chat_postMessage(channel="C0ALERTS01", text="x")["ok"]  # the fault was used up


def test_rate_limit_retry_handler_retries_after_429(fake):
    client = WebClient(base_url=fake.url, token=TOKEN, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    fake.fail_next("chat.postMessage", status=429, retry_after=0)
    assert client.chat_postMessage(channel="C0ALERTS01", text="x")["ok"]
    assert [c.status for c in fake.calls("chat.postMessage")] == [429, 200]


def test_injected_500_and_slack_errors(fake, client):
    fake.fail_next("conversations.info", status=500)
    assert slack_error(client.conversations_info, channel="C0ALERTS01").response.status_code == 500
    fake.fail_next("chat.postMessage", error="channel_not_found", times=2)
    for _ in range(2):
        err = slack_error(client.chat_postMessage, channel="C0ALERTS01", text="x")
        assert (err.response.status_code, err.response["error"]) == (200, "channel_not_found")
    assert client.chat_postMessage(channel="C0ALERTS01", text="x")["ok"]


def test_injected_delay_makes_the_client_time_out(fake):
    client = WebClient(base_url=fake.url, token=TOKEN, timeout=0.3, retry_handlers=[])
    fake.fail_next("chat.postMessage", delay=1.0)
    started = time.monotonic()
    with pytest.raises((TimeoutError, URLError)):
        client.chat_postMessage(channel="C0ALERTS01", text="late")
    assert time.monotonic() - started < 0.9
    (call,) = fake.wait_for("chat.postMessage", timeout=3)  # answered (to nobody) after the delay
    assert call.status == 200
    assert [m["text"] for m in fake.messages("C0ALERTS01")] == ["late"]  # Slack may have posted it


def test_stop_does_not_wait_for_injected_delays():
    fake = FakeSlack(token=TOKEN).start()
    client = WebClient(base_url=fake.url, token=TOKEN, retry_handlers=[])
    fake.fail_next("auth.test", delay=30)

    def call_it() -> None:
        # Answered early once stop() cuts the delay short, or cut off: either is fine here.
        with contextlib.suppress(OSError, SlackApiError):
            client.auth_test()

    worker = threading.Thread(target=call_it, daemon=True)
    worker.start()
    deadline = time.monotonic() + 5
    while not fake.calls("auth.test") and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 2
    worker.join(timeout=5)
    assert not worker.is_alive()


def test_fail_channel_until_healed(fake, client):
    fake.fail_channel("#alerts", "is_archived")
    err = slack_error(client.chat_postMessage, channel=fake.channel_id("#alerts"), text="x")
    assert err.response["error"] == "is_archived"
    assert client.chat_postMessage(channel="#elsewhere", text="x")["ok"]
    fake.heal_channel("#alerts")
    assert client.chat_postMessage(channel="#alerts", text="x")["ok"]


def test_rate_limit_mode_is_per_channel_token_bucket(fake, client):
    fake.rate_limit(per_channel_per_second=5.0, burst=1)
    assert client.chat_postMessage(channel="C0ALERTS01", text="1")["ok"]
    err = slack_error(client.chat_postMessage, channel="C0ALERTS01", text="2")
    assert (err.response.status_code, err.response.headers["Retry-After"]) == (429, "1")
    assert client.chat_postMessage(channel="C0OTHER001", text="other channel")["ok"]
    time.sleep(0.25)  # one token back at 5/s
    assert client.chat_postMessage(channel="C0ALERTS01", text="3")["ok"]
    assert fake.stats["ratelimited"] == 1
    assert [m["text"] for m in fake.messages("C0ALERTS01")] == ["1", "3"]
    fake.rate_limit(None)
    assert client.chat_postMessage(channel="C0ALERTS01", text="4")["ok"]


def test_a_method_can_be_rate_limited_for_the_whole_workspace(fake, client):
    ts = [client.chat_postMessage(channel=c, text="card")["ts"] for c in ("C0ALERTS01", "C0OTHER001")]
    fake.rate_limit_method("chat.update", 60, burst=2)  # Tier-3-like: one a second after a burst of two
    client.chat_update(channel="C0ALERTS01", ts=ts[0], text="a")
    client.chat_update(channel="C0OTHER001", ts=ts[1], text="b")  # another channel: same workspace budget
    err = slack_error(client.chat_update, channel="C0ALERTS01", ts=ts[0], text="c")
    assert (err.response.status_code, err.response.headers["Retry-After"]) == (429, "1")
    assert client.chat_postMessage(channel="C0ALERTS01", text="posts are not counted")["ok"]
    fake.rate_limit_method("chat.update", None)
    assert client.chat_update(channel="C0ALERTS01", ts=ts[0], text="d")["ok"]


# --------------------------------------------------------------------------- argument and token checks


def test_missing_required_arguments_are_refused(fake, client):
    err = slack_error(client.api_call, "chat.update", json={"channel": "C0ALERTS01", "text": "x"})
    assert err.response["error"] == "invalid_arguments"
    assert err.response["response_metadata"]["messages"] == ["[ERROR] missing required field: ts"]
    err = slack_error(client.api_call, "reactions.add", params={"channel": "C0ALERTS01", "timestamp": "1.000001"})
    assert err.response["error"] == "invalid_arguments"
    err = slack_error(client.api_call, "chat.postMessage", json={"channel": "C0ALERTS01"})
    assert err.response["error"] == "no_text"
    view = {"type": "modal", "title": {"type": "plain_text", "text": "t"}, "blocks": []}
    err = slack_error(client.api_call, "views.open", json={"view": view})
    assert err.response["error"] == "invalid_arguments"


def test_required_arguments_come_from_the_spec(fake):
    slackspec.require_spec()
    assert fake._spec("chat.update") is not None
    for method, required in BUILTIN_REQUIRED.items():  # the offline copy matches the spec
        assert sorted(required) == sorted(slackspec.required_args(method)), method


def test_without_spec_the_builtin_required_list_applies():
    with FakeSlack(token=TOKEN, spec_dir="/nonexistent") as fake:
        client = WebClient(base_url=fake.url, token=TOKEN)
        err = slack_error(client.api_call, "chat.getPermalink", params={"channel": "C0ALERTS01"})
        assert err.response["response_metadata"]["messages"] == ["[ERROR] missing required field: message_ts"]


def test_token_check(fake):
    wrong = WebClient(base_url=fake.url, token="xoxb-someone-else")
    err = slack_error(wrong.auth_test)
    assert (err.response.status_code, err.response["error"]) == (200, "invalid_auth")
    anonymous = WebClient(base_url=fake.url)
    assert slack_error(anonymous.auth_test).response["error"] == "not_authed"
    with FakeSlack() as lenient:  # no token configured: any bot token is accepted
        assert WebClient(base_url=lenient.url, token="xoxb-anything").auth_test()["ok"]


def test_socket_mode_needs_an_app_token():
    with FakeSlack(token=TOKEN, app_token="xapp-1-test") as fake:
        bot = WebClient(base_url=fake.url, token=TOKEN)
        assert slack_error(bot.apps_connections_open, app_token=TOKEN).response["error"] == (
            "not_allowed_token_type")
        assert bot.apps_connections_open(app_token="xapp-1-test")["url"].startswith("wss://")
        assert slack_error(bot.apps_connections_open, app_token="xapp-1-other").response["error"] == "invalid_auth"


def test_missing_scope_when_scopes_are_declared():
    slackspec.require_spec()
    with FakeSlack(token=TOKEN, scopes=["chat:write", "channels:history"]) as fake:
        client = WebClient(base_url=fake.url, token=TOKEN)
        assert client.chat_postMessage(channel="C0ALERTS01", text="x")["ok"]
        assert client.conversations_history(channel="C0ALERTS01")["ok"]  # one of the accepted scopes
        err = slack_error(client.users_info, user="U0JEANNE01")
        assert (err.response["error"], err.response["needed"]) == ("missing_scope", "users:read")


def test_unknown_method(fake, client):
    err = slack_error(client.api_call, "chat.postMessag", json={"channel": "C0ALERTS01", "text": "x"})
    assert err.response["error"] == "unknown_method"


def test_block_checker_hook_turns_bad_blocks_into_invalid_blocks():
    header = [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]
    with FakeSlack(token=TOKEN, block_checker=slackspec.check_blocks) as strict:
        client = WebClient(base_url=strict.url, token=TOKEN)
        err = slack_error(client.chat_postMessage, channel="C0ALERTS01", text="x", blocks=header)
        assert err.response["error"] == "invalid_blocks"
        assert any("header.text.text" in e for e in err.response["errors"])
    with FakeSlack(token=TOKEN) as lenient:
        client = WebClient(base_url=lenient.url, token=TOKEN)
        assert client.chat_postMessage(channel="C0ALERTS01", text="x", blocks=header)["ok"]
        too_many = [{"type": "divider"}] * 51  # always checked, like Slack
        assert slack_error(client.chat_postMessage, channel="C0ALERTS01", text="x", blocks=too_many).response[
            "error"] == "invalid_blocks"
        bad_metadata = {"event_type": "x"}
        assert slack_error(client.chat_postMessage, channel="C0ALERTS01", text="x", metadata=bad_metadata).response[
            "error"] == "invalid_metadata_format"


# --------------------------------------------------------------------------- encodings


def test_form_encoded_users_info_with_registered_user(fake, client):
    fake.add_user("U0JEANNE01", name="Jeanne Martin", locale="fr-FR")
    user = client.users_info(user="U0JEANNE01", include_locale=True)["user"]
    assert (user["real_name"], user["profile"]["display_name"], user["locale"]) == (
        "Jeanne Martin", "Jeanne Martin", "fr-FR")
    call = fake.last("users.info")
    assert call.headers.get_content_type() == "application/x-www-form-urlencoded"
    assert call.args == {"user": "U0JEANNE01", "include_locale": "1"}
    assert "locale" not in client.users_info(user="U0JEANNE01")["user"]
    anyone = client.users_info(user="U0SOMEONE1")["user"]
    assert anyone["id"] == "U0SOMEONE1" and anyone["real_name"] and anyone["profile"]["display_name"]
    assert slack_error(client.users_info, user="not-a-user").response["error"] == "user_not_found"


def test_form_post_with_json_string_fields_and_query_args(fake):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]
    body = urllib.parse.urlencode({"text": "[not json decoded: text]", "blocks": json.dumps(blocks)}).encode()
    request = urllib.request.Request(
        fake.url + "chat.postMessage?channel=C0ALERTS01", data=body, method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        answer = json.loads(response.read())
    assert answer["ok"], answer
    call = fake.last("chat.postMessage")
    assert call.args == {"channel": "C0ALERTS01", "text": "[not json decoded: text]", "blocks": blocks}
    assert fake.messages("C0ALERTS01")[0]["blocks"] == blocks


def test_get_with_query_args_and_legacy_token_argument(fake):
    query = urllib.parse.urlencode({"token": TOKEN, "channel": "C0ALERTS01"})
    with urllib.request.urlopen(f"{fake.url}conversations.info?{query}", timeout=5) as response:
        answer = json.loads(response.read())
    assert answer["ok"] and answer["channel"]["id"] == "C0ALERTS01"
    call = fake.last("conversations.info")
    assert (call.http_method, call.token, call.args) == ("GET", TOKEN, {"channel": "C0ALERTS01"})


# --------------------------------------------------------------------------- other methods


def test_ephemeral_permalink_reactions_and_delete(fake, client):
    ts = client.chat_postMessage(channel="C0ALERTS01", text="x")["ts"]
    ephemeral = client.chat_postEphemeral(channel="C0ALERTS01", user="U0JEANNE01", text="psst")
    assert TS.match(ephemeral["message_ts"])
    assert [e["text"] for e in fake.ephemerals("C0ALERTS01")] == ["psst"]
    assert [m["ts"] for m in fake.messages("C0ALERTS01")] == [ts]  # ephemerals are not channel messages
    link = client.chat_getPermalink(channel="C0ALERTS01", message_ts=ts)["permalink"]
    assert link.endswith(f"/archives/C0ALERTS01/p{ts.replace('.', '')}")
    client.reactions_add(channel="C0ALERTS01", timestamp=ts, name="eyes")
    assert fake.messages("C0ALERTS01")[0]["reactions"][0]["name"] == "eyes"
    assert slack_error(client.reactions_add, channel="C0ALERTS01", timestamp=ts, name="eyes").response[
        "error"] == "already_reacted"
    client.chat_delete(channel="C0ALERTS01", ts=ts)
    assert fake.messages("C0ALERTS01") == []
    assert slack_error(client.chat_getPermalink, channel="C0ALERTS01", message_ts=ts).response[
        "error"] == "message_not_found"


def test_membership_info_and_join(fake, client):
    cid = fake.add_channel("#private-ops", is_member=False, locale="fr-FR")
    info = client.conversations_info(channel=cid, include_locale=True)["channel"]
    assert (info["name"], info["is_member"], info["locale"]) == ("private-ops", False, "fr-FR")
    assert slack_error(client.chat_postMessage, channel=cid, text="x").response["error"] == "not_in_channel"
    assert client.conversations_join(channel=cid)["channel"]["is_member"] is True
    assert client.chat_postMessage(channel="#private-ops", text="x")["channel"] == cid


def test_views_open_update_push_publish(fake, client):
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Répondre"}, "blocks": [],
             "external_id": "reply-1"}
    opened = client.views_open(trigger_id="123.456.abc", view=modal)["view"]
    assert opened["id"].startswith("V") and opened["hash"]
    assert slack_error(client.views_open, trigger_id="123.456.abc", view=modal).response[
        "error"] == "exchanged_trigger_id"
    changed = dict(modal, title={"type": "plain_text", "text": "Envoyé"})
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=changed)["view"]
    assert updated["id"] == opened["id"] and updated["title"]["text"] == "Envoyé"
    assert slack_error(client.views_update, view_id=opened["id"], hash=opened["hash"], view=changed).response[
        "error"] == "hash_conflict"  # the hash changed with the update
    assert client.views_update(external_id="reply-1", view=modal)["view"]["id"] == opened["id"]
    assert slack_error(client.views_update, view_id="V0NOPE", view=modal).response["error"] == "not_found"
    pushed = client.views_push(trigger_id="123.456.def", view=modal)["view"]
    assert pushed["id"] != opened["id"]
    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]}
    client.views_publish(user_id="U0JEANNE01", view=home)
    assert fake.home_view("U0JEANNE01")["blocks"] == home["blocks"]
    assert slack_error(client.views_publish, user_id="U0JEANNE01", view=modal).response[
        "error"] == "invalid_arguments"
    assert fake.last("views.open").headers.get_content_type() == "application/json"


def test_files_upload_v2_end_to_end(fake, client):
    answer = client.files_upload_v2(channel="C0ALERTS01", content="rapport", filename="r.txt", title="Rapport")
    file_id = answer["file"]["id"]
    assert fake.uploads()[file_id]["data"] == b"rapport"
    assert fake.last("files.getUploadURLExternal").args == {"filename": "r.txt", "length": "7"}
    (message,) = fake.messages("C0ALERTS01")
    assert message["files"][0]["id"] == file_id


# --------------------------------------------------------------------------- helpers


def test_wait_for_blocks_until_calls_arrive(fake, client):
    timer = threading.Timer(0.1, lambda: client.chat_postMessage(channel="C0ALERTS01", text="later"))
    timer.start()
    try:
        (call,) = fake.wait_for("chat.postMessage", timeout=5)
    finally:
        timer.join()
    assert call.args["text"] == "later"
    assert fake.messages("C0ALERTS01")[0]["text"] == "later"  # state is visible once wait_for returns


def test_wait_for_times_out_with_a_useful_message(fake, client):
    client.auth_test()
    with pytest.raises(AssertionError, match=r"chat\.delete.*auth\.test x1"):
        fake.wait_for("chat.delete", timeout=0.2)
    with pytest.raises(AssertionError, match="no chat.delete call"):
        fake.last("chat.delete")


def test_reset_forgets_calls_state_and_faults_but_keeps_users(fake, client):
    fake.add_user("U0JEANNE01", name="Jeanne Martin")
    client.chat_postMessage(channel="C0ALERTS01", text="x")
    fake.fail_next("auth.test", error="account_inactive")
    fake.rate_limit(1.0)
    fake.reset()
    assert fake.calls() == [] and fake.messages("C0ALERTS01") == [] and not fake.stats
    assert client.auth_test()["ok"]
    assert client.chat_postMessage(channel="C0ALERTS01", text="1")["ok"]
    assert client.chat_postMessage(channel="C0ALERTS01", text="2")["ok"]  # rate limiting is off again
    assert client.users_info(user="U0JEANNE01")["user"]["real_name"] == "Jeanne Martin"


def test_custom_handler(fake, client):
    fake.set_handler("team.info", lambda args: {"ok": True, "team": {"id": fake.team_id, "name": "Vigie"}})
    assert client.team_info()["team"]["name"] == "Vigie"
