"""The digest chart: a PNG drawn with Pillow, shared with files_upload_v2 against the fake Slack."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from PIL import Image
from structlog.testing import capture_logs

from bot.slack.gateway import SlackGateway
from bot.slack.views import chart
from bot.slack.views.chart import BAR, HEIGHT, LINE, WIDTH, DayPoint, fold_ascii, render_chart
from bot.usecases.digests import upload_chart
from tests.fakes.slack_api import FakeSlack

TOKEN = "xoxb-test-chart-0000000000"
START = date(2025, 2, 20)
LABELS = {"title": "Mentions — 14 derniers jours", "received_label": "Mentions reçues",
          "response_label": "Délai médian de première réponse (h:mm)", "lang": "fr"}
# The plot area, well inside the axes: no title, legend or tick label falls in it.
PLOT_BOX = (80, 62, 700, 300)


def days(received: list[int], minutes: list[int | None]) -> list[DayPoint]:
    return [DayPoint(START + timedelta(days=i), r, None if m is None else timedelta(minutes=m))
            for i, (r, m) in enumerate(zip(received, minutes, strict=True))]


FORTNIGHT = days([3, 8, 0, 12, 5, 7, 1, 0, 9, 14, 6, 2, 4, 11],
                 [45, 30, None, 90, 20, 15, 240, None, 35, 60, 25, 10, 50, 75])


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def count_near(image: Image.Image, colour: tuple[int, int, int], box: tuple[int, int, int, int],
               tolerance: int = 30) -> int:
    """Pixels in `box` within `tolerance` of `colour` on every channel."""
    data = image.convert("RGB").crop(box).tobytes()
    pixels = (data[i:i + 3] for i in range(0, len(data), 3))
    return sum(1 for px in pixels if all(abs(a - b) <= tolerance for a, b in zip(px, colour, strict=True)))


# ------------------------------------------------------------------------------------------------ drawing


def test_chart_is_a_png_of_the_expected_size_with_bars_and_a_line() -> None:
    png = render_chart(FORTNIGHT, **LABELS)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = decode(png)
    assert image.format == "PNG"
    assert image.size == (WIDTH, HEIGHT) == (800, 360)
    assert count_near(image, BAR, PLOT_BOX) > 2000  # the bars
    assert count_near(image, LINE, PLOT_BOX) > 200  # the response line
    assert len(png) < 200_000  # small enough for a digest


def test_different_data_draws_a_different_picture() -> None:
    other = days([r * 2 for r in (3, 8, 0, 12, 5, 7, 1, 0, 9, 14, 6, 2, 4, 11)],
                 [45, 30, None, 90, 20, 15, 240, None, 35, 60, 25, 10, 50, 75])
    first, second = decode(render_chart(FORTNIGHT, **LABELS)), decode(render_chart(other, **LABELS))
    assert first.tobytes() != second.tobytes()
    # Same data, same picture: nothing random or clock-dependent goes in.
    assert render_chart(FORTNIGHT, **LABELS) == render_chart(FORTNIGHT, **LABELS)


def test_the_caller_words_are_drawn() -> None:
    other_title = {**LABELS, "title": "Mentions — last 14 days"}
    assert decode(render_chart(FORTNIGHT, **LABELS)).tobytes() != decode(render_chart(FORTNIGHT, **other_title)).tobytes()


@pytest.mark.parametrize("points", [[], days([0] * 14, [None] * 14), days([0] * 14, [0] * 14)],
                         ids=["empty", "all-zero-no-response", "all-zero"])
def test_empty_or_all_zero_data_still_renders(points: list[DayPoint]) -> None:
    image = decode(render_chart(points, **LABELS))
    assert image.size == (WIDTH, HEIGHT)
    assert count_near(image, BAR, PLOT_BOX) == 0  # no bar...
    assert count_near(image, BAR, (0, 0, WIDTH, 60)) > 50  # ...but the legend is there


def test_none_medians_leave_gaps_and_no_line_at_all_when_every_median_is_none() -> None:
    received = [5] * 14
    none = decode(render_chart(days(received, [None] * 14), **LABELS))
    assert count_near(none, LINE, PLOT_BOX) == 0
    assert count_near(none, BAR, PLOT_BOX) > 2000
    # One known day between unknown ones: a dot only, far fewer line pixels than a full line.
    one = decode(render_chart(days(received, [None] * 6 + [30] + [None] * 7), **LABELS))
    full = decode(render_chart(days(received, [30] * 14), **LABELS))
    assert 0 < count_near(one, LINE, PLOT_BOX) < count_near(full, LINE, PLOT_BOX) / 5


def test_unsorted_input_is_drawn_in_date_order() -> None:
    assert render_chart(list(reversed(FORTNIGHT)), **LABELS) == render_chart(FORTNIGHT, **LABELS)


def test_without_a_system_font_pillow_default_font_is_used_with_ascii_text(monkeypatch: pytest.MonkeyPatch) -> None:
    chart._fonts.cache_clear()
    monkeypatch.setattr(chart, "FONT_CANDIDATES", ())
    try:
        assert not chart._fonts().unicode
        image = decode(render_chart(FORTNIGHT, **LABELS))
        assert image.size == (WIDTH, HEIGHT)
        assert count_near(image, BAR, PLOT_BOX) > 2000
        # Accents are folded rather than drawn as boxes: the picture equals the one of the ASCII words.
        folded = {key: fold_ascii(value) for key, value in LABELS.items()}
        assert render_chart(FORTNIGHT, **LABELS) == render_chart(FORTNIGHT, **folded)
    finally:
        chart._fonts.cache_clear()


def test_with_a_unicode_system_font_accents_are_drawn() -> None:
    if not chart._fonts().unicode:
        pytest.skip(f"none of {chart.FONT_CANDIDATES} is installed (Debian: fonts-dejavu-core)")
    folded = {key: fold_ascii(value) for key, value in LABELS.items()}
    assert render_chart(FORTNIGHT, **LABELS) != render_chart(FORTNIGHT, **folded)


def test_fold_ascii() -> None:
    assert fold_ascii("Délai médian — reçues, œuvre «ok»") == 'Delai median - recues, oeuvre "ok"'
    assert fold_ascii("1\u202f234") == "1 234"
    assert fold_ascii("日本") == "??"


# ------------------------------------------------------------------------------------------------ upload


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    fake = FakeSlack(token=TOKEN, scopes=["chat:write", "files:write"])
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def gateway(fake: FakeSlack) -> SlackGateway:
    return SlackGateway(token=TOKEN, base_url=fake.url)


def test_upload_shares_the_png_in_the_channel(fake: FakeSlack, gateway: SlackGateway) -> None:
    cid = fake.add_channel("#digest")
    png = render_chart(FORTNIGHT, **LABELS)
    file_id = upload_chart(gateway, channel=cid, png=png, filename="digest-2025-03-05.png", title="Mentions")
    assert file_id is not None
    upload = fake.uploads()[file_id]
    assert upload["data"] == png
    assert upload["filename"] == "digest-2025-03-05.png"
    assert upload["length"] == len(png)
    (complete,) = fake.calls("files.completeUploadExternal")
    assert complete.args["channel_id"] == cid
    assert complete.args["files"][0] == {"id": file_id, "title": "Mentions"}
    (message,) = fake.messages(cid)
    assert [f["id"] for f in message["files"]] == [file_id]
    assert message["thread_ts"] is None


def test_upload_in_a_thread(fake: FakeSlack, gateway: SlackGateway) -> None:
    cid = fake.add_channel("#digest")
    parent = fake.add_message(cid, "Digest of the day")
    file_id = upload_chart(gateway, channel=cid, png=render_chart(FORTNIGHT, **LABELS), filename="d.png",
                           title="Mentions", thread_ts=parent)
    assert file_id is not None
    reply = fake.messages(cid)[-1]
    assert reply["thread_ts"] == parent
    assert reply["files"][0]["id"] == file_id


def test_refused_upload_returns_none_and_logs_a_warning(fake: FakeSlack, gateway: SlackGateway) -> None:
    cid = fake.add_channel("#digest")
    fake.fail_next("files.getUploadURLExternal", error="not_allowed_token_type")
    with capture_logs() as logs:
        assert upload_chart(gateway, channel=cid, png=b"\x89PNG...", filename="d.png", title="t") is None
    assert fake.uploads() == {}
    assert fake.calls("files.completeUploadExternal") == []
    (entry,) = [e for e in logs if e["event"] == "chart_upload_failed"]
    assert entry["log_level"] == "warning"
    assert entry["error"] == "not_allowed_token_type"
    assert TOKEN not in repr(logs)


def test_missing_files_write_scope_returns_none() -> None:
    with FakeSlack(token=TOKEN, scopes=["chat:write"]) as fake:
        gateway = SlackGateway(token=TOKEN, base_url=fake.url)
        with capture_logs() as logs:
            assert upload_chart(gateway, channel=fake.add_channel("#digest"), png=b"png", filename="d.png",
                                title="t") is None
    (entry,) = [e for e in logs if e["event"] == "chart_upload_failed"]
    assert entry["error"] == "missing_scope"
    assert entry["needed"] == "files:write"


def test_failed_byte_upload_returns_none(fake: FakeSlack, gateway: SlackGateway) -> None:
    # The upload URL answers 404: urllib raises HTTPError inside files_upload_v2.
    fake.set_handler("files.getUploadURLExternal",
                     lambda args: {"ok": True, "upload_url": f"{fake.url}_upload/F0MISSING", "file_id": "F0MISSING"})
    with capture_logs() as logs:
        assert upload_chart(gateway, channel=fake.add_channel("#digest"), png=b"png", filename="d.png",
                            title="t") is None
    assert fake.calls("files.completeUploadExternal") == []
    (entry,) = [e for e in logs if e["event"] == "chart_upload_failed"]
    assert entry["error"] == "HTTPError"
    assert "F0MISSING" not in repr(logs) and fake.url not in repr(logs)  # no pre-signed upload URL


def test_completion_refused_returns_none(fake: FakeSlack, gateway: SlackGateway) -> None:
    # completeUploadExternal takes a channel ID: a #name is refused after the bytes went up.
    assert upload_chart(gateway, channel="#digest", png=b"png", filename="d.png", title="t") is None
    assert len(fake.uploads()) == 1
    (complete,) = fake.calls("files.completeUploadExternal")
    assert complete.response == {"ok": False, "error": "channel_not_found"}


def test_slack_unreachable_returns_none() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gateway = SlackGateway(token=TOKEN, base_url=f"http://127.0.0.1:{port}/", timeout=2)
    with capture_logs() as logs:
        assert upload_chart(gateway, channel="C0DIGEST01", png=b"png", filename="d.png", title="t") is None
    assert [e["event"] for e in logs].count("chart_upload_failed") == 1


def test_empty_png_is_not_sent(fake: FakeSlack, gateway: SlackGateway) -> None:
    assert upload_chart(gateway, channel=fake.add_channel("#digest"), png=b"", filename="d.png", title="t") is None
    assert fake.calls() == []
