"""Grammalecte behind a pipe: run by a Python that has `grammalecte` (Debian's python3-grammalecte), never imported.

Grammalecte is GPL-3 and Vigie is MIT, so Vigie only talks to this process: one JSON object per line on stdin
(`{"id": 1, "text": "..."}`), one per line on stdout (`{"id": 1, "errors": [{"start", "end", "rule",
"message", "suggestions"}]}`). The first line written is `{"ready": true}` once the engine is loaded. Standard
library only (plus grammalecte); run as a script: `python3 grammalecte_worker.py`.
"""

import json
import sys

# Typography and layout options off: the spelling check and the people writing replies own those, and they
# would raise an alarm on every ordinary apostrophe or space before a colon.
OFF = ("typo", "apos", "esp", "nbsp", "tab", "maj", "num", "unit", "liga", "mapos", "eepi", "virg", "poncfin",
       "chim", "ocr", "html", "latex", "md", "idrule", "mc", "date")
IGNORED_RULES = ("apostrophe_typographique",)


def main() -> int:
    try:
        import grammalecte
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        sys.stdout.write(json.dumps({"ready": False, "error": f"{type(exc).__name__}: {exc}"}) + "\n")
        sys.stdout.flush()
        return 1
    checker = grammalecte.GrammarChecker("fr")
    engine = checker.getGCEngine()
    engine.setOptions({name: False for name in OFF if name in engine.getOptions()})
    sys.stdout.write(json.dumps({"ready": True}) + "\n")
    sys.stdout.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            errors = []
            offset = 0
            for paragraph in request["text"].split("\n"):  # Grammalecte checks one paragraph at a time
                if paragraph.strip():
                    grammar, _spelling = checker.getParagraphErrors(paragraph, bSpellSugg=False)
                    errors += [
                        {"start": offset + e["nStart"], "end": offset + e["nEnd"], "rule": e["sRuleId"],
                         "message": e["sMessage"], "suggestions": list(e["aSuggestions"])}
                        for e in grammar if e["sRuleId"] not in IGNORED_RULES
                    ]
                offset += len(paragraph) + 1
            reply = {"id": request.get("id"), "errors": errors}
        except Exception as exc:  # noqa: BLE001 - one bad request must not end the worker
            reply = {"id": None, "error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(reply, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
