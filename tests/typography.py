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
