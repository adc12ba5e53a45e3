"""An optional LanguageTool server (its standard HTTP API, `POST /v2/check`), for companies that run one.

Set VIGIE_LANGUAGETOOL_URL (e.g. http://languagetool:8010) and drafts are also sent there; the matches become
`Finding("grammar", ...)`. Spelling (category TYPOS) and typography are left out: Vigie's spelling check and
its own rules cover them, and two opinions on one word make noise. A server that is down or slow never blocks
a check: the draft is checked without it and one warning is logged.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from bot.domain.checks import Finding

__all__ = ["LanguageTool", "connect"]

log = logging.getLogger(__name__)

LANGUAGES = {"fr": "fr", "en": "en-US"}
IGNORED_CATEGORIES = frozenset({"TYPOS", "TYPOGRAPHY", "CASING", "WHITESPACE", "PUNCTUATION", "STYLE",
                                "REDUNDANCY", "MISC"})


class LanguageTool:
    name = "languagetool"

    def __init__(self, url: str, *, timeout: float = 2.0, client: httpx.Client | None = None) -> None:
        self.url = url.rstrip("/") + "/v2/check"
        self._client = client or httpx.Client(timeout=timeout)

    def matches(self, text: str, language: str) -> list[dict[str, Any]]:
        reply = self._client.post(self.url, data={"text": text, "language": LANGUAGES[language]})
        reply.raise_for_status()
        return list(reply.json().get("matches", []))

    def check(self, text: str, language: str) -> list[Finding]:
        found = []
        for match in self.matches(text, language):
            rule = match.get("rule") or {}
            if (rule.get("category") or {}).get("id") in IGNORED_CATEGORIES:
                continue
            start = int(match["offset"])
            end = start + int(match["length"])
            if not 0 <= start < end <= len(text):
                continue
            suggestions = tuple(r["value"] for r in match.get("replacements", [])[:5] if r.get("value"))
            found.append(Finding("grammar", start, end, text[start:end], suggestions,
                                 {"rule": rule.get("id", ""), "message": match.get("message", ""),
                                  "source": self.name}))
        return found

    def __call__(self, text: str, language: str) -> list[Finding]:
        if language not in LANGUAGES or not text.strip():
            return []
        try:
            return self.check(text, language)
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            log.warning("languagetool: draft checked without it (%s)", exc)
            return []

    def close(self) -> None:
        self._client.close()


def connect(url: str | None) -> LanguageTool | None:
    """A client of `url` (the VIGIE_LANGUAGETOOL_URL setting, read by bot.config), or None when it is not set."""
    url = (url or "").strip()
    if not url:
        return None
    log.info("languagetool: drafts also checked by %s", url)
    return LanguageTool(url)
