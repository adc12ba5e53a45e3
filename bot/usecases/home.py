"""Publishing each user's Home tab: when they open it, and when their items change.

A refresh is queued as an outbox row and the view is built when the row is delivered, from the state at
that moment: a refresh queued before a later change can never show stale items.
"""

from __future__ import annotations

from typing import Any

from bot.outbox.queue import Deliver, queue_home
from bot.reports import home as homes
from bot.slack.views import home as home_views
from bot.store.db import session_scope
from bot.usecases.escalation import Escalation
from bot.usecases.response import Workflow

HOME_METHOD = Deliver.home


class HomeDesk:
    def __init__(self, workflow: Workflow, escalation: Escalation):
        self.w = workflow
        self.esc = escalation
        self.vigie = workflow.vigie

    def view_for(self, user: str) -> dict[str, Any]:
        data = homes.load_home(engine=self.vigie.engine, protocol=self.w.protocol, workflow=self.w,
                               escalation=self.esc, user=user, lang=self.w.lang_of(user), now=self.vigie.clock.now())
        return home_views.home_view(data, protocol=self.w.protocol)

    def refresh(self, user: str) -> None:
        with session_scope(self.vigie.engine) as s:
            queue_home(s, user, now=self.vigie.clock.now())
        self.vigie.on_commit()

    def deliver(self, args: dict[str, Any]) -> dict[str, Any]:
        """Outbox deliverer: build the view now, publish it."""
        gateway = self.vigie.gateway
        if gateway is None:
            return {}
        return gateway.call("views.publish", user_id=args["user"], view=self.view_for(args["user"]))
