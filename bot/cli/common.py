"""What every `vigie` command shares: the typer apps, the consoles, and reading settings and the protocol's language.

Messages come from the catalogues, in the `--lang` given where a command has one, else in the protocol's
language; French (the default) when the settings or the protocol cannot be read, which is then what the
message is about. Help texts stay in English, like the option names.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from babel.core import Locale
from rich.console import Console
from rich.markup import escape as markup
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError

from bot.config import ConfigError, Settings, load_settings
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
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

