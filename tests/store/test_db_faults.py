"""PostgreSQL restarted under intake load, with a real `vigie serve` process in front of it.

While the database is down the intake answers 503 with Retry-After (never a 500, never a hang) and /healthz
says so; once it is back the same process recovers by itself, and every mention that got a 202 is stored
once and relayed once.

The database is a private PostgreSQL cluster made for this test (initdb into a temporary directory, its own
port and socket directory), because stopping it would break every other test using the shared server.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from bot.store.db import make_engine
from bot.store.models import Mention, Outbox
from tests.conftest import INTAKE_TOKEN, mention
from tests.test_restart import free_port, start_server

PG_BIN = Path("/usr/lib/postgresql/15/bin")
CLIENT_TIMEOUT = 10.0  # what an intake client would wait; the server must answer well within it


class PrivatePostgres:
    """A throw-away PostgreSQL 15 cluster, run as the `postgres` user when the tests run as root (initdb
    refuses root)."""

    def __init__(self, root: Path, port: int):
        self.data, self.port = root / "data", port
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def run(self, *args: str) -> None:
        subprocess.run([*self.as_owner, *args], check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        # --no-locale: the suite sets LANG to a French locale for the CLI, which the machine may not have generated.
        self.run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                 "--no-locale", "--no-sync")

    def start(self) -> None:
        # Unix socket in the data directory: nothing is shared with the system's cluster.
        self.run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.data / "server.log"), "-w",
                 "-o", f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1", "start")

    def stop(self, mode: str = "immediate") -> None:
        self.run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL 15 server binaries not found in {PG_BIN} (apt-get install postgresql-15)")
    if os.geteuid() == 0:
        import pwd

        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` user to run initdb as")
        if shutil.which("runuser") is None:
            pytest.skip("running as root and `runuser` is missing to run initdb as `postgres`")
    # Directly under /tmp: pytest's tmp_path sits in a root-only directory the postgres user cannot enter.
    root = Path(tempfile.mkdtemp(prefix="vigie-pg-"))
    if os.geteuid() == 0:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    pg = PrivatePostgres(root, free_port())
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        try:
            pg.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(root, ignore_errors=True)


class Load:
    """Intake clients sending single mentions and small batches until told to stop, recording every answer."""

    def __init__(self, port: int):
        self.port = port
        self.accepted: set[str] = set()
        self.answers: list[tuple[float, int, str | None]] = []  # (when, status, Retry-After)
        self.failures: list[str] = []  # no answer within the client's timeout, or a broken connection
        self.stop = threading.Event()
        self._next = iter(range(10**6))
        self._lock = threading.Lock()

    def statuses(self) -> Counter:
        return Counter(status for _, status, _ in self.answers)

    def run(self, batch: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=CLIENT_TIMEOUT) as client:
            while not self.stop.is_set():
                with self._lock:
                    numbers = [next(self._next) for _ in range(batch)]
                bodies = [mention(i, text=f"{['résultats', 'procès', 'grève', 'bonjour'][i % 4]} {i}")
                          for i in numbers]
                try:
                    r = client.post("/intake/mentions", json=bodies if batch > 1 else bodies[0],
                                    headers={"Authorization": f"Bearer {INTAKE_TOKEN}"})
                except httpx.HTTPError as exc:
                    self.failures.append(type(exc).__name__)
                    continue
                with self._lock:
                    self.answers.append((time.monotonic(), r.status_code, r.headers.get("retry-after")))
                    if r.status_code == 202:
                        self.accepted.update(b["external_id"] for b in bodies)
                if r.status_code == 503:
                    time.sleep(0.1)  # a polite client waits (Retry-After, shortened for the test)


def test_postgres_restart_under_intake_load(private_postgres, slack, tmp_path):
    pg = private_postgres
    port = free_port()
    server = start_server(pg.url, slack.url, port, tmp_path, VIGIE_CHANNEL_INTERVAL="0",
                          VIGIE_RUN_SCHEDULER="true", VIGIE_SWEEP_SECONDS="1")
    load = Load(port)
    senders = [threading.Thread(target=load.run, args=(batch,)) for batch in (1, 1, 5)]
    engine = make_engine(pg.url)
    try:
        for th in senders:
            th.start()
        deadline = time.monotonic() + 30
        while len(load.accepted) < 100:
            assert time.monotonic() < deadline, f"intake too slow before the fault: {load.statuses()}"
            time.sleep(0.05)

        pg.stop("immediate")  # a crash: no shutdown checkpoint, connections cut
        down_at = time.monotonic()
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=CLIENT_TIMEOUT)
        assert health.status_code == 503 and health.headers.get("retry-after"), health.text
        deadline = time.monotonic() + 20
        while not any(status == 503 and at > down_at for at, status, _ in load.answers):
            assert time.monotonic() < deadline, f"no 503 while the database is down: {load.statuses()}"
            time.sleep(0.05)
        time.sleep(2)  # stay down a little while under load

        pg.start()
        up_at = time.monotonic()
        deadline = time.monotonic() + 30
        while not any(status == 202 and at > up_at for at, status, _ in load.answers):
            assert time.monotonic() < deadline, f"intake did not recover by itself: {load.statuses()}"
            time.sleep(0.05)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=CLIENT_TIMEOUT).status_code == 200
        time.sleep(1)  # keep the load on after the recovery
        load.stop.set()
        for th in senders:
            th.join()

        deadline = time.monotonic() + 60
        while True:
            with Session(engine) as s:
                undelivered = s.exec(select(Outbox).where(Outbox.status != "sent")).all()
            if not undelivered:
                break
            assert time.monotonic() < deadline, f"{len(undelivered)} relays undelivered after the recovery"
            time.sleep(0.2)
        assert server.poll() is None, "vigie died instead of riding out the outage"
        # The scheduler came back too: it holds the leader lock again on the restarted database.
        deadline = time.monotonic() + 15
        while True:
            with engine.connect() as conn:
                leader = conn.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND "
                                           "objid = :k AND granted"), {"k": 0x56494732}).scalar()
            if leader == 1:
                break
            assert time.monotonic() < deadline, "no scheduler leader after the database came back"
            time.sleep(0.2)
    finally:
        load.stop.set()
        for th in senders:
            if th.is_alive():
                th.join()
        server.send_signal(signal.SIGTERM)
        server.wait(10)
        engine.dispose()

    statuses = load.statuses()
    assert load.failures == [], f"requests without an answer within {CLIENT_TIMEOUT}s: {Counter(load.failures)}"
    assert set(statuses) <= {202, 503}, f"unexpected answers: {statuses}"
    assert statuses[503] > 0 and statuses[202] > 0
    assert all(retry for _, status, retry in load.answers if status == 503), "a 503 without Retry-After"

    engine = make_engine(pg.url)
    try:
        with Session(engine) as s:
            stored = Counter(m.external_id for m in s.exec(select(Mention)).all())
            relays = {o.id for o in s.exec(select(Outbox).where(Outbox.kind == "relay")).all()}
            unrelayed = s.exec(select(Mention).where(Mention.status != "relayed")).all()
    finally:
        engine.dispose()
    assert load.accepted <= set(stored), f"accepted but lost: {sorted(load.accepted - set(stored))[:5]}"
    assert max(stored.values()) == 1
    assert unrelayed == [], f"{len(unrelayed)} stored mentions never relayed"
    posted = Counter(m["metadata"]["event_payload"]["outbox_id"]
                     for channel in ("C0FINANCE1", "C0LEGAL001", "C0HR000001", "C0GENERAL1")
                     for m in slack.messages(channel) if m.get("metadata"))  # the digest's chart is a file
    assert {k: n for k, n in posted.items() if n > 1} == {}, "a relay was posted twice"
    assert relays <= set(posted), "a relay row is marked sent but Slack never got it"
