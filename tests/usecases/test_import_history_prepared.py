"""A history import's fast path (triage and story shapes in worker processes, languages detected a batch at a
time, bot.usecases.history) stores exactly what the single-mention path stores: for each row the same team,
severity, reasons, language (and whether it was detected), state, and the same story (the same rows grouped
behind the same leader), across batches.

The fast path runs through the CLI on the test database (SQLite, or PostgreSQL with VIGIE_TEST_DATABASE_URL),
with two workers and small batches so several are in flight at once; the reference stores the same rows one
`Vigie.ingest` call per mention, in the same order, on a SQLite file of its own."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from bot.cli import app
from bot.clock import SystemClock
from bot.intake.files import LineError, read_mentions
from bot.protocol.load import load_protocol
from bot.store import db
from bot.usecases import history
from bot.usecases.intake import Vigie
from tests.conftest import TEST_PROTOCOL

runner = CliRunner()
OLD = datetime.now(UTC) - timedelta(days=20)

# Texts that take every branch of triage: keyword routes, negative and crisis words, reach thresholds, French,
# English, another language, too short to tell, and copies (exact and near) for the stories.
TEMPLATES = [
    "Le colis {i} est arrivé en retard à l'agence {a}, merci de vérifier la commande {c}",
    "Grève à l'agence {a} depuis ce matin, aucun colis ne part, c'est honteux",
    "The parcel {i} never arrived, this is a scam and customer service is disgusting",
    "Nouvelle intoxication après le repas servi à la cantine {a}, appel au boycott",
    "Les résultats trimestriels et le dividende annoncés ce matin surprennent les analystes {a}",
    "Un avocat prépare un procès collectif contre la marque pour non-respect du RGPD",
    "Los trabajadores de Armorine están en huelga desde el lunes por la mañana {i}",
    "ok {i}",
    "Service impeccable, livraison rapide et personnel très aimable à l'agence {a}, merci !",
    "Ce n'est pas une arnaque, le remboursement est arrivé en deux jours",
]
STORY = "Acme bloque les livraisons de toute la région depuis ce matin, c'est inadmissible"
NEAR = "Acme bloque les livraisons de toute la région depuis ce matin, c'est vraiment inadmissible"


def _rows() -> list[tuple[str, str, str, int]]:
    """(external id, text, language column, reach)."""
    rng = random.Random(16)
    out = []
    for i in range(360):
        if i % 9 == 4:
            body = STORY
        elif i % 23 == 5:
            body = NEAR
        else:
            body = TEMPLATES[i % len(TEMPLATES)].format(i=i, a=rng.randint(1, 40), c=rng.randint(1, 10**6))
        language = "en" if i % 17 == 3 else ""  # a few rows give their language: nothing is detected for them
        out.append((f"r{i}", body, language, rng.choice([0, 50, 12_000, 150_000])))
    return out


def _columns(conn) -> dict[str, tuple]:  # type: ignore[no-untyped-def]
    rows = conn.execute(text("SELECT id, external_id, team, severity, reasons, language, language_detected, state, "
                             "story_id FROM mention")).all()
    external = {r.id: r.external_id for r in rows}
    # A story is told by its leader's external id: the ids of the two databases differ.
    return {r.external_id: (r.team, r.severity, r.reasons if isinstance(r.reasons, list) else json.loads(r.reasons),
                            r.language, bool(r.language_detected), r.state,
                            None if r.story_id is None else external[r.story_id]) for r in rows}


def _reference(file, path, *, batch: int) -> dict[str, tuple]:  # type: ignore[no-untyped-def]
    """The rows of `path` stored by `Vigie.ingest` in the main process, `batch` mentions a call."""
    reference = create_engine(f"sqlite:///{file}")
    db.upgrade(reference)
    protocol = load_protocol(TEST_PROTOCOL)
    vigie = Vigie(engine=reference, protocol=protocol, clock=SystemClock())
    with read_mentions(path, fmt=None, mapping=None, source="export", default_timezone=protocol.timezone,
                       lang="fr", preset=None) as reader:
        mentions = [m for _, m in reader if not isinstance(m, LineError)]
    assert len(mentions) == 360
    for start in range(0, len(mentions), batch):
        vigie.ingest(mentions[start:start + batch], actor="reference", history=True)
    with reference.connect() as conn:
        rows = _columns(conn)
    reference.dispose()
    return rows


def test_the_fast_path_stores_what_the_single_mention_path_stores(tmp_path, engine, database_url, monkeypatch):
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL",
                 "VIGIE_PROTOCOL_FILE", "VIGIE_INTAKE_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(history, "cores", lambda: 2)  # workers even on a one-core runner
    path = tmp_path / "export.csv"
    lines = ["id;url;auteur;contenu;date;portée;langue"]
    lines += [f"{i};https://x.example/{i};@a{n % 7};{body};{(OLD + timedelta(seconds=n)).isoformat()};{reach};{lang}"
              for n, (i, body, lang, reach) in enumerate(_rows())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    r = runner.invoke(app, ["import", str(path), "--source", "export", "--history", "--batch-size", "60"],
                      env={"DATABASE_URL": database_url, "VIGIE_PROTOCOL_FILE": str(TEST_PROTOCOL)})
    assert r.exit_code == 0, r.output

    with engine.connect() as conn:
        fast = _columns(conn)
    one_by_one = _reference(tmp_path / "one.db", path, batch=1)
    # Team, severity, language, state and story of each row: the single-mention path's.
    assert {k: (*v[:2], *v[3:]) for k, v in fast.items()} == {k: (*v[:2], *v[3:]) for k, v in one_by_one.items()}
    # The reasons too, except what depends on the batch: a story's storm raise is counted when a batch joins it
    # (30 copies one at a time, 31 when the 31st came in the same batch). The same batches in the main process
    # store every reason alike.
    assert fast == _reference(tmp_path / "batched.db", path, batch=60)
    # The rows do take the branches above (else the comparison says little).
    assert {team for team, *_ in fast.values()} == {"general", "hr", "legal", "finance"}
    assert {severity for _, severity, *_ in fast.values()} >= {"low", "medium", "high", "critical"}
    assert {(lang, detected) for *_, lang, detected, _, _ in fast.values()} >= {("fr", True), ("en", False), (None, False)}
    grouped = [story for *_, story in fast.values() if story is not None]
    assert len(grouped) > 100 and len(set(grouped)) > 5  # copies and near-copies behind their leaders


def test_batch_detection_answers_as_one_text_at_a_time():
    from bot.domain import language

    texts = [body.format(i=i, a=i % 40, c=i * 7919) for i in range(60) for body in TEMPLATES]
    texts += ["", "https://t.co/abcdefghijkl @armorine_officiel #boycottarmorine", "x" * 2000]
    one_by_one = [language._detect_one(t) for t in texts]
    assert language.detect_languages(texts) == one_by_one
    assert [language.detect_language(t) for t in texts] == one_by_one  # the primed answers, taken once
    assert not language._primed


@pytest.mark.parametrize("workers", [0, 2])
def test_the_preparer_gives_batches_back_in_order(workers):
    from bot.protocol.load import router_for

    router = router_for(load_protocol(TEST_PROTOCOL))

    class M:
        def __init__(self, n: int):
            self.text, self.source, self.language, self.reach, self.tags, self.sentiment = (
                TEMPLATES[n % len(TEMPLATES)].format(i=n, a=n, c=n), "x", None, n * 1000, [], None)

    batches = [[M(n) for n in range(k * 7, k * 7 + 7)] for k in range(6)]
    got = []
    with history.Preparer(router, workers=workers) as preparer:
        for k, batch in enumerate(batches):
            preparer.submit(batch, tag=k)
            while preparer.ready():
                got.append(preparer.take())
        while len(preparer):
            got.append(preparer.take())
    assert [tag for tag, _ in got] == list(range(6))
    assert [p for _, ps in got for p in ps] == [history.prepare(router, m.text, m.source, None, m.reach, [], None)
                                                for b in batches for m in b]


def _detect_in_child(texts: list[str]) -> list[str | None]:
    from bot.domain import language

    return language.detect_languages(texts)


def test_a_process_forked_after_a_batch_detection_still_detects():
    """lingua's batch call starts a Rust thread pool that a forked child inherits without its threads: the
    child's own batch call hung for ever (found while writing the fast path); it reads one text at a time."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from bot.domain import language

    texts = [body.format(i=i, a=i, c=i) for i in range(5) for body in TEMPLATES]
    expected = language.detect_languages(texts)  # the parent's pool is started
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
    try:
        assert pool.submit(_detect_in_child, texts).result(timeout=60) == expected
    finally:
        for process in list(pool._processes.values()):  # a hung child would keep shutdown waiting
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
