"""What the digest counts as still open at the cutoff, and its oldest open items.

The digest reads them as three disjoint cases, each from its own index (never replied nor closed; replied
after the cutoff; closed after the cutoff without a reply): a past day's digest must count a mention handled
since then as open on that day, and a mention handled before the cutoff as not open. Checked by hand on a
small history, on SQLite and on PostgreSQL (`engine` fixture).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session

from bot.reports.digest import compute_digest
from tests.reports.test_digest import PROTOCOL, H, add_mention, local

DAY = date(2026, 11, 20)
NOW = local(DAY + timedelta(days=3), 9)  # days later: the cutoff is the end of DAY, not now


def seed(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    ids: dict[str, int] = {}
    end = local(DAY + timedelta(days=1), 0)
    with Session(engine) as s:
        ids["never"] = add_mention(s, received=local(DAY, 9), state="claimed")
        ids["replied_later"] = add_mention(s, received=local(DAY, 8), state="published", pub_at=end + 2 * H)
        ids["replied_later_closed"] = add_mention(s, received=local(DAY, 10), team="legal", state="published",
                                                  pub_at=end + H, closed=end + H)
        ids["closed_later"] = add_mention(s, received=local(DAY - timedelta(days=2), 15), team="legal",
                                          state="dismissed", closed=end + 5 * H)
        # Not open at the cutoff: handled before it, received after it, or closed without milestones.
        add_mention(s, received=local(DAY, 7), state="published", pub_at=local(DAY, 11), closed=local(DAY, 11))
        add_mention(s, received=local(DAY, 7), state="dismissed", closed=local(DAY, 12))
        add_mention(s, received=end + H, state="open")
        add_mention(s, received=local(DAY, 6), state="dismissed")
        # Replied before the cutoff but closed after it: handled, not open.
        add_mention(s, received=local(DAY, 6), state="published", pub_at=local(DAY, 20), closed=end + H)
        s.commit()
    return ids


def test_open_at_a_past_cutoff_counts_what_was_handled_since(engine) -> None:  # type: ignore[no-untyped-def]
    ids = seed(engine)
    fig = compute_digest(engine, protocol=PROTOCOL, day=DAY, team=None, now=NOW)
    assert fig.cutoff == local(DAY + timedelta(days=1), 0)
    assert fig.still_open == 4
    # Oldest first, across the three cases.
    assert [item.mention_id for item in fig.oldest_open] == [
        ids["closed_later"], ids["replied_later"], ids["never"], ids["replied_later_closed"]]
    assert fig.oldest_open[0].age == fig.cutoff - local(DAY - timedelta(days=2), 15)

    legal = compute_digest(engine, protocol=PROTOCOL, day=DAY, team="legal", now=NOW)
    assert legal.still_open == 2
    assert [item.mention_id for item in legal.oldest_open] == [ids["closed_later"], ids["replied_later_closed"]]


def test_open_now_counts_only_what_is_still_unhandled(engine) -> None:  # type: ignore[no-untyped-def]
    ids = seed(engine)
    # The digest of the last day, computed at its end: everything handled since DAY is closed by now.
    fig = compute_digest(engine, protocol=PROTOCOL, day=DAY + timedelta(days=3), team=None, now=NOW)
    assert fig.cutoff == NOW
    assert fig.still_open == 2  # the claimed one, and the one received after DAY
    assert fig.oldest_open[0].mention_id == ids["never"]
