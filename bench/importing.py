"""`python -m bench import`: rows per second of `vigie import --history` over a generated 100,000-row export
(target ≥ 5,000 rows/s), beside a floor measured in the same run: reading the same file with the same parser
and storing nothing. The ratio import/floor says what storage costs, whatever the machine's speed."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import ROOT, Section, dialect_name, fresh_database
from tests.conftest import TEST_PROTOCOL

TARGET = 5_000.0


def export(path: Path, n: int, *, language: bool = False, prefix: str = "r") -> Path:
    """A generic semicolon export: distinct texts (one in 50 an exact copy of one post), a month ago; with
    `language`, a language column as vendors' exports have (then nothing is detected)."""
    start = datetime.now(UTC) - timedelta(days=30)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("id;url;auteur;contenu;date;portée" + (";langue\n" if language else "\n"))
        for i in range(n):
            text = (f"Le colis {i} est arrivé en retard à l'agence {i % 97}, merci de vérifier la commande {i * 7919}"
                    if i % 50 else "Acme bloque les livraisons de toute la région depuis ce matin, c'est inadmissible")
            fh.write(f"{prefix}{i};https://x.example/{prefix}/{i};@user{i % 5000};{text};"
                     f"{(start + timedelta(seconds=i)).isoformat()};{i % 10000}" + (";fr\n" if language else "\n"))
    return path


def _floor(path: Path) -> float:
    from bot.intake.files import LineError, read_mentions

    began = time.perf_counter()
    with read_mentions(path, fmt=None, mapping=None, source="bench", default_timezone="Europe/Paris",
                       lang="fr", preset=None) as reader:
        n = sum(1 for _, item in reader if not isinstance(item, LineError))
    return n / (time.perf_counter() - began)


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (and theirs, once waited for): user + system."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run(section: Section, database_url: str, *, rows: int, tmp: Path) -> None:
    path = export(tmp / "export.csv", rows)
    with_language = export(tmp / "export-lang.csv", rows, language=True, prefix="l")
    env = {**os.environ, "DATABASE_URL": database_url, "VIGIE_PROTOCOL_FILE": str(TEST_PROTOCOL),
           "PYTHONPATH": str(ROOT)}
    for name in ("SLACK_BOT_TOKEN", "SLACK_API_URL"):
        env.pop(name, None)
    subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], env=env, check=True, capture_output=True)
    floor = _floor(path)

    def timed(file: Path) -> tuple[float, float, str]:
        """Rows a second, and CPU milliseconds a row of the command and its worker processes (whatever the
        machine's load, the figure to compare: the rate moves with the other work on the machine)."""
        began, cpu = time.perf_counter(), _children_cpu()
        # The default batch of a history import (2,000 rows a transaction), as a person would run it.
        done = subprocess.run([sys.executable, "-m", "bot", "import", str(file), "--source", "bench", "--history"],
                              env=env, capture_output=True, text=True)
        seconds, cpu = time.perf_counter() - began, _children_cpu() - cpu
        if done.returncode != 0:
            raise AssertionError(done.stderr[-2000:])
        return rows / seconds, 1000 * cpu / rows, done.stdout.strip().replace("\n", " ")

    rate, cpu, summary = timed(path)
    section.add(f"`vigie import --history`, {rows:,} rows, no language column (whole command, start-up included)",
                rate, "/s", above=TARGET, target="≥ 5,000 rows/s")
    section.add("CPU a row (the command and its workers)", cpu, "ms")
    section.add("Floor: the same file parsed, nothing stored", floor, "/s")
    section.add("Import / floor", 100 * rate / floor, "%")
    lang_rate, lang_cpu, lang_summary = timed(with_language)
    section.add(f"The same with a language column (nothing to detect), {rows:,} more rows", lang_rate, "/s",
                above=TARGET, target="≥ 5,000 rows/s")
    section.add("CPU a row, with a language column", lang_cpu, "ms")
    section.details.update(rows=rows, rate=rate, floor=floor, with_language=lang_rate, cpu_ms=cpu,
                           with_language_cpu_ms=lang_cpu, load=os.getloadavg())
    section.notes += [summary, lang_summary]


def main(argv: list[str] | None = None) -> int:
    import argparse

    from bench.common import machine
    from tests import dbutil

    parser = argparse.ArgumentParser(prog="python -m bench import")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    pg = dbutil.postgres_admin_url()
    m = machine(pg)
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M UTC} — commit {m['commit']}{' (dirty)' if m['dirty'] else ''} — "
          f"{m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB, Python {m['python']}, PostgreSQL {m['postgresql']}")
    with tempfile.TemporaryDirectory(prefix="vigie-bench-import-") as name:
        tmp = Path(name)
        for kind in (["sqlite", "postgresql"] if pg else ["sqlite"]):
            with fresh_database(kind, tmp) as url:
                section = Section(f"Import — {dialect_name(url)}")
                run(section, url, rows=args.rows, tmp=tmp)
                print(f"\n{section.title}")
                for fig in section.figures:
                    print(f"  {fig.name}: {fig.shown()} {fig.verdict()}")
                for note in section.notes:
                    print(f"  {note}")
                print("  load average after: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    return 0
