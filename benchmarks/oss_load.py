#!/usr/bin/env python3
"""Benchmark: the one-stop-shop's intake and lookup throughput with a year of data (issue 14 figures).

First the database gets a realistic year: ``egov-oss seed`` on an application node adds the plan's 2016
volume (90,000 dossiers over the 136 agencies, with their history) unless that year already holds it.
Then, from LAN clients (a commune's counter PC, the citizens' lookups from the same VLAN), through the
real site and DC firewalls and the balancer:

- lookups: the public API of dossiers drawn at random from the seeded year, at each --lookup-workers;
- intakes: officials recording dossiers (one logged-in session per worker), at each --intake-workers;

each for --seconds, printing requests, failures, requests/s, p50 and p95 latency, then the database's
size and row counts. Not a test: it only measures. Run as root on a converged lab (``make lab`` or
``make lab-test``), holding the lab lock:

    flock /tmp/egov-lab.lock python benchmarks/oss_load.py [--seconds 15] [--lookup-workers 4,16,48]
        [--intake-workers 2,8] [--dossiers 90000] [--year 2016] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from tests.mail.conftest import inventory_hosts, lab_ca_bundle  # noqa: E402
from tests.oss.conftest import APP, COMMUNE, DB, LAND_PROCEDURE, Oss, counter  # noqa: E402
from tests.oss.test_oss_lab import _first_official  # noqa: E402
from tests.sso.conftest import official_password  # noqa: E402


def leader(oss: Oss) -> str:
    for host in DB:
        for member in oss.patroni(host).get("members", []):
            if member["role"] == "leader":
                return str(member["name"])
    raise SystemExit("no leader in the one-stop-shop database cluster")


def psql(oss: Oss, host: str, sql: str) -> str:
    return oss.ssh(host, f'sudo -u postgres psql -d oss -Atc "{sql}"', timeout=120).strip()


def seed(oss: Oss, primary: str, dossiers: int, year: int) -> str:
    have = int(psql(oss, primary, f"SELECT count(*) FROM oss.dossier WHERE received_on >= '{year}-01-01' "
                                  f"AND received_on < '{year + 1}-01-01'"))
    if have >= dossiers:
        return f"{have} dossiers of {year} already there: not seeded again"
    return oss.ssh(APP[0], f"/usr/local/bin/egov-oss seed --dossiers {dossiers - have} --year {year}",
                   timeout=900).strip()


def flow(oss: Oss, ns: str, name: str, *args: str, timeout: float) -> dict[str, Any]:
    proc = subprocess.run(oss.flow_argv(ns, name, *args), capture_output=True, text=True, timeout=timeout,
                          cwd=REPO, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--lookup-workers", default="4,16,48")
    parser.add_argument("--intake-workers", default="2,8")
    parser.add_argument("--dossiers", type=int, default=90000)
    parser.add_argument("--year", type=int, default=2016)
    parser.add_argument("--sample", type=int, default=5000, help="dossier numbers the lookups draw from")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="egov-oss-bench-"))
    oss = Oss(addresses=inventory_hosts(), cafile=lab_ca_bundle(work / "lab-ca.pem"))
    primary = leader(oss)
    seeded = seed(oss, primary, args.dossiers, args.year)
    numbers = work / "numbers.txt"
    numbers.write_text(psql(oss, primary, f"SELECT number FROM oss.dossier WHERE received_on >= '{args.year}-01-01'"
                                          f" ORDER BY random() LIMIT {args.sample}") + "\n", encoding="utf-8")
    ns = counter(COMMUNE)
    uid = _first_official(COMMUNE)
    rows: list[dict[str, Any]] = []
    for workers in [int(w) for w in args.lookup_workers.split(",") if w]:
        r = flow(oss, ns, "stream-lookup", "--numbers-file", str(numbers), "--seconds", str(args.seconds),
                 "--workers", str(workers), timeout=args.seconds + 300)
        rows.append({"kind": "lookup", "workers": workers, **{k: r[k] for k in ("requests", "failed", "rps",
                                                                                   "p50", "p95")}})
    for workers in [int(w) for w in args.intake_workers.split(",") if w]:
        r = flow(oss, ns, "stream-intake", "--user", uid, "--password", official_password(uid), "--procedure",
                 LAND_PROCEDURE, "--seconds", str(args.seconds), "--workers", str(workers),
                 timeout=args.seconds + 300)
        rows.append({"kind": "intake", "workers": workers, **{k: r[k] for k in ("requests", "failed", "rps",
                                                                                   "p50", "p95")}})
    size = psql(oss, primary, "SELECT pg_size_pretty(pg_database_size('oss')) || ' ' || "
                              "(SELECT count(*) FROM oss.dossier) || ' ' || (SELECT count(*) FROM oss.dossier_history)"
                              " || ' ' || (SELECT count(DISTINCT agency) FROM oss.dossier)")
    db_size, total, history, agencies = size.rsplit(" ", 3)
    figures = {"seed": seeded, "primary": primary, "rows": rows, "database_size": db_size, "dossiers": int(total),
               "history_rows": int(history), "agencies_with_dossiers": int(agencies)}
    if args.json:
        print(json.dumps(figures, indent=2, ensure_ascii=False))
        return
    print(seeded)
    print(f"{'kind':>7} {'workers':>7} {'requests':>8} {'failed':>6} {'req/s':>7} {'p50 s':>7} {'p95 s':>7}")
    for r in rows:
        print(f"{r['kind']:>7} {r['workers']:>7} {r['requests']:>8} {r['failed']:>6} {r['rps']:>7} "
              f"{r['p50']!s:>7} {r['p95']!s:>7}")
    print(f"database on {primary}: {db_size}, {total} dossiers ({history} history rows) over {agencies} agencies")


if __name__ == "__main__":
    main()
