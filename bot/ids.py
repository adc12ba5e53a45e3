"""Every Slack identifier the app registers, in one place (handlers, blocks and the manifest use these)."""

from enum import StrEnum


class Action(StrEnum):
    claim = "mention_claim"
    draft = "mention_draft"
    reroute = "mention_reroute"
    dismiss = "mention_dismiss"


class Shortcut(StrEnum):
    flag_message = "flag_message"  # message shortcut: "Flag as a mention"


class Command(StrEnum):
    vigie = "/vigie"


class MetadataEvent(StrEnum):
    # Carried on every message the outbox posts, so an in-doubt delivery can be found again in the
    # channel's history instead of being posted twice.
    outbox = "vigie_outbox"
