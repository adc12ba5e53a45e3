"""The house's layout holds: import contracts, role folders, module sizes, and the README's map.

These run with the rest of the suite (the README's one test command), and `.ci/run` also calls `lint-imports`
on its own so a broken contract is named in CI's log before the tests start.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
BOT = ROOT / "bot"

# The composition root and the infrastructure every role may use; everything else lives in a role folder.
TOP_LEVEL = {"__init__.py", "__main__.py", "app.py", "runtime.py", "http.py", "edge.py", "server.py", "cli.py",
             "scheduler.py", "config.py", "clock.py", "logs.py", "metrics.py"}
# `cli/` is the composition root's command line (one module per group of commands), not a role.
ROLE_FOLDERS = {"cli", "domain", "protocol", "store", "intake", "usecases", "reports", "outbox", "slack", "i18n",
                "examples", "language"}
MAX_LINES = 600  # a module a newcomer can read in one sitting; split by feature beyond that


def _modules() -> list[Path]:
    return [p for p in [*BOT.rglob("*.py"), *(ROOT / "handlers").rglob("*.py")]
            if "migrations" not in p.parts]


def test_import_contracts_hold() -> None:
    """The contracts in pyproject.toml ([tool.importlinter]): layers, pure rules, thin handlers, pure views."""
    lint = Path(sys.executable).with_name("lint-imports")
    if not lint.exists():
        pytest.skip("import-linter is not installed (it comes with the [test] extra)")
    run = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]  # exit 1 names each broken contract


def test_bot_top_level_holds_only_the_composition_root_and_infrastructure() -> None:
    files = {p.name for p in BOT.iterdir() if p.is_file() and p.suffix == ".py"}
    folders = {p.name for p in BOT.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert files <= TOP_LEVEL, f"move into a role folder: {sorted(files - TOP_LEVEL)}"
    assert folders <= ROLE_FOLDERS, f"a new folder needs its place in the README's map: {sorted(folders - ROLE_FOLDERS)}"


@pytest.mark.parametrize("module", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_600_lines(module: Path) -> None:
    lines = len(module.read_text("utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module.relative_to(ROOT)} has {lines} lines: split it by feature"


@pytest.mark.parametrize("package", sorted({p.parent for p in _modules() if p.name == "__init__.py"}),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_each_folder_says_what_lives_there_and_what_it_may_import(package: Path) -> None:
    doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text("utf-8")))
    assert doc and "import" in doc.lower(), f"{package.relative_to(ROOT)}/__init__.py: two lines, what and imports"


def test_the_readme_map_names_files_that_exist() -> None:
    """Every path in the README's "Where each rule lives" table is a file or folder of the repository."""
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("## Where each rule lives", 1)[1].split("\n## ", 1)[0]
    paths = re.findall(r"`((?:bot|handlers|tests|bench)/[\w/.-]+)`", section)
    assert len(paths) >= 20, "the map names a file for each rule"
    missing = [p for p in paths if not (ROOT / p.split("::")[0]).exists()]
    assert not missing, f"the README's map names files that do not exist: {missing}"
