"""The tools for the people who write the protocol and the replies: `vigie check`, `vigie feed check`,
`vigie protocol check` and `vigie protocol test`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape as markup

from bot.cli.common import (
    _detail,
    _fail,
    _language,
    _plural,
    _protocol_language,
    _runtime,
    _settings,
    app,
    err,
    os_reason,
    out,
    protocol_app,
)
from bot.config import ConfigError, load_settings
from bot.i18n import t


def _protocol_or_exit(file: Path, lang: str | None, *, code: int):  # type: ignore[no-untyped-def]
    """The protocol in `file`, or its problems told and the command ended with `code`. Problems are told in
    --lang, else in the terminal's language."""
    from bot.protocol.load import ProtocolError, load_protocol

    try:
        return load_protocol(file)
    except ProtocolError as exc:
        exc = exc.in_language(_language(lang))
        err.print(f"[red]{markup(_plural('cli.protocol.errors', len(exc.issues), exc.lang, file=file))}[/red]")
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(code) from None


@protocol_app.command("check")
def protocol_check(
    file: Annotated[Path, typer.Argument(help="The protocol YAML file.", exists=False)],
    lang: Annotated[str | None, typer.Option(help="fr or en (default: the terminal's language).")] = None,
) -> None:
    """Validate a protocol file; errors name the field and the line."""

    language = _language(lang)
    protocol = _protocol_or_exit(file, lang, code=1)
    out.print(f"[green]{markup(t('cli.protocol.valid', language, file=file))}[/green] " + markup(t(
        "cli.protocol.summary", language, teams=_plural("cli.count.teams", len(protocol.teams), language),
        rules=_plural("cli.count.rules", len(protocol.routing), language),
        feeds=_plural("cli.count.feeds", len(protocol.feeds), language))))
    hours = protocol.business_hours
    for day in hours.listed_not_public():  # a warning, not an error: a company may close on days of its own
        err.print(markup(t("cli.protocol.holiday_not_public", language, day=day.isoformat(),
                           country=hours.holidays_country)), highlight=False)




# --- vigie check (issue 13) -------------------------------------------------------------------------------------

@app.command("check")
def check(
    text: Annotated[str | None, typer.Argument(help="The draft, or - to read it from standard input.")] = None,
    lang: Annotated[str | None, typer.Option(help="Language of the draft and of the messages: fr or en "
                                                  "(default: the protocol's for the draft).")] = None,
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

    language = _language(lang)  # the terminal's
    draft_language = lang or _protocol_language()  # the draft's: what the spelling and grammar checks read
    settings = _settings(lang=language)  # also sets up the log: one line per outside grammar tool, found or absent
    try:
        policy = policy_of(load_protocol(settings.protocol_file or EXAMPLE_PROTOCOL))
    except (ProtocolError, OSError):
        policy = None
    policy = _with_dictionary(policy, settings.database_url)
    checker = DraftChecker(policy, grammar=_outside(grammalecte_python=settings.grammalecte_python,
                                                    languagetool_url=settings.languagetool_url))
    if batch is not None:
        if text is not None:
            raise _fail(t("cli.check.batch_and_text", language))
        total = 0
        try:
            with open(batch, encoding="utf-8") as lines:
                for line, found in check_batch(lines, checker, language=draft_language, network=network):
                    out.print(line, markup=False, highlight=False)
                    total += found
        except OSError as exc:
            reason, system = os_reason(exc, language)
            failed = _fail(t("cli.check.unreadable", language, path=str(batch), reason=reason))
            _detail(system, language)
            raise failed from None
        raise typer.Exit(1 if total else 0)
    if text is None:
        raise _fail(t("cli.check.no_text", language))
    draft = sys.stdin.read() if text == "-" else text
    found = checker.check(draft, language=draft_language, network=network)
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
        failed = _fail(t("cli.feed.unreadable_at", lang, url=url), code=1)
        _detail(poll.error, lang)  # the fetcher's own sentence (English), on a line of its own
        raise failed
    if as_json:
        for entry in poll.entries:
            out.print(json.dumps(entry.as_json(lang), ensure_ascii=False), markup=False, highlight=False)
        for warning in (w for w in poll.warnings if w.key == "feed.warn.skipped"):
            out.print(json.dumps({"skipped": warning.message(lang)}, ensure_ascii=False), markup=False,
                      highlight=False)
        raise typer.Exit(0)
    for entry in poll.entries:
        when = entry.published_at.isoformat() if entry.published_at else t("cli.feed.no_date", lang)
        first_line = entry.mention.text.splitlines()[0]
        out.print(f"{when}  {entry.mention.url}\n  {entry.mention.author} — {first_line}", markup=False,
                  highlight=False)
        for warning in entry.warnings:
            out.print("  " + t("cli.feed.warning", lang, warning=warning.message(lang)), markup=False,
                      highlight=False)
    for warning in (w for w in poll.warnings if w.key == "feed.warn.skipped"):
        out.print(t("cli.feed.warning", lang, warning=warning.message(lang)), markup=False, highlight=False)
    out.print(_plural("cli.feed.count", len(poll.entries), lang) if poll.entries or poll.skipped
              else t("cli.feed.empty", lang), markup=False, highlight=False)
    raise typer.Exit(0)



@feed_app.command("status")
def feed_status(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per feed.")] = False,
) -> None:
    """Each feed of the protocol as the last polls left it: healthy or failing, and the last reading's warnings
    (entries without a readable date...)."""
    import json

    lang = _language()
    runtime = _runtime(_settings(lang=lang), lang=lang)
    statuses = runtime.vigie.feed_statuses()
    if not statuses:
        out.print(t("cli.feed.status.none", lang), markup=False, highlight=False)
        raise typer.Exit(0)
    for feed in statuses:
        if as_json:
            out.print(json.dumps({
                "name": feed.name, "url": feed.url,
                "status": "never" if feed.last_polled_at is None else "failing" if feed.consecutive_failures
                else "ok",
                "last_polled_at": feed.last_polled_at.isoformat() if feed.last_polled_at else None,
                "last_ok_at": feed.last_ok_at.isoformat() if feed.last_ok_at else None,
                "failures": feed.consecutive_failures, "error": feed.last_error,
                "warnings": [warning.message(lang) for warning in feed.warnings]}, ensure_ascii=False),
                markup=False, highlight=False)
            continue
        if feed.last_polled_at is None:
            line = t("cli.feed.status.never", lang, name=feed.name, url=feed.url)
        elif feed.consecutive_failures:
            line = _plural("cli.feed.status.failing", feed.consecutive_failures, lang, name=feed.name, url=feed.url,
                           error=feed.last_error or "")
        else:
            line = t("cli.feed.status.ok", lang, name=feed.name, url=feed.url,
                     when=feed.last_polled_at.strftime("%Y-%m-%d %H:%M UTC"))
        out.print(line, markup=False, highlight=False)
        for warning in feed.warnings:
            out.print("  " + t("cli.feed.warning", lang, warning=warning.message(lang)), markup=False,
                      highlight=False)
    raise typer.Exit(0)


# --- vigie protocol test (issue 13, item 6) -------------------------------------------------------------------


@protocol_app.command("test")
def protocol_test(
    file: Annotated[Path, typer.Argument(help="The protocol YAML file.", exists=False)],
    samples: Annotated[Path, typer.Argument(help="Sample mentions, .csv with a header row or .jsonl: text, lang, "
                                                 "and optionally source, reach, author, expected_team, "
                                                 "expected_severity.", exists=False)],
    lang: Annotated[str | None, typer.Option(help="fr or en (default: the terminal's language).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per sample: "
                                                         "{\"team\", \"severity\", \"reasons\"}.")] = False,
) -> None:
    """Each sample mention's team, severity and reasons with this protocol (exit code 1 when an expected team
    or severity differs)."""
    import json

    from rich.table import Table

    from bot.usecases.protocol_test import (
        SamplesError,
        read_samples,
        result_json,
        table_columns,
        table_rows,
        triage_samples,
    )

    protocol = _protocol_or_exit(file, lang, code=2)
    language = _language(lang)
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


# --- vigie words (issue 13, item 2: the company dictionary) -------------------------------------------------------

words_app = typer.Typer(help="The company dictionary: words the checks never flag.", no_args_is_help=True)
app.add_typer(words_app, name="words")


def _dictionary_engine(url: str):  # type: ignore[no-untyped-def]
    """The database holding the company dictionary, or None when it is a SQLite file that does not exist (a
    check run on a machine without Vigie's database must not create an empty one)."""
    from sqlalchemy.engine import make_url

    from bot.store.db import make_engine

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not Path(parsed.database).exists():
        return None
    return make_engine(url)


def _with_dictionary(policy, url: str):  # type: ignore[no-untyped-def]
    """`vigie check` skips the company dictionary's words like the draft cards do."""
    from bot.domain.checks import CheckPolicy
    from bot.store.dictionary import with_company_words

    try:
        engine = _dictionary_engine(url)
    except Exception:  # noqa: BLE001 - a database URL this machine cannot open: check without the dictionary
        return policy
    if engine is None:
        return policy
    try:
        return with_company_words(policy or CheckPolicy(), engine)
    finally:
        engine.dispose()


@words_app.command("list")
def words_list() -> None:
    """The company dictionary: each word, who added it and when."""
    from sqlmodel import Session

    from bot.cli.common import _database
    from bot.store import db
    from bot.store.dictionary import words

    language = _language()
    settings = _settings(lang=language)
    engine = db.make_engine(settings.database_url)
    with _database(settings, lang=language), Session(engine) as s:
        listed = words(s)
    for row in listed:
        # Tab-separated, one word a line (rich would expand the tabs): for people and for scripts.
        typer.echo(f"{row.shown}\t{row.added_by}\t{row.added_at:%Y-%m-%d %H:%M}\t{row.language}")
    err.print(_plural("cli.words.count", len(listed), language), markup=False, highlight=False)


@words_app.command("remove")
def words_remove(word: Annotated[str, typer.Argument(help="The word to remove (any case).")]) -> None:
    """Remove a word: the checks flag it again (audited, by the operator running the command)."""
    import getpass

    from bot.clock import SystemClock
    from bot.cli.common import _database
    from bot.store import db
    from bot.store.dictionary import remove_word

    language = _language()
    settings = _settings(lang=language)
    engine = db.make_engine(settings.database_url)
    with _database(settings, lang=language), db.session_scope(engine) as s:
        removed = remove_word(s, word=word, actor=f"cli:{getpass.getuser()}", at=SystemClock().now())
    if not removed:
        raise _fail(t("cli.words.unknown", language, word=word), code=1)
    out.print(t("cli.words.removed", language, word=word), markup=False, highlight=False)
