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
  `warnings` says so. A UTF-16 file is refused with a ValueError saying how to re-export it.
- Columns (CSV) or keys (JSONL) are recognised by common names, case- and accent-insensitively (see
  `FIELD_ALIASES`); a `mapping` {vigie_field: column} overrides that, and for JSONL may use a dotted path
  into nested objects ("author.name").
- external_id missing -> the url is the id; author missing -> the url's host name; source missing -> `source`.
- Dates: ISO 8601, "21/11/2026 09:30" (day first), "2026-11-21 09:30:00", RFC 2822, or (JSONL) Unix epoch
  seconds or milliseconds; dates without an offset are in `default_timezone`.
- Reach: "12500", "12 500", "12.500", "12,5K", "1.2M"; tags split on ',', ';' or '|'.

Problems with the file as a whole (unknown format, missing required column, mapped column absent, UTF-16) raise
ImportProblem, a ValueError; file ones (OSError) propagate. Both surface on the first `next()`, since nothing is opened before.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import itertools
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from email.utils import parsedate_to_datetime
from pathlib import PurePath
from types import TracebackType
from typing import IO, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from bot.i18n import DEFAULT_LANGUAGE, t
from bot.intake.feeds import fit_external_id, language_code, link_host
from bot.intake.schema import MAX_TEXT, MentionIn, field_message

FileFormat = Literal["csv", "jsonl"]

_EXTENSIONS: dict[str, FileFormat] = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_DELIMITERS = (",", ";", "\t")  # on a tie (or none at all) the first wins: comma
_FIELDS = tuple(MentionIn.model_fields)

# Names as `_normalize` leaves them (lower case, no accents, '_' between words), best first: a Brandwatch
# export has both "Full Text" and "Snippet" and the full text is the one we want.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "source": ("source", "network", "reseau", "platform"),
    "external_id": ("external_id", "id", "post_id", "guid"),
    "url": ("url", "link", "lien", "permalink"),
    "author": ("author", "auteur", "author_name", "username", "user_name", "screen_name"),
    "text": ("text", "full_text", "content", "contenu", "texte", "message", "snippet"),
    "published_at": ("published_at", "published", "date", "created_at", "publication_date"),
    "language": ("language", "lang", "langue"),
    "reach": ("reach", "audience", "followers", "portee"),
    "tags": ("tags", "tag", "labels"),
}
# Without these a line can never become a mention (source can also come from the `source` argument).
_REQUIRED_COLUMNS = ("text", "url", "published_at")

_DATE_FORMATS = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y")
_SCALE = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}


@dataclass(frozen=True)
class LineError:
    """A line that could not become a mention. `message`: "field: sentence" parts, in the reader's language."""

    line: int
    message: str


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


def _words(key: str) -> Callable[[str], str]:
    return lambda lang: t(key, lang)


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
    ) -> None:
        self.warnings: list[str] = []
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
            lines = self._text_lines(stream)
            yield from self._read_csv(lines) if self._fmt == "csv" else self._read_jsonl(lines)

    def _text_lines(self, stream: IO[bytes] | IO[str]) -> Iterator[str]:
        """Physical lines, line endings kept (the csv module needs them inside quoted fields)."""
        for number, raw in enumerate(stream, start=1):
            if isinstance(raw, str):  # a text stream: its owner already chose the encoding
                line = raw
            else:
                if number == 1:
                    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
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
        header_line = next(lines, None)
        if header_line is None:
            return
        delimiter = max(_DELIMITERS, key=header_line.count)
        # A lone carriage return inside a line (a line break typed in a cell, written unquoted by some tools)
        # makes the csv module refuse the record and then lose track of the next ones: it becomes a space.
        lines = (_lone_cr_to_space(line) for line in lines)
        reader = csv.reader(itertools.chain([_lone_cr_to_space(header_line)], lines), delimiter=delimiter)
        try:
            header = next(reader)
        except csv.Error as exc:
            raise ImportProblem("file.header", self._lang, reason=str(exc)) from exc
        columns = self._csv_columns(header)
        end = reader.line_num
        while True:
            start = end + 1  # the record starts on the line after the previous one ended
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # the C reader resets itself, so the next record is still read
                end = reader.line_num
                yield start, LineError(start, t("import.line.csv_record", self._lang, reason=str(exc)))
                continue
            end = reader.line_num
            if not any(cell.strip() for cell in row):  # blank lines, and the ';;;;' rows Excel leaves
                continue
            if any(cell.strip() for cell in row[len(header) :]):
                name = t("import.line.tab", self._lang) if delimiter == "\t" else repr(delimiter)
                message = t("import.line.cells", self._lang, cells=len(row), columns=len(header), delimiter=name)
                yield start, LineError(start, message)
                continue
            raw = {name: row[index] for name, index in columns.items() if index < len(row)}
            yield start, self._build(start, raw)

    def _csv_columns(self, header: list[str]) -> dict[str, int]:
        """Vigie field -> column index, from the mapping first, then from the usual column names."""
        names = [_normalize(cell) for cell in header]
        columns: dict[str, int] = {}
        for field_name, column in self._mapping.items():
            if column in header:
                columns[field_name] = header.index(column)
            elif _normalize(column) in names:
                columns[field_name] = names.index(_normalize(column))
            else:
                raise ImportProblem("file.mapped_column", self._lang, column=repr(column), field=field_name,
                                    columns=", ".join(header))
        for field_name, aliases in FIELD_ALIASES.items():
            if field_name not in columns:
                taken = set(columns.values())
                found = [names.index(alias) for alias in aliases if alias in names]
                free = [index for index in found if index not in taken]
                if free:
                    columns[field_name] = free[0]

        missing = [name for name in _REQUIRED_COLUMNS if name not in columns]
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
        by_name = {_normalize(key): value for key, value in record.items()}
        raw: dict[str, Any] = {}
        for field_name in _FIELDS:
            if field_name in self._mapping:
                key = self._mapping[field_name]
                found = _lookup(record, key)
                raw[field_name] = by_name.get(_normalize(key)) if found is None else found
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
            "published_at": lambda value: parse_published_at(value, self._timezone),
            "language": parse_language,
            "reach": parse_reach,
            "tags": parse_tags,
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
) -> MentionFileReader:
    """Stream (line, MentionIn | LineError) pairs from a CSV or JSONL export; `.warnings` on the result.

    Sentences (line errors, warnings, whole-file problems) are in `lang`."""
    return MentionFileReader(
        path_or_stream, fmt=fmt, mapping=mapping, source=source, default_timezone=default_timezone, lang=lang
    )


# --- value parsers (also usable by other doors) ----------------------------------------------------------


def parse_published_at(value: Any, default_timezone: tzinfo) -> datetime:
    """A date as exports write it -> aware UTC datetime; naive times are in `default_timezone`."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # Epoch milliseconds (JavaScript, Talkwalker) would be dates tens of thousands of years away.
        seconds = value / 1000 if abs(value) >= 100_000_000_000 else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ImportProblem("value.not_date", value=_show(value)) from None
    text = _as_text(value)
    parsed: datetime | None = None
    with contextlib.suppress(ValueError):
        parsed = datetime.fromisoformat(text)
    for date_format in _DATE_FORMATS:
        if parsed is None:
            with contextlib.suppress(ValueError):
                parsed = datetime.strptime(text, date_format)
    if parsed is None:
        with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError):
            parsed = parsedate_to_datetime(text)
    if parsed is None:
        raise ImportProblem("value.not_date", value=_show(value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_timezone)
    try:
        # Converting here, not in MentionIn, because near year 1 or 9999 it overflows, which pydantic
        # would not turn into a validation error.
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ImportProblem("value.out_of_range", value=_show(value)) from None


def parse_reach(value: Any) -> int:
    """An audience size as exports write it: 12500, "12 500", "12.500", "12,5K", "1.2M" -> int."""
    if isinstance(value, bool):
        # A JSON true is a bad value like any other, reported per line (callers catch ValueError).
        raise ImportProblem("value.not_number", value=_show(value))
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ImportProblem("value.not_whole", value=_show(value))
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
            raise ImportProblem("value.not_audience", value=_show(value))
    if number < 0:
        raise ImportProblem("value.negative", value=_show(value))
    return number


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
        raise ImportProblem("value.language", value=_show(value))
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


def _normalize(name: str) -> str:
    """'Portée' -> 'portee', 'Published At' -> 'published_at', ' Post-ID ' -> 'post_id'."""
    decomposed = unicodedata.normalize("NFKD", name.strip().lower())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")


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
    raise ImportProblem("value.expected_text", kind=_words(kind_key) if kind_key else type(value).__name__)


def _as_long_text(value: Any) -> str:
    # A mention is worth keeping even if an export glued a whole article into it: cut, don't reject.
    text = _as_text(value).replace("\r\n", "\n")  # Windows line breaks inside a quoted cell
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1].rstrip() + "…"


def _show(value: Any) -> str:
    text = str(value)
    return repr(text if len(text) <= 40 else text[:39] + "…")
