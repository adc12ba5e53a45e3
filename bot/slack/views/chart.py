"""The digest's small picture: mentions received per day (bars, left axis) and the median time to the
first response per day (a line, right axis), drawn with Pillow. Pure: points and words in, PNG bytes out;
the upload goes through the gateway (`SlackGateway.upload_file`, called by `bot/usecases/digests.py`).

`render_chart` only draws what it is given (every word comes from the caller, already translated; the
picture adds numbers and dates only).

Durations on the right axis read H:MM (0:45, 2:30, 26:00), numbers follow the reader's locale (Babel),
and month names under the day numbers come from Babel's CLDR data for `lang`.
"""

from __future__ import annotations

import functools
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_decimal
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 800, 360
SCALE = 2  # drawn at twice the size, then scaled down: smooth lines and text without an anti-aliasing API

BACKGROUND = (255, 255, 255)
INK = (33, 37, 41)
MUTED = (108, 117, 125)
GRID = (226, 230, 234)
BAR = (76, 120, 168)
LINE = (228, 120, 20)

_COUNT_STEPS = (1, 2, 5)
# Right-axis steps, in minutes: round clock values.
_MINUTE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 180, 240, 360, 480, 720, 1440, 2880, 4320, 10080)


@dataclass(frozen=True)
class DayPoint:
    day: date
    received: int
    first_response_median: timedelta | None  # None: no first response that day


# ---------------------------------------------------------------------------------------------- drawing


FontType = ImageFont.FreeTypeFont | ImageFont.ImageFont

# Pillow's built-in scalable font (Aileron, Pillow >= 10.1) has ASCII glyphs only: "reçues" would show a
# box for "ç". So a Unicode TrueType font already on the machine is preferred (found by file name in the
# system font folders; Debian/Ubuntu: fonts-dejavu-core), and with Pillow's font the text is folded to
# ASCII ("Délai" -> "Delai") rather than drawn with boxes. Nothing is downloaded.
FONT_CANDIDATES: tuple[str, ...] = (
    "DejaVuSans.ttf", "NotoSans-Regular.ttf", "LiberationSans-Regular.ttf", "Arial.ttf", "arial.ttf",
)
_FOLD = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "–": "-", "—": "-",
                       "‘": "'", "’": "'", "“": '"', "”": '"', "«": '"', "»": '"', "…": "...",
                       "\u00a0": " ", "\u202f": " ", "€": "EUR"})


@dataclass(frozen=True)
class _Fonts:
    title: FontType
    label: FontType
    small: FontType
    scale: int  # drawing scale: the bitmap fallback font cannot grow, so it is drawn at 1x
    unicode: bool  # False: fold text to ASCII before drawing


@functools.cache
def _fonts() -> _Fonts:
    for name in FONT_CANDIDATES:
        try:
            return _Fonts(*(ImageFont.truetype(name, size * SCALE) for size in (17, 12, 11)), SCALE, True)
        except OSError:
            continue
    try:
        return _Fonts(*(ImageFont.load_default(size=size * SCALE) for size in (17, 12, 11)), SCALE, False)
    except (TypeError, OSError, ImportError):  # Pillow < 10.1 or no FreeType: the small bitmap font
        font = ImageFont.load_default()
        return _Fonts(font, font, font, 1, False)


def fold_ascii(text: str) -> str:
    """ASCII look-alike of `text` for fonts without accents: "Délai médian — reçues" -> "Delai median - recues"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    out = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return out.encode("ascii", "replace").decode("ascii")


def _locale(lang: str) -> Locale:
    try:
        return Locale.parse((lang or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse("en")


def _nice_top(value: float, steps: Sequence[float], *, ticks: int = 4) -> tuple[float, float]:
    """(axis top, tick step): the smallest round step giving at most `ticks` intervals above `value`."""
    value = max(value, 0.0)
    for step in steps:
        if value <= step * ticks:
            return step * max(1, -(-value // step)), step
    step = steps[-1]
    return step * max(1, -(-value // step)), step


def _count_steps(value: float) -> list[int]:
    out, magnitude = [], 1
    while magnitude <= max(value, 1) * 10:
        out.extend(s * magnitude for s in _COUNT_STEPS)
        magnitude *= 10
    return out


def _hmm(minutes: float) -> str:
    total = round(minutes)
    return f"{total // 60}:{total % 60:02d}"


class _Canvas:
    def __init__(self, fonts: _Fonts):
        self.fonts = fonts
        self.s = scale = fonts.scale
        self.image = Image.new("RGB", (WIDTH * scale, HEIGHT * scale), BACKGROUND)
        self.draw = ImageDraw.Draw(self.image)

    def text(self, x: float, y: float, text: str, font: FontType, fill: tuple[int, int, int], *,
             h: str = "left", v: str = "top") -> tuple[float, float]:
        """Draw at (x, y) in 1x coordinates aligned by h (left/center/right) and v (top/middle/bottom).

        Alignment is computed from textbbox, which works for bitmap and FreeType fonts alike.
        Returns the text's (width, height) in 1x coordinates.
        """
        text = self._printable(text)
        if not text:
            return 0.0, 0.0
        left, top, right, bottom = self.draw.textbbox((0, 0), text, font=font)
        w, hgt = right - left, bottom - top
        px = x * self.s - left - {"left": 0, "center": w / 2, "right": w}[h]
        py = y * self.s - top - {"top": 0, "middle": hgt / 2, "bottom": hgt}[v]
        self.draw.text((px, py), text, font=font, fill=fill)
        return w / self.s, hgt / self.s

    def width(self, text: str, font: FontType) -> float:
        left, _, right, _ = self.draw.textbbox((0, 0), self._printable(text), font=font)
        return (right - left) / self.s

    def _printable(self, text: str) -> str:
        text = " ".join(text.split())  # one line: newlines and tabs from the caller become spaces
        return text if self.fonts.unicode else fold_ascii(text)

    def line(self, points: Sequence[tuple[float, float]], fill: tuple[int, int, int], width: float = 1) -> None:
        self.draw.line([(x * self.s, y * self.s) for x, y in points], fill=fill,
                       width=max(1, round(width * self.s)), joint="curve")

    def rect(self, x0: float, y0: float, x1: float, y1: float, fill: tuple[int, int, int]) -> None:
        self.draw.rectangle((x0 * self.s, y0 * self.s, x1 * self.s, y1 * self.s), fill=fill)

    def dot(self, x: float, y: float, r: float, fill: tuple[int, int, int]) -> None:
        self.draw.ellipse(((x - r) * self.s, (y - r) * self.s, (x + r) * self.s, (y + r) * self.s),
                          fill=fill, outline=BACKGROUND, width=max(1, self.s))

    def png(self) -> bytes:
        image = self.image
        if self.s != 1:
            image = image.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        image.save(buf, format="PNG", optimize=True)
        return buf.getvalue()


def render_chart(
    points: Sequence[DayPoint],
    *,
    title: str,
    received_label: str,
    response_label: str,
    lang: str,
) -> bytes:
    """A WIDTHxHEIGHT PNG: bars = `received` per day (left axis), line = median first response (right axis,
    H:MM). Days are drawn in date order, one slot per point; a None median leaves a gap in the line.
    Empty or all-zero data still gives a valid picture (axes, title and legend)."""
    points = sorted(points, key=lambda p: p.day)
    locale = _locale(lang)
    fonts = _fonts()
    title_font, label_font, small_font = fonts.title, fonts.label, fonts.small
    c = _Canvas(fonts)

    # Title, then the legend on its own row (long translated titles never collide with it).
    c.text(16, 12, title, title_font, INK)
    lx, ly = 16.0, 44.0
    c.rect(lx, ly - 5, lx + 12, ly + 5, BAR)
    lx += 18
    lx += c.text(lx, ly, received_label, label_font, INK, v="middle")[0] + 22
    c.line([(lx, ly), (lx + 20, ly)], LINE, 2.5)
    c.dot(lx + 10, ly, 3.5, LINE)
    c.text(lx + 28, ly, response_label, label_font, INK, v="middle")

    # Scales.
    max_count = max((max(p.received, 0) for p in points), default=0)
    count_top, count_step = _nice_top(max_count, _count_steps(max_count))
    minutes = [None if p.first_response_median is None else max(p.first_response_median.total_seconds(), 0) / 60
               for p in points]
    max_minutes = max((m for m in minutes if m is not None), default=0.0)
    minute_top, minute_step = _nice_top(max_minutes, _MINUTE_STEPS)

    count_labels = [format_decimal(int(count_step * i), locale=locale)
                    for i in range(round(count_top / count_step) + 1)]
    minute_labels = [_hmm(minute_step * i) for i in range(round(minute_top / minute_step) + 1)]
    left = 24 + max(c.width(t, small_font) for t in count_labels)
    right = WIDTH - 24 - max(c.width(t, small_font) for t in minute_labels)
    top, bottom = 70.0, HEIGHT - 46.0
    plot_h = bottom - top

    def y_count(v: float) -> float:
        return bottom - plot_h * (v / count_top)

    def y_minutes(v: float) -> float:
        return bottom - plot_h * (v / minute_top)

    # Grid and both axes' tick labels (the grid follows the left axis; the right axis shares its rows
    # only when both have the same number of intervals, so its labels sit at their own heights).
    for i, label in enumerate(count_labels):
        y = y_count(count_step * i)
        c.line([(left, y), (right, y)], GRID if i else MUTED, 1)
        c.text(left - 6, y, label, small_font, MUTED, h="right", v="middle")
    for i, label in enumerate(minute_labels):
        c.text(right + 6, y_minutes(minute_step * i), label, small_font, LINE, v="middle")

    # Bars and day labels.
    n = len(points)
    if n:
        slot = (right - left) / n
        gap = c.width("28", small_font) + 8  # minimum distance between two day numbers
        month_starts = [i for i, p in enumerate(points) if i == 0 or
                        (p.day.year, p.day.month) != (points[i - 1].day.year, points[i - 1].day.month)]
        last_label_x = -gap
        for i, p in enumerate(points):
            cx = left + slot * (i + 0.5)
            if p.received > 0:
                half = max(slot * 0.32, 1.0)
                c.rect(cx - half, y_count(p.received), cx + half, bottom, BAR)
            # Day numbers: every day when there is room, else as many as fit; a month's first day always,
            # with the month's short name (CLDR, in `lang`) underneath.
            if i in month_starts:
                c.text(cx, bottom + 6, str(p.day.day), small_font, INK, h="center")
                c.text(cx, bottom + 22, format_date(p.day, "LLL", locale=locale), small_font, MUTED, h="left"
                       if i == 0 else "center")
                last_label_x = cx
                continue
            next_start = next((j for j in month_starts if j > i), None)
            clear_of_next = next_start is None or left + slot * (next_start + 0.5) - cx >= gap
            if cx - last_label_x >= gap and clear_of_next:
                c.text(cx, bottom + 6, str(p.day.day), small_font, INK, h="center")
                last_label_x = cx

        # The response line: connected runs of known medians, a dot on every known day.
        run: list[tuple[float, float]] = []
        runs = [run]
        for i, m in enumerate(minutes):
            if m is None:
                run = []
                runs.append(run)
            else:
                run.append((left + slot * (i + 0.5), y_minutes(m)))
        for r in runs:
            if len(r) > 1:
                c.line(r, LINE, 2.5)
        for r in runs:
            for x, y in r:
                c.dot(x, y, 3.5, LINE)

    return c.png()
