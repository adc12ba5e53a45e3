"""`vigie import`: a monitoring tool's export into stored mentions (presets, dates, history, dry run)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer
from babel.core import Locale
from rich.markup import escape as markup
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.cli.common import (
    _detail,
    _fail,
    _language,
    _database,
    _plural,
    _settings,
    app,
    err,
    os_reason,
    out,
)
from bot.i18n import t


@app.command("import")
def import_file(
    file: Annotated[Path | None, typer.Argument(help="CSV or JSON Lines export of a monitoring tool.")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="csv or jsonl (default: from the extension).")] = None,
    mapping: Annotated[list[str] | None, typer.Option("--map", help="FIELD=COLUMN, e.g. --map text=Contenu.")] = None,
    source: Annotated[str | None, typer.Option(help="Source for rows that have none.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Mentions stored per transaction (default: 2,000 with "
                                                   "--history, else 200).")] = None,
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
    from bot.usecases.history import Preparer

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
    vigie = _import_vigie(settings, lang=lang)
    if batch_size is None:  # history has no card to hurry out: fewer, larger transactions
        batch_size = HISTORY_BATCH if history else LIVE_BATCH
    try:
        reader = read_mentions(file, fmt=fmt, mapping=columns or None, source=source,  # type: ignore[arg-type]
                               default_timezone=timezone or vigie.protocol.timezone, lang=lang, preset=preset,
                               date_order=order, skip_rows=skip_rows, ignore=ignore or ())
    except ValueError as exc:  # an unknown preset or time zone, a negative --skip-rows
        raise _fail(t("cli.import.bad_option", lang, error=exc)) from None
    errors: list[LineError] = []
    new = dup = archived = relayed = 0
    batch = []
    lines: list[int] = []
    older = None if history else vigie.protocol.intake.history_after

    # History: each batch's triage and story shapes are worked out by worker processes, a few batches ahead,
    # while this process stores the batch before (bot.usecases.history); the results are the same.
    preparer = Preparer(vigie.router) if history and not dry_run else None

    def count(results) -> None:  # type: ignore[no-untyped-def]
        nonlocal new, dup, archived, relayed
        new += sum(not r.duplicate for r in results)
        dup += sum(r.duplicate for r in results)
        archived += sum(r.archived for r in results)
        relayed += sum(r.relayed for r in results)

    def store_prepared(*, everything: bool = False) -> None:
        while preparer is not None and (preparer.ready() or everything and len(preparer)):
            mentions, prepared = preparer.take()
            count(vigie.ingest(mentions, actor=f"import:{file.name}", history=True, prepared=prepared))

    def flush() -> None:
        if preparer is not None:
            preparer.submit(batch, tag=list(batch))
            store_prepared()
        elif dry_run:
            results = vigie.preview(batch, actor=f"import:{file.name}", history=history, history_after=older)
            for line, mention, result in zip(lines, batch, results, strict=True):
                _preview_line(line, mention, result, as_json=as_json, lang=lang)
            count(results)
        else:
            count(vigie.ingest(batch, actor=f"import:{file.name}", history=history, history_after=older))
        batch.clear()
        lines.clear()

    started = vigie.clock.now()
    total_lines = _count_lines(file)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=False) as progress, reader, preparer or contextlib.nullcontext():
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
        except OSError as exc:  # the system's words stay out of the sentence
            reason, system = os_reason(exc, lang)
            failed = _fail(t("cli.import.file_error", lang, file=file, error=reason))
            _detail(system, lang)
            raise failed from None
        except ValueError as exc:  # a whole-file problem: missing column, unreadable encoding... (in `lang`)
            raise _fail(t("cli.import.file_error", lang, file=file, error=exc)) from None
        if batch:
            flush()
        store_prepared(everything=True)
        progress.update(task, completed=total_lines)
    for warning in reader.warnings:
        err.print(f"[yellow]{warning}[/yellow]")
    if archived and not dry_run:
        vigie.retire_history_stories(since=started)
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


HISTORY_BATCH = 2_000
LIVE_BATCH = 200


def _import_vigie(settings, *, lang: str):  # type: ignore[no-untyped-def]
    """The intake use cases on the database, and nothing else an import never uses: not the draft checkers
    (Grammalecte's process, the dictionaries), Bolt's auth.test nor the outbox worker, about two seconds of
    start-up (issue 14). Relay cards an import queues are sent by the running bot's worker, as before."""
    from bot.app import resolve_protocol
    from bot.clock import SystemClock
    from bot.protocol.errors import ProtocolError
    from bot.store import db
    from bot.store.audit import install_append_only_guard
    from bot.usecases.intake import Vigie

    try:
        with _database(settings, lang=lang):
            install_append_only_guard()  # the audit trail can be added to, never edited (as in bot.app)
            engine = db.make_engine(settings.database_url)
            db.upgrade(engine)
            protocol, _ = resolve_protocol(settings)
            return Vigie(engine=engine, protocol=protocol, clock=SystemClock())
    except ProtocolError as exc:  # told in the file's language (French when it cannot say)
        err.print(f"[red]{markup(t('cli.protocol_errors', exc.lang))}[/red]")
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(2) from None


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


