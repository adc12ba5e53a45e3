"""Every Slack identifier the app registers, in one place (handlers, blocks and the manifest use these)."""

import re
from enum import StrEnum

# Slack's identifiers, the one pattern of each kind (protocol validation, links in messages, mentions typed in
# a command). Workspace users start with U or W; public channels C, private ones G, direct messages D.
USER_ID = re.compile(r"[UW][A-Z0-9]{1,31}")
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,31}")
CONVERSATION_ID = re.compile(r"[CGD][A-Z0-9]{2,31}")
USER_MENTION = re.compile(rf"<@({USER_ID.pattern})(?:\|[^<>]*)?>")  # "<@U123>" or "<@U123|name>"


class Action(StrEnum):
    # Relay card
    claim = "mention_claim"
    draft = "mention_draft"
    reroute = "mention_reroute"
    dismiss = "mention_dismiss"
    more = "mention_more"  # overflow menu: assign, holding statement
    open_post = "mention_open_post"  # « Voir le post »: a link button; its click is only acknowledged
    story_members = "story_members"  # list a story's grouped copies in the card's thread
    # Draft card
    approve = "draft_approve"
    request_changes = "draft_request_changes"
    reject = "draft_reject"
    edit = "draft_edit"
    publish = "draft_publish"
    add_word = "draft_add_word"  # overflow beside the spelling findings: add a word to the company dictionary
    # Crisis proposal (sent by direct message)
    declare_crisis = "crisis_declare"  # with a confirm dialog
    not_a_crisis = "crisis_not_a_crisis"  # « Ce n'est pas une crise »: closes the alert for everyone
    # Crisis announcement (in the crisis channel)
    end_crisis = "crisis_end"  # with a confirm dialog


class View(StrEnum):
    draft = "draft_submit"
    dismiss = "dismiss_submit"
    reroute = "reroute_submit"
    assign = "assign_submit"
    request_changes = "changes_submit"
    reject = "reject_submit"
    approve_override = "override_submit"
    publish = "publish_submit"
    holding = "holding_submit"


class Shortcut(StrEnum):
    flag_message = "flag_message"  # message shortcut: "Flag as a mention"
    use_as_draft = "use_as_draft"  # message shortcut on one's own thread reply: "Use as a draft"


class Command(StrEnum):
    vigie = "/vigie"


class MetadataEvent(StrEnum):
    # Carried on every message the outbox posts, so an in-doubt delivery can be found again in the
    # channel's history instead of being posted twice.
    outbox = "vigie_outbox"
