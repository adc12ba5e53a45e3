"""Handlers depend on `bot.runtime` only: never on the composition root that imports them, nor on storage or
the rules (which a use case applies). Imports under TYPE_CHECKING count too. And the runtime they are given
is built complete: nothing can be set on it afterwards."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

import handlers
from bot.runtime import Runtime

FORBIDDEN = ("bot.app", "bot.http", "bot.cli", "bot.scheduler", "bot.store", "bot.domain")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(Path(handlers.__file__).parent.glob("*.py")), ids=lambda p: p.name)
def test_a_handler_imports_neither_the_root_nor_the_store_nor_the_domain(path):
    modules = imported_modules(path)
    assert not {m for m in modules if m.startswith(FORBIDDEN)}
    if "Runtime" in path.read_text(encoding="utf-8"):
        assert "bot.runtime" in modules


def test_the_runtime_cannot_be_rewired_after_construction(runtime):
    assert isinstance(runtime, Runtime)
    with pytest.raises(dataclasses.FrozenInstanceError):
        runtime.escalation = None  # type: ignore[misc]
    # Every use case is built, always: none is optional.
    assert all(getattr(runtime, f.name) is not None for f in dataclasses.fields(Runtime) if f.name != "bolt")
