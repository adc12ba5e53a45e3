"""The `vigie` command: run the bot, manage the database, check the protocol, import files."""

from __future__ import annotations

import signal
import sys
import threading
from datetime import UTC
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot import db
from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure

app = typer.Typer(help="Vigie: social-media monitoring turned into a disciplined response, in Slack.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
protocol_app = typer.Typer(help="The response protocol file.", no_args_is_help=True)
outbox_app = typer.Typer(help="Slack messages waiting to be delivered.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(protocol_app, name="protocol")
audit_app = typer.Typer(help="The audit trail: every decision, append-only.", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")
app.add_typer(audit_app, name="audit")
out = Console(soft_wrap=True)  # never break a path or an error line in two
err = Console(stderr=True, soft_wrap=True)


def _settings(*required: str) -> Settings:
    try:
        settings = load_settings()
        settings.require(*required)
    except ConfigError as exc:
        err.print(f"[red]Configuration:[/red] {exc}")
        raise typer.Exit(2) from None
    configure(settings.log_level, settings.log_format)
    return settings


def _runtime(settings: Settings):  # type: ignore[no-untyped-def]
    from slack_bolt.error import BoltError

    from bot.app import build_runtime
    from bot.protocol import ProtocolError

    try:
        return build_runtime(settings)
    except ProtocolError as exc:
        err.print(f"[red]The protocol file has errors:[/red]\n{exc}")
        raise typer.Exit(2) from None
    except (BoltError, OSError) as exc:  # auth.test failed: revoked or mistyped token, or Slack unreachable
        err.print(f"[red]Configuration:[/red] Slack refused SLACK_BOT_TOKEN or could not be reached at "
                  f"{settings.slack_api_url} ({str(exc)[:200]}): check the token and SLACK_API_URL.")
        raise typer.Exit(2) from None


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


@app.command()
def run(
    port: Annotated[int | None, typer.Option(help="Also serve the intake API, /healthz and /metrics here.")] = None,
    host: Annotated[str, typer.Option(help="Interface for --port.")] = "127.0.0.1",
) -> None:
    """Run the bot in Socket Mode (no public URL needed)."""
    settings = _settings("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
    runtime = _runtime(settings)
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    runtime.start()
    if port is not None:
        import uvicorn

        from bot.http import build_http_app

        server = uvicorn.Server(uvicorn.Config(build_http_app(runtime, with_slack=False), host=host, port=port,
                                               log_level="warning"))
        threading.Thread(target=server.run, daemon=True, name="vigie-http").start()
    handler = SocketModeHandler(runtime.bolt, settings.slack_app_token.get_secret_value())  # type: ignore[union-attr]
    handler.connect()
    out.print(f"Vigie is running in Socket Mode (protocol: {runtime.protocol_path}).")
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
    settings = _settings("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    runtime = _runtime(settings)
    import uvicorn

    from bot.http import build_http_app

    runtime.start()
    out.print(f"Vigie is listening on http://{host}:{port} (protocol: {runtime.protocol_path}).")
    try:
        uvicorn.run(build_http_app(runtime), host=host, port=port, log_level="warning")
    finally:
        runtime.stop()


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply database migrations (start-up also does it)."""
    settings = _settings()
    engine = db.make_engine(settings.database_url)
    db.upgrade(engine, revision)
    out.print(f"Database at revision {db.current_revision(engine)}.")


@db_app.command("current")
def db_current() -> None:
    """Show the database's migration revision."""
    settings = _settings()
    out.print(db.current_revision(db.make_engine(settings.database_url)) or "(empty database)")


@protocol_app.command("check")
def protocol_check(file: Annotated[Path, typer.Argument(help="The protocol YAML file.", exists=False)]) -> None:
    """Validate a protocol file; errors name the field and the line."""
    from bot.protocol import ProtocolError, load_protocol

    try:
        protocol = load_protocol(file)
    except ProtocolError as exc:
        err.print(f"[red]{file} has {len(exc.issues)} error(s):[/red]")
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(1) from None
    out.print(f"[green]{file} is valid:[/green] {len(protocol.teams)} teams, {len(protocol.routing)} routing rules, "
              f"{len(protocol.feeds)} feeds.")


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="CSV or JSON Lines export of a monitoring tool.")],
    fmt: Annotated[str | None, typer.Option("--format", help="csv or jsonl (default: from the extension).")] = None,
    mapping: Annotated[list[str] | None, typer.Option("--map", help="FIELD=COLUMN, e.g. --map text=Contenu.")] = None,
    source: Annotated[str | None, typer.Option(help="Source for rows that have none.")] = None,
    batch_size: Annotated[int, typer.Option(help="Mentions stored per transaction.")] = 200,
) -> None:
    """Import mentions from a file: every valid line is kept, every bad line reported with its number."""
    from bot.intake.files import LineError, parse_mapping, read_mentions

    if not file.is_file():
        err.print(f"[red]No file at {file}.[/red]")
        raise typer.Exit(2)
    if fmt not in (None, "csv", "jsonl"):
        err.print("[red]--format must be csv or jsonl.[/red]")
        raise typer.Exit(2)
    try:
        columns = parse_mapping(mapping or [])
    except ValueError as exc:
        err.print(f"[red]--map: {exc}[/red]")
        raise typer.Exit(2) from None
    settings = _settings()
    runtime = _runtime(settings)
    reader = read_mentions(file, fmt=fmt, mapping=columns or None, source=source,  # type: ignore[arg-type]
                           default_timezone=runtime.protocol.timezone)
    errors: list[LineError] = []
    new = dup = 0
    batch = []

    def flush() -> None:
        nonlocal new, dup
        results = runtime.vigie.ingest(batch, actor=f"import:{file.name}")
        new += sum(not r.duplicate for r in results)
        dup += sum(r.duplicate for r in results)
        batch.clear()

    total_lines = _count_lines(file)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=False) as progress, reader:
        task = progress.add_task(f"Importing {file.name} (lines)", total=total_lines)
        try:
            items = iter(reader)
            for line, item in items:
                if isinstance(item, LineError):
                    errors.append(item)
                else:
                    batch.append(item)
                    if len(batch) >= batch_size:
                        flush()
                progress.update(task, completed=min(line, total_lines))
        except (ValueError, OSError) as exc:  # a whole-file problem: missing column, unreadable encoding...
            err.print(f"[red]{file}: {exc}[/red]")
            raise typer.Exit(2) from None
        if batch:
            flush()
        progress.update(task, completed=total_lines)
    for warning in reader.warnings:
        err.print(f"[yellow]{warning}[/yellow]")
    for e in errors:
        err.print(f"line {e.line}: {e.message}", markup=False, highlight=False)
    out.print(f"{new} new mention(s) stored, {dup} already known, {len(errors)} line(s) with errors.")
    if new:
        # Relays are delivered by the outbox of the running bot (or of the next `vigie run`/`serve`).
        out.print("Their relay cards are queued; a running Vigie delivers them.")
    raise typer.Exit(1 if errors else 0)


def _count_lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b"")) or 1


@outbox_app.command("retry")
def outbox_retry() -> None:
    """Queue again the messages Slack refused for a reason a person has since fixed."""
    from bot.clock import SystemClock
    from bot.outbox import retry_failed

    settings = _settings()
    n = retry_failed(db.make_engine(settings.database_url), now=SystemClock().now())
    out.print(f"{n} message(s) queued again.")


@app.command("digest")
def digest(
    team: Annotated[str | None, typer.Option(help="Team key (default: the company-wide digest).")] = None,
    day: Annotated[str | None, typer.Option("--date", help="Local day, YYYY-MM-DD (default: yesterday).")] = None,
    lang: Annotated[str | None, typer.Option(help="fr or en (default: the protocol's language).")] = None,
    post: Annotated[bool, typer.Option("--post", help="Also post it to Slack (needs SLACK_BOT_TOKEN).")] = False,
) -> None:
    """Print the digest of a past day in the terminal; --post also posts it where the daily one goes."""
    from datetime import date, timedelta

    settings = _settings(*(["SLACK_BOT_TOKEN"] if post else []))
    runtime = _runtime(settings)
    protocol = runtime.protocol
    if team is not None and team not in protocol.teams:
        err.print(f"[red]--team: unknown team {team!r}; teams: {', '.join(protocol.teams)}.[/red]")
        raise typer.Exit(2)
    try:
        when = date.fromisoformat(day) if day else (
            runtime.clock.now().astimezone(protocol.tz).date() - timedelta(days=1))
    except ValueError:
        err.print("[red]--date takes a day such as 2026-11-21.[/red]")
        raise typer.Exit(2) from None
    language = lang or protocol.language
    if language not in ("fr", "en"):
        err.print("[red]--lang must be fr or en.[/red]")
        raise typer.Exit(2)
    desk = runtime.digest_desk
    text, blocks = desk.build(team=team, day=when, lang=language)  # type: ignore[union-attr]
    out.print(desk.as_text(blocks), markup=False, highlight=False)  # type: ignore[union-attr]
    if post:
        from bot.db import session_scope
        from bot.services import enqueue

        with session_scope(runtime.engine) as s:
            for channel in desk.destinations(team):  # type: ignore[union-attr]
                enqueue(s, kind="digest", method="chat.postMessage", now=runtime.clock.now(),
                        args={"channel": channel, "text": text[:3000], "blocks": blocks})
        import time as clock

        deadline = clock.monotonic() + 120
        while runtime.vigie.outbox_counts().get("pending") and clock.monotonic() < deadline:
            runtime.worker.run_once()  # deliver now, paced like any other message
            clock.sleep(min(1.0, runtime.worker.seconds_until_due()))
        counts = runtime.vigie.outbox_counts()
        out.print(f"Posted ({counts.get('sent', 0)} message(s) sent, {counts.get('pending', 0)} waiting).")


@audit_app.command("export")
def audit_export(
    start: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD (UTC), included.")],
    end: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (UTC), included.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
) -> None:
    """Export the audit trail for a period (who decided what, when, before and after, and why)."""
    from datetime import date, datetime, time, timedelta

    from bot.audit import export_audit

    try:
        first = date.fromisoformat(start)
        last = date.fromisoformat(end) if end else first
    except ValueError:
        err.print("[red]--from and --to take dates such as 2026-11-21.[/red]")
        raise typer.Exit(2) from None
    if fmt not in ("csv", "jsonl") or last < first:
        err.print("[red]--format must be csv or jsonl, and --to must not be before --from.[/red]")
        raise typer.Exit(2)
    settings = _settings()
    engine = db.make_engine(settings.database_url)
    lo = datetime.combine(first, time(0), tzinfo=UTC)
    hi = datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)
    if output is None:
        count = export_audit(engine, start=lo, end=hi, fmt=fmt, out=sys.stdout)  # type: ignore[arg-type]
    else:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            count = export_audit(engine, start=lo, end=hi, fmt=fmt, out=fh)  # type: ignore[arg-type]
    err.print(f"{count} audit event(s) exported.")


def main() -> None:
    try:
        app()
    except ConfigError as exc:  # pragma: no cover - settings errors are caught above; belt and braces
        err.print(f"[red]Configuration:[/red] {exc}")
        sys.exit(2)
