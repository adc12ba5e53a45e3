"""The container files, read as what they are (no container daemon here, so the image is not built: README,
"Containers"). The system packages go through one script that the Dockerfile and CI both run, so CI proves the
image's install step on every run; these tests keep the three wired together."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import yaml

from bot.config import Settings

ROOT = Path(__file__).parents[1]
SCRIPT = "deploy/system-packages.sh"


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text("utf-8"))
    steps = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            steps.append((word.upper(), rest.strip()))
    return steps


def settings_names() -> set[str]:
    return {field.alias for field in Settings.model_fields.values() if field.alias}


def test_dockerfile_debian_slim_runs_the_ci_script_as_root_then_vigie_as_a_user():
    steps = dockerfile()
    froms = [args for word, args in steps if word == "FROM"]
    assert len(froms) == 1 and re.fullmatch(r"python:3\.1[1-9]+-slim-(bookworm|trixie)", froms[0]), froms
    # The script is copied in and run, without --with-tests (chromium is for the test suite only).
    copies = [args.split() for word, args in steps if word == "COPY"]
    copied = next(dest for *sources, dest in copies if SCRIPT in sources)
    runs = [args for word, args in steps if word == "RUN"]
    assert any(shlex.split(run.split("&&")[0])[0] == copied for run in runs), runs
    assert not any("--with-tests" in run for run in runs)
    assert not any("apt-get install" in run for run in runs), "system packages go through the script only"
    # Everything after the last USER runs as that user, which is not root; nothing is installed after it.
    users = [i for i, (word, _) in enumerate(steps) if word == "USER"]
    assert users, "no USER: the container would run as root"
    last_user = steps[users[-1]][1]
    assert last_user.split(":")[0] not in ("root", "0")
    assert all(word != "RUN" for word, _ in steps[users[-1]:])
    assert any(word == "RUN" and "useradd" in args and last_user in args for word, args in steps)
    # The package is installed (with the PostgreSQL driver) and runs in Socket Mode.
    assert any(word == "RUN" and "pip install" in args and ".[postgres]" in args for word, args in steps)
    command = [args for word, args in steps if word == "CMD"][-1]
    import json

    assert json.loads(command)[:2] == ["vigie", "run"]
    # Every variable the image sets for Vigie is one of its settings.
    env_names = set(re.findall(r"(\b[A-Z][A-Z0-9_]+)=", " ".join(args for word, args in steps if word == "ENV")))
    assert env_names - {"PYTHONUNBUFFERED"} <= settings_names()
    # What the image copies exists (a misspelt path fails the build).
    for *sources, _ in copies:
        for source in sources:
            assert (ROOT / source).exists(), source


def test_compose_runs_vigie_from_env_on_a_healthy_postgresql():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text("utf-8"))
    services = compose["services"]
    db = next(s for s in services.values() if str(s.get("image", "")).startswith("postgres:"))
    db_name = next(name for name, s in services.items() if s is db)
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume = db["volumes"][0].split(":")
    assert volume[1] == "/var/lib/postgresql/data" and volume[0] in compose["volumes"]
    vigie = services["vigie"]
    assert vigie["build"] == "."
    assert vigie["env_file"] == [".env"]
    assert vigie["depends_on"][db_name]["condition"] == "service_healthy"
    # Every variable compose sets for Vigie exists in bot/config.py; the database URL points at the service.
    assert set(vigie["environment"]) <= settings_names(), set(vigie["environment"]) - settings_names()
    url = vigie["environment"]["DATABASE_URL"]
    assert url.startswith("postgresql://") and f"@{db_name}:5432/" in url
    # The same database, user and password on both sides.
    assert url.rsplit("/", 1)[1] == db["environment"]["POSTGRES_DB"]
    assert f"//{db['environment']['POSTGRES_USER']}:{db['environment']['POSTGRES_PASSWORD']}@" in url


def test_ci_runs_the_same_script_with_the_test_packages():
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    calls = [line.strip() for line in ci.splitlines() if SCRIPT in line and not line.strip().startswith("#")]
    assert calls == [f"{SCRIPT} --with-tests"]


def test_the_script_lists_its_packages_and_refuses_what_it_does_not_know():
    script = ROOT / SCRIPT
    subprocess.run(["bash", "-n", str(script)], check=True)
    runtime = subprocess.run([str(script), "--list"], capture_output=True, text=True, check=True).stdout.split()
    with_tests = subprocess.run([str(script), "--with-tests", "--list"], capture_output=True, text=True,
                                check=True).stdout.split()
    assert {"hunspell-fr", "hunspell-en-us", "python3-grammalecte", "fonts-dejavu-core"} <= set(runtime)
    assert "chromium" not in runtime and set(with_tests) - set(runtime) == {"chromium"}
    bad = subprocess.run([str(script), "--everything"], capture_output=True, text=True)
    assert bad.returncode == 2 and "usage" in bad.stderr


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    ignored = (ROOT / ".dockerignore").read_text("utf-8").split()
    assert {".env", ".git", ".venv", "*.db"} <= set(ignored)
