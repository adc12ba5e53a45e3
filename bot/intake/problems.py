"""The one error type of the file intake: a bad file, value or option, told by the catalogue's `import.<key>`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.i18n import DEFAULT_LANGUAGE, t


class ImportProblem(ValueError):
    """A bad file, value or --map option, told by the catalogue's `import.<key>`.

    `str()` is the sentence in `lang`; `message(lang)` tells it in another. A parameter may be a function of
    the language, for the parts of a sentence that are words themselves ("a list", "une liste").
    """

    def __init__(self, key: str, /, lang: str = DEFAULT_LANGUAGE, **params: Any):
        self.key, self.params = key, params
        super().__init__(self.message(lang))

    def message(self, lang: str) -> str:
        params = {name: value(lang) if callable(value) else value for name, value in self.params.items()}
        return t(f"import.{self.key}", lang, **params)


def words(key: str) -> Callable[[str], str]:
    """A catalogue sentence as a parameter of another one, told in the reader's language."""
    return lambda lang: t(key, lang)


def show(value: Any) -> str:
    """A cell's value quoted for an error message, cut at 40 characters."""
    text = str(value)
    return repr(text if len(text) <= 40 else text[:39] + "…")
