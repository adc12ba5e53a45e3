"""Human names for stored keys (bot.slack.views.names): every known network has a name in both catalogues,
languages are named by Babel in the reader's language, an unknown source is shown as written and escaped."""

from __future__ import annotations

import pytest

from bot.i18n import catalogue
from bot.protocol.schema import DEFAULT_NETWORKS
from bot.slack.views import names


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_known_network_is_named_in_both_languages(lang: str) -> None:
    for name in names.NETWORK_NAMES:
        assert catalogue(lang).get(f"network.{name}"), name
    # Every network a draft may be written for (the draft form's options) has a name, not its key.
    for key in DEFAULT_NETWORKS:
        assert key in names.NETWORK_KEYS, key


def test_names_of_networks_and_sources() -> None:
    assert names.network_name("x", "fr") == names.network_name("Twitter", "en") == "X (Twitter)"
    assert names.network_name("email", "fr") == "e-mail" and names.network_name("other", "en") == "other channel"
    assert names.network_name("glassdoor", "fr") == "Glassdoor"
    assert names.network_name("rss", "fr") == "flux RSS" and names.network_name("rss", "en") == "RSS feed"
    # A vendor's or a feed's own name: as written, a capital first letter when all lower case, escaped.
    assert names.network_name("meltwater", "fr") == "Meltwater"
    assert names.network_name("Google Alerts", "en") == "Google Alerts"
    assert names.network_name("<!here>", "fr") == "&lt;!here&gt;"


def test_languages_by_babel_in_the_readers_language() -> None:
    assert names.language_name("fr", "fr") == "français" and names.language_name("fr", "en") == "French"
    assert names.language_name("en", "fr") == "anglais" and names.language_name("pt-BR", "en") == "Portuguese"
    assert names.language_name("zz", "fr") == "zz"  # unknown: as written
    assert names.label_name("confidential", "fr") == "confidentiel"
