"""`python -m bench language`: Vigie's real draft checks over the corpora of bench/corpus/ (issue 13, item 7).

The checks are the ones `vigie check` runs (`bot.usecases.check.DraftChecker`, with the outside grammar tools
found here: Grammalecte in its own process, a LanguageTool server when `--languagetool-url` is given), under the
policy of the shipped example protocol with `bench/corpus/roster.csv` as its roster and the company's own contact
details (`02 98 00 00 00`, contact@ and support@armorine.example) as `checks.allowed_contacts`, the corpus's
phone countries as `checks.phone_regions`, as
bench/corpus/SOURCES.md describes. The findings are scored by `bench/language_score.py`:

- checks_fr.jsonl, checks_en.jsonl: recall per error class, false alarms per 100 clean drafts (any finding on a
  clean draft is a false alarm, a personal-data one included);
- personal_data.jsonl: recall per kind and false positives on the negatives (personal-data findings only: a
  spelling remark on "SIRET" is not a personal-data false positive);
- time per draft (p50, p95), measured around each `check` call after one warm-up draft per language.

It prints a Markdown section and writes it into BENCHMARKS.md between its own markers (`--no-write`: print
only). Severity and sentiment (sentiment_*.jsonl, crisis_words.jsonl) are scored by another runner.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import statistics
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import language_score as score
from bench.common import ROOT, machine
from bot.domain.checks import CheckPolicy
from bot.domain.spelling import get_spellchecker
from bot.protocol.load import EXAMPLE_PROTOCOL, load_protocol
from bot.usecases.check import DraftChecker, finding_json, outside_grammar, policy_of

CORPUS = ROOT / "bench" / "corpus"
BEGIN, END = "<!-- bench:language:begin (written by python -m bench language) -->", "<!-- bench:language:end -->"
COMPANY_CONTACTS = ("02 98 00 00 00", "contact@armorine.example", "support@armorine.example")
# Findings about the wording, not about personal data.
NOT_PERSONAL = frozenset({"spelling", "grammar", "confidential_term", "too_long", "label_not_public"})
P95_TARGET_MS = 300.0


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def roster_names(path: Path = CORPUS / "roster.csv") -> tuple[str, ...]:
    with open(path, encoding="utf-8", newline="") as fh:
        return tuple(row["name"].strip() for row in csv.DictReader(fh) if row.get("name", "").strip())


PHONE_REGIONS = ("FR", "BE", "CH", "GB", "US", "DE")


def bench_policy() -> CheckPolicy:
    """The example protocol's checks, with the corpus's roster and the company's own contact details."""
    policy = policy_of(load_protocol(EXAMPLE_PROTOCOL))
    # The countries whose national phone formats the corpus uses, as a company serving them would list them
    # (`checks.phone_regions`); the default protocol lists France only.
    return dataclasses.replace(policy, employee_names=roster_names(),
                               allowed_contacts=(*policy.allowed_contacts, *COMPANY_CONTACTS),
                               phone_regions=PHONE_REGIONS)


def run_rows(checker: DraftChecker, rows: Iterable[dict[str, Any]]) -> tuple[dict[str, list[dict]], list[float]]:
    """Each row's findings (as `vigie check --json` prints them) and the time each check took, in ms."""
    predictions: dict[str, list[dict]] = {}
    times: list[float] = []
    for row in rows:
        started = time.perf_counter()
        found = checker.check(row["text"], language=row["lang"], network="")
        times.append(1000 * (time.perf_counter() - started))
        predictions[row["id"]] = [finding_json(f) for f in found]
    return predictions, times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q) - 1]


def run(*, languagetool_url: str | None = None) -> dict[str, Any]:
    grammar = outside_grammar(languagetool_url=languagetool_url)
    # Suggestions uncached: every draft pays for its own, as the first check of a new draft does (the product
    # remembers them across checks, which would flatter a corpus that repeats a slip).
    spelling = get_spellchecker()
    checker = DraftChecker(bench_policy(), grammar=grammar, spellchecker=getattr(spelling, "backend", spelling))
    for lang, text in (("fr", "Bonjour, votre colis arrive demain."), ("en", "Hello, your parcel arrives soon.")):
        checker.check(text, language=lang)  # warm-up: dictionaries loaded, the worker's first answer
    # heldout_*: sentences written before the confusion rules and never used to tune them (bench/corpus/heldout.py)
    corpora = {name: read_jsonl(CORPUS / f"{name}.jsonl")
               for name in ("checks_fr", "checks_en", "heldout_fr", "heldout_en", "typos_fr_wikipedia",
                            "personal_data")}
    results: dict[str, Any] = {"grammar": [getattr(g, "name", type(g).__name__) for g in grammar],
                               "spelling": (checker.spellchecker or get_spellchecker()).name,
                               "scores": {}, "times": {}}
    for name, rows in corpora.items():
        predictions, times = run_rows(checker, rows)
        if name == "personal_data":
            personal = sorted({f["kind"] for found in predictions.values() for f in found} - NOT_PERSONAL)
            results["scores"][name] = score.score_personal_data(rows, predictions, kinds=personal)
        else:
            results["scores"][name] = score.score_checks(rows, predictions)
            if name == "checks_fr":  # Grammalecte points at the neighbouring word of some homophones
                results["scores"][name + " (near=1)"] = score.score_checks(rows, predictions, near=1)
        results["times"][name] = times
    return results


def _timing_table(times: dict[str, list[float]]) -> str:
    lines = ["| drafts | count | p50 | p95 | max | target p95 |", "| --- | --- | --- | --- | --- | --- |"]
    every = [t for ts in times.values() for t in ts]
    for name, ts in [*times.items(), ("all", every)]:
        p95 = percentile(ts, 95)
        lines.append(f"| {name} | {len(ts)} | {percentile(ts, 50):.1f} ms | {p95:.1f} ms | {max(ts):.1f} ms | "
                     f"< {P95_TARGET_MS:.0f} ms {'✅' if p95 < P95_TARGET_MS else '❌'} |")
    return "\n".join(lines) + "\n"


def _missed(result: dict[str, Any]) -> str:
    """The ids behind each miss, so whoever improves a check knows where to look."""
    out = []
    for cls, entry in sorted((result.get("classes") or result.get("kinds") or {}).items()):
        if entry["missed_ids"]:
            out.append(f"{cls} missed: {', '.join(entry['missed_ids'])}")
    wrong = (result.get("clean") or result.get("negatives") or {}).get("ids") or []
    if wrong:
        out.append(f"flagged while clean: {', '.join(wrong)}")
    return "".join(f"- {line}\n" for line in out)


def markdown(results: dict[str, Any], info: dict[str, Any]) -> str:
    m = info["machine"]
    grammar = ", ".join(results["grammar"]) or "none (Vigie's own rules only)"
    dirty = " (+ uncommitted changes)" if m["dirty"] else ""
    load = "" if info.get("load") is None else \
        f" Load average {info['load'][0]:.1f} at the start, {info['load'][1]:.1f} at the end (a shared machine)."
    head = (f"### Run of {info['date']} — commit {m['commit']}{dirty}\n\n"
            f"{m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB, {m['os']}, Python {m['python']}.{load} "
            f"`python -m bench language`: the checks of `vigie check` (grammar tools: {grammar}; spelling: "
            f"{results['spelling']}) over bench/corpus/, scored by bench/language_score.py. "
            "Strict scoring counts a finding that overlaps the error; near=1 also counts one on the neighbouring "
            "word (Grammalecte points there on some homophones).\n\n")
    titles = {"checks_fr": "French drafts (checks_fr.jsonl)", "checks_en": "English drafts (checks_en.jsonl)",
              "checks_fr (near=1)": "French drafts, near=1",
              "heldout_fr": "French held-out confusions (heldout_fr.jsonl, not used to write the rules)",
              "heldout_en": "English held-out confusions (heldout_en.jsonl, not used to write the rules)",
              "typos_fr_wikipedia": "French misspellings of a public list (typos_fr_wikipedia.jsonl: word pairs from "
                                    "French Wikipedia, CC BY-SA 4.0; not used to tune the checks)",
              "personal_data": "Personal data (personal_data.jsonl)"}
    body = ""
    for name, result in results["scores"].items():
        body += score.format_table(result, titles.get(name, name)) + "\n"
        if "near" not in name:
            missed = _missed(result)
            body += (f"<details><summary>rows missed or flagged</summary>\n\n{missed}\n</details>\n\n"
                     if missed else "")
    body += "**Time per draft** (one `check` call, warm; the whole corpus, one draft after another)\n\n"
    body += _timing_table(results["times"]) + "\n"
    body += ("Severity agreement with human ratings (sentiment_en/fr.jsonl) and crisis words (crisis_words.jsonl) "
             "are scored by the severity work of issue 13 (another engineer's runner), not here.\n")
    return head + body


def write(path: Path, section: str) -> None:
    """Put `section` between this runner's markers in BENCHMARKS.md (appended when the markers are missing)."""
    current = path.read_text(encoding="utf-8")
    block = f"{BEGIN}\n{section}{END}"
    if BEGIN in current and END in current:
        before, rest = current.split(BEGIN, 1)
        current = before + block + rest.split(END, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(current, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench language", description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-write", action="store_true", help="only print, do not update BENCHMARKS.md")
    parser.add_argument("--json", type=Path, help="also save every raw number (findings' scores, times) here")
    parser.add_argument("--languagetool-url", help="also check with this LanguageTool server")
    args = parser.parse_args(argv)
    load_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    results = run(languagetool_url=args.languagetool_url)
    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    info = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine(None),
            "load": None if load_start is None else (load_start, load_end)}
    text = markdown(results, info)
    print(text)
    if args.json:
        args.json.write_text(json.dumps({**results, **info}, indent=1, default=str), encoding="utf-8")
    if not args.no_write:
        write(ROOT / "BENCHMARKS.md", text)
        print("BENCHMARKS.md updated (Language checks)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
