"""Publication: by hand (a community manager gives the public link), by the company's webhook, and holding
statements (pre-approved texts published the same way while experts work).

`Publishing` is a part of `bot.usecases.response.Workflow` (it inherits it): the same locks, rules and
one transaction per click, kept in its own module so each file reads in one sitting.
"""

from __future__ import annotations

import re

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from bot.domain import workflow as wf
from bot.i18n import t
from bot.outbox.queue import Deliver, enqueue
from bot.outbox.webhook import publish_webhook
from bot.protocol.schema import Protocol
from bot.slack.gateway import Failure, SlackCallError
from bot.slack.views import cards as blocks
from bot.store import queries as q
from bot.store.db import session_scope
from bot.store.locks import compare_and_set, lock_draft, lock_mention
from bot.store.models import Draft, Mention, Publication
from bot.usecases.outcome import Outcome, Refused, Target

if TYPE_CHECKING:
    from bot.usecases.response import Workflow

__all__ = ["WEBHOOK_METHOD", "Publishing", "network_of", "on_delivery_failure"]

WEBHOOK_METHOD = Deliver.webhook


class Publishing:
    def mark_published(self: Workflow, *, draft_id: int, actor: str, url: str | None,
                       in_card: bool = False) -> Outcome:
        def apply(s: Session, lang: str) -> str:
            draft, mention = self.lock_draft_and_mention(s, draft_id)
            self.check_allowed(wf.Action.publish, s, actor=actor, mention=mention, draft=draft)
            self._published(s, mention, draft, by=actor, url=url)
            return t("ack.published", lang)
        return self._run(actor, wf.Action.publish.value, Target(draft=draft_id), apply, in_card=in_card)

    def _published(self: Workflow, s: Session, mention: Mention, draft: Draft, *, by: str, url: str | None) -> None:
        """Record a publication (the caller holds the locks): once per draft, and only of the approved text."""
        text_hash = wf.text_hash(draft.text)
        if draft.approved_sha256 != text_hash:
            raise Refused("text_not_approved")
        before = {"state": mention.state, "draft_state": draft.state}
        now = self.vigie.clock.now()
        s.add(Publication(draft_id=draft.id, mention_id=mention.id, by=by, url=url, text_sha256=text_hash,  # type: ignore[arg-type]
                          at=now))
        s.flush()  # the unique draft id: a second publication of the same draft stops here
        if draft.kind == "reply":
            self._set_mention(s, mention, state=wf.MentionState.published.value, published_at_reply=now,
                              closed_at=now, first_response_at=mention.first_response_at or now)
        elif mention.first_response_at is None:  # a holding statement is a first response
            compare_and_set(s, mention, expect={"first_response_at": None}, values={"first_response_at": now})
        self._set_draft(s, draft, state=wf.DraftState.published.value, published_at=now, published_by=by,
                        public_url=url)
        self._audit(s, actor=by, action="draft.published", mention=mention, before=before,
                    after={"state": mention.state, "draft": draft.id, "url": url, "text": draft.text,
                           "text_sha256": text_hash})
        where = (" " + blocks.link(url)) if url else ""
        said = (t("thread.published_by_webhook", self.protocol.language, version=draft.version) if by == "webhook"
                else t("thread.published", self.protocol.language, user=f"<@{by}>", version=draft.version))
        self._say_in_thread(s, mention, said + where)
        self._post_or_update_draft_card(s, mention, draft)
        self._refresh_card(s, mention)

    def holding_count(self: Workflow, mention_id: int) -> int:
        """How many holding statements a mention has had (the modal asks to confirm another one)."""
        with Session(self.vigie.engine) as s:
            return q.holding_count(s, mention_id=mention_id)

    def holding_statement(self: Workflow, *, mention_id: int, actor: str, key: str, expected_sent: int = 0,
                          confirmed: bool = False, in_card: bool = False) -> Outcome:
        """A pre-approved holding statement, published the same way as a reply while experts work. One per
        mention: another one needs the community manager to confirm, on a form that knew how many had gone
        out (`expected_sent`), so a double click or two people at once send one."""
        def apply(s: Session, lang: str) -> str:
            if key not in {h.key for h in self.protocol.holding_statements}:
                raise Refused("unknown_statement")
            statement = self.protocol.holding_statement(key)
            mention = self.lock(s, mention_id)
            self.check_allowed(wf.Action.holding_statement, s, actor=actor, mention=mention, draft=None)
            sent = q.holding_count(s, mention_id=mention_id)
            if sent != expected_sent:
                raise Refused("holding_changed")  # another one went out since this form was opened
            if sent and not confirmed:
                raise Refused("holding_confirm")
            text = statement.text.get(mention.language if mention.language in ("fr", "en")
                                      else self.protocol.language)
            draft = Draft(mention_id=mention_id, version=q.next_version(s, mention_id=mention_id), kind="holding",
                          author=actor, text=text, network=network_of(mention.source, self.protocol),
                          language=mention.language if mention.language in ("fr", "en") else self.protocol.language,
                          label="public", state=wf.DraftState.approved.value, created_at=self.vigie.clock.now(),
                          findings=[], approved_sha256=wf.text_hash(text), holding_no=sent + 1)
            s.add(draft)
            s.flush()  # the unique (mention, holding number)
            self._audit(s, actor=actor, action="holding.chosen", mention=mention, before=None,
                        after={"draft": draft.id, "statement": key, "text": draft.text, "holding_no": sent + 1})
            self._post_or_update_draft_card(s, mention, draft)
            if self.protocol.publishing.mode == "webhook":
                self._queue_webhook(s, mention, draft)
            return t("ack.holding", lang)
        return self._run(actor, wf.Action.holding_statement.value, Target(mention=mention_id), apply,
                         in_card=in_card)

    # --- webhook publishing -------------------------------------------------------------------

    def _queue_webhook(self: Workflow, s: Session, mention: Mention, draft: Draft) -> None:
        url = str(self.protocol.publishing.webhook_url)
        enqueue(s, kind="publish", method=WEBHOOK_METHOD, now=self.vigie.clock.now(), mention_id=mention.id,
                dedupe_key=f"publish:{draft.id}",
                args={"channel": f"webhook:{url}"[:32], "draft_id": draft.id, "url": url})

    def deliver_webhook(self: Workflow, args: dict[str, Any]) -> dict[str, Any]:
        """Outbox deliverer: POST the approved text, signed; on success record the publication.

        Three steps, none holding a lock across the network: (1) under the mention's lock, the draft must still
        be the approved one, with the text that was approved; it becomes `publishing` (no new version may replace
        it now); (2) the POST; (3) under the lock again, the publication is recorded, once.
        """
        if not self.publish_secret:
            raise SlackCallError(WEBHOOK_METHOD, Failure.needs_person, "VIGIE_PUBLISH_WEBHOOK_SECRET is not set")
        with session_scope(self.vigie.engine) as s:
            found = s.get(Draft, args["draft_id"])
            if found is None or s.get(Mention, found.mention_id) is None:
                raise SlackCallError(WEBHOOK_METHOD, Failure.permanent, "draft_not_found")
            draft, mention = self.lock_draft_and_mention(s, found.id)  # type: ignore[arg-type]
            if draft.state == wf.DraftState.published.value:
                return {"ok": True, "already": True}
            if draft.state not in (wf.DraftState.approved.value, wf.DraftState.publishing.value):
                # Replaced or withdrawn since it was approved: it must not go out.
                self._say_in_thread(s, mention, t("thread.publish_cancelled", self.protocol.language,
                                                  version=draft.version), dedupe_key=f"publish-cancelled:{draft.id}")
                return {"ok": True, "cancelled": draft.state}
            if draft.approved_sha256 != wf.text_hash(draft.text):
                raise SlackCallError(WEBHOOK_METHOD, Failure.needs_person, "text_not_approved")
            if draft.state == wf.DraftState.approved.value:
                self._set_draft(s, draft, state=wf.DraftState.publishing.value)
            payload = {"draft_id": draft.id, "mention_id": mention.id, "version": draft.version, "kind": draft.kind,
                       "text": draft.text, "network": draft.network, "language": draft.language,
                       "in_reply_to": {"source": mention.source, "external_id": mention.external_id,
                                       "url": mention.url}}
        now: datetime = self.vigie.clock.now()
        with self.http() as client:
            result = publish_webhook(client, url=args["url"], secret=self.publish_secret, payload=payload,
                                     idempotency_key=f"vigie-draft-{payload['draft_id']}",
                                     timestamp=int(now.timestamp()))
        if not result.ok:
            failure = Failure.retryable if result.retryable else Failure.needs_person
            raise SlackCallError(WEBHOOK_METHOD, failure, result.error or f"http_{result.status}")
        with session_scope(self.vigie.engine) as s:
            draft, mention = self.lock_draft_and_mention(s, args["draft_id"])
            if draft.state == wf.DraftState.publishing.value:
                self._published(s, mention, draft, by="webhook", url=result.public_url)
        self.vigie.on_commit()
        return {"ok": True, "status": result.status}


def on_delivery_failure(workflow: Workflow, row: Any, exc: SlackCallError) -> None:
    """A delivery that needs a person: a refused publication is said in the mention's thread, and the draft is
    approved again (not `publishing`), so a community manager may publish it by hand or write a new version."""
    if row.method != WEBHOOK_METHOD or row.mention_id is None:
        return
    with session_scope(workflow.vigie.engine) as s:
        mention = lock_mention(s, row.mention_id)
        if mention is None:
            return
        draft = lock_draft(s, int((row.payload or {}).get("draft_id") or 0))
        if draft is not None and draft.state == wf.DraftState.publishing.value:
            workflow._set_draft(s, draft, state=wf.DraftState.approved.value)
            workflow._post_or_update_draft_card(s, mention, draft)
        lang = workflow.protocol.language
        version = draft.version if draft is not None else (row.payload or {}).get("version", "?")
        workflow._say_in_thread(s, mention, t("thread.publish_failed", lang, version=version,
                                              reason=publish_reason(exc.error, lang)),
                                dedupe_key=f"publish-failed:{row.id}")
    workflow.vigie.on_commit()


def publish_reason(error: str, lang: str) -> str:
    """Why the publishing service did not take a reply, in words for the people in the thread (the technical
    sentence of bot/outbox/webhook.py stays in the logs and the outbox row, for the administrator)."""
    status = re.search(r"\(HTTP (\d{3})\)", error or "")
    if "redirects to" in (error or ""):
        return t("publish.reason.redirect", lang)
    if "address is not usable" in (error or ""):
        return t("publish.reason.address", lang)
    if status:
        return t("publish.reason.refused", lang, status=status.group(1))
    return t("publish.reason.other", lang)


def network_of(source: str, protocol: Protocol) -> str:
    source = source.lower()
    return source if source in protocol.networks else ("x" if source in ("twitter", "x") else "other")
