"""What the listeners and the servers are given: every part, built once and complete by `bot.app`.

Handlers import this module, never `bot.app` (which imports them) nor the store or the domain: what they need
beyond a use case is a method here. It imports no scheduler either: the composition root passes `schedule`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
from slack_bolt import App
from sqlalchemy.engine import Engine

from bot.clock import Clock
from bot.config import Settings
from bot.metrics import Metrics
from bot.outbox.worker import OutboxWorker
from bot.protocol.schema import Protocol as CompanyProtocol
from bot.slack.gateway import SlackGateway
from bot.slack.views.answers import refusal_text
from bot.store.deliveries import delivery_key, first_delivery
from bot.store import rollups
from bot.usecases.alerts import AlertsDesk
from bot.usecases.crisis import CrisisDesk
from bot.usecases.dictionary import Dictionary
from bot.usecases.digests import DigestDesk
from bot.usecases.escalation import Escalation
from bot.usecases.home import HomeDesk
from bot.usecases.intake import Vigie
from bot.usecases.response import Workflow
from bot.usecases.response_modals import Modals
from bot.usecases.slash import SlashCommands


class Background(Protocol):
    """The periodic jobs, once scheduled (`bot.scheduler.Jobs`)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine
    protocol: CompanyProtocol
    protocol_path: Path
    clock: Clock
    gateway: SlackGateway
    worker: OutboxWorker
    vigie: Vigie
    workflow: Workflow
    modals: Modals
    escalation: Escalation
    crisis: CrisisDesk
    slash: SlashCommands
    digest_desk: DigestDesk
    home_desk: HomeDesk
    alerts: AlertsDesk  # messages in the protocol's alerts channels into mentions
    dictionary: Dictionary  # the company dictionary, from the draft cards (issue 13)
    metrics: Metrics
    bolt: App | None  # None for command-line tools run without Slack credentials
    # Schedules this runtime's periodic jobs (fresh at each start, as a stopped scheduler cannot be restarted).
    schedule: Callable[[Runtime], Background]
    # The jobs while started: the one piece of state that changes after construction (start/stop, not wiring).
    _running: list[Background] = field(default_factory=list, init=False, repr=False, compare=False)

    def start(self) -> None:
        self.worker.start()
        if self.settings.run_scheduler:
            jobs = self.schedule(self)
            self._running.append(jobs)
            jobs.start()

    def stop(self) -> None:
        while self._running:
            self._running.pop().stop()
        self.worker.stop()

    def sweep(self) -> None:
        """Deadlines and crisis signals, from stored state (so a restart or a handover catches up)."""
        self.escalation.sweep()
        self.crisis.catch_up()
        self.crisis.detect()
        rollups.roll_up_days(self.engine, tz=self.protocol.tz, now=self.clock.now())  # the days just ended
        self.digest_desk.post_due()

    def poll_feeds(self) -> None:
        with httpx.Client(timeout=10.0, follow_redirects=True,
                          headers={"User-Agent": "Vigie/0.1 (+feed reader)"}) as client:
            self.vigie.poll_feeds(client)

    def redelivered(self, body: dict[str, Any]) -> str | None:
        """Record this Slack request as handled; its delivery key when it already was (here or on another
        instance: a retry or a replay, to acknowledge and drop), None when it is to be handled now."""
        key = delivery_key(body)
        if key is None or first_delivery(self.engine, key, now=self.clock.now()):
            return None
        return key

    def refusal(self, reason: str, *, user: str) -> str:
        """The sentence for a read refused with `reason` (see `bot.slack.views.answers.refusal_text`), in `user`'s
        language."""
        return refusal_text(reason, protocol=self.protocol, lang=self.workflow.lang_of(user))
