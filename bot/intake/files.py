"""CSV and JSON Lines exports of monitoring tools (Talkwalker, Brandwatch, Meltwater, spreadsheets) -> `MentionIn`.

    reader = read_mentions("export.csv", source="talkwalker", lang="en")
    for line, item in reader:            # streamed: one record in memory at a time
        if isinstance(item, LineError):  # a bad line is reported and reading goes on
            print(f"line {item.line}: {item.message}")
    print(reader.warnings)               # e.g. "read as Windows-1252", "no id column"

Every sentence (line errors, warnings, whole-file problems) comes from the catalogues (`import.*`), in `lang`
(French by default, like the rest of Vigie).

Rules, so that a human can predict the outcome of an import:
- Format: from the extension (.csv, .tsv, .jsonl, .ndjson) unless `fmt` is given.
- CSV: the delimiter is the most frequent of ',', ';' and tab in the header line (French Excel uses ';');
  line numbers are those an editor shows: header = line 1, a record spanning lines is numbered by its first.
- Encoding: UTF-8 with or without BOM; a line that is not valid UTF-8 is read as Windows-1252 (old Excel) and
  `warnings` says so. A UTF-16 file with its BOM (Excel's "Unicode text", Meltwater's native export) is read.
- Layout: a vendor preset (bot/intake/presets.py) detected from the header, or forced with `preset`; report
  lines above the header are skipped (`skip_rows`, or found automatically); `ignore` lists columns to leave out.
- Columns (CSV) or keys (JSONL) are recognised by common names, case- and accent-insensitively (see
  `FIELD_ALIASES`); a `mapping` {vigie_field: column} overrides that, and for JSONL may use a dotted path
  into nested objects ("author.name").
- external_id missing -> the url is the id; author missing -> the url's host name; source missing -> `source`.
- Dates: see bot/intake/dates.py (ISO 8601, numeric with `date_order`, French and English words, epochs);
  dates without an offset are in `default_timezone`, or in the zone the preset documents (Hootsuite: UTC).
- Reach: "12500", "12 500", "12.500", "12,5K", "1.2M"; tags split on ',', ';' or '|'.

Problems with the file as a whole (unknown format, missing required column, mapped column absent, UTF-16) raise
ImportProblem, a ValueError; file ones (OSError) propagate. Both surface on the first `next()`, since nothing is opened before.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import itertools
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from pathlib import PurePath
from types import TracebackType
from typing import IO, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from bot.i18n import DEFAULT_LANGUAGE, t
from bot.intake.dates import DateOrder, parse_date
from bot.intake.feeds import fit_external_id, link_host
from bot.intake.languages import language_code
from bot.intake.presets import (
    DELIMITERS,
    FIELD_ALIASES,
    HEADER_SCAN,
    REQUIRED_COLUMNS,
    Binding,
    Preset,
    detect_preset,
    find_header,
    get_preset,
    normalize,
    preset_names,
)
from bot.intake.problems import ImportProblem, show, words
from bot.intake.schema import MAX_TEXT, MentionIn, field_message
from bot.intake.signals import sentiment_label

__all__ = ["FIELD_ALIASES", "ImportProblem", "LineError", "MentionFileReader", "parse_mapping", "read_mentions"]

FileFormat = Literal["csv", "jsonl"]

_EXTENSIONS: dict[str, FileFormat] = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_FIELDS = tuple(MentionIn.model_fields)

_SCALE = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}


@dataclass(frozen=True)
class LineError:
    """A line that could not become a mention. `message`: "field: sentence" parts, in the reader's language."""

    line: int
    message: str


def parse_mapping(specs: Iterable[str], lang: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    """CLI options such as ["text=Content", "author=Author Name"] -> {"text": "Content", ...}.

    Raises ImportProblem (a ValueError) told in `lang`."""
    mapping: dict[str, str] = {}
    for spec in specs:
        field_name, equals, column = (part.strip() for part in spec.partition("="))
        if not equals or not field_name or not column:
            raise ImportProblem("map.shape", lang, spec=repr(spec))
        if field_name not in _FIELDS:
            raise ImportProblem("map.not_a_field", lang, spec=repr(spec), field=repr(field_name),
                                fields=", ".join(_FIELDS))
        if field_name in mapping:
            raise ImportProblem("map.twice", lang, spec=repr(spec), field=field_name,
                                column=repr(mapping[field_name]))
        mapping[field_name] = column
    return mapping


class MentionFileReader:
    """Iterator of (line number, MentionIn or LineError) over one export file; see the module docstring.

    `warnings` collects notes about the whole file (encoding fallback, unrecognised columns...) as reading
    goes; read it after the loop. Use it as a context manager, or call `close()`, if you stop early.
    """

    def __init__(
        self,
        path_or_stream: str | os.PathLike[str] | IO[bytes] | IO[str],
        *,
        fmt: FileFormat | None = None,
        mapping: dict[str, str] | None = None,
        source: str | None = None,
        default_timezone: str = "Europe/Paris",
        lang: str = DEFAULT_LANGUAGE,
        preset: str | None = None,
        date_order: DateOrder | None = None,
        skip_rows: int | None = None,
        ignore: Iterable[str] = (),
    ) -> None:
        self.warnings: list[str] = []
        self.preset: Preset | None = None  # the vendor preset used (CSV), once the header is read
        self._forced: Preset | None = None
        self._force_generic = False
        if preset is not None and preset.strip():
            try:
                self._forced = get_preset(preset)
            except KeyError:
                raise ImportProblem("option.preset", lang, name=repr(preset), names=", ".join(preset_names())) from None
            self._force_generic = self._forced is None
        if skip_rows is not None and skip_rows < 0:
            raise ImportProblem("option.skip_rows", lang, value=skip_rows)
        self._date_order, self._skip_rows = date_order, skip_rows
        self._ignore = {normalize(name): name for name in ignore if name.strip()}
        self._offset = 0  # report lines skipped above the header
        self._binding: Binding | None = None
        self._lang = lang
        self._input = path_or_stream
        self._fmt = fmt or _format_from_name(path_or_stream, lang)
        if self._fmt not in _EXTENSIONS.values():
            raise ImportProblem("file.format", lang, format=repr(self._fmt))
        self._mapping = dict(mapping or {})
        unknown = sorted(set(self._mapping) - set(_FIELDS))
        if unknown:
            raise ImportProblem("file.not_fields", lang, names=", ".join(unknown), fields=", ".join(_FIELDS))
        self._source = (source or "").strip() or None
        try:
            self._timezone: tzinfo = ZoneInfo(default_timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ImportProblem("file.timezone", lang, zone=repr(default_timezone)) from exc
        self._date_zone = self._timezone
        self._cp1252_noted = False
        self._items = self._read()

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> tuple[int, MentionIn | LineError]:
        return next(self._items)

    def close(self) -> None:
        """Close the file if we opened it (a stream you passed in stays yours to close)."""
        self._items.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- reading --------------------------------------------------------------------------------------

    def _read(self) -> Iterator[tuple[int, MentionIn | LineError]]:
        with contextlib.ExitStack() as stack:
            if isinstance(self._input, (str, os.PathLike)):
                stream: IO[bytes] | IO[str] = stack.enter_context(open(self._input, "rb"))
            else:
                stream = self._input
            stream = self._utf16(stream, stack)
            lines = self._text_lines(stream)
            yield from self._read_csv(lines) if self._fmt == "csv" else self._read_jsonl(lines)

    def _utf16(self, stream: IO[bytes] | IO[str], stack: contextlib.ExitStack) -> IO[bytes] | IO[str]:
        """A binary stream starting with a UTF-16 BOM -> a text stream decoding it (line endings kept)."""
        if isinstance(stream, io.TextIOBase) or not hasattr(stream, "peek") and not stream.seekable():
            return stream
        if hasattr(stream, "peek"):
            head = stream.peek(2)[:2]
        else:
            head = stream.read(2)
            stream.seek(-len(head), io.SEEK_CUR)
        if not isinstance(head, bytes) or head not in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return stream
        text = io.TextIOWrapper(stream, encoding="utf-16", newline="")  # type: ignore[arg-type]
        stack.callback(text.detach)  # the binary stream stays its owner's to close
        self.warnings.append(t("import.warn.utf16", self._lang))
        return text

    def _text_lines(self, stream: IO[bytes] | IO[str]) -> Iterator[str]:
        """Physical lines, line endings kept (the csv module needs them inside quoted fields)."""
        for number, raw in enumerate(stream, start=1):
            if isinstance(raw, str):  # a text stream: its owner already chose the encoding
                line = raw
            else:
                if number == 1:
                    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # a stream we cannot peek
                        raise ImportProblem("file.utf16", self._lang)
                    raw = raw.removeprefix(codecs.BOM_UTF8)
                line = self._decode(raw, number)
            yield line.removeprefix("\ufeff") if number == 1 else line

    def _decode(self, raw: bytes, number: int) -> str:
        # Line by line, so a file is still streamed: an Excel export in Windows-1252 fails UTF-8 on the
        # first accented line, wherever it is, and real UTF-8 text almost never looks like Windows-1252.
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            if not self._cp1252_noted:
                self._cp1252_noted = True
                self.warnings.append(t("import.warn.cp1252", self._lang, line=number))
            return raw.decode("cp1252", errors="replace")

    def _read_csv(self, lines: Iterator[str]) -> Iterator[tuple[int, MentionIn | LineError]]:
        lines = self._skip_report_lines(lines)
        header_line = next(lines, None)
        if header_line is None:
            return
        delimiter = max(DELIMITERS, key=header_line.count)
        # A lone carriage return inside a line (a line break typed in a cell, written unquoted by some tools)
        # makes the csv module refuse the record and then lose track of the next ones: it becomes a space.
        lines = (_lone_cr_to_space(line) for line in lines)
        reader = csv.reader(itertools.chain([_lone_cr_to_space(header_line)], lines), delimiter=delimiter)
        try:
            header = next(reader)
        except csv.Error as exc:
            raise ImportProblem("file.header", self._lang, reason=str(exc)) from exc
        columns = self._csv_columns(header)
        end = reader.line_num + self._offset
        while True:
            start = end + 1  # the record starts on the line after the previous one ended
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # the C reader resets itself, so the next record is still read
                end = reader.line_num + self._offset
                yield start, LineError(start, t("import.line.csv_record", self._lang, reason=str(exc)))
                continue
            end = reader.line_num + self._offset
            if not any(cell.strip() for cell in row):  # blank lines, and the ';;;;' rows Excel leaves
                continue
            if any(cell.strip() for cell in row[len(header) :]):
                name = t("import.line.tab", self._lang) if delimiter == "\t" else repr(delimiter)
                message = t("import.line.cells", self._lang, cells=len(row), columns=len(header), delimiter=name)
                yield start, LineError(start, message)
                continue
            raw = {name: row[index] for name, index in columns.items() if index < len(row)}
            if self._binding is not None:  # a vendor preset; --map columns still win
                raw = self._binding.fields(row) | raw
            yield start, self._build(start, raw)

    def _skip_report_lines(self, lines: Iterator[str]) -> Iterator[str]:
        """Drop the lines above the header: `skip_rows` of them, or those `find_header` recognises as such."""
        if self._skip_rows is not None:
            skipped = list(itertools.islice(lines, self._skip_rows))
            self._offset = len(skipped)
            return lines
        head = list(itertools.islice(lines, HEADER_SCAN))
        self._offset = find_header(head)
        if self._offset:
            self.warnings.append(t("import.warn.skipped", self._lang, count=self._offset))
        return itertools.chain(head[self._offset :], lines)

    def _csv_columns(self, header: list[str]) -> dict[str, int]:
        """Vigie field -> column index, from the mapping first, then from the preset or the usual names."""
        unknown = [name for key, name in self._ignore.items() if key not in map(normalize, header)]
        if unknown:
            self.warnings.append(t("import.warn.ignore_unknown", self._lang, columns=", ".join(unknown)))
        header = ["" if normalize(cell) in self._ignore else cell for cell in header]
        names = [normalize(cell) for cell in header]
        self.preset = None if self._force_generic else self._forced or detect_preset(header)
        columns: dict[str, int] = {}
        for field_name, column in self._mapping.items():
            if column in header:
                columns[field_name] = header.index(column)
            elif normalize(column) in names:
                columns[field_name] = names.index(normalize(column))
            else:
                raise ImportProblem("file.mapped_column", self._lang, column=repr(column), field=field_name,
                                    columns=", ".join(header))
        if self.preset is not None:
            return self._preset_columns(self.preset, header, columns)
        for field_name, aliases in FIELD_ALIASES.items():
            if field_name not in columns:
                taken = set(columns.values())
                found = [names.index(alias) for alias in aliases if alias in names]
                free = [index for index in found if index not in taken]
                if free:
                    columns[field_name] = free[0]

        missing = [name for name in REQUIRED_COLUMNS if name not in columns]
        if "source" not in columns and self._source is None:
            missing.append("source")
        if missing:
            def looked_for(lang: str) -> str:
                return t("intake.error.separator", lang).join(
                    t("import.file.looked_for", lang, field=name, aliases=", ".join(FIELD_ALIASES[name]))
                    for name in missing
                )

            raise ImportProblem("file.no_column", self._lang, looked_for=looked_for, columns=", ".join(header))
        if "external_id" not in columns:
            self.warnings.append(t("import.warn.no_id", self._lang))
        if "author" not in columns:
            self.warnings.append(t("import.warn.no_author", self._lang))
        ignored = [
            cell for index, cell in enumerate(header) if index not in columns.values() and cell.strip()
        ]
        if ignored:
            self.warnings.append(t("import.warn.unused", self._lang, columns=", ".join(ignored)))
        return columns

    def _preset_columns(self, preset: Preset, header: list[str], columns: dict[str, int]) -> dict[str, int]:
        """Bind the vendor preset; `columns` (from --map) keep the fields they name."""
        self._binding = preset.bind(header)
        if preset.timezone:
            self._date_zone = ZoneInfo(preset.timezone)
        missing = [name for name in self._binding.missing() if name not in columns]
        if missing:
            raise ImportProblem("file.preset_columns", self._lang, preset=preset.name, fields=", ".join(missing),
                                columns=", ".join(header))
        self.warnings.append(t("import.warn.preset", self._lang, preset=preset.label))
        used = self._binding.used() | set(columns.values())
        ignored = [cell for index, cell in enumerate(header) if index not in used and cell.strip()]
        if ignored:
            self.warnings.append(t("import.warn.unused", self._lang, columns=", ".join(ignored)))
        return columns

    def _read_jsonl(self, lines: Iterator[str]) -> Iterator[tuple[int, MentionIn | LineError]]:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line.rstrip("\r\n"))  # so an error at the end is on this line
            except json.JSONDecodeError as exc:
                # The json module's reason ("Expecting value") stays in its own words.
                yield number, LineError(number, t("import.line.json", self._lang, reason=exc.msg, column=exc.colno))
                continue
            except (ValueError, RecursionError) as exc:  # absurd nesting or 5000-digit numbers
                yield number, LineError(number, t("import.line.json_other", self._lang, reason=type(exc).__name__))
                continue
            if not isinstance(record, dict):
                kind = t("import.kind.list", self._lang) if isinstance(record, list) else json.dumps(record)[:40]
                yield number, LineError(number, t("import.line.not_object", self._lang, kind=kind))
                continue
            yield number, self._build(number, self._json_fields(record))

    def _json_fields(self, record: dict[str, Any]) -> dict[str, Any]:
        by_name = {normalize(key): value for key, value in record.items()}
        raw: dict[str, Any] = {}
        for field_name in _FIELDS:
            if field_name in self._mapping:
                key = self._mapping[field_name]
                found = _lookup(record, key)
                raw[field_name] = by_name.get(normalize(key)) if found is None else found
            else:
                raw[field_name] = next(
                    (by_name[alias] for alias in FIELD_ALIASES[field_name] if alias in by_name), None
                )
        return raw

    # --- one line -> one mention ----------------------------------------------------------------------

    def _build(self, line: int, raw: dict[str, Any]) -> MentionIn | LineError:
        converters: dict[str, Callable[[Any], Any]] = {
            "source": _as_text,
            "external_id": lambda value: fit_external_id(_as_text(value)),
            "url": _as_text,
            "author": _as_text,
            "text": _as_long_text,
            "published_at": lambda value: parse_published_at(value, self._date_zone, self._date_order),
            "language": parse_language,
            "reach": parse_reach,
            "tags": parse_tags,
            "engagement": parse_engagement,
            "sentiment": sentiment_label,  # a value no tool means as a sentiment is unknown, not an error
        }
        data: dict[str, Any] = {}
        errors: list[str] = []
        failed: set[str] = set()
        for field_name, convert in converters.items():
            value = raw.get(field_name)
            if _is_blank(value):
                continue
            try:
                data[field_name] = convert(value)
            except ValueError as exc:
                reason = exc.message(self._lang) if isinstance(exc, ImportProblem) else str(exc)
                errors.append(t("intake.error.field", self._lang, field=field_name, message=reason))
                failed.add(field_name)

        given = set(data)
        if "source" not in given and "source" not in failed and self._source is not None:
            data["source"] = self._source
        url = data.get("url")
        if isinstance(url, str):
            if "external_id" not in given and "external_id" not in failed:
                data["external_id"] = fit_external_id(url)
            if "author" not in given and "author" not in failed and link_host(url):
                data["author"] = link_host(url)
        try:
            mention = MentionIn.model_validate(data)
        except ValidationError as exc:
            url_broken = "url" in failed or any(error["loc"][:1] == ("url",) for error in exc.errors())
            # An id or author that had to come from a broken url would only repeat the url's error.
            from_url = {"external_id", "author"} - given if url_broken else set()
            ignore = failed | from_url
            errors += [
                t("intake.error.field", self._lang, field=".".join(map(str, error["loc"])) or "value",
                  message=field_message(error, self._lang))
                for error in exc.errors(include_url=False)
                if not (error["loc"] and error["loc"][0] in ignore)
            ]
        if errors:
            return LineError(line, t("intake.error.separator", self._lang).join(errors))
        return mention


def read_mentions(
    path_or_stream: str | os.PathLike[str] | IO[bytes] | IO[str],
    *,
    fmt: FileFormat | None = None,
    mapping: dict[str, str] | None = None,
    source: str | None = None,
    default_timezone: str = "Europe/Paris",
    lang: str = DEFAULT_LANGUAGE,
    preset: str | None = None,
    date_order: DateOrder | None = None,
    skip_rows: int | None = None,
    ignore: Iterable[str] = (),
) -> MentionFileReader:
    """Stream (line, MentionIn | LineError) pairs from a CSV or JSONL export; `.warnings` on the result.

    `preset`: a vendor layout name (see bot/intake/presets.py; default: detected from the header, "generic"
    to use the usual column names); `date_order`: "dmy" or "mdy" for dates like 05/11/2026; `skip_rows`:
    lines above the header (default: found automatically); `ignore`: columns to leave out.
    Sentences (line errors, warnings, whole-file problems) are in `lang`."""
    return MentionFileReader(
        path_or_stream, fmt=fmt, mapping=mapping, source=source, default_timezone=default_timezone, lang=lang,
        preset=preset, date_order=date_order, skip_rows=skip_rows, ignore=ignore,
    )


# --- value parsers (also usable by other doors) ----------------------------------------------------------


def parse_published_at(value: Any, default_timezone: tzinfo, date_order: DateOrder | None = None) -> datetime:
    """A date as exports write it -> aware UTC datetime; naive times are in `default_timezone`."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # Epoch milliseconds (JavaScript, Talkwalker) would be dates tens of thousands of years away.
        seconds = value / 1000 if abs(value) >= 100_000_000_000 else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ImportProblem("value.not_date", value=show(value)) from None
    return parse_date(_as_text(value), default_timezone, date_order)


def parse_reach(value: Any) -> int:
    """An audience size as exports write it: 12500, "12 500", "12.500", "12,5K", "1.2M" -> int."""
    if isinstance(value, bool):
        # A JSON true is a bad value like any other, reported per line (callers catch ValueError).
        raise ImportProblem("value.not_number", value=show(value))
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ImportProblem("value.not_whole", value=show(value))
        number = int(value)
    else:
        text = re.sub(r"[\s'’]", "", _as_text(value)).lower()  # "12 500" (also with NBSP), "12'500"
        scaled = re.fullmatch(r"([0-9]+(?:[.,][0-9]+)?)([kmb])", text)
        if scaled:  # with a suffix, ',' or '.' can only be the decimal mark
            number = round(Decimal(scaled[1].replace(",", ".")) * _SCALE[scaled[2]])
        elif re.fullmatch(r"[0-9]{1,3}([.,])[0-9]{3}(\1[0-9]{3})*", text):  # "12,500", "1.234.567"
            number = int(re.sub(r"[.,]", "", text))
        elif re.fullmatch(r"[0-9]+([.,]0+)?", text):  # "12500", and "12500.0" from pandas
            number = int(re.split(r"[.,]", text)[0])
        else:
            raise ImportProblem("value.not_audience", value=show(value))
    if number < 0:
        raise ImportProblem("value.negative", value=show(value))
    return number


def parse_engagement(value: Any) -> int | None:
    """Engagement counted like an audience ("1,2K", "12 500"); a value that is no count (a rate, "12.5") is
    unknown rather than an error: it is a signal, the mention is stored without it."""
    try:
        return parse_reach(value)
    except ValueError:
        return None


def parse_tags(value: Any) -> list[str]:
    """Tags split on ',', ';' or '|' (or a JSON list), stripped, deduplicated, in order."""
    items = (
        [_as_text(item) for item in value] if isinstance(value, list) else re.split(r"[,;|]", _as_text(value))
    )
    tags: list[str] = []
    for item in items:
        tag = item.strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def parse_language(value: Any) -> str:
    code = language_code(_as_text(value))
    if code is None:
        raise ImportProblem("value.language", value=show(value))
    return code


# --- small helpers ----------------------------------------------------------------------------------------


def _format_from_name(path_or_stream: object, lang: str) -> FileFormat:
    if isinstance(path_or_stream, (str, os.PathLike)):
        name: object = os.fspath(path_or_stream)
    else:
        name = getattr(path_or_stream, "name", None)
    suffix = PurePath(name).suffix.lower() if isinstance(name, str) else ""
    if suffix not in _EXTENSIONS:
        raise ImportProblem("file.extension", lang, name=repr(name))
    return _EXTENSIONS[suffix]


def _lone_cr_to_space(line: str) -> str:
    body = line.rstrip("\r\n")
    return body.replace("\r", " ") + line[len(body):]




def _lookup(record: dict[str, Any], key: str) -> Any:
    """record[key], or a dotted path into nested objects ("author.name"); None when absent."""
    if key in record:
        return record[key]
    value: Any = record
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _is_blank(value: Any) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # JSON ids are often numbers
    kind_key = {bool: "import.kind.bool", list: "import.kind.list", dict: "import.kind.object"}.get(type(value))
    raise ImportProblem("value.expected_text", kind=words(kind_key) if kind_key else type(value).__name__)


def _as_long_text(value: Any) -> str:
    # A mention is worth keeping even if an export glued a whole article into it: cut, don't reject.
    text = _as_text(value).replace("\r\n", "\n")  # Windows line breaks inside a quoted cell
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1].rstrip() + "…"


