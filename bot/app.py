"""The composition root: build every part once from the settings, complete, in order (`bot.runtime.Runtime`
holds them). Nothing global is mutated per request."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from slack_bolt import App

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.metrics import Metrics
from bot.outbox.queue import Deliver, Registry, Render, tell_community_managers
from bot.outbox.worker import OutboxWorker
from bot.protocol.load import EXAMPLE_PROTOCOL, load_protocol
from bot.protocol.schema import Protocol
from bot.runtime import Runtime
from bot.scheduler import Jobs, Leadership
from bot.slack.gateway import SlackGateway
from bot.slack.views import cards
from bot.store import db
from bot.store.audit import install_append_only_guard
from bot.store.deliveries import forget_deliveries
from bot.store.models import Mention
from bot.usecases.alerts import AlertsDesk
from bot.usecases.check import outside_grammar
from bot.usecases.crisis import CrisisDesk
from bot.usecases.dictionary import Dictionary
from bot.usecases.digests import DigestDesk
from bot.usecases.escalation import Escalation
from bot.usecases.home import HomeDesk
from bot.usecases.intake import Vigie
from bot.usecases.response import Workflow, on_delivery_failure
from bot.usecases.response_modals import Modals
from bot.usecases.slash import SlashCommands

log = structlog.get_logger(__name__)
FEED_POLL_SECONDS = 60  # each feed has its own period in the protocol; this is how often we look


def resolve_protocol(settings: Settings) -> tuple[Protocol, Path]:
    """The company's protocol, or the shipped example when none is configured (and we say so)."""
    path = settings.protocol_file or EXAMPLE_PROTOCOL
    if settings.protocol_file is None:
        log.warning("protocol_example_in_use", path=str(path),
                    hint="set VIGIE_PROTOCOL_FILE to your own protocol file")
    return load_protocol(path), path


def build_runtime(settings: Settings, *, clock: Clock | None = None, migrate: bool = True) -> Runtime:
    """Every part, built once, in dependency order: nothing is set on a part after it is built."""
    clock = clock or SystemClock()
    install_append_only_guard()  # the audit trail can be added to, never edited, through the application
    engine = db.make_engine(settings.database_url)
    if migrate:
        db.upgrade(engine)
    protocol, path = resolve_protocol(settings)
    from bot.domain.spelling import get_spellchecker

    log.info("spelling_backend", backend=get_spellchecker().name,
             hint=None if get_spellchecker().name.startswith("enchant") else
             "install libenchant-2-2 hunspell-fr hunspell-en-us for better French spelling checks")
    # The outside grammar tools (Grammalecte in its own process, a LanguageTool server), found once at start-up
    # and run on every draft check; each logs whether it was found.
    grammar = outside_grammar(grammalecte_python=settings.grammalecte_python,
                              languagetool_url=settings.languagetool_url)
    log.info("grammar_checkers", found=[getattr(c, "name", type(c).__name__) for c in grammar],
             hint=None if grammar else "install python3-grammalecte (Debian) for French grammar checks")
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    lease = settings.outbox_lease_seconds
    # A Slack call must end well within the lease, or another worker could take the row while it is in flight.
    gateway = SlackGateway(token=token, base_url=settings.slack_api_url,
                           timeout=min(settings.slack_timeout_seconds, lease / 3))
    # The use cases ring it after a commit that queued rows; the worker, built after them (it needs their
    # deliverers), waits on it.
    doorbell = threading.Event()

    # Which deadline a mention races is the escalation's rule, and the escalation is built on `vigie`: the
    # card asks it through this function, called only once everything below is built.
    def deadline_of(mention: Mention) -> tuple[str, datetime, bool] | None:
        return escalation.deadline_of(mention)

    vigie = Vigie(engine=engine, protocol=protocol, clock=clock, gateway=gateway, on_commit=doorbell.set,
                  deadline_of=deadline_of)
    secret = settings.publish_webhook_secret.get_secret_value() if settings.publish_webhook_secret else None
    workflow = Workflow(vigie, publish_secret=secret, grammar=grammar)
    escalation = Escalation(vigie)
    crisis = CrisisDesk(escalation)
    digest_desk = DigestDesk(vigie)
    home_desk = HomeDesk(workflow, escalation)
    alerts = AlertsDesk(vigie)
    registry = Registry(
        renderers={Render.relay: vigie.render_relay, Render.alerts_reply: alerts.render_reply},
        deliverers={Deliver.card: vigie.deliver_card, Deliver.story_members: vigie.deliver_story_members,
                    Deliver.home: home_desk.deliver, Deliver.webhook: workflow.deliver_webhook},
        slack_free=frozenset({Deliver.webhook}),
    )
    # What needs a person (a channel that refuses the bot, a refused token) is told to the community managers.
    worker = OutboxWorker(engine=engine, gateway=gateway, clock=clock, lease=timedelta(seconds=lease),
                          channel_interval=settings.channel_interval_seconds, registry=registry, doorbell=doorbell,
                          on_failure=lambda row, exc: on_delivery_failure(workflow, row, exc),
                          tell=tell_community_managers(protocol.community_managers, protocol.language,
                                                       as_message=cards.notice))
    bolt = build_bolt_app(settings, gateway) if token else None
    runtime = Runtime(settings=settings, engine=engine, protocol=protocol, protocol_path=path, clock=clock,
                      gateway=gateway, worker=worker, vigie=vigie, workflow=workflow, modals=Modals(workflow),
                      escalation=escalation, crisis=crisis, digest_desk=digest_desk, home_desk=home_desk,
                      alerts=alerts, dictionary=Dictionary(workflow),
                      slash=SlashCommands(workflow, escalation, crisis, digest_desk),
                      metrics=Metrics(vigie.outbox_counts), bolt=bolt, schedule=schedule)
    if bolt is not None:
        from handlers import register

        register(bolt, runtime)
    return runtime


def schedule(runtime: Runtime) -> Jobs:
    """The periodic jobs, run by one leader at a time (`bot.scheduler`)."""
    jobs = Jobs(Leadership(runtime.engine))
    jobs.every(FEED_POLL_SECONDS, "feeds", runtime.poll_feeds)
    jobs.every(runtime.settings.sweep_seconds, "sweep", runtime.sweep)
    jobs.every(3600, "slack_deliveries", lambda: forget_deliveries(runtime.engine, now=runtime.clock.now()))
    return jobs


class ListenerExecutor(ThreadPoolExecutor):
    """Bolt runs listeners here after the ack; counting the work in flight lets shutdown, metrics and tests
    know when every listener has finished."""

    def __init__(self) -> None:
        super().__init__(max_workers=16, thread_name_prefix="vigie-listener")
        self._lock = threading.Lock()
        self.in_flight = 0

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        with self._lock:
            self.in_flight += 1

        def run():  # type: ignore[no-untyped-def]
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    self.in_flight -= 1

        return super().submit(run)


def build_bolt_app(settings: Settings, gateway: SlackGateway) -> App:
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    return App(
        # Everything is passed explicitly so Bolt never reads the environment itself.
        signing_secret=secret,
        client=gateway.client,
        # auth.test at start-up: a revoked or mistyped token stops start-up instead of failing later.
        token_verification_enabled=True,
        logger=logging.getLogger("slack_bolt"),
        listener_executor=ListenerExecutor(),
    )
