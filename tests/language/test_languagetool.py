"""The LanguageTool client against a tiny fake server speaking its /v2/check API on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest

from bot.language.languagetool import LanguageTool, connect

TEXT = "We could of done better, its true."
MATCHES = [
    {"offset": 9, "length": 2, "message": "Did you mean 'have'?", "replacements": [{"value": "have"}],
     "rule": {"id": "COULD_OF", "category": {"id": "GRAMMAR"}}},
    {"offset": 25, "length": 3, "message": "Did you mean 'it's'?", "replacements": [{"value": "it's"}],
     "rule": {"id": "ITS_IS", "category": {"id": "CONFUSED_WORDS"}}},
    {"offset": 3, "length": 5, "message": "Possible spelling mistake", "replacements": [{"value": "cold"}],
     "rule": {"id": "MORFOLOGIK_RULE_EN_US", "category": {"id": "TYPOS"}}},
]


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    seen: list[dict[str, list[str]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # the standard library names it
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            seen.append({"path": [self.path], **form})
            status, body = (200, {"matches": MATCHES}) if self.path == "/v2/check" else (404, {})
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    httpd.shutdown()
    httpd.server_close()


def test_matches_become_grammar_findings_without_spelling(server) -> None:  # type: ignore[no-untyped-def]
    url, seen = server
    found = LanguageTool(url + "/")(TEXT, "en")
    assert [(f.code, f.text, f.suggestions, f.params["rule"]) for f in found] == [
        ("grammar", "of", ("have",), "COULD_OF"), ("grammar", "its", ("it's",), "ITS_IS")]
    assert seen == [{"path": ["/v2/check"], "text": [TEXT], "language": ["en-US"]}]


def test_french_is_asked_as_fr(server) -> None:  # type: ignore[no-untyped-def]
    url, seen = server
    LanguageTool(url)("Votre colis et en route, its.", "fr")
    assert seen[0]["language"] == ["fr"]


def test_a_server_that_fails_never_blocks_a_check(caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level("WARNING", logger="bot.language.languagetool"):
        assert LanguageTool("http://127.0.0.1:9", timeout=0.5)(TEXT, "en") == []
    assert "checked without it" in caplog.text


def test_unset_url_means_no_client() -> None:
    assert connect(None) is None and connect("  ") is None
    assert isinstance(connect("http://lt:8010"), LanguageTool)
