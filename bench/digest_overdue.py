"""The digest's overdue deadlines read from the daily rollup (issue 16, item 5): the same seeded PostgreSQL
database (bench/digest.py's data at a smaller size, a database of this run's own, dropped after) probed by the
code before the change and by this checkout, alternately, in fresh processes (bench/digest_probe.py).

    VIGIE_TEST_DATABASE_URL=postgresql://... python bench/digest_overdue.py /path/to/old/checkout [N]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import digest as bench_digest  # noqa: E402
from bot.store import db, rollups  # noqa: E402
from tests import dbutil  # noqa: E402


def probe(checkout: Path, url: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run([sys.executable, "-m", "bench.digest_probe", url, bench_digest.DAY.isoformat()],
                         cwd=checkout, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main(old: Path, n: int) -> None:
    admin = dbutil.postgres_admin_url()
    bench_digest.seed(admin, n)
    url = bench_digest._bench_url(admin)
    try:
        engine = db.make_engine(url)
        now = datetime.combine(bench_digest.DAY + timedelta(days=1), datetime.min.time(),
                               tzinfo=bench_digest.TZ).astimezone(UTC) + timedelta(hours=7)
        rollups.roll_up_days(engine, tz=bench_digest.TZ, now=now)
        engine.dispose()
        for _ in range(3):
            for name, checkout in (("before", old), ("after", ROOT)):
                got = probe(checkout, url)
                t = got["timings_ms"]
                print(name, json.dumps({"compute": t["company_compute_ms"], "series": t["company_series_ms"],
                                        "teams": t["teams_all_ms"], "statements": got["statements"],
                                        "load": os.getloadavg()[0]}), flush=True)
    finally:
        bench_digest._drop(admin)


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 200_000)
