"""The run as Markdown, and its place in BENCHMARKS.md (between two markers; the rest of the file, the
analysis and the earlier runs, is written by people and left alone)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.common import Figure, Section

BEGIN, END = "<!-- bench:begin (written by python -m bench) -->", "<!-- bench:end -->"


def _cell(fig: Figure | None) -> str:
    if fig is None:
        return ""
    if fig.met is None:
        return fig.shown()
    return fig.shown() + (" ✓" if fig.met else " ✗")


def _table(sections: list[Section]) -> list[str]:
    """One table for a part measured on one or more databases (one column each)."""
    several = len(sections) > 1
    names: list[str] = []
    for s in sections:
        names += [f.name for f in s.figures if f.name not in names]
    by = [{f.name: f for f in s.figures} for s in sections]
    head = ["Figure", *(s.title.split(" — ")[-1] for s in sections), "Target", "How / notes"] if several else \
        ["Figure", "Value", "Target", "How / notes"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in names:
        figs = [b.get(name) for b in by]
        first = next(f for f in figs if f is not None)
        target = first.target
        notes = "; ".join(dict.fromkeys(f.note for f in figs if f is not None and f.note))
        lines.append("| " + " | ".join([name, *(_cell(f) for f in figs), target, notes.replace("|", "/")]) + " |")
    return lines


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    load = lambda v: "/".join(f"{x:.2f}" for x in v) if v else "?"
    commit = m["commit"] + (" + uncommitted changes in bot/ or handlers/" if m["dirty"] else "")
    out = [
        f"## {results['date']} — commit {commit}{' — QUICK MODE (smoke sizes, not figures)' if results['quick'] else ''}",
        "",
        (f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, {m['os']} (kernel {m['kernel']}), "
        f"Python {m['python']}, PostgreSQL {m['postgresql'] or 'not used'}. Load average (1/5/15 min) "
        f"{load(m['load'])} at the start, {load(results['load_end'])} at the end; the run took "
        f"{results['seconds'] / 60:.1f} min. ✓ target met, ✗ not met."),
        "",
    ]
    parts: dict[str, list[Section]] = {}
    for s in results["sections"]:
        parts.setdefault(s.title.split(" — ")[0], []).append(s)
    for part, sections in parts.items():
        out += [f"### {part}", "", *_table(sections), ""]
        for s in sections:
            out += [f"- {n}" for n in s.notes]
        if any(s.notes for s in sections):
            out.append("")
    if results.get("skipped"):
        out += ["Not measured: " + "; ".join(results["skipped"]) + ".", ""]
    return "\n".join(out).rstrip() + "\n"


def write(path: Path, section: str) -> None:
    """Put `section` between the markers of BENCHMARKS.md (after the first paragraph if they are missing)."""
    current = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    block = f"{BEGIN}\n{section}{END}"
    if BEGIN in current and END in current:
        before, rest = current.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        path.write_text(before + block + after, encoding="utf-8")
        return
    head, sep, tail = current.partition("\n## ")
    path.write_text(head.rstrip() + "\n\n" + block + "\n" + (sep + tail if sep else ""), encoding="utf-8")
