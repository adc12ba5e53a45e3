"""Spelling tests run once per backend: hunspell through enchant (skipped, with the install line, when the
system library or dictionaries are missing) and the pip-only pyspellchecker."""

from __future__ import annotations

import pytest

from bot.domain.spelling import EnchantSpellChecker, PySpellChecker, SpellChecker, SpellingUnavailable


def enchant_or_skip() -> SpellChecker:
    try:
        return EnchantSpellChecker()
    except SpellingUnavailable as exc:
        pytest.skip(f"enchant/hunspell backend unavailable ({exc}); "
                    "install Debian libenchant-2-2 hunspell-fr hunspell-en-us and pip pyenchant")


BUILDERS = {"enchant": enchant_or_skip, "pyspellchecker": PySpellChecker}


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def checker(request: pytest.FixtureRequest) -> SpellChecker:
    return BUILDERS[request.param]()
