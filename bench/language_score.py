"""Scores the language checks against the corpora of bench/corpus/ (issue 13, item 7).

Pure functions over plain data: no import of `bot`, no I/O. Whoever runs the checks (for instance
`vigie check --batch`) passes their findings in; these functions only count.

- `score_checks(rows, predictions)`: `predictions` maps a row id to its findings, each `{"kind", "start",
  "end"}`. An erroneous row is caught when a finding overlaps its error span (a finding whose start or end
  is null is about the whole draft and overlaps everything); a clean row with any finding is a false alarm.
- `score_personal_data(rows, predictions)`: the same for personal data, recall per kind and false
  positives on the negatives.
- `score_severity(rows, predicted_raised)`: the share of strongly negative texts whose severity was
  raised, and the share of positive ones raised by mistake.
- `score_crisis(rows, predicted_crisis)`: recall on crisis texts, false alarms on the others.
- `format_table(result)`: a Markdown table of any of these results, with the issue's targets.

A row without a prediction is an error (ValueError naming it), so that a run that lost lines is not
scored as if it had found nothing; `missing_ok=True` counts such rows as having no finding instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Targets of issue 13.
TARGETS = {
    "homophone": 0.75,
    "agreement": 0.75,
    "typo": 0.95,
    "false_alarms_per_100": 2.0,
    "strong_negative_raised": 0.60,
    "positive_raised": 0.03,
    "personal_data": 0.95,
}


def _pick(predictions: Mapping[str, Any], rid: str, missing_ok: bool, missing: list[str]) -> Any:
    if rid in predictions:
        return predictions[rid]
    missing.append(rid)
    return None


def _raise_missing(missing: list[str], missing_ok: bool) -> None:
    if missing and not missing_ok:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise ValueError(f"no prediction for {len(missing)} row(s): {shown}")


def overlaps(finding: Mapping[str, Any], start: int, end: int, near: int = 0) -> bool:
    """True when the finding touches [start, end). A finding with a null start or end is about the whole
    draft and overlaps everything. An empty finding (start == end) overlaps when it sits inside the span.
    `near` > 0 also accepts a finding separated from the span by at most that many characters (Grammalecte,
    for one, may point at the neighbouring word of a homophone); 0 is strict overlap."""
    fs, fe = finding.get("start"), finding.get("end")
    if fs is None or fe is None:
        return True
    if fe <= fs:
        inside = start <= fs <= end
    else:
        inside = fs < end and start < fe
    if inside or near <= 0:
        return inside
    return max(fs - end, start - max(fe, fs)) <= near


def _kept(findings: Iterable[Mapping[str, Any]] | None, kinds: Iterable[str] | None) -> list[Mapping[str, Any]]:
    findings = list(findings or [])
    if kinds is None:
        return findings
    wanted = set(kinds)
    return [f for f in findings if f.get("kind") in wanted]


def _share(num: int, den: int) -> float | None:
    return num / den if den else None


def score_checks(corpus_rows: Iterable[Mapping[str, Any]], predictions: Mapping[str, Any], *,
                 kinds: Iterable[str] | None = None, near: int = 0, missing_ok: bool = False) -> dict:
    """Recall per error class and false alarms per 100 clean drafts.

    `kinds`, when given, keeps only findings of those kinds (e.g. leave personal-data findings out of a
    grammar score)."""
    kinds = list(kinds) if kinds is not None else None
    classes: dict[str, dict] = {}
    clean = {"total": 0, "false_alarms": 0, "ids": []}
    missing: list[str] = []
    for row in corpus_rows:
        findings = _kept(_pick(predictions, row["id"], missing_ok, missing), kinds)
        if row["class"] == "clean":
            clean["total"] += 1
            if findings:
                clean["false_alarms"] += 1
                clean["ids"].append(row["id"])
            continue
        entry = classes.setdefault(row["class"], {"total": 0, "caught": 0, "missed_ids": []})
        entry["total"] += 1
        caught = all(any(overlaps(f, e["start"], e["end"], near) for f in findings) for e in row["errors"])
        if caught and row["errors"]:
            entry["caught"] += 1
        else:
            entry["missed_ids"].append(row["id"])
    _raise_missing(missing, missing_ok)
    for entry in classes.values():
        entry["recall"] = _share(entry["caught"], entry["total"])
    clean["per_100"] = 100 * clean["false_alarms"] / clean["total"] if clean["total"] else None
    return {"kind": "checks", "classes": classes, "clean": clean, "missing": missing}


def score_personal_data(rows: Iterable[Mapping[str, Any]], predictions: Mapping[str, Any], *,
                        kinds: Iterable[str] | None = None, missing_ok: bool = False) -> dict:
    """Recall per kind (a finding overlapping the span) and false positives on the negatives (any finding)."""
    kinds = list(kinds) if kinds is not None else None
    per_kind: dict[str, dict] = {}
    negatives = {"total": 0, "false_positives": 0, "ids": []}
    missing: list[str] = []
    for row in rows:
        findings = _kept(_pick(predictions, row["id"], missing_ok, missing), kinds)
        if row["positive"]:
            entry = per_kind.setdefault(row["kind"], {"total": 0, "caught": 0, "missed_ids": []})
            entry["total"] += 1
            start, end = row["span"]
            if any(overlaps(f, start, end) for f in findings):
                entry["caught"] += 1
            else:
                entry["missed_ids"].append(row["id"])
        else:
            negatives["total"] += 1
            if findings:
                negatives["false_positives"] += 1
                negatives["ids"].append(row["id"])
    _raise_missing(missing, missing_ok)
    for entry in per_kind.values():
        entry["recall"] = _share(entry["caught"], entry["total"])
    return {"kind": "personal_data", "kinds": per_kind, "negatives": negatives, "missing": missing}


def score_severity(rows: Iterable[Mapping[str, Any]], predicted_raised: Mapping[str, bool], *,
                   missing_ok: bool = False) -> dict:
    """Share of texts raised above the default severity, per human rating; the two that matter are
    strong_negative (should be raised) and positive (should not)."""
    per_rating: dict[str, dict] = {}
    missing: list[str] = []
    for row in rows:
        raised = _pick(predicted_raised, row["id"], missing_ok, missing)
        entry = per_rating.setdefault(row["rating"], {"total": 0, "raised": 0})
        entry["total"] += 1
        if raised:
            entry["raised"] += 1
    _raise_missing(missing, missing_ok)
    for entry in per_rating.values():
        entry["share_raised"] = _share(entry["raised"], entry["total"])
    strong = per_rating.get("strong_negative", {}).get("share_raised")
    positive = per_rating.get("positive", {}).get("share_raised")
    return {"kind": "severity", "ratings": per_rating, "strong_negative_raised": strong,
            "positive_raised": positive, "missing": missing}


def score_crisis(rows: Iterable[Mapping[str, Any]], predicted_crisis: Mapping[str, bool], *,
                 missing_ok: bool = False) -> dict:
    """Recall on crisis texts (inflected forms) and false alarms on negated or unrelated uses."""
    pos = {"total": 0, "caught": 0, "missed_ids": []}
    neg = {"total": 0, "false_alarms": 0, "ids": []}
    missing: list[str] = []
    for row in rows:
        said = _pick(predicted_crisis, row["id"], missing_ok, missing)
        if row["crisis"]:
            pos["total"] += 1
            if said:
                pos["caught"] += 1
            else:
                pos["missed_ids"].append(row["id"])
        else:
            neg["total"] += 1
            if said:
                neg["false_alarms"] += 1
                neg["ids"].append(row["id"])
    _raise_missing(missing, missing_ok)
    return {"kind": "crisis", "recall": _share(pos["caught"], pos["total"]), "positives": pos,
            "false_alarm_rate": _share(neg["false_alarms"], neg["total"]), "negatives": neg, "missing": missing}


# ---------------------------------------------------------------- Markdown

def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def _mark(ok: bool | None) -> str:
    return "" if ok is None else ("✅" if ok else "❌")


def _table(header: list[str], lines: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    out += ["| " + " | ".join(cells) + " |" for cells in lines]
    return "\n".join(out)


def format_table(result: Mapping[str, Any], title: str | None = None) -> str:
    """Markdown for a result of one of the score_* functions, each line with its target when the issue
    sets one (✅ met, ❌ not)."""
    kind = result.get("kind")
    header = ["what", "count", "result", "target", ""]
    lines: list[list[str]] = []
    if kind == "checks":
        for cls in sorted(result["classes"]):
            e = result["classes"][cls]
            target = TARGETS.get(cls)
            ok = None if target is None or e["recall"] is None else e["recall"] >= target
            lines.append([f"{cls} recall", f"{e['caught']}/{e['total']}", _pct(e["recall"]),
                          f"≥ {_pct(target)}" if target is not None else "", _mark(ok)])
        c = result["clean"]
        per = c["per_100"]
        limit = TARGETS["false_alarms_per_100"]
        lines.append(["false alarms per 100 clean drafts", f"{c['false_alarms']}/{c['total']}",
                      "n/a" if per is None else f"{per:.1f}", f"≤ {limit:g}",
                      _mark(None if per is None else per <= limit)])
    elif kind == "personal_data":
        target = TARGETS["personal_data"]
        for k in sorted(result["kinds"]):
            e = result["kinds"][k]
            lines.append([f"{k} recall", f"{e['caught']}/{e['total']}", _pct(e["recall"]), f"≥ {_pct(target)}",
                          _mark(None if e["recall"] is None else e["recall"] >= target)])
        n = result["negatives"]
        lines.append(["false positives on negatives", f"{n['false_positives']}/{n['total']}",
                      str(n["false_positives"]), "0", _mark(n["false_positives"] == 0)])
    elif kind == "severity":
        for rating in ("strong_negative", "negative", "neutral", "positive"):
            e = result["ratings"].get(rating)
            if e is None:
                continue
            target, ok = "", None
            if rating == "strong_negative":
                target = f"≥ {_pct(TARGETS['strong_negative_raised'])}"
                ok = None if e["share_raised"] is None else e["share_raised"] >= TARGETS["strong_negative_raised"]
            elif rating == "positive":
                target = f"≤ {_pct(TARGETS['positive_raised'])}"
                ok = None if e["share_raised"] is None else e["share_raised"] <= TARGETS["positive_raised"]
            lines.append([f"{rating} raised", f"{e['raised']}/{e['total']}", _pct(e["share_raised"]), target,
                          _mark(ok)])
    elif kind == "crisis":
        p, n = result["positives"], result["negatives"]
        lines.append(["crisis texts recognised", f"{p['caught']}/{p['total']}", _pct(result["recall"]), "", ""])
        lines.append(["negated or unrelated texts flagged", f"{n['false_alarms']}/{n['total']}",
                      _pct(result["false_alarm_rate"]), "", ""])
    else:
        raise ValueError(f"not a score result: kind={kind!r}")
    table = _table(header, lines)
    return f"**{title}**\n\n{table}\n" if title else table + "\n"
