"""bench/steady.py must not rot: its three measures run here at smoke sizes on SQLite."""

from __future__ import annotations

from bench import steady
from bench.common import Section


def test_the_steady_bench_runs(tmp_path):
    section = Section("steady")
    steady.run(section, tmp_path, kinds=["sqlite"], stories_n=300, mentions_n=200)
    names = [f.name for f in section.figures]
    assert any(n.startswith("First request after a restart") for n in names)
    assert sum(n.startswith("Outbox: the lanes' heads") for n in names) == 3
    assert all(f.value is not None and f.value >= 0 for f in section.figures)
    memory = next(f for f in section.figures if f.name.startswith("Story index memory"))
    assert "300 stories" in memory.note  # every stored story loaded, none recomputed
    loaded = next(f for f in section.figures if f.name.startswith("… the whole index loaded"))
    assert "0 shapes recomputed" in loaded.note and "200/200 found again" in loaded.note
