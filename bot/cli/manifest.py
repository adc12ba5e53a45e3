"""`vigie manifest`: the Slack app manifest shipped with the package (bot/manifest.yaml, the repository's
manifest.yaml), printed in the terminal's language, for Socket Mode or, with `--http`, for HTTP mode with the
three Request URLs Slack needs filled in (events, interactivity, the slash command: all /slack/events)."""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated, Any

import typer
import yaml

from bot.cli.common import _fail, _language, app, out
from bot.i18n import t

SLACK_PATH = "/slack/events"  # bot.http serves Bolt here: events, interactivity and commands alike


def shipped_manifest() -> dict[str, Any]:
    """The manifest as shipped (package data), bilingual descriptions and all."""
    return yaml.safe_load((files("bot") / "manifest.yaml").read_text(encoding="utf-8"))


def request_url(base: str) -> str:
    """https://host[/prefix] -> https://host[/prefix]/slack/events (given whole, it is kept)."""
    base = base.strip().rstrip("/")
    return base if base.endswith(SLACK_PATH) else base + SLACK_PATH


def manifest_for(lang: str, http: str | None = None) -> dict[str, Any]:
    """The manifest with its shortcuts' and command's words in `lang`; with `http`, set for HTTP mode."""
    manifest = shipped_manifest()
    features = manifest["features"]
    for shortcut in features.get("shortcuts", []):
        key = f"manifest.shortcut.{shortcut['callback_id']}"
        shortcut["name"] = t(f"{key}.name", lang)
        shortcut["description"] = t(f"{key}.description", lang)
    for command in features.get("slash_commands", []):
        key = f"manifest.command.{command['command'].lstrip('/')}"
        command["description"] = t(f"{key}.description", lang)
        command["usage_hint"] = t(f"{key}.usage_hint", lang)
    manifest["display_information"]["description"] = t("manifest.app.description", lang)
    settings = manifest["settings"]
    if http is not None:
        url = request_url(http)
        settings["socket_mode_enabled"] = False
        settings.setdefault("event_subscriptions", {})["request_url"] = url
        settings.setdefault("interactivity", {"is_enabled": True})["request_url"] = url
        for command in features.get("slash_commands", []):
            command["url"] = url
    return manifest


@app.command("manifest")
def manifest(
    http: Annotated[str | None, typer.Option("--http", help="The public https address of `vigie serve`.")] = None,
    lang: Annotated[str | None, typer.Option(help="fr or en (default: the terminal's language).")] = None,
) -> None:
    """Print the Slack app manifest (Socket Mode; with --http, HTTP mode with its three Request URLs)."""
    language = _language(lang)
    if http is not None and not http.strip().lower().startswith("https://"):
        raise _fail(t("cli.manifest.bad_url", language, url=http))
    body = yaml.safe_dump(manifest_for(language, http), sort_keys=False, allow_unicode=True, width=110)
    head = t("cli.manifest.head_http" if http else "cli.manifest.head_socket", language)
    out.print("".join(f"# {line}\n" for line in head.splitlines()) + body, markup=False, highlight=False,
              end="")
