"""The protocol's problems: one `ProtocolIssue` per mistake, told as a sentence from the catalogues.

Sentences come from `protocol.error.<key>`, in the file's own `language` when the file could be read that far,
else in French; `ProtocolError.in_language` gives them in another one. Each issue keeps a stable `code`:
pydantic's error type, or ours ("slack_channel", "yaml_tab"...).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from pydantic_core import PydanticCustomError

from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, t

__all__ = ["Loc", "ProtocolError", "ProtocolIssue"]


def _error(code: str, key: str | None = None, /, **params: Any) -> PydanticCustomError:
    """A validation error whose sentence is the catalogue's `protocol.error.<key>` (key: `code` by default).

    pydantic's own message is the English sentence, for code that validates a model outside parse_protocol;
    ProtocolIssue renders it again in the file's language from `params`.
    """
    key = key or code
    if params.get("suggestion"):  # a "did you mean ...?" variant
        key += ".suggest"
    return PydanticCustomError(code, t(f"protocol.error.{key}", "en"), {**params, "message_key": key})



Loc = tuple[str | int, ...]  # a place in the file: ("teams", "finance", "channel"), ("routing", 2)


@dataclass(frozen=True)
class ProtocolIssue:
    """One problem: where (`field`, `line`), what (`code`, stable) and the sentence's `key` and `params`."""

    field: str  # "teams.finance.channel", "routing[2].patterns[0]"; "" for the file as a whole
    line: int | None  # 1-based
    code: str  # pydantic's error type ("missing", "extra_forbidden"...) or ours ("slack_channel", "yaml_tab"...)
    params: tuple[tuple[str, Any], ...] = ()
    key: str = ""  # the catalogue key after "protocol.error."; `code` when empty
    lang: str = DEFAULT_LANGUAGE

    @property
    def message(self) -> str:
        """The sentence in `lang`."""
        params = dict(self.params)
        if params.get("known") == "":
            params["known"] = t("protocol.error.none", self.lang)
        if "choices" in params:  # "'fr' or 'en'", "'fr' ou 'en'"
            *first, last = params.pop("choices")
            params["expected"] = f" {t('protocol.error.or', self.lang)} ".join(filter(None, [", ".join(first), last]))
        return t(f"protocol.error.{self.key or self.code}", self.lang, **params)

    def format(self, filename: str) -> str:
        where = f"{filename}:{self.line}" if self.line is not None else filename
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


def _issue(field: str, line: int | None, code: str, key: str | None = None, /, **params: Any) -> ProtocolIssue:
    return ProtocolIssue(field, line, code, tuple(params.items()), key or code)


class ProtocolError(Exception):
    """The protocol file cannot be used; `issues` says where and why, one sentence each, in `lang`."""

    def __init__(self, issues: Iterable[ProtocolIssue], filename: str = "<string>", lang: str | None = None):
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self.issues = sorted((replace(i, lang=self.lang) for i in issues), key=lambda i: (i.line or 0, i.field))
        self.filename = filename
        super().__init__(str(self))

    def in_language(self, lang: str) -> ProtocolError:
        """The same problems told in `lang` (e.g. `vigie protocol check --lang en`)."""
        return ProtocolError(self.issues, self.filename, lang)

    def __str__(self) -> str:
        return "\n".join(issue.format(self.filename) for issue in self.issues)


def _format_path(path: Loc) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
