"""Checks the evaluation corpora of bench/corpus/ (see SOURCES.md):

    python -m bench.corpus.validate

Schemas, unique ids, every error span slicing its `wrong` out of the text (and `right` changing it), the
minimum count of each class, and the validity of the NIR, card and IBAN samples (valid positives, invalid
"invalid" negatives, valid SIRET negatives). python-stdnum does the number checks when it is installed;
without it the same rules (Luhn, NIR key, IBAN mod 97 and length) run from the small fallbacks below, and the
output says so. Exit 1 with one line per problem.
"""

from __future__ import annotations

import csv
import json
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path

HERE = Path(__file__).parent

CHECK_MINIMUMS = {
    "fr": {"clean": 100, "homophone": 40, "agreement": 20, "accent": 25, "typo": 25},
    "en": {"clean": 100, "confusion": 30, "typo": 40},
}
PD_POSITIVE_KINDS = ("email", "phone_fr", "phone_foreign", "nir", "card", "iban", "employee_name")
PD_MIN_POSITIVES = 20
PD_MIN_NEGATIVES = 60
RATINGS = ("strong_negative", "negative", "neutral", "positive")
SENTIMENT_MIN = 150
CRISIS_MIN_EACH = 40
SEVERITIES = ("low", "medium", "high", "critical")
TEAMS = ("general", "finance", "legal", "hr")


# ---------------------------------------------------------------- number checks (stdnum, or fallbacks)

def _luhn_ok(digits: str) -> bool:
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _nir_ok(number: str) -> bool:
    if len(number) != 15 or not number[7:].isdigit() or not number[:5].isdigit():
        return False
    dept = number[5:7]
    body = number[:13]
    if dept == "2A":
        body = body.replace("2A", "19", 1)
    elif dept == "2B":
        body = body.replace("2B", "18", 1)
    elif not dept.isdigit():
        return False
    return 97 - int(body) % 97 == int(number[13:])


_IBAN_LENGTHS = {"FR": 27, "DE": 22, "BE": 16, "GB": 22, "ES": 24, "CH": 21, "IT": 27, "NL": 18, "LU": 20,
                 "MC": 27, "PT": 25, "IE": 22, "AT": 20}


def _iban_ok(number: str) -> bool:
    number = number.upper()
    if len(number) != _IBAN_LENGTHS.get(number[:2], -1) or not number.isalnum():
        return False
    moved = number[4:] + number[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


try:  # python-stdnum is the reference (it also checks national parts of some IBANs)
    from stdnum import iban as _std_iban
    from stdnum import luhn as _std_luhn
    from stdnum.fr import nir as _std_nir
    from stdnum.fr import siret as _std_siret

    STDNUM = True

    def luhn_valid(digits: str) -> bool:
        return _std_luhn.is_valid(digits)

    def nir_valid(number: str) -> bool:
        return _std_nir.is_valid(number)

    def iban_valid(number: str) -> bool:
        return _std_iban.is_valid(number)

    def siret_valid(number: str) -> bool:
        return _std_siret.is_valid(number)
except ImportError:  # pragma: no cover - depends on the environment
    STDNUM = False
    luhn_valid, nir_valid, iban_valid = _luhn_ok, _nir_ok, _iban_ok

    def siret_valid(number: str) -> bool:
        return len(number) == 14 and _luhn_ok(number) and _luhn_ok(number[:9])


def compact(value: str) -> str:
    return re.sub(r"[\s.\-/]", "", value)


def _fold(s: str) -> str:
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if not unicodedata.combining(c)).lower().replace("-", " ")


# ---------------------------------------------------------------- readers

def read_jsonl(path: Path, problems: list[str]) -> list[dict]:
    rows = []
    if not path.exists():
        problems.append(f"{path.name}: missing")
        return rows
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                problems.append(f"{path.name}:{n}: empty line")
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{path.name}:{n}: not JSON ({exc})")
                continue
            if not isinstance(row, dict):
                problems.append(f"{path.name}:{n}: not an object")
                continue
            row["_line"] = n
            rows.append(row)
    return rows


def _where(name: str, row: dict) -> str:
    return f"{name}:{row.get('_line', '?')} ({row.get('id', '?')})"


def _common(name: str, rows: list[dict], fields: dict[str, type], problems: list[str]) -> None:
    seen: set[str] = set()
    for row in rows:
        for field, kind in fields.items():
            if field not in row:
                problems.append(f"{_where(name, row)}: field {field!r} missing")
            elif not isinstance(row[field], kind) or (kind is int and isinstance(row[field], bool)):
                problems.append(f"{_where(name, row)}: {field!r} should be {kind.__name__}")
        rid = row.get("id")
        if isinstance(rid, str):
            if rid in seen:
                problems.append(f"{_where(name, row)}: id {rid!r} repeated")
            seen.add(rid)
        if isinstance(row.get("text"), str) and not row["text"].strip():
            problems.append(f"{_where(name, row)}: empty text")


# ---------------------------------------------------------------- per file

def check_checks(lang: str, rows: list[dict], problems: list[str]) -> None:
    name = f"checks_{lang}.jsonl"
    _common(name, rows, {"id": str, "text": str, "lang": str, "class": str, "errors": list, "source": str}, problems)
    allowed = CHECK_MINIMUMS[lang]
    for row in rows:
        where = _where(name, row)
        if row.get("lang") != lang:
            problems.append(f"{where}: lang should be {lang!r}")
        cls, errors, text = row.get("class"), row.get("errors"), row.get("text")
        if cls not in allowed:
            problems.append(f"{where}: unknown class {cls!r} (expected one of {', '.join(allowed)})")
        if not isinstance(errors, list) or not isinstance(text, str):
            continue
        if cls == "clean":
            if errors:
                problems.append(f"{where}: a clean row has no errors")
            continue
        if len(errors) != 1:
            problems.append(f"{where}: exactly one error expected, found {len(errors)}")
            continue
        err = errors[0]
        if not isinstance(err, dict) or set(err) != {"start", "end", "wrong", "right"}:
            problems.append(f"{where}: an error is {{start, end, wrong, right}}")
            continue
        start, end, wrong, right = err["start"], err["end"], err["wrong"], err["right"]
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            problems.append(f"{where}: error span [{start}, {end}) outside the text")
            continue
        if text[start:end] != wrong:
            problems.append(f"{where}: text[{start}:{end}] is {text[start:end]!r}, not {wrong!r}")
        fixed = text[:start] + str(right) + text[end:]
        if fixed == text:
            problems.append(f"{where}: applying {right!r} does not change the text")
    counts = Counter(r.get("class") for r in rows)
    for cls, minimum in allowed.items():
        if counts[cls] < minimum:
            problems.append(f"{name}: {counts[cls]} rows of class {cls!r}, at least {minimum} needed")


def _roster() -> list[str]:
    path = HERE / "roster.csv"
    if not path.exists():
        return []
    with open(path, encoding="utf-8", newline="") as f:
        return [r["name"] for r in csv.DictReader(f) if r.get("name")]


def _names_roster_member(value: str, roster: list[str]) -> bool:
    tokens = _fold(value).replace(".", " ").split()
    titles = {"m", "mme", "mlle", "mr", "mrs", "ms", "dr"}
    for name in roster:
        parts = _fold(name).split()
        if sorted(t for t in tokens if t not in titles) == sorted(parts):
            return True
        # title + surname: the surname is what follows the first given name(s) in the roster
        if tokens and tokens[0] in titles:
            rest = tokens[1:]
            for i in range(1, len(parts)):
                if rest == parts[i:]:
                    return True
    return False


def check_personal_data(rows: list[dict], problems: list[str]) -> None:
    name = "personal_data.jsonl"
    _common(name, rows, {"id": str, "text": str, "lang": str, "kind": str, "positive": bool}, problems)
    roster = _roster()
    if not roster:
        problems.append("roster.csv: missing or without a name column")
    for row in rows:
        where = _where(name, row)
        text, kind, positive, span = row.get("text", ""), row.get("kind"), row.get("positive"), row.get("span", "∅")
        if row.get("lang") not in ("fr", "en"):
            problems.append(f"{where}: lang should be fr or en")
        if span == "∅":
            problems.append(f"{where}: field 'span' missing (null for negatives)")
            continue
        if positive is True:
            if kind not in PD_POSITIVE_KINDS:
                problems.append(f"{where}: positive kind {kind!r} unknown")
            if not (isinstance(span, list) and len(span) == 2 and all(isinstance(x, int) for x in span)
                    and 0 <= span[0] < span[1] <= len(text)):
                problems.append(f"{where}: span should be [start, end] inside the text")
                continue
            value = text[span[0]:span[1]]
            if value != value.strip():
                problems.append(f"{where}: span {value!r} starts or ends with a space")
            flat = compact(value)
            if kind == "nir" and not nir_valid(flat):
                problems.append(f"{where}: {value!r} is not a valid NIR")
            elif kind == "card" and not (13 <= len(flat) <= 19 and luhn_valid(flat)):
                problems.append(f"{where}: {value!r} is not a Luhn-valid card number")
            elif kind == "iban" and not iban_valid(flat):
                problems.append(f"{where}: {value!r} is not a valid IBAN")
            elif kind == "employee_name" and roster and not _names_roster_member(value, roster):
                problems.append(f"{where}: {value!r} names nobody in roster.csv")
            elif kind == "email" and not re.search(r"(@|\bat\b|arobase|\bchez\b|\(at\)|\[at\]|\{at\})", value, re.IGNORECASE):
                problems.append(f"{where}: {value!r} does not look like an e-mail address")
        elif positive is False:
            if span is not None:
                problems.append(f"{where}: a negative has span null")
            digits = re.findall(r"(?:[A-Za-z]{2})?\d[\dA-Za-z .\-]*\d", text)
            if kind == "siret" and not any(siret_valid(compact(d)) for d in re.findall(r"\d[\d ]{12,20}\d", text)):
                problems.append(f"{where}: no valid SIRET in the text")
            elif kind == "luhn_invalid":
                runs = [compact(d) for d in re.findall(r"\d[\d \-]{11,22}\d", text)]
                if not runs or any(luhn_valid(r) for r in runs):
                    problems.append(f"{where}: the number should fail the Luhn check")
            elif kind == "nir_invalid":
                runs = [compact(d) for d in digits if len(compact(d)) == 15]
                if not runs or any(nir_valid(r) for r in runs):
                    problems.append(f"{where}: the number should be an invalid NIR")
            elif kind == "iban_invalid":
                runs = [compact(d) for d in digits if len(compact(d)) >= 15]
                if not runs or any(iban_valid(r) for r in runs):
                    problems.append(f"{where}: the number should be an invalid IBAN")
        else:
            problems.append(f"{where}: positive should be true or false")
    counts = Counter(r.get("kind") for r in rows if r.get("positive") is True)
    for kind in PD_POSITIVE_KINDS:
        if counts[kind] < PD_MIN_POSITIVES:
            problems.append(f"{name}: {counts[kind]} positives of kind {kind!r}, at least {PD_MIN_POSITIVES} needed")
    negatives = sum(r.get("positive") is False for r in rows)
    if negatives < PD_MIN_NEGATIVES:
        problems.append(f"{name}: {negatives} negatives, at least {PD_MIN_NEGATIVES} needed")


def check_sentiment(lang: str, rows: list[dict], problems: list[str]) -> None:
    name = f"sentiment_{lang}.jsonl"
    _common(name, rows, {"id": str, "text": str, "lang": str, "rating": str}, problems)
    for row in rows:
        if row.get("lang") != lang:
            problems.append(f"{_where(name, row)}: lang should be {lang!r}")
        if row.get("rating") not in RATINGS:
            problems.append(f"{_where(name, row)}: rating {row.get('rating')!r} not in {', '.join(RATINGS)}")
    if len(rows) < SENTIMENT_MIN:
        problems.append(f"{name}: {len(rows)} rows, at least {SENTIMENT_MIN} needed")
    counts = Counter(r.get("rating") for r in rows)
    for rating in RATINGS:
        if counts[rating] == 0:
            problems.append(f"{name}: no row rated {rating!r}")


def check_crisis(rows: list[dict], problems: list[str]) -> None:
    name = "crisis_words.jsonl"
    _common(name, rows, {"id": str, "text": str, "lang": str, "crisis": bool, "keyword": str}, problems)
    for row in rows:
        if row.get("lang") not in ("fr", "en"):
            problems.append(f"{_where(name, row)}: lang should be fr or en")
    for value in (True, False):
        n = sum(r.get("crisis") is value for r in rows)
        if n < CRISIS_MIN_EACH:
            problems.append(f"{name}: {n} rows with crisis={str(value).lower()}, at least {CRISIS_MIN_EACH} needed")


def check_triage(problems: list[str]) -> None:
    path = HERE / "triage_samples.csv"
    if not path.exists():
        problems.append("triage_samples.csv: missing")
        return
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != ["text", "lang", "expected_team", "expected_severity"]:
            problems.append(f"triage_samples.csv: columns are {reader.fieldnames}, expected "
                            "text,lang,expected_team,expected_severity")
            return
        rows = list(reader)
    for n, row in enumerate(rows, 2):
        if not row["text"].strip():
            problems.append(f"triage_samples.csv:{n}: empty text")
        if row["lang"] not in ("fr", "en"):
            problems.append(f"triage_samples.csv:{n}: lang {row['lang']!r}")
        if row["expected_team"] not in TEAMS:
            problems.append(f"triage_samples.csv:{n}: team {row['expected_team']!r} not in {', '.join(TEAMS)}")
        if row["expected_severity"] not in SEVERITIES:
            problems.append(f"triage_samples.csv:{n}: severity {row['expected_severity']!r}")
    if len(rows) < 30:
        problems.append(f"triage_samples.csv: {len(rows)} rows, about 40 expected")


def validate(folder: Path = HERE) -> list[str]:
    global HERE
    saved, HERE = HERE, folder
    try:
        problems: list[str] = []
        for lang in ("fr", "en"):
            check_checks(lang, read_jsonl(folder / f"checks_{lang}.jsonl", problems), problems)
            check_sentiment(lang, read_jsonl(folder / f"sentiment_{lang}.jsonl", problems), problems)
        check_personal_data(read_jsonl(folder / "personal_data.jsonl", problems), problems)
        check_crisis(read_jsonl(folder / "crisis_words.jsonl", problems), problems)
        check_triage(problems)
        if not (folder / "SOURCES.md").exists():
            problems.append("SOURCES.md: missing")
        return problems
    finally:
        HERE = saved


def main(argv: list[str] | None = None) -> int:
    folder = Path(argv[0]) if argv else HERE
    problems = validate(folder)
    how = "python-stdnum" if STDNUM else "built-in fallbacks (python-stdnum is not installed)"
    if problems:
        print(f"bench/corpus: {len(problems)} problem(s) (number checks by {how}):", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    print(f"bench/corpus: all corpora valid (number checks by {how})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
