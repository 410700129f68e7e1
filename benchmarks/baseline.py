"""Benchmark of the OS baseline over the lab: first run, second run (idempotence), check mode.

Prints the wall time of each run and the per-host changed/failed counts from the play recap (and the
tasks that changed on each host of a run after the first), and writes them to
reports/baseline-benchmark.json. Runs through `egov.converge`, so the strategy is the one
`egov converge` uses (Mitogen when installed; `--strategy linear` to compare).

    python benchmarks/baseline.py                      # every lab host that is up
    python benchmarks/baseline.py --limit dns-01,dc-fw-01 --runs 2 --no-check
    python benchmarks/baseline.py --playbook playbooks/site.yml --strategy linear
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from egov.converge import STRATEGIES, UP_HOSTS, RunResult, run_playbook, strategy_env, summary_lines

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-i", "--inventory", default="inventories/lab")
    parser.add_argument("--playbook", default="playbooks/baseline.yml")
    parser.add_argument("--limit", help=f"hosts (default: @{UP_HOSTS})")
    parser.add_argument("--runs", type=int, default=2, help="converge runs (default 2: first + idempotence)")
    parser.add_argument("--no-check", action="store_true", help="skip the final --check run")
    parser.add_argument("--strategy", choices=STRATEGIES, help="default: as egov converge (mitogen if installed)")
    parser.add_argument("--out", default="reports/baseline-benchmark.json")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs: at least 1")

    if args.limit:
        limit = args.limit
    elif UP_HOSTS.exists():
        limit = f"@{UP_HOSTS}"
    else:
        print(f"the lab is not up (no {UP_HOSTS}): run `egov lab up` first", file=sys.stderr)
        return 2
    out = REPO / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    env = strategy_env(args.strategy)
    print(f"{args.playbook} on {limit}, strategy {env['ANSIBLE_STRATEGY']}", flush=True)
    runs: list[tuple[str, list[str]]] = [("first_run", []), ("second_run", [])][: args.runs]
    runs += [(f"run_{n}", []) for n in range(3, args.runs + 1)]
    if not args.no_check:
        runs.append(("check_mode", ["--check"]))
    results: dict[str, RunResult] = {}
    for name, extra in runs:
        result = run_playbook(args.playbook, args.inventory, limit, extra, f"baseline-{name}", out.parent, env)
        results[name] = result
        for line in summary_lines(result):
            print(line, flush=True)
        if name != "first_run":
            for host, tasks in list(result.changed_tasks.items())[:10]:
                print(f"  {host} changed: " + "; ".join(tasks), flush=True)
    report = {"playbook": args.playbook, "limit": limit, "strategy": env["ANSIBLE_STRATEGY"],
              "runs": {name: asdict(result) for name, result in results.items()}}
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"written: {out}")
    last = results[runs[args.runs - 1][0]]
    idempotent = args.runs < 2 or not last.changed_hosts
    return 0 if last.returncode == 0 and not last.failed_hosts and idempotent else 1


if __name__ == "__main__":
    sys.exit(main())
