"""French grammar from Grammalecte, kept in its own long-lived process (it is GPL-3; Vigie is MIT).

`start_grammalecte(python)` runs Grammalecte with the given Python (the VIGIE_GRAMMALECTE_PYTHON setting, by default
/usr/bin/python3 where Debian's python3-grammalecte installs it), starts `grammalecte_worker.py` with it and
waits for the engine to load; it returns None and logs one line when Grammalecte is not there, and the checks
run without it. A `Grammalecte` is thread-safe (one request at a time on the pipe), restarts its worker when
the worker has died, and gives up on a request after `timeout` seconds (the draft is then checked without it).
"""

from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bot.domain.checks import Finding

__all__ = ["DEFAULT_PYTHON", "Grammalecte", "GrammalecteUnavailable", "start_grammalecte"]

log = logging.getLogger(__name__)

DEFAULT_PYTHON = "/usr/bin/python3"
WORKER = Path(__file__).with_name("grammalecte_worker.py")
START_TIMEOUT = 20.0  # loading the engine takes ~0.3 s; a busy shared machine may take much longer


class GrammalecteUnavailable(RuntimeError):
    """The worker could not be started (no such Python, or it cannot import grammalecte)."""


class Grammalecte:
    """A client of one worker process. Call it like a grammar checker: `checker(text, "fr") -> [Finding]`."""

    name = "grammalecte"

    def __init__(self, python: str = DEFAULT_PYTHON, *, timeout: float = 2.0,
                 start_timeout: float = START_TIMEOUT) -> None:
        self.python = python
        self.timeout = timeout
        self.start_timeout = start_timeout
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self._next_id = 0
        self.restarts = 0  # how many times a dead or stuck worker was replaced
        with self._lock:
            self._start()

    # --- the process ----------------------------------------------------------------------------------------

    def _start(self) -> None:
        try:
            proc = subprocess.Popen(
                # -I: isolated, so neither PYTHONPATH nor this folder (which has its own grammalecte.py) is on
                # the worker's path; -X utf8: the pipe speaks UTF-8 whatever the locale.
                [self.python, "-I", "-X", "utf8", str(WORKER)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True,
            )
        except OSError as exc:
            raise GrammalecteUnavailable(f"cannot run {self.python}: {exc}") from exc
        self._proc, self._buffer = proc, b""
        try:
            hello = self._read(time.monotonic() + self.start_timeout)
        except (TimeoutError, EOFError) as exc:
            self._kill()
            raise GrammalecteUnavailable(f"{self.python} {WORKER.name}: {exc or type(exc).__name__}") from exc
        if not hello.get("ready"):
            self._kill()
            raise GrammalecteUnavailable(f"{self.python} cannot load grammalecte: {hello.get('error')}")

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
        if proc is not None:
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def close(self) -> None:
        with self._lock:
            self._kill()

    def _read(self, deadline: float) -> dict[str, Any]:
        """One JSON line from the worker, read straight from the pipe so `select` sees every byte waiting."""
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError("no answer from the Grammalecte worker in time")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise EOFError("the Grammalecte worker has exited")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def _ask(self, text: str) -> list[dict[str, Any]]:
        if self._proc is None or self._proc.poll() is not None:
            self._kill()
            self.restarts += 1
            self._start()
        assert self._proc is not None and self._proc.stdin is not None
        self._next_id += 1
        self._proc.stdin.write(json.dumps({"id": self._next_id, "text": text}).encode() + b"\n")
        self._proc.stdin.flush()
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                return list(reply.get("errors", []))
            if "error" in reply and reply.get("id") is None:
                raise ValueError(reply["error"])

    # --- checking -------------------------------------------------------------------------------------------

    def errors(self, text: str) -> list[dict[str, Any]]:
        """Grammalecte's grammar errors on `text`; a dead worker is restarted once, a stuck one killed."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    return self._ask(text)
                except TimeoutError:  # (an OSError too: caught first) stuck: the next draft gets a fresh worker
                    self._kill()
                    raise
                except (EOFError, OSError) as exc:  # died: restart it and ask again, once
                    self._kill()
                    if attempt == 2:
                        raise GrammalecteUnavailable(f"the Grammalecte worker keeps failing: {exc}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def check(self, text: str) -> list[Finding]:
        return [
            Finding("grammar", e["start"], e["end"], text[e["start"]:e["end"]], tuple(e["suggestions"][:5]),
                    {"rule": e["rule"], "message": e["message"], "source": self.name})
            for e in self.errors(text)
            if 0 <= e["start"] < e["end"] <= len(text)
        ]

    def __call__(self, text: str, language: str) -> list[Finding]:
        """Findings for a French draft, none for other languages; a failure here never blocks a check."""
        if language != "fr" or not text.strip():
            return []
        try:
            return self.check(text)
        except (TimeoutError, GrammalecteUnavailable, ValueError) as exc:
            log.warning("grammalecte: draft checked without it (%s)", exc)
            return []


def start_grammalecte(python: str | None = None, **options: Any) -> Grammalecte | None:
    """A running Grammalecte, or None (logged once) when it is not installed for that Python.

    `python` is the VIGIE_GRAMMALECTE_PYTHON setting (read by bot.config), /usr/bin/python3 by default.
    """
    python = python or DEFAULT_PYTHON
    try:
        checker = Grammalecte(python, **options)
    except GrammalecteUnavailable as exc:
        log.info("grammalecte: absent, French grammar checked by Vigie's own rules only (%s)", exc)
        return None
    log.info("grammalecte: found, worker pid %s run by %s", checker.pid, python)
    return checker


if __name__ == "__main__":  # pragma: no cover - a quick manual try: python -m bot.language.grammalecte TEXT
    found = start_grammalecte()
    print(found(" ".join(sys.argv[1:]), "fr") if found else "grammalecte absent")
