"""Dates as people and tools write them -> an aware UTC instant, or a clear refusal; never a guess.

    parse_date("21/11/2026 9h30", ZoneInfo("Europe/Paris"), "dmy")   -> 2026-11-21 08:30 UTC
    parse_date("01/02/2026 07:15", ZoneInfo("Europe/Paris"), None)   -> ImportProblem: ambiguous, give --date-order

Rules, in the order they are tried:
- Epoch seconds or milliseconds written as text ("1795249800", "1795249800000", "1795249800.5"); sub-seconds
  are dropped.
- ISO 8601 and its common variants ("2026-11-21T09:30:00+01:00", "...000Z", "...+0000", "2026-11-21 09:30:00.0").
- A trailing zone abbreviation (GMT, UTC, CET/CEST, EST/EDT, ET...) or numeric offset wins over `timezone`.
- Numeric day/month/year with '/', '.' or '-', 2- or 4-digit years and an optional time ("9h30", "09:30",
  "9:30 AM", "à 9h30"): the order comes from `date_order`; without it a date is read only when one reading
  is impossible (21/11 can only be day first), and refused when both are possible (05/11/2026).
- Anything with words (month or day names, in French or English: "21-Nov-2026 09:30AM", "samedi 21 novembre
  2026 à 09:30", "1er décembre 2026") goes through dateparser, absolute dates only (no "hier", "il y a 2 h").
- A date without a zone is in `timezone`; a local time that does not exist there (the spring-forward hour)
  is refused, impossible dates (31/11, 24:00) too.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bot.intake.problems import ImportProblem, show

DateOrder = Literal["dmy", "mdy"]
DATE_ORDERS: tuple[DateOrder, ...] = ("dmy", "mdy")


def _fixed(hours: int) -> tzinfo:
    return timezone(timedelta(hours=hours))


# Abbreviations as tools print them. A fixed one means that offset all year (CET is +01:00 even in June);
# "ET"/"PT"/"CT" are the US zones themselves, whose offset depends on the date.
ZONE_ABBREVIATIONS: dict[str, tzinfo] = {
    "Z": UTC, "UTC": UTC, "GMT": UTC, "UT": UTC, "WET": _fixed(0), "WEST": _fixed(1), "BST": _fixed(1),
    "CET": _fixed(1), "CEST": _fixed(2), "MET": _fixed(1), "MEST": _fixed(2), "EET": _fixed(2), "EEST": _fixed(3),
    "EST": _fixed(-5), "EDT": _fixed(-4), "CST": _fixed(-6), "CDT": _fixed(-5), "MST": _fixed(-7),
    "MDT": _fixed(-6), "PST": _fixed(-8), "PDT": _fixed(-7),
    "ET": ZoneInfo("America/New_York"), "CT": ZoneInfo("America/Chicago"), "MT": ZoneInfo("America/Denver"),
    "PT": ZoneInfo("America/Los_Angeles"),
}

_EPOCH = re.compile(r"(\d{9,13})(?:\.\d+)?")
_ZONE_SUFFIX = re.compile(r"(?P<rest>.*?\d)\s*(?:(?P<abbr>[A-Z]{1,4})|(?P<sign>[+-])(?P<hh>\d{2}):?(?P<mm>\d{2}))")
_YMD = re.compile(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})(.*)")
_TIME = r"(?P<h>\d{1,2})(?:[:h](?P<m>\d{2})?(?::(?P<s>\d{2})(?:[.,]\d+)?)?)\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?"
_NUMERIC = re.compile(
    r"(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})"
    rf"(?:(?:\s+(?:à\s+)?|\s*[T,]\s*){_TIME})?",
    re.IGNORECASE,
)
# Fast paths for the shapes exports repeat on every row (dateparser takes about a millisecond each).
_FORMATS = ("%d-%b-%Y %I:%M%p", "%d-%b-%Y %I:%M %p", "%d-%b-%Y", "%b %d, %Y", "%b %d, %Y %I:%M %p")
_DATEPARSER_SETTINGS: dict[str, Any] = {
    "PARSERS": ["absolute-time"],  # no "yesterday", "2 hours ago", no bare timestamps
    "STRICT_PARSING": True,
    "REQUIRE_PARTS": ["day", "month", "year"],
    "PREFER_DAY_OF_MONTH": "first",
}


def parse_date(value: Any, zone: tzinfo, date_order: DateOrder | None = None) -> datetime:
    """A date as written -> aware UTC datetime (see the module docstring); ImportProblem when refused."""
    text = " ".join(str(value).split())
    if not text:
        raise ImportProblem("value.not_date", value=show(value))
    epoch = _EPOCH.fullmatch(text)
    if epoch:
        number = int(epoch[1])
        seconds = number // 1000 if number >= 100_000_000_000 else number
        return datetime.fromtimestamp(seconds, tz=UTC)
    parsed = _parse(text, date_order)
    if parsed is None:
        suffix = _ZONE_SUFFIX.fullmatch(text)
        explicit = _suffix_zone(suffix) if suffix else None
        if explicit is not None:
            rest = suffix["rest"].rstrip(" ,")  # type: ignore[index]
            parsed = _parse(rest, date_order) or _dateparser(rest, date_order)
            if parsed is not None and parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=explicit)
    if parsed is None:
        parsed = _dateparser(text, date_order)
    if parsed is None:
        raise ImportProblem("value.not_date", value=show(value))
    try:
        if parsed.tzinfo is None:
            return _localize(parsed, zone, value)
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ImportProblem("value.out_of_range", value=show(value)) from None


def join_date_time(date: str, time: str) -> str:
    """A date cell and a separate time cell (Meltwater's Date + Time, Agorapulse's Date + Heure) -> one text.

    The time is added only when the date has none of its own (Meltwater CSV repeats it in both)."""
    date, time = date.strip(), time.strip()
    if not time or not date or re.search(r"\d[:h]\d", date):
        return date
    return f"{date} {time}"


def check_date_order(value: str | None, lang: str) -> DateOrder | None:
    """The --date-order option: "dmy", "mdy" (any case) or nothing."""
    if value is None or not value.strip():
        return None
    order = value.strip().lower()
    if order not in DATE_ORDERS:
        raise ImportProblem("option.date_order", lang, value=repr(value), orders=", ".join(DATE_ORDERS))
    return order  # type: ignore[return-value]


# --- the readings -----------------------------------------------------------------------------------------


def _parse(text: str, date_order: DateOrder | None) -> datetime | None:
    """ISO, numeric and fixed English formats; None when none applies (an impossible date raises)."""
    ymd = _YMD.fullmatch(text)
    if ymd:  # 2026/11/21 09:30: year first is never ambiguous
        text = f"{ymd[1]}-{int(ymd[2]):02d}-{int(ymd[3]):02d}{ymd[4]}"
    with contextlib.suppress(ValueError):
        return datetime.fromisoformat(text)
    numeric = _NUMERIC.fullmatch(text)
    if numeric:
        return _numeric(numeric, text, date_order)
    for date_format in _FORMATS:
        with contextlib.suppress(ValueError):
            return datetime.strptime(text, date_format)
    return None


def _numeric(match: re.Match[str], text: str, date_order: DateOrder | None) -> datetime:
    first, second, year = int(match["a"]), int(match["b"]), int(match["y"])
    if len(match["y"]) == 2:
        year += 2000 if year < 70 else 1900
    if date_order is None:
        if first > 12 >= second:
            date_order = "dmy"
        elif second > 12 >= first:
            date_order = "mdy"
        elif first == second:
            date_order = "dmy"  # 05/05: both readings are the same day
        elif first <= 12 and second <= 12:
            raise ImportProblem("value.date_ambiguous", value=show(text))
        else:
            raise ImportProblem("value.date_impossible", value=show(text))
    day, month = (first, second) if date_order == "dmy" else (second, first)
    hour, minute, second_ = int(match["h"] or 0), int(match["m"] or 0), int(match["s"] or 0)
    ampm = (match["ampm"] or "").replace(".", "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            raise ImportProblem("value.date_impossible", value=show(text))
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    try:
        return datetime(year, month, day, hour, minute, second_)
    except ValueError:
        raise ImportProblem("value.date_impossible", value=show(text)) from None


def _suffix_zone(match: re.Match[str]) -> tzinfo | None:
    if match["abbr"]:
        return ZONE_ABBREVIATIONS.get(match["abbr"])
    minutes = int(match["hh"]) * 60 + int(match["mm"])
    return timezone(timedelta(minutes=-minutes if match["sign"] == "-" else minutes))


def _dateparser(text: str, date_order: DateOrder | None) -> datetime | None:
    if not re.search(r"[^\W\d_]", text):  # digits only: the numeric rules above are the whole story
        return None
    import dateparser  # about 0.2 s to load its language data: only when a file needs it

    settings = dict(_DATEPARSER_SETTINGS, DATE_ORDER=(date_order or "dmy").upper())
    try:
        return dateparser.parse(text, languages=["fr", "en"], settings=settings)
    except (ValueError, OverflowError):
        return None


def _localize(naive: datetime, zone: tzinfo, value: Any) -> datetime:
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:  # e.g. 02:30 on spring-forward day
        raise ImportProblem("value.date_gap", value=show(value), zone=str(zone))
    return aware.astimezone(UTC)
