"""What every benchmark shares: the real `vigie serve` process against the fake Slack, percentiles, the
machine's description, and a target with its verdict."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

ROOT = Path(__file__).parents[1]
if str(ROOT) not in sys.path:  # `python bench/x.py` as well as `python -m bench`
    sys.path.insert(0, str(ROOT))

from bot.store import db
from tests import dbutil
from tests.conftest import BOT_TOKEN, INTAKE_TOKEN
from tests.fakes.slack_api import FakeSlack
from tests.test_restart import free_port, start_server

AUTH = {"Authorization": f"Bearer {INTAKE_TOKEN}"}
TEAM_CHANNELS = ("C0FINANCE1", "C0LEGAL001", "C0HR000001", "C0GENERAL1")
# Slack allows about one chat.postMessage per second per channel and answers 429 + Retry-After beyond it;
# the fake enforces that with a token bucket, without a burst allowance (the strictest reading).
SLACK_RATE, SLACK_BURST = 1.0, 1.0


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank): the smallest value with at least p % of the values at or below."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, -(-len(ordered) * p // 100) - 1)  # ceil(p/100 * n) - 1
    return ordered[int(min(k, len(ordered) - 1))]


@dataclass
class Figure:
    """One measured figure, its target (if the performance issue sets one) and the verdict."""

    name: str
    value: float | None
    unit: str
    target: str = ""
    met: bool | None = None  # None: no target, or not measured
    note: str = ""

    def shown(self) -> str:
        if self.value is None:
            return "not measured"
        v = self.value
        if self.unit == "ms":
            return f"{v:.2f} ms" if v < 1 else f"{v:,.1f} ms" if v < 100 else f"{v:,.0f} ms"
        if self.unit == "s":
            return f"{v:,.2f} s" if v < 10 else f"{v:,.1f} s"
        if self.unit == "/s":
            return f"{v:,.0f} /s"
        if self.unit == "×":
            return f"{v:,.2f}×"
        if self.unit == "MB":
            return f"{v:,.0f} MB"
        return f"{v:,.0f}{(' ' + self.unit) if self.unit else ''}"

    def verdict(self) -> str:
        if not self.target:
            return ""
        if self.met is None:
            return f"{self.target}: not measured"
        return f"{self.target}: met" if self.met else f"{self.target}: **not met**"


@dataclass
class Section:
    """The figures of one part of the bench (e.g. "Intake" on "PostgreSQL")."""

    title: str
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)  # raw numbers, kept in the JSON output
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, value: float | None, unit: str, *, below: float | None = None,
            above: float | None = None, target: str = "", note: str = "") -> Figure:
        met = None
        if value is not None and below is not None:
            met = value < below
        elif value is not None and above is not None:
            met = value >= above
        fig = Figure(name, value, unit, target, met, note)
        self.figures.append(fig)
        return fig


# ---------------------------------------------------------------------------- the app under test


@dataclass
class App:
    """A running `vigie serve` and the fake Slack it talks to."""

    url: str  # base URL of the app
    database_url: str
    slack: FakeSlack
    process: subprocess.Popen
    log: Path

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=kwargs.pop("timeout", 30), **kwargs)

    @property
    def rss_mb(self) -> float | None:
        """The server's current resident memory (Linux /proc), None elsewhere."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        m = re.search(r"VmRSS:\s+(\d+) kB", status)
        return int(m.group(1)) / 1024 if m else None


@contextmanager
def running_app(database_url: str, tmp: Path, *, rate_limited: bool = True, **env: str) -> Iterator[App]:
    """Migrate the database, start the fake Slack (pacing chat.postMessage per channel and chat.update per
    workspace like Slack when `rate_limited`)
    and a real `vigie serve` on a free port with Slack's pace and the default lease."""
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    engine.dispose()
    fake = FakeSlack(token=BOT_TOKEN).start()
    if rate_limited:
        fake.rate_limit(SLACK_RATE, burst=SLACK_BURST)
        # chat.update is Tier 3 for the whole workspace: about 50 a minute, short bursts allowed.
        fake.rate_limit_method("chat.update", 50, burst=5)
    port = free_port()
    settings = {"VIGIE_CHANNEL_INTERVAL": "1.0", "VIGIE_OUTBOX_LEASE": "30", **env}
    server = start_server(database_url, fake.url, port, tmp, **settings)
    try:
        yield App(f"http://127.0.0.1:{port}", database_url, fake, server, tmp / f"server-{port}.log")
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(5)
        fake.stop()


@contextmanager
def fresh_database(kind: str, tmp: Path) -> Iterator[str]:
    """A new SQLite file, or a new PostgreSQL database on VIGIE_TEST_DATABASE_URL's server (dropped after)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        return
    with dbutil.fresh_database(tmp) as url:
        yield url


def dialect_name(database_url: str) -> str:
    return "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"


def wait_until(predicate: Any, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def outbox_counts(engine: Any) -> dict[str, int]:
    with engine.connect() as conn:
        return {status: n for status, n in conn.execute(text("SELECT status, count(*) FROM outbox GROUP BY status"))}


def drained_at(engine: Any, timeout: float) -> float | None:
    """Monotonic time at which no outbox row is pending or being sent, or None after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = outbox_counts(engine)
        if not counts.get("pending") and not counts.get("sending"):
            return time.monotonic()
        time.sleep(0.1)
    return None


def wait_drained(database_url: str, timeout: float) -> None:
    """Let the app deliver what a part queued, so the next part starts on an idle outbox."""
    engine = db.make_engine(database_url)
    try:
        if drained_at(engine, timeout) is None:
            raise AssertionError(f"outbox not drained after {timeout:.0f} s: {outbox_counts(engine)}")
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------- the machine


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def machine(postgres_url: str | None) -> dict[str, Any]:
    cpu = re.search(r"model name\s*:\s*(.+)", _read("/proc/cpuinfo"))
    mem = re.search(r"MemTotal:\s+(\d+) kB", _read("/proc/meminfo"))
    os_name = re.search(r'PRETTY_NAME="([^"]+)"', _read("/etc/os-release"))
    pg = None
    if postgres_url:
        engine = db.make_engine(postgres_url)
        try:
            with engine.connect() as conn:
                pg = conn.execute(text("SHOW server_version")).scalar_one()
        finally:
            engine.dispose()
    git = lambda *args: subprocess.run(["git", *args], check=False, capture_output=True, text=True,
                                       cwd=ROOT).stdout.strip()
    dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", "bot", "handlers"))
    return {
        "cpu": cpu.group(1).strip() if cpu else platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "ram_gib": round(int(mem.group(1)) / 1024 / 1024, 1) if mem else None,
        "os": os_name.group(1) if os_name else platform.platform(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": pg,
        "commit": git("rev-parse", "--short", "HEAD"),
        # The code measured is the working tree: say when it differs from the commit.
        "dirty": dirty,
        "load": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
