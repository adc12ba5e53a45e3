"""French typography in test expectations: Vigie writes a no-break space before « : ; ! ? » and inside « »
(U+00A0 before « : » and inside « », U+202F before « ; ! ? », as bot/i18n/__init__.py says).

`fr("Journée calme : rien")` is the expected text as a French reader sees it, written with ordinary spaces for
readability. It changes only the expectation: code that wrote a plain space would still fail the comparison.
"""

from __future__ import annotations

import re

NBSP, NNBSP = "\u00a0", "\u202f"
# Spans where a colon or a question mark is not punctuation: placeholders ({x}, {{json}}), emoji codes
# (:warning:), addresses (https://…, sqlite:///…), times and ISO dates (14:02, 09:30:00+01:00, HH:MM), code spans,
# Slack entities (<@U1>, <!here>), literal values in ASCII quotes ("team:legal") and identifiers (connections:write).
NOT_PROSE = re.compile(r"\{\{.*?\}\}|\{[^{}]*\}|:[a-z0-9_+\-]+:|[a-z][a-z0-9+.\-]*://\S*|\d:\d\d(?::\d\d)?|[A-Z]{2}:[A-Z]{2}"
                       r"|`[^`]*`|<[^<>]*>|\"[^\"\n]*\"|\b[a-z_]+:[a-z_]+")


def fr(text: str) -> str:
    masked = NOT_PROSE.sub(lambda m: "\0" * len(m.group()), text)
    out: list[str] = []
    for i, (c, o) in enumerate(zip(masked, text, strict=True)):
        if c in ":;!?»" and out and out[-1] == " ":
            out[-1] = NBSP if c in ":»" else NNBSP
        if c == " " and i and masked[i - 1] == "«":
            out.append(NBSP)
            continue
        out.append(o)
    return "".join(out).replace("n° ", "n°" + NBSP)


def _unescape(s: str) -> str:
    return s.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def _escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def fix_po(path: str) -> int:
    """Rewrite the msgstr lines of a French .po file with `fr` (plain spaces before « : ; ! ? » and inside « »
    become no-break spaces), leaving everything else byte for byte; the number of lines changed. For entries
    added by other branches:  python -m tests.typography bot/i18n/fr/LC_MESSAGES/vigie.po"""
    lines = open(path, encoding="utf-8").read().split("\n")
    changed, in_msgstr, header = 0, False, False
    for i, line in enumerate(lines):
        if line.startswith("msgid "):
            header = line == 'msgid ""'
        match = re.match(r'^(msgstr(?:\[\d\])? )"(.*)"$', line)
        if match or (in_msgstr and line.startswith('"')):
            in_msgstr = True
            if header:
                continue
            prefix, body = (match.group(1), match.group(2)) if match else ("", line[1:-1])
            new = f'{prefix}"{_escape(fr(_unescape(body)))}"'
            changed += new != line
            lines[i] = new
        else:
            in_msgstr = False
    open(path, "w", encoding="utf-8").write("\n".join(lines))
    return changed


if __name__ == "__main__":
    import sys

    for name in sys.argv[1:]:
        print(name, fix_po(name), "lines changed")
