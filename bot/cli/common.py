"""What every `vigie` command shares: the typer apps, the consoles, and reading settings and the protocol's language.

The terminal speaks the person's language, not the protocol's: `vigie --lang fr|en`, a command's own `--lang`,
else the locale (LANGUAGE, LC_ALL, LC_MESSAGES, LANG; read by bot.config), else English. Messages and every
`--help` text come from the catalogues (`cli.help.<command path>[.<parameter>]`; the English help written beside
an option in the code is only the fallback for a key the catalogues lack, and tests/test_cli_terminal.py fails
then). What the operating system or a driver says (an OSError's text, a database's refusal) is never put inside
a translated sentence: common errors are said in words of the catalogue, the others on a line of their own.
"""

from __future__ import annotations

import errno
import re
import logging
import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import click
import typer
from typer.core import TyperGroup
from babel.core import Locale
from rich.console import Console
from rich.markup import escape as markup
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError

from bot.config import ConfigError, Settings, load_settings, terminal_language
from bot.i18n import LANGUAGES, catalogue, t
from bot.logs import configure



def _lang_in(args: list[str]) -> str | None:
    """The value of the last `--lang X` / `--lang=X` among the arguments, if it is a language we speak."""
    found = None
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            found = args[i + 1]
        elif arg.startswith("--lang="):
            found = arg.split("=", 1)[1]
    return found if found in LANGUAGES else None


def help_language(args: list[str], environ: Mapping[str, str] | None = None) -> str:
    """The language `--help` speaks: a `--lang` on the line, else the locale, else English."""
    return _lang_in(args) or terminal_language(environ) or "en"


# click's own words (the usage line, parsing errors) are English literals in the click that typer vendors
# (typer._click: no gettext; an older typer's click asks gettext, which reads the environment's language and
# compiled catalogues only, never `vigie --lang` nor the .po files). Said in the terminal's language here,
# through click's own extension points: each command's context makes a `_Formatter` (its usage prefix), and
# `VigieGroup` puts the typed parsing errors (`MissingParameter`, `NoSuchOption`, extra arguments) in words of
# the catalogues (`cli.click.*`). typer's own words still go through gettext (`typer.core._`): `_typer_words`.
try:
    from typer import _click as typer_click  # typer >= 0.2x vendors click
except ImportError:  # pragma: no cover - an older typer runs on click itself
    typer_click = click  # type: ignore[assignment]

TYPER_WORDS: dict[str, str] = {  # typer.core's gettext words -> catalogue keys
    "No such command {name!r}.": "cli.click.no_such_command",
    "Missing command.": "cli.click.missing_command",
    "Aborted!": "cli.click.aborted",
    "Arguments": "cli.help.panel.arguments",
    "Options": "cli.help.panel.options",
    "Commands": "cli.help.panel.commands",
}
# "Got unexpected extra argument(s) (a b)" (typer's click), "... argument (a)" / "... arguments (a b)" (click's)
_EXTRA_ARGUMENTS = re.compile(r"Got unexpected extra arguments?(?:\(s\))? \((.*)\)", re.S)
# typer's own guess after an unknown command (our words before it): "No such command 'x'. Did you mean 'y'?"
_SUGGESTIONS = re.compile(r"(.*)\. Did you mean (.+)\?", re.S)
_click_language = ["en"]  # set by `localise`, before click parses the line


def _typer_words(message: str) -> str:
    key = TYPER_WORDS.get(message)
    return t(key, _click_language[0]) if key else message


class _Formatter(typer_click.formatting.HelpFormatter):  # type: ignore[name-defined,misc]
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        if prefix is None:
            prefix = t("cli.click.usage", _click_language[0]) + " "
        super().write_usage(prog, args, prefix)


class _Context(typer_click.core.Context):  # type: ignore[name-defined,misc]
    formatter_class = _Formatter


def click_error_in_words(exc: Exception, lang: str) -> Exception:
    """A parsing error of click's said in `lang`: a new UsageError with the same context (so the same usage
    line and hint), or `exc` itself when its words are not ours to change."""
    errors = typer_click.exceptions
    if isinstance(exc, errors.MissingParameter):
        said = exc.format_message()
        kind = exc.param_type or (exc.param.param_type_name if exc.param is not None else "parameter")
        english = f"Missing {kind}"
        if not said.startswith(english) or kind not in ("argument", "option", "parameter"):
            return exc
        message = t(f"cli.click.missing_{kind}", lang) + said[len(english):]
    elif isinstance(exc, errors.NoSuchOption):
        message = t("cli.click.no_such_option", lang, name=exc.option_name)
        if exc.possibilities:
            message += " " + t("cli.click.did_you_mean", lang, count=len(exc.possibilities),
                               possibilities=", ".join(sorted(exc.possibilities)))
    elif type(exc) is errors.UsageError and (extra := _EXTRA_ARGUMENTS.fullmatch(exc.message)):
        message = t("cli.click.extra_arguments", lang, count=len(extra[1].split()), args=extra[1])
    elif type(exc) is errors.UsageError and (guess := _SUGGESTIONS.fullmatch(exc.message)):
        message = guess[1] + ". " + t("cli.click.did_you_mean", lang, count=guess[2].count(",") + 1,
                                      possibilities=guess[2])
    else:
        return exc
    return errors.UsageError(message, ctx=exc.ctx)


def localise(group: click.Command, lang: str) -> None:
    """Every command's and parameter's help text, typer's panel titles and click's own words, in `lang` (from the
    catalogues)."""
    from typer import core, rich_utils

    _click_language[0] = lang
    core._ = _typer_words  # type: ignore[attr-defined]
    for name, key in (("ARGUMENTS_PANEL_TITLE", "arguments"), ("OPTIONS_PANEL_TITLE", "options"),
                      ("COMMANDS_PANEL_TITLE", "commands"), ("ERRORS_PANEL_TITLE", "error"),
                      ("DEFAULT_STRING", "default"), ("REQUIRED_LONG_STRING", "required"),
                      ("ABORTED_TEXT", "aborted"), ("RICH_HELP", "try_help")):
        setattr(rich_utils, name, t(f"cli.help.panel.{key}", lang))
    for path, command in help_paths(group):
        command.context_class = _Context  # its usage line in `lang`
        command.help = _help(path, lang, command.help)
        command.short_help = None
        for param in command.params:  # typer's options and arguments both carry a `help`
            param.help = _help(f"{path}.{param.name}", lang, getattr(param, "help", None))  # type: ignore[attr-defined]
        option = command.get_help_option(click.Context(command))
        if option is not None:
            option.help = t("cli.help.panel.help_option", lang)


def _help(key: str, lang: str, fallback: str | None) -> str | None:
    key = f"cli.help.{key}"
    return t(key, lang) if key in catalogue(lang) else fallback


def help_paths(command: click.Command, path: str = "root") -> Iterator[tuple[str, click.Command]]:
    """("root", the group), ("run", ...), ("db.upgrade", ...): each command and the key of its help texts."""
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from help_paths(sub, name if path == "root" else f"{path}.{name}")


class VigieGroup(TyperGroup):
    """The root command: before parsing, every help text is put in the terminal's language."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        if parent is None:
            localise(self, help_language(list(args)))
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except typer_click.exceptions.UsageError as exc:
            raise click_error_in_words(exc, _click_language[0]) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except typer_click.exceptions.UsageError as exc:  # a subcommand's line, parsed here
            raise click_error_in_words(exc, _click_language[0]) from None


app = typer.Typer(cls=VigieGroup, help="Vigie: social-media monitoring turned into a disciplined response, in Slack.",
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


# `vigie --lang X --verbose ...`: set by the root callback, which runs before every command (and resets them).
_ROOT_OPTIONS: dict[str, Any] = {}


def _root_option(name: str) -> Any:
    return _ROOT_OPTIONS.get(name)


def _language(given: str | None = None) -> str:
    """The terminal's language: `given` (a command's --lang), else `vigie --lang`, else the locale, else English."""
    if given is not None:
        if given not in LANGUAGES:
            raise _fail(t("cli.bad_lang", _language()))
        return given
    return _root_option("lang") or terminal_language() or "en"


def _protocol_language() -> str:
    """The configured protocol's language (what its channels read: a digest, a draft's checks); French when the
    protocol cannot be read."""
    from bot.protocol.load import EXAMPLE_PROTOCOL, ProtocolError, load_protocol

    try:
        settings = load_settings()
        return load_protocol(settings.protocol_file or EXAMPLE_PROTOCOL).language
    except (ConfigError, ProtocolError, OSError):
        return "fr"


# errno -> catalogue key (cli.os.<key>): the operating system's own words stay out of our sentences.
_OS_REASONS = {errno.ENOENT: "missing", errno.EACCES: "denied", errno.EPERM: "denied", errno.EISDIR: "directory",
               errno.ENOTDIR: "not_directory", errno.ENOSPC: "full", errno.EROFS: "read_only",
               errno.ENAMETOOLONG: "too_long", errno.ELOOP: "loop", errno.ECONNREFUSED: "refused",
               errno.ETIMEDOUT: "timed_out", errno.EHOSTUNREACH: "unreachable", errno.ENETUNREACH: "unreachable"}


def os_reason(exc: BaseException, lang: str) -> tuple[str, str | None]:
    """(a reason in `lang`, the system's own text for a line of its own, or None when the reason says it all)."""
    code = getattr(exc, "errno", None)
    if code in _OS_REASONS:
        return t(f"cli.os.{_OS_REASONS[code]}", lang), None
    system = (str(getattr(exc, "strerror", None) or exc).strip().splitlines() or ["?"])[0][:200]
    return t("cli.os.other", lang), system


def _detail(system: str | None, lang: str) -> None:
    """The system's or the driver's own words, on a line of their own, labelled as such."""
    if system:
        err.print(t("cli.os.detail", lang, text=system), markup=False, highlight=False)


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
    # Alembic says each migration it runs; the terminal stays quiet about them unless asked (vigie --verbose).
    logging.getLogger("alembic").setLevel(logging.INFO if _root_option("verbose") else logging.WARNING)
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
                  + markup(t("cli.database_unreachable_at", lang, url=url)))
        _detail(reason, lang)  # the driver's words (English, or the server's language): on their own line
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
        _slack_failed(exc, settings.slack_api_url, lang)
        raise typer.Exit(2) from None


def _slack_failed(exc: BaseException, url: str, lang: str, *, token: str = "SLACK_BOT_TOKEN") -> None:
    """A start-up call failed (Bolt's auth.test with the bot token, apps.connections.open with the app token):
    Slack answered and refused the token (its error code, such as invalid_auth), or Slack could not be reached
    at all (the network's reason)."""
    from slack_sdk.errors import SlackApiError

    head = f"[red]{markup(t('cli.configuration', lang))}[/red] "
    answer = exc if isinstance(exc, SlackApiError) else exc.__context__  # Bolt raises from the SlackApiError
    if isinstance(answer, SlackApiError):
        code = answer.response.get("error") if isinstance(answer.response.data, dict) else None
        if code:
            key = "cli.slack_token_refused" if token == "SLACK_BOT_TOKEN" else "cli.slack_app_token_refused"
            err.print(head + markup(t(key, lang, error=code)))
            return
        err.print(head + markup(t("cli.slack_answered", lang, url=url, status=answer.response.status_code)))
        return
    err.print(head + markup(t("cli.slack_unreachable", lang, url=url)))
    cause: BaseException = exc
    reason = getattr(exc, "reason", None)  # urllib's URLError wraps the socket's error
    if isinstance(reason, BaseException):
        cause = reason
    words, system = os_reason(cause, lang)
    err.print(t("cli.os.reason", lang, reason=words), markup=False, highlight=False)
    _detail(system, lang)


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()



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
    lang: str | None = typer.Option(None, "--lang", help="Language of the terminal: fr or en (default: from "
                                    "LANGUAGE, LC_ALL, LC_MESSAGES or LANG, else English)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also say each database migration run."),
) -> None:
    """Vigie: social-media monitoring turned into a disciplined response, in Slack."""
    if lang is not None and lang not in LANGUAGES:
        raise _fail(t("cli.bad_lang", terminal_language() or "en"))
    _ROOT_OPTIONS.clear()
    _ROOT_OPTIONS.update(lang=lang, verbose=verbose)

