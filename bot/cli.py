"""The `vigie` command: run the bot, manage the database, check the protocol, import files.

Messages come from the catalogues, in the `--lang` given where a command has one, else in the protocol's
language; French (the default) when the settings or the protocol cannot be read, which is then what the
message is about. Help texts stay in English, like the option names.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import Annotated

import typer
from babel.core import Locale
from rich.console import Console
from rich.markup import escape as markup
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError

from bot.config import ConfigError, Settings, load_settings
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from bot.logs import configure
from bot.store import db

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


def _language(given: str | None = None) -> str:
    """`given` (a --lang option), else the configured protocol's language, else French."""
    if given is not None:
        if given not in LANGUAGES:
            raise _fail(t("cli.bad_lang", _language()))
        return given
    from bot.protocol.load import EXAMPLE_PROTOCOL, ProtocolError, load_protocol

    try:
        settings = load_settings()
        return load_protocol(settings.protocol_file or EXAMPLE_PROTOCOL).language
    except (ConfigError, ProtocolError, OSError):
        return DEFAULT_LANGUAGE


def _plural(key: str, n: int, lang: str, **params: object) -> str:
    """`key.one` or `key.other` by the language's plural rule (French: 0 and 1 are singular)."""
    form = "one" if Locale.parse(lang).plural_form(n) == "one" else "other"
    return t(f"{key}.{form}", lang, n=n, **params)


def _fail(message: str, code: int = 2) -> typer.Exit:
    """Print one error sentence (outside text cannot inject markup) and give the exit to raise."""
    err.print(f"[red]{markup(message)}[/red]")
    return typer.Exit(code)


def _settings(*required: str, lang: str) -> Settings:
    try:
        settings = load_settings()
        settings.require(*required)
    except ConfigError as exc:
        err.print(f"[red]{markup(t('cli.configuration', lang))}[/red] {markup(exc.message(lang))}")
        raise typer.Exit(2) from None
    configure(settings.log_level, settings.log_format)
    return settings


@contextmanager
def _database(settings: Settings, *, lang: str) -> Iterator[None]:
    """A database that cannot be reached or opened is one sentence naming DATABASE_URL (without its password) and
    what to check, not the driver's traceback."""
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        try:
            url = make_url(settings.database_url).render_as_string(hide_password=True)
        except ArgumentError:
            url = "?"
        reason = (str(exc.orig or exc).strip().splitlines() or ["?"])[0][:200]
        err.print(f"[red]{markup(t('cli.configuration', lang))}[/red] "
                  + markup(t("cli.database_unreachable", lang, url=url, reason=reason)))
        raise typer.Exit(2) from None


def _runtime(settings: Settings, *, lang: str):  # type: ignore[no-untyped-def]
    from slack_bolt.error import BoltError

    from bot.app import build_runtime
    from bot.protocol.errors import ProtocolError

    try:
        with _database(settings, lang=lang):
            return build_runtime(settings)
    except ProtocolError as exc:  # told in the file's language (French when it cannot say)
        err.print(f"[red]{markup(t('cli.protocol_errors', exc.lang))}[/red]")
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(2) from None
    except (BoltError, OSError) as exc:  # auth.test failed: revoked or mistyped token, or Slack unreachable
        err.print(f"[red]{markup(t('cli.configuration', lang))}[/red] " + markup(t(
            "cli.slack_refused", lang, url=settings.slack_api_url, error=str(exc)[:200])))
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
    handler.connect()
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


@protocol_app.command("check")
def protocol_check(
    file: Annotated[Path, typer.Argument(help="The protocol YAML file.", exists=False)],
    lang: Annotated[str | None, typer.Option(help="fr or en (default: the file's own language).")] = None,
) -> None:
    """Validate a protocol file; errors name the field and the line."""
    from bot.protocol.load import ProtocolError, load_protocol

    language = _language(lang)
    try:
        protocol = load_protocol(file)
    except ProtocolError as exc:
        # Problems are told in --lang, else in the checked file's own language (French when it cannot say).
        exc = exc.in_language(lang) if lang is not None else exc
        err.print(f"[red]{markup(_plural('cli.protocol.errors', len(exc.issues), exc.lang, file=file))}[/red]")
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(1) from None
    out.print(f"[green]{markup(t('cli.protocol.valid', language, file=file))}[/green] " + markup(t(
        "cli.protocol.summary", language, teams=_plural("cli.count.teams", len(protocol.teams), language),
        rules=_plural("cli.count.rules", len(protocol.routing), language),
        feeds=_plural("cli.count.feeds", len(protocol.feeds), language))))


@app.command("import")
def import_file(
    file: Annotated[Path | None, typer.Argument(help="CSV or JSON Lines export of a monitoring tool.")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="csv or jsonl (default: from the extension).")] = None,
    mapping: Annotated[list[str] | None, typer.Option("--map", help="FIELD=COLUMN, e.g. --map text=Contenu.")] = None,
    source: Annotated[str | None, typer.Option(help="Source for rows that have none.")] = None,
    batch_size: Annotated[int, typer.Option(help="Mentions stored per transaction.")] = 200,
    preset: Annotated[str | None, typer.Option(help="Vendor layout (default: detected from the header); "
                                               "see --list-presets, 'generic' for the usual column names.")] = None,
    list_presets: Annotated[bool, typer.Option("--list-presets", help="Show the vendor presets and exit.")] = False,
    date_order: Annotated[str | None, typer.Option(help="dmy or mdy, for dates like 05/11/2026.")] = None,
    skip_rows: Annotated[int | None, typer.Option(help="Lines above the header (default: found).")] = None,
    ignore: Annotated[list[str] | None, typer.Option("--ignore", help="A column to leave out (repeatable).")] = None,
    timezone: Annotated[str | None, typer.Option(help="Time zone of the file's dates (default: the protocol's).")]
    = None,
    history: Annotated[bool, typer.Option("--history", help="Store every mention as history: counted and grouped, "
                                          "no relay card, never open.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be stored, relayed and refused, "
                                          "line by line, without writing anything.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --dry-run: one JSON line per row.")] = False,
) -> None:
    """Import mentions from a file: every valid line is kept, every bad line reported with its number."""
    from bot.intake.dates import check_date_order
    from bot.intake.files import LineError, parse_mapping, read_mentions
    from bot.intake.presets import list_presets as preset_rows

    lang = _language()
    if list_presets:
        out.print(t("cli.import.presets_title", lang), markup=False)
        for name, label, columns in preset_rows():
            out.print(f"\n{name} — {label}", markup=False, highlight=False)
            for field_name, names in columns.items():
                out.print("  " + t("cli.import.presets_field", lang, field=field_name, columns=", ".join(names)),
                          markup=False, highlight=False)
        raise typer.Exit(0)
    if file is None or not file.is_file():
        raise _fail(t("cli.import.no_file", lang, file=file))
    if as_json and not dry_run:
        raise _fail(t("cli.import.json_needs_dry_run", lang))
    if fmt not in (None, "csv", "jsonl"):
        raise _fail(t("cli.import.bad_format", lang))
    try:
        columns = parse_mapping(mapping or [], lang)
    except ValueError as exc:
        raise _fail(t("cli.import.bad_map", lang, error=exc)) from None
    try:
        order = check_date_order(date_order, lang)
    except ValueError as exc:
        raise _fail(t("cli.import.bad_option", lang, error=exc)) from None
    settings = _settings(lang=lang)
    runtime = _runtime(settings, lang=lang)
    try:
        reader = read_mentions(file, fmt=fmt, mapping=columns or None, source=source,  # type: ignore[arg-type]
                               default_timezone=timezone or runtime.protocol.timezone, lang=lang, preset=preset,
                               date_order=order, skip_rows=skip_rows, ignore=ignore or ())
    except ValueError as exc:  # an unknown preset or time zone, a negative --skip-rows
        raise _fail(t("cli.import.bad_option", lang, error=exc)) from None
    errors: list[LineError] = []
    new = dup = archived = relayed = 0
    batch = []
    lines: list[int] = []
    older = None if history else runtime.protocol.intake.history_after

    def flush() -> None:
        nonlocal new, dup, archived, relayed
        if dry_run:
            results = runtime.vigie.preview(batch, actor=f"import:{file.name}", history=history, history_after=older)
            for line, mention, result in zip(lines, batch, results, strict=True):
                _preview_line(line, mention, result, as_json=as_json, lang=lang)
        else:
            results = runtime.vigie.ingest(batch, actor=f"import:{file.name}", history=history, history_after=older)
        new += sum(not r.duplicate for r in results)
        dup += sum(r.duplicate for r in results)
        archived += sum(r.archived for r in results)
        relayed += sum(r.relayed for r in results)
        batch.clear()
        lines.clear()

    started = runtime.clock.now()
    total_lines = _count_lines(file)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=False) as progress, reader:
        task = progress.add_task(markup(t("cli.import.progress", lang, name=file.name)), total=total_lines)
        try:
            items = iter(reader)
            for line, item in items:
                if isinstance(item, LineError):
                    if dry_run:  # in the file's order: what is waiting in the batch first
                        flush()
                        _preview_error(item, as_json=as_json, lang=lang)
                    errors.append(item)
                else:
                    batch.append(item)
                    lines.append(line)
                    if len(batch) >= batch_size:
                        flush()
                progress.update(task, completed=min(line, total_lines))
        except (ValueError, OSError) as exc:  # a whole-file problem: missing column, unreadable encoding...
            raise _fail(t("cli.import.file_error", lang, file=file, error=exc)) from None
        if batch:
            flush()
        progress.update(task, completed=total_lines)
    for warning in reader.warnings:
        err.print(f"[yellow]{warning}[/yellow]")
    if archived and not dry_run:
        runtime.vigie.retire_history_stories(since=started)
    if not dry_run:
        for e in errors:
            err.print(t("cli.import.line_error", lang, line=e.line, error=e.message), markup=False, highlight=False)
    summary = (err if as_json else out).print  # --json keeps stdout to its JSON lines
    summary(t("cli.import.summary", lang, new=_plural("cli.count.new", new, lang),
              known=_plural("cli.count.known", dup, lang), errors=_plural("cli.count.line_errors", len(errors), lang)),
            markup=False)
    if archived:
        summary(t("cli.import.history_summary", lang, history=_counted("cli.count.history", archived, lang),
                  relayed=_counted("cli.count.relayed", relayed, lang)), markup=False)
    if dry_run:
        summary(t("cli.import.dry_run_done", lang), markup=False)
        raise typer.Exit(1 if errors else 0)
    if relayed:
        # Relays are delivered by the outbox of the running bot (or of the next `vigie run`/`serve`).
        out.print(t("cli.import.queued", lang), markup=False)
    raise typer.Exit(1 if errors else 0)


def _counted(key: str, n: int, lang: str) -> str:
    """`_plural`, with the number written the language's way (1 200 in French, 1,200 in English)."""
    from babel.numbers import format_decimal

    form = "one" if Locale.parse(lang).plural_form(n) == "one" else "other"
    return t(f"{key}.{form}", lang, n=format_decimal(n, locale=lang))


_OUTCOMES = ("relayed", "history", "grouped", "known")


def _outcome(result) -> str:  # type: ignore[no-untyped-def]
    if result.duplicate:
        return "known"
    if result.archived:
        return "history"
    return "grouped" if result.story is not None else "relayed"


def _preview_line(line: int, mention, result, *, as_json: bool, lang: str) -> None:  # type: ignore[no-untyped-def]
    import json

    outcome = _outcome(result)
    if as_json:
        row = {"line": line, **{k: v for k, v in mention.model_dump(mode="json").items() if k in _PREVIEW_FIELDS},
               "outcome": outcome, "team": result.team, "severity": result.severity}
        typer.echo(json.dumps(row, ensure_ascii=False))
        return
    typer.echo(t("cli.import.dry_line", lang, line=line, outcome=t(f"cli.import.outcome.{outcome}", lang),
                 source=mention.source, external_id=mention.external_id))


def _preview_error(e, *, as_json: bool, lang: str) -> None:  # type: ignore[no-untyped-def]
    import json

    if as_json:
        typer.echo(json.dumps({"line": e.line, "outcome": "refused", "error": e.message}, ensure_ascii=False))
        return
    typer.echo(t("cli.import.dry_refused", lang, line=e.line, error=e.message))


_PREVIEW_FIELDS = ("source", "external_id", "url", "author", "text", "published_at", "language", "reach")


def _count_lines(path: Path) -> int:
    with open(path, "rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b"")) or 1


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
    lang: Annotated[str | None, typer.Option(help="fr or en (default: the protocol's language).")] = None,
    post: Annotated[bool, typer.Option("--post", help="Also post it to Slack (needs SLACK_BOT_TOKEN).")] = False,
    week: Annotated[bool, typer.Option("--week", "--weekly",
                                       help="The weekly summary of the 7 days ending on --date.")] = False,
) -> None:
    """Print the digest of a past day (or, with --week, the summary of the 7 days ending on that day) in the
    terminal; --post also posts it where the daily company-wide digest (or the team's) goes."""
    from datetime import date, timedelta

    language = _language(lang)
    settings = _settings(*(["SLACK_BOT_TOKEN"] if post else []), lang=language)
    runtime = _runtime(settings, lang=language)
    protocol = runtime.protocol
    if team is not None and team not in protocol.teams:
        raise _fail(t("cli.digest.unknown_team", language, team=team, teams=", ".join(protocol.teams)))
    try:
        when = date.fromisoformat(day) if day else (
            runtime.clock.now().astimezone(protocol.tz).date() - timedelta(days=1))
    except ValueError:
        raise _fail(t("cli.digest.bad_date", language)) from None
    desk = runtime.digest_desk
    text, blocks = desk.build(team=team, day=when, lang=language, weekly=week)
    out.print(desk.as_text(blocks), markup=False, highlight=False)
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
        err.print(f"[red]{markup(t('cli.configuration', DEFAULT_LANGUAGE))}[/red] {markup(str(exc))}")
        sys.exit(2)


# --- vigie check (issue 13) -------------------------------------------------------------------------------------

@app.command("check")
def check(
    text: Annotated[str | None, typer.Argument(help="The draft, or - to read it from standard input.")] = None,
    lang: Annotated[str | None, typer.Option(help="fr or en (default: the protocol's language).")] = None,
    network: Annotated[str, typer.Option(help="Network whose length limit applies, e.g. x.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line: {\"findings\": [...]}.")] = False,
    batch: Annotated[Path | None, typer.Option(help="JSON Lines of drafts {\"text\", \"lang\", \"network\"}; "
                                                    "prints one JSON result per line.")] = None,
) -> None:
    """The findings a draft would get (exit code 1 when there is any)."""
    import json

    from bot.protocol.load import EXAMPLE_PROTOCOL, ProtocolError, load_protocol
    from bot.usecases.check import DraftChecker, check_batch, finding_json, policy_of
    from bot.usecases.check import outside_grammar as _outside

    language = _language(lang)
    settings = _settings(lang=language)  # also sets up the log: one line per outside grammar tool, found or absent
    try:
        policy = policy_of(load_protocol(settings.protocol_file or EXAMPLE_PROTOCOL))
    except (ProtocolError, OSError):
        policy = None
    checker = DraftChecker(policy, grammar=_outside(grammalecte_python=settings.grammalecte_python,
                                                    languagetool_url=settings.languagetool_url))
    if batch is not None:
        if text is not None:
            raise _fail(t("cli.check.batch_and_text", language))
        total = 0
        try:
            with open(batch, encoding="utf-8") as lines:
                for line, found in check_batch(lines, checker, language=language, network=network):
                    out.print(line, markup=False, highlight=False)
                    total += found
        except OSError as exc:
            raise _fail(t("cli.check.unreadable", language, path=str(batch), reason=exc.strerror or exc)) from None
        raise typer.Exit(1 if total else 0)
    if text is None:
        raise _fail(t("cli.check.no_text", language))
    draft = sys.stdin.read() if text == "-" else text
    found = checker.check(draft, language=language, network=network)
    if as_json:
        out.print(json.dumps({"findings": [finding_json(f) for f in found]}, ensure_ascii=False),
                  markup=False, highlight=False)
    else:
        for finding in found:
            hint = t("finding.suggest", language, words=", ".join(finding.suggestions[:5])) if finding.suggestions else ""
            where = "" if finding.start is None else f"{finding.start}-{finding.end}  "
            detail = f" ({finding.params['message']})" if finding.params.get("message") else ""
            line = t(f"finding.{finding.code}", language, text=finding.text, hint=hint,
                     **{k: v for k, v in finding.params.items() if k not in ("text", "hint")})
            out.print(where + line + detail, markup=False, highlight=False)
        out.print(_plural("cli.check.found", len(found), language) if found else t("cli.check.clean", language),
                  markup=False, highlight=False)
    raise typer.Exit(1 if found else 0)


# --- vigie feed check (issue 14, item 5) ----------------------------------------------------------------------

feed_app = typer.Typer(help="RSS and Atom feeds.", no_args_is_help=True)
app.add_typer(feed_app, name="feed")


@feed_app.command("check")
def feed_check(
    url: Annotated[str, typer.Argument(help="The feed's address (http or https).")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per mention (and per skipped entry).")]
    = False,
    source: Annotated[str | None, typer.Option(help="Source name (default: the protocol's feed, else the host).")]
    = None,
    timezone: Annotated[str | None, typer.Option(help="Zone of dates written without one (default: the "
                                                      "protocol's).")] = None,
    language: Annotated[str | None, typer.Option(help="ISO 639-1 code forced on every entry.")] = None,
) -> None:
    """The mentions a feed would give now, with their warnings; nothing is stored (exit 1 if unreadable)."""
    import json
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    import httpx

    from bot.clock import SystemClock
    from bot.intake.feeds import FeedValidators, fetch_feed, link_host
    from bot.protocol.load import EXAMPLE_PROTOCOL, ProtocolError, load_protocol
    from bot.protocol.schema import Protocol

    lang = _language()
    try:  # the protocol gives the zone and, for a feed it already lists, the feed's name and language
        settings = load_settings()
        protocol: Protocol | None = load_protocol(settings.protocol_file or EXAMPLE_PROTOCOL)
    except (ConfigError, ProtocolError, OSError):
        protocol = None
    listed = next((f for f in (protocol.feeds if protocol else ()) if str(f.url) == url), None)
    zone_name = timezone or (protocol.timezone if protocol else Protocol.model_fields["timezone"].default)
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(t("cli.feed.bad_timezone", lang, zone=zone_name)) from None
    name = source or (listed.name if listed else None) or link_host(url) or "feed"
    try:
        with httpx.Client(timeout=15.0) as client:
            poll = fetch_feed(client, url=url, source=name, validators=FeedValidators(), now=SystemClock().now(),
                              language=language or (listed.language if listed else None), zone=zone)
    except ValueError as exc:  # a --language that is not a code
        raise _fail(t("cli.import.bad_option", lang, error=exc)) from None
    if poll.status == "error":
        raise _fail(t("cli.feed.unreadable", lang, url=url, error=poll.error or ""), code=1)
    if as_json:
        for entry in poll.entries:
            out.print(json.dumps(entry.as_json(), ensure_ascii=False), markup=False, highlight=False)
        for reason in poll.skipped:
            out.print(json.dumps({"skipped": reason}, ensure_ascii=False), markup=False, highlight=False)
        raise typer.Exit(0)
    for entry in poll.entries:
        when = entry.published_at.isoformat() if entry.published_at else t("cli.feed.no_date", lang)
        first_line = entry.mention.text.splitlines()[0]
        out.print(f"{when}  {entry.mention.url}\n  {entry.mention.author} — {first_line}", markup=False,
                  highlight=False)
        for warning in entry.warnings:
            out.print("  " + t("cli.feed.warning", lang, warning=warning), markup=False, highlight=False)
    for reason in poll.skipped:
        out.print(t("cli.feed.skipped", lang, reason=reason), markup=False, highlight=False)
    out.print(_plural("cli.feed.count", len(poll.entries), lang) if poll.entries or poll.skipped
              else t("cli.feed.empty", lang), markup=False, highlight=False)
    raise typer.Exit(0)


# --- vigie protocol test (issue 13, item 6) -------------------------------------------------------------------


@protocol_app.command("test")
def protocol_test(
    file: Annotated[Path, typer.Argument(help="The protocol YAML file.", exists=False)],
    samples: Annotated[Path, typer.Argument(help="Sample mentions, .csv with a header row or .jsonl: text, lang, "
                                                 "and optionally source, reach, author, expected_team, "
                                                 "expected_severity.", exists=False)],
    lang: Annotated[str | None, typer.Option(help="fr or en (default: the file's own language).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per sample: "
                                                         "{\"team\", \"severity\", \"reasons\"}.")] = False,
) -> None:
    """Each sample mention's team, severity and reasons with this protocol (exit code 1 when an expected team
    or severity differs)."""
    import json

    from rich.table import Table

    from bot.protocol.load import ProtocolError, load_protocol
    from bot.usecases.protocol_test import (SamplesError, read_samples, result_json, table_columns, table_rows,
                                            triage_samples)

    try:
        protocol = load_protocol(file)
    except ProtocolError as exc:
        exc = exc.in_language(lang) if lang is not None else exc
        err.print(f"[red]{markup(_plural('cli.protocol.errors', len(exc.issues), exc.lang, file=file))}[/red]")
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(2) from None
    language = _language(lang) if lang is not None else protocol.language
    try:
        results = triage_samples(read_samples(samples), protocol)
    except SamplesError as exc:
        raise _fail(t(exc.key, language, **exc.params)) from None
    checked = [r for r in results if r.agrees is not None]
    agree = sum(1 for r in checked if r.agrees)
    if as_json:
        for r in results:
            out.print(json.dumps(result_json(r), ensure_ascii=False), markup=False, highlight=False)
        if checked:
            out.print(json.dumps({"agree": agree, "checked": len(checked)}), markup=False, highlight=False)
    else:
        table = Table()
        for column in table_columns(language, with_expected=bool(checked)):
            table.add_column(column, overflow="fold")
        for row in table_rows(results, language, with_expected=bool(checked)):
            table.add_row(*row)
        out.print(table)
        if checked:
            out.print(_plural("cli.protocol_test.agreement", agree, language, total=len(checked)),
                      markup=False, highlight=False)
    raise typer.Exit(1 if agree < len(checked) else 0)

# --- vigie --version (issue 15) ---------------------------------------------------------------------------------

def _print_version(value: bool) -> None:
    if value:
        from bot import __version__

        out.print(f"vigie {__version__}", markup=False, highlight=False)
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print Vigie's version and exit.", is_eager=True,
                                 callback=_print_version),
) -> None:
    """Vigie: social-media monitoring turned into a disciplined response, in Slack."""
