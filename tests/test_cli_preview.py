"""`vigie preview`: the gallery of every view Vigie sends, drawn by the real code from a sample day, in French
and English; each view within Slack's limits, no raw catalogue key or unfilled placeholder shown; and, where
Debian's chromium is installed (deploy/system-packages.sh --with-tests), the gallery as a browser draws it."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.i18n import catalogue
from tests import slackspec

CHROMIUM = shutil.which("chromium")


@pytest.fixture(scope="module", params=["fr", "en"])
def gallery(request, tmp_path_factory) -> tuple[str, Path, dict]:
    lang = request.param
    folder = tmp_path_factory.mktemp(f"gallery-{lang}")
    r = CliRunner().invoke(app, ["preview", "--lang", lang, "-o", str(folder)])
    assert r.exit_code == 0, r.output
    data = json.loads((folder / "views.json").read_text("utf-8"))
    assert data["lang"] == lang
    return lang, folder, data


def strings(value) -> list[str]:  # type: ignore[no-untyped-def]
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def test_every_kind_of_view_is_in_the_gallery_and_no_step_failed(gallery):
    lang, folder, data = gallery
    assert data["failures"] == []
    views = data["views"]
    surfaces = {v["surface"] for v in views}
    assert surfaces == {"message", "ephemeral", "modal", "home"}
    methods = {v["method"] for v in views}
    assert {"chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "views.publish"} <= methods
    assert len(views) >= 60
    # One page per view, and the index lists them all.
    index = (folder / "index.html").read_text("utf-8")
    assert index.count('class="view"') == len(views)
    assert all((folder / f"view-{v['n']:03d}.html").is_file() for v in views)
    # Every block and element the bot sends is one the gallery knows how to draw (none shown as raw JSON).
    assert 'class="unknown' not in index and 'class="block unknown' not in index


def test_every_view_keeps_within_slacks_limits(gallery):
    _, _, data = gallery
    problems = []
    for v in data["views"]:
        payload = v["payload"]
        if v["surface"] in ("modal", "home"):
            found = slackspec.check_view(payload)
        elif v["method"] == "/vigie":  # a slash command's answer: blocks of an ephemeral message
            found = slackspec.check_blocks(payload["blocks"]) if payload.get("blocks") else []
        else:
            found = slackspec.check_message(payload, method=v["method"])
        problems += [f"#{v['n']} {v['step']}: {p}" for p in found]
    assert problems == []


def test_no_raw_catalogue_key_or_placeholder_reaches_a_view(gallery):
    lang, folder, data = gallery
    keys = [k for k in catalogue(lang) if "." in k]
    shown = "\n".join(s for v in data["views"] for s in strings(v["payload"]))
    page = html.unescape(re.sub(r"<[^>]+>", " ", (folder / "index.html").read_text("utf-8")))
    leaks = sorted({k for k in keys if re.search(rf"(?<![\w.]){re.escape(k)}(?![\w.])", shown + page)})
    assert leaks == []
    # A sentence formatted without its values (Slack's own date tokens, <!date^…^{date_short}|…>, aside).
    assert re.findall(r"\{[a-z_]+\}", re.sub(r"<!date\^[^>]*>", "", shown) + page) == []


def test_the_checks_can_fail():
    """The limits checker and the key search above do catch what they look for."""
    too_long = {"channel": "C1", "text": "x", "blocks": [{"type": "section", "text": {"type": "mrkdwn",
                                                                                     "text": "x" * 3001}}]}
    assert slackspec.check_message(too_long)
    assert re.search(r"(?<![\w.])relay\.header(?![\w.])", "Titre : relay.header")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (deploy/system-packages.sh "
                                              "--with-tests installs it): the gallery is not drawn in a browser")
def test_chromium_draws_the_gallery(gallery, tmp_path):
    from PIL import Image

    _, folder, data = gallery
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*base, "--dump-dom", (folder / "index.html").as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert dom.count('class="view"') == len(data["views"])
    assert dom.count('class="btn primary"') >= 1 and dom.count('class="modal"') >= 1
    shot = tmp_path / "first.png"
    subprocess.run([*base, "--window-size=800,600", f"--screenshot={shot}", (folder / "view-001.html").as_uri()],
                   capture_output=True, timeout=120, check=True)
    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 20  # text, buttons and borders drawn, not a blank page
