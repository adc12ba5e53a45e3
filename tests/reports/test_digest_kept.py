"""« Délais tenus » counts every deadline that passed, met or missed: a due that passed with no answer is a
deadline not kept, so a digest headed « 2 réponses en retard » cannot say « 100 % (2 sur 2) ».

Real database (the `engine` fixture: SQLite, or PostgreSQL with VIGIE_TEST_DATABASE_URL), and the clock is the
`now` handed to the digest. Day D is Friday 2026-11-20, Europe/Paris (UTC+1).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from bot.protocol.load import load_protocol
from bot.reports.digest import compute_digest
from bot.slack.views.digest import digest_blocks, interpretation
from bot.store.models import Mention

PARIS = ZoneInfo("Europe/Paris")
D = date(2026, 11, 20)
PROTOCOL = load_protocol(Path(__file__).parents[1] / "fixtures" / "protocol.yaml")


def local(hh: int, mm: int = 0, day: date = D) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=PARIS).astimezone(UTC)


def add(s: Session, n: int, *, received: datetime, fr_due: datetime, fr_at: datetime | None = None,
        state: str = "open", closed: datetime | None = None) -> int:
    m = Mention(source="x", external_id=f"k{n}", url=f"https://x.example/k{n}", author="@a", text="t",
                published_at=received, received_at=received, team="finance", severity="low", tags=[],
                state=state, first_response_due=fr_due, first_response_at=fr_at, closed_at=closed)
    s.add(m)
    s.flush()
    assert m.id is not None
    return m.id


def seed(engine) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        ids = {
            # answered on time
            "a": add(s, 1, received=local(9), fr_due=local(10), fr_at=local(9, 30), state="claimed"),
            "b": add(s, 2, received=local(10), fr_due=local(11), fr_at=local(10, 15), state="claimed"),
            # nobody answered: their dues (12:00, 14:00) pass
            "c": add(s, 3, received=local(11), fr_due=local(12)),
            "d": add(s, 4, received=local(13), fr_due=local(14)),
            # dismissed before its due: no deadline to keep
            "e": add(s, 5, received=local(13), fr_due=local(15), state="dismissed", closed=local(13, 30)),
            # due at 20:00: still running at 16:00, passed unanswered by the end of the day
            "f": add(s, 6, received=local(15), fr_due=local(20)),
        }
        s.commit()
    return ids


def test_overdue_items_count_as_deadlines_not_kept(engine) -> None:  # type: ignore[no-untyped-def]
    ids = seed(engine)
    # The next morning: a, b kept; c, d, f passed unanswered -> 2 of 5.
    fig = compute_digest(engine, protocol=PROTOCOL, day=D, team="finance", now=local(8, day=D + timedelta(days=1)))
    assert set(fig.late_mentions) == {ids["c"], ids["d"], ids["f"]}
    assert (fig.sla_total, fig.sla_kept) == (5, pytest.approx(2 / 5))


def test_a_due_still_running_is_not_counted_yet(engine) -> None:  # type: ignore[no-untyped-def]
    seed(engine)
    # At 16:00 on D: f's due (20:00) is still running; c and d are overdue -> 2 of 4.
    fig = compute_digest(engine, protocol=PROTOCOL, day=D, team="finance", now=local(16))
    assert (fig.sla_total, fig.sla_kept) == (4, pytest.approx(2 / 4))


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_card_headed_by_late_answers_does_not_read_100(engine, lang: str) -> None:  # type: ignore[no-untyped-def]
    seed(engine)
    fig = compute_digest(engine, protocol=PROTOCOL, day=D, team="finance", now=local(16))
    lead = interpretation(fig, lang=lang)
    assert lead.startswith("2 réponses en retard" if lang == "fr" else "2 answers late")
    blocks = digest_blocks(fig, protocol=PROTOCOL, lang=lang, title="t")
    fields = [f["text"] for b in blocks for f in b.get("fields", [])]
    sla = next(f for f in fields if ("Délais tenus" if lang == "fr" else "Deadlines kept") in f)
    if lang == "fr":
        assert "50\xa0%" in sla and "(2 sur 4)" in sla and "100" not in sla
    else:
        assert "50%" in sla and "(2 of 4)" in sla and "100" not in sla
