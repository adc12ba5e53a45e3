"""Dates as people and tools write them (tests/fixtures/exports/dates.jsonl), and language cells."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.intake.dates import check_date_order, join_date_time, parse_date
from bot.intake.languages import language_code

CASES = [json.loads(line) for line in (Path(__file__).parents[1] / "fixtures/exports/dates.jsonl").open()]


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case['text']!r}-{case['date_order']}")
def test_dates(case):
    zone = ZoneInfo(case["timezone"])
    if case["expected"] is None:
        with pytest.raises(ValueError):
            parse_date(case["text"], zone, case["date_order"])
    else:
        assert parse_date(case["text"], zone, case["date_order"]).isoformat() == case["expected"], case["note"]


def test_refusals_say_why():
    with pytest.raises(ValueError, match="--date-order"):
        parse_date("01/02/2026 07:15", ZoneInfo("Europe/Paris"))
    with pytest.raises(ValueError, match="heure d'été"):
        parse_date("2026-03-29 02:30", ZoneInfo("Europe/Paris"))


def test_separate_time_column():
    assert join_date_time("21-Nov-2026", "10:05 AM") == "21-Nov-2026 10:05 AM"
    assert join_date_time("21-Nov-2026 09:30AM", "09:30 AM") == "21-Nov-2026 09:30AM"
    assert join_date_time("", "10:05") == ""


def test_date_order_option():
    assert check_date_order("DMY", "en") == "dmy" and check_date_order(None, "en") is None
    with pytest.raises(ValueError, match="ymd"):
        check_date_order("ymd", "en")


@pytest.mark.parametrize(("cell", "code"), [
    ("fr", "fr"), ("fr-FR", "fr"), ("French", "fr"), ("Français", "fr"), ("francais", "fr"), ("fra", "fr"),
    ("fre", "fr"), ("English", "en"), ("Anglais", "en"), ("eng", "en"), ("en_GB", "en"), ("Allemand", "de"),
    ("deu", "de"), ("Spanish", "es"), ("Klingon", None), ("", None), ("xyz", None),
])
def test_language_names_and_codes(cell, code):
    assert language_code(cell) == code
