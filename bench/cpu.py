"""CPU time spent on a measured stretch by a server process and, on PostgreSQL, by the database backends
serving its database (Linux /proc: utime + stime of each process, in clock ticks). Backends are found in
pg_stat_activity by database name; one that appears during the stretch counts from zero, one that ends
during it loses what it spent since the first reading (the pools here keep their connections)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.store import db

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu(pid: int) -> float | None:
    """Seconds of CPU the process has used (user + system), None when it cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": field 3 is fields[0]
    return (int(fields[11]) + int(fields[12])) / _TICK


class CpuMeter:
    """`start()` then `stop()`: CPU seconds of `server_pid` (and its database's backends) in between."""

    def __init__(self, server_pid: int, database_url: str):
        self.server_pid = server_pid
        self.postgres = database_url.startswith("postgresql")
        self.engine: Any = db.make_engine(database_url, pool_size=1, max_overflow=0) if self.postgres else None
        self._before: dict[int, float] = {}

    def _backends(self) -> list[int]:
        if self.engine is None:
            return []
        with self.engine.connect() as conn:
            return [int(p) for p in conn.execute(text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend'")).scalars()]

    def _read(self) -> dict[int, float]:
        out = {}
        for pid in [self.server_pid, *self._backends()]:
            value = process_cpu(pid)
            if value is not None:
                out[pid] = value
        return out

    def start(self) -> None:
        self._before = self._read()

    def stop(self) -> dict[str, float]:
        after = self._read()
        server = after.get(self.server_pid, 0.0) - self._before.get(self.server_pid, 0.0)
        backends = sum(v - self._before.get(pid, 0.0) for pid, v in after.items() if pid != self.server_pid)
        return {"server": server, "database": backends, "total": server + backends}

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
