"""Benchmark of the OS baseline over the lab: first run, second run (idempotence), check mode.

Prints the wall time of each run and the per-host changed/failed counts from the play recap, and
writes them to reports/baseline-benchmark.json.

    python benchmarks/baseline.py                      # every lab host that is up
    python benchmarks/baseline.py --limit dns-01,dc-fw-01 --runs 2 --no-check
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from egov.converge import parse_recap

REPO = Path(__file__).resolve().parent.parent
UP_HOSTS = Path("/var/lib/egov-lab/up-hosts")


def run_playbook(inventory: str, limit: str, check: bool, log: Path) -> dict:
    cmd = ["ansible-playbook", "-i", inventory, "playbooks/baseline.yml", "--limit", limit]
    if check:
        cmd.append("--check")
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1")
    start = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.run(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, env=env, check=False)
    wall = time.monotonic() - start
    hosts = parse_recap(log.read_text())
    return {"wall_seconds": round(wall, 1), "rc": proc.returncode, "log": str(log), "hosts": hosts}


def summarise(name: str, result: dict) -> None:
    hosts = result["hosts"]
    changed = Counter(h["changed"] for h in hosts.values())
    failed = [n for n, h in hosts.items() if h["failed"] or h["unreachable"]]
    print(f"{name}: {result['wall_seconds']:.1f} s wall, rc={result['rc']}, {len(hosts)} hosts")
    print("  changed per host: " + ", ".join(f"{c} changed x {n} hosts" for c, n in sorted(changed.items())))
    print(
        f"  total changed={sum(h['changed'] for h in hosts.values())}"
        f" failed/unreachable hosts={len(failed)}{' ' + ','.join(sorted(failed)[:10]) if failed else ''}"
    )
    busy = [f"{n}={h['changed']}" for n, h in sorted(hosts.items()) if h["changed"]]
    if busy and len(busy) <= 20:
        print("  hosts with changes: " + " ".join(busy))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-i", "--inventory", default="inventories/lab")
    parser.add_argument("--limit", help="hosts (default: @/var/lib/egov-lab/up-hosts)")
    parser.add_argument("--runs", type=int, default=2, help="converge runs (default 2: first + idempotence)")
    parser.add_argument("--no-check", action="store_true", help="skip the final --check run")
    parser.add_argument("--out", default="reports/baseline-benchmark.json")
    args = parser.parse_args()

    if args.limit:
        limit = args.limit
    elif UP_HOSTS.exists():
        limit = f"@{UP_HOSTS}"
    else:
        print("the lab is not up (no /var/lib/egov-lab/up-hosts): run `egov lab up` first", file=sys.stderr)
        return 2
    out = REPO / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    names = ["first_run", "second_run"] + [f"run_{n}" for n in range(3, args.runs + 1)]
    for n in range(args.runs):
        name = names[n]
        results[name] = run_playbook(args.inventory, limit, False, out.with_name(f"baseline-{name}.log"))
        summarise(name, results[name])
    if not args.no_check:
        results["check_mode"] = run_playbook(args.inventory, limit, True, out.with_name("baseline-check_mode.log"))
        summarise("check_mode", results["check_mode"])
    out.write_text(json.dumps(results, indent=2))
    print(f"written: {out}")
    last = results[names[args.runs - 1]]["hosts"]
    return 0 if all(h["failed"] == 0 and h["unreachable"] == 0 for h in last.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
