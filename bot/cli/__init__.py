"""The `vigie` command: run the bot, manage the database and the outbox, post a digest, export the audit trail.

Its parts: `common.py` (the apps, consoles and settings every command shares), `importing.py` (`vigie import`),
`tools.py` (`vigie check`, `vigie feed check`, `vigie protocol check|test`). The composition root's command line:
it may import anything in bot/.
"""

from __future__ import annotations

import sys
import threading
from datetime import UTC
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape as markup

from bot.cli.common import (
    _database,
    _fail,
    _language,
    _plural,
    _runtime,
    _settings,
    _slack_failed,
    _wait_for_signal,
    app,
    audit_app,
    db_app,
    err,
    out,
    outbox_app,
)
from bot.config import ConfigError, terminal_language
from bot.i18n import t
from bot.cli.mrkdwn import plain_text
from bot.store import db


@app.command()
def run(
    port: Annotated[int | None, typer.Option(help="Also serve the intake API, /healthz and /metrics here.")] = None,
    host: Annotated[str, typer.Option(help="Interface for --port.")] = "127.0.0.1",
) -> None:
    """Run the bot in Socket Mode (no public URL needed)."""
    lang = _language()
    settings = _settings("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", lang=lang)
    runtime = _runtime(settings, lang=lang)
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    runtime.start()
    if port is not None:
        from bot.http import build_http_app
        from bot.server import make_server

        server = make_server(build_http_app(runtime, with_slack=False), host=host, port=port, settings=settings)
        threading.Thread(target=server.run, daemon=True, name="vigie-http").start()
    handler = SocketModeHandler(runtime.bolt, settings.slack_app_token.get_secret_value())  # type: ignore[union-attr]
    try:
        handler.connect()
    except Exception as exc:  # apps.connections.open refused the app token, or Slack could not be reached
        runtime.stop()
        _slack_failed(exc, settings.slack_api_url, lang, token="SLACK_APP_TOKEN")
        raise typer.Exit(2) from None
    out.print(t("cli.running", lang, protocol=runtime.protocol_path), markup=False)
    try:
        _wait_for_signal()
    finally:
        handler.close()
        runtime.stop()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
) -> None:
    """Run the bot in HTTP mode: Slack at /slack/events, the intake API, /healthz and /metrics."""
    lang = _language()
    settings = _settings("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", lang=lang)
    runtime = _runtime(settings, lang=lang)
    from bot.http import build_http_app
    from bot.server import make_server

    runtime.start()
    out.print(t("cli.listening", lang, url=f"http://{host}:{port}", protocol=runtime.protocol_path), markup=False)
    try:
        make_server(build_http_app(runtime), host=host, port=port, settings=settings).run()
    finally:
        runtime.stop()


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply database migrations (start-up also does it)."""
    lang = _language()
    settings = _settings(lang=lang)
    engine = db.make_engine(settings.database_url)
    with _database(settings, lang=lang):
        db.upgrade(engine, revision)
        out.print(t("cli.db.revision", lang, revision=db.current_revision(engine)), markup=False)


@db_app.command("current")
def db_current() -> None:
    """Show the database's migration revision."""
    lang = _language()
    settings = _settings(lang=lang)
    with _database(settings, lang=lang):
        revision = db.current_revision(db.make_engine(settings.database_url))
    out.print(revision or t("cli.db.empty", lang), markup=False)



@outbox_app.command("retry")
def outbox_retry() -> None:
    """Queue again the messages Slack refused for a reason a person has since fixed."""
    from bot.clock import SystemClock
    from bot.outbox.queue import retry_failed

    lang = _language()
    settings = _settings(lang=lang)
    with _database(settings, lang=lang):
        n = retry_failed(db.make_engine(settings.database_url), now=SystemClock().now())
    out.print(_plural("cli.outbox.retried", n, lang), markup=False)


@app.command("digest")
def digest(
    team: Annotated[str | None, typer.Option(help="Team key (default: the company-wide digest).")] = None,
    day: Annotated[str | None, typer.Option("--date", help="Local day, YYYY-MM-DD (default: yesterday).")] = None,
    lang: Annotated[str | None, typer.Option(help="Language of the digest and of the messages: fr or en "
                                                  "(default: the protocol's for the digest).")] = None,
    post: Annotated[bool, typer.Option("--post", help="Also post it to Slack (needs SLACK_BOT_TOKEN).")] = False,
    week: Annotated[bool, typer.Option("--week", "--weekly",
                                       help="The weekly summary of the 7 days ending on --date.")] = False,
) -> None:
    """Print the digest of a past day (or, with --week, the summary of the 7 days ending on that day) in the
    terminal; --post also posts it where the daily company-wide digest (or the team's) goes."""
    from datetime import date, timedelta

    language = _language(lang)  # the terminal's messages
    settings = _settings(*(["SLACK_BOT_TOKEN"] if post else []), lang=language)
    runtime = _runtime(settings, lang=language)
    protocol = runtime.protocol
    content = lang or protocol.language  # the digest itself: what its channel reads
    if team is not None and team not in protocol.teams:
        raise _fail(t("cli.digest.unknown_team", language, team=team, teams=", ".join(protocol.teams)))
    try:
        when = date.fromisoformat(day) if day else (
            runtime.clock.now().astimezone(protocol.tz).date() - timedelta(days=1))
    except ValueError:
        raise _fail(t("cli.digest.bad_date", language)) from None
    desk = runtime.digest_desk
    text, blocks = desk.build(team=team, day=when, lang=content, weekly=week)
    out.print(plain_text(desk.as_text(blocks)), markup=False, highlight=False)  # no *bold* or <url|links> here
    if post:
        from bot.outbox.queue import enqueue
        from bot.store.db import session_scope

        with session_scope(runtime.engine) as s:
            for channel in desk.destinations(team):
                enqueue(s, kind="digest", method="chat.postMessage", now=runtime.clock.now(),
                        args={"channel": channel, "text": text[:3000], "blocks": blocks})
        import time as clock

        deadline = clock.monotonic() + 120
        while runtime.vigie.outbox_counts().get("pending") and clock.monotonic() < deadline:
            runtime.worker.run_once()  # deliver now, paced like any other message
            clock.sleep(min(1.0, runtime.worker.seconds_until_due()))
        counts = runtime.vigie.outbox_counts()
        out.print(t("cli.digest.posted", language, sent=_plural("cli.count.sent", counts.get("sent", 0), language),
                    waiting=counts.get("pending", 0)), markup=False)


@audit_app.command("export")
def audit_export(
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (UTC), included.")],
    end: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (UTC), included.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
) -> None:
    """Export the audit trail for a period (who decided what, when, before and after, and why)."""
    from datetime import date, datetime, time, timedelta

    from bot.store.audit import export_audit

    lang = _language()
    try:
        first = date.fromisoformat(start)
        last = date.fromisoformat(end) if end else first
    except ValueError:
        raise _fail(t("cli.audit.bad_date", lang)) from None
    if fmt not in ("csv", "jsonl") or last < first:
        raise _fail(t("cli.audit.bad_options", lang))
    settings = _settings(lang=lang)
    engine = db.make_engine(settings.database_url)
    lo = datetime.combine(first, time(0), tzinfo=UTC)
    hi = datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)
    with _database(settings, lang=lang):
        if output is None:
            count = export_audit(engine, start=lo, end=hi, fmt=fmt, out=sys.stdout)  # type: ignore[arg-type]
        else:
            with open(output, "w", encoding="utf-8", newline="") as fh:
                count = export_audit(engine, start=lo, end=hi, fmt=fmt, out=fh)  # type: ignore[arg-type]
    err.print(_plural("cli.audit.exported", count, lang), markup=False)


def main() -> None:
    try:
        app()
    except ConfigError as exc:  # pragma: no cover - settings errors are caught above; belt and braces
        lang = terminal_language() or "en"
        err.print(f"[red]{markup(t('cli.configuration', lang))}[/red] {markup(exc.message(lang))}")
        sys.exit(2)




# The other commands register themselves on the shared apps when their modules are imported.
from bot.cli import importing, manifest, preview, tools  # noqa: E402,F401
