"""`vigie protocol test`: what a protocol does with sample mentions, before it goes live.

Each sample (a CSV row or a JSON line: `text`, `lang`, optionally `source`, `reach`, `author`) gets the triage
the intake gives a mention (`bot.protocol.load.router_for(protocol).triage`): its team, severity and reasons.
When the samples carry `expected_team` / `expected_severity`, each result says whether it agrees. No database,
no Slack: the protocol and the file only.

A file that cannot be used raises `SamplesError` with a catalogue key and its parameters (the line, the
column), so the command tells it as one sentence in the reader's language.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.markup import escape as markup

from bot.domain.workflow import Severity
from bot.i18n import t
from bot.protocol.load import router_for
from bot.protocol.schema import Protocol
from bot.slack.views.cards import render_reason

__all__ = ["Sample", "SampleResult", "SamplesError", "read_samples", "result_json", "table_columns", "table_rows",
           "triage_samples"]

DEFAULT_SOURCE = "sample"


class SamplesError(Exception):
    """A samples file that cannot be used: `key` is the catalogue message (cli.protocol_test.*), `params` its
    values."""

    def __init__(self, key: str, **params: Any):
        super().__init__(key)
        self.key, self.params = key, params


@dataclass(frozen=True)
class Sample:
    line: int  # in the file (a CSV row's first line), for messages
    text: str
    lang: str | None = None
    source: str = DEFAULT_SOURCE
    reach: int | None = None
    author: str | None = None
    expected_team: str | None = None
    expected_severity: str | None = None

    @property
    def has_expectation(self) -> bool:
        return self.expected_team is not None or self.expected_severity is not None


@dataclass(frozen=True)
class SampleResult:
    sample: Sample
    team: str
    severity: str
    reasons: list[dict[str, Any]]

    @property
    def agrees(self) -> bool | None:
        """None when the sample expects nothing; else whether every expectation it gives holds."""
        s = self.sample
        if not s.has_expectation:
            return None
        return (s.expected_team in (None, self.team)) and (s.expected_severity in (None, self.severity))


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _sample(row: dict[str, Any], line: int) -> Sample:
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise SamplesError("cli.protocol_test.no_text", line=line)
    reach_cell = row.get("reach")
    reach: int | None = None
    if isinstance(reach_cell, int) and not isinstance(reach_cell, bool):
        reach = reach_cell
    elif _cell(reach_cell) is not None:
        try:
            reach = int(str(reach_cell).strip().replace("_", "").replace(" ", ""))
        except ValueError:
            raise SamplesError("cli.protocol_test.bad_reach", line=line, value=str(reach_cell)) from None
    if reach is not None and reach < 0:
        raise SamplesError("cli.protocol_test.bad_reach", line=line, value=str(reach_cell))
    return Sample(line=line, text=text, lang=(_cell(row.get("lang")) or "").lower() or None,
                  source=_cell(row.get("source")) or DEFAULT_SOURCE, reach=reach, author=_cell(row.get("author")),
                  expected_team=_cell(row.get("expected_team")), expected_severity=_cell(row.get("expected_severity")))


def _csv_rows(lines: Iterable[str]) -> Iterator[Sample]:
    reader = csv.DictReader(lines)
    if reader.fieldnames is None:
        return
    if "text" not in [name.strip() for name in reader.fieldnames]:
        raise SamplesError("cli.protocol_test.no_text_column", columns=", ".join(reader.fieldnames))
    try:
        for row in reader:
            row = {(k or "").strip(): v for k, v in row.items()}
            if not any(_cell(v) for k, v in row.items() if k):  # a blank line
                continue
            yield _sample(row, reader.line_num)
    except csv.Error as exc:
        raise SamplesError("cli.protocol_test.bad_csv", line=reader.line_num, reason=str(exc)) from None


def _jsonl_rows(lines: Iterable[str]) -> Iterator[Sample]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SamplesError("cli.protocol_test.bad_json", line=number, reason=exc.msg) from None
        if not isinstance(row, dict):
            raise SamplesError("cli.protocol_test.not_an_object", line=number)
        yield _sample(row, number)


def read_samples(path: str | Path) -> list[Sample]:
    """The samples of a .csv (with a header row) or .jsonl file; SamplesError when it cannot be used."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise SamplesError("cli.protocol_test.bad_format", path=str(path))
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            samples = list(_csv_rows(handle) if suffix == ".csv" else _jsonl_rows(handle))
    except OSError as exc:
        raise SamplesError("cli.protocol_test.unreadable", path=str(path), reason=exc.strerror or str(exc)) from None
    except UnicodeDecodeError:
        raise SamplesError("cli.protocol_test.not_utf8", path=str(path)) from None
    if not samples:
        raise SamplesError("cli.protocol_test.empty", path=str(path))
    return samples


def triage_samples(samples: Iterable[Sample], protocol: Protocol) -> list[SampleResult]:
    """Each sample's team, severity and reasons, as the intake would decide them."""
    router = router_for(protocol)
    results = []
    for s in samples:
        decided = router.triage(text=s.text, source=s.source, language=s.lang, reach=s.reach, tags=())
        results.append(SampleResult(s, decided.team, decided.severity.value, [r.to_dict() for r in decided.reasons]))
    return results


def result_json(result: SampleResult) -> dict[str, Any]:
    return {"team": result.team, "severity": result.severity, "reasons": result.reasons}


# --- the table (rich markup: the text of a sample is escaped) ---------------------------------------------------


def table_columns(lang: str, *, with_expected: bool) -> list[str]:
    keys = ["line", "text", "team", "severity", "reasons"] + (["expected"] if with_expected else [])
    return [t(f"cli.protocol_test.column.{key}", lang) for key in keys]


def _severity(value: str | None, lang: str) -> str | None:
    return t(f"severity.{value}", lang).lower() if value in Severity.__members__ else value


def table_rows(results: Iterable[SampleResult], lang: str, *, with_expected: bool) -> Iterator[list[str]]:
    """One row per result: line, text, team, severity and reasons in `lang`, and what was expected (✓ or ✗)."""
    for r in results:
        why = " · ".join(render_reason(reason, lang) for reason in r.reasons if not reason["code"].startswith("lang."))
        row = [str(r.sample.line), markup(r.sample.text), markup(r.team), _severity(r.severity, lang) or "",
               markup(why)]
        if with_expected:
            wanted = " · ".join(filter(None, [r.sample.expected_team, _severity(r.sample.expected_severity, lang)]))
            row.append("" if r.agrees is None else ("✓ " if r.agrees else "[red]✗[/red] ") + markup(wanted))
        yield row
