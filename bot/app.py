"""Wiring: build every part once from the settings. Nothing global is mutated per request."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import structlog
from slack_bolt import App
from sqlalchemy.engine import Engine

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.metrics import Metrics
from bot.outbox.queue import OutboxWorker, tell_community_managers
from bot.protocol.load import EXAMPLE_PROTOCOL, load_protocol
from bot.protocol.schema import Protocol
from bot.scheduler import Jobs, Leadership
from bot.slack.gateway import SlackGateway
from bot.store import db
from bot.store.audit import install_append_only_guard
from bot.store.deliveries import forget_deliveries
from bot.usecases.crisis import CrisisDesk
from bot.usecases.digests import DigestDesk
from bot.usecases.escalation import Escalation
from bot.usecases.home import HOME_METHOD, HomeDesk
from bot.usecases.intake import CARD_METHOD, MEMBERS_METHOD, RELAY_RENDER, Vigie
from bot.usecases.response import WEBHOOK_METHOD, Workflow, on_delivery_failure
from bot.usecases.response_modals import Modals
from bot.usecases.slash import SlashCommands

log = structlog.get_logger(__name__)
FEED_POLL_SECONDS = 60  # each feed has its own period in the protocol; this is how often we look


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    protocol: Protocol
    protocol_path: Path
    clock: Clock
    gateway: SlackGateway
    worker: OutboxWorker
    vigie: Vigie
    workflow: Workflow
    modals: Modals
    metrics: Metrics
    bolt: App | None  # None for command-line tools run without Slack credentials
    escalation: Escalation | None = None
    crisis: CrisisDesk | None = None
    slash: SlashCommands | None = None
    digest_desk: DigestDesk | None = None
    home_desk: HomeDesk | None = None
    jobs: Jobs | None = None

    def start(self) -> None:
        self.worker.start()
        if self.settings.run_scheduler:
            self.jobs = Jobs(Leadership(self.engine))
            self.jobs.every(FEED_POLL_SECONDS, "feeds", self.poll_feeds)
            self.jobs.every(self.settings.sweep_seconds, "sweep", self.sweep)
            self.jobs.every(3600, "slack_deliveries", lambda: forget_deliveries(self.engine, now=self.clock.now()))
            self.jobs.start()

    def stop(self) -> None:
        if self.jobs:
            self.jobs.stop()
        self.worker.stop()

    def sweep(self) -> None:
        """Deadlines and crisis signals, from stored state (so a restart or a handover catches up)."""
        if self.escalation is not None:
            self.escalation.sweep()
        if self.crisis is not None:
            self.crisis.catch_up()
            self.crisis.detect()
        if self.digest_desk is not None:
            self.digest_desk.post_due()

    def poll_feeds(self) -> None:
        with httpx.Client(timeout=10.0, follow_redirects=True,
                          headers={"User-Agent": "Vigie/0.1 (+feed reader)"}) as client:
            self.vigie.poll_feeds(client)


def resolve_protocol(settings: Settings) -> tuple[Protocol, Path]:
    """The company's protocol, or the shipped example when none is configured (and we say so)."""
    path = settings.protocol_file or EXAMPLE_PROTOCOL
    if settings.protocol_file is None:
        log.warning("protocol_example_in_use", path=str(path),
                    hint="set VIGIE_PROTOCOL_FILE to your own protocol file")
    return load_protocol(path), path


def build_runtime(settings: Settings, *, clock: Clock | None = None, migrate: bool = True) -> Runtime:
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
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    lease = settings.outbox_lease_seconds
    # A Slack call must end well within the lease, or another worker could take the row while it is in flight.
    gateway = SlackGateway(token=token, base_url=settings.slack_api_url,
                           timeout=min(settings.slack_timeout_seconds, lease / 3))
    # What needs a person (a channel that refuses the bot, a refused token) is told to the community managers.
    worker = OutboxWorker(engine=engine, gateway=gateway, clock=clock, lease=timedelta(seconds=lease),
                          channel_interval=settings.channel_interval_seconds, slack_free={WEBHOOK_METHOD},
                          tell=tell_community_managers(protocol.community_managers, protocol.language))
    vigie = Vigie(engine=engine, protocol=protocol, clock=clock, gateway=gateway, on_commit=worker.wake)
    secret = settings.publish_webhook_secret.get_secret_value() if settings.publish_webhook_secret else None
    workflow = Workflow(vigie, publish_secret=secret)
    worker.deliverers[WEBHOOK_METHOD] = workflow.deliver_webhook
    worker.deliverers[CARD_METHOD] = vigie.deliver_card
    worker.renderers[RELAY_RENDER] = vigie.render_relay
    worker.deliverers[MEMBERS_METHOD] = vigie.deliver_story_members
    worker.on_failure = lambda row, exc: on_delivery_failure(workflow, row, exc)
    metrics = Metrics(vigie.outbox_counts)
    bolt = build_bolt_app(settings, gateway) if token else None
    runtime = Runtime(settings=settings, engine=engine, protocol=protocol, protocol_path=path, clock=clock,
                      gateway=gateway, worker=worker, vigie=vigie, workflow=workflow, modals=Modals(workflow),
                      metrics=metrics, bolt=bolt)
    runtime.escalation = Escalation(vigie)
    vigie.deadline_of = runtime.escalation.deadline_of
    runtime.crisis = CrisisDesk(runtime.escalation)
    runtime.digest_desk = DigestDesk(vigie)
    runtime.slash = SlashCommands(workflow, runtime.escalation, runtime.crisis, runtime.digest_desk)
    runtime.home_desk = HomeDesk(workflow, runtime.escalation)
    worker.deliverers[HOME_METHOD] = runtime.home_desk.deliver
    if bolt is not None:
        from handlers import register

        register(bolt, runtime)
    return runtime


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
