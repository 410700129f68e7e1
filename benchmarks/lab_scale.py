#!/usr/bin/env python3
"""Benchmark: bring up the whole province lab, ping every host over SSH with Ansible, print figures.

Prints host count, wall times (up, ping) and memory (the lab's cgroups' peak is not available on
cgroup v1 for every controller, so the script samples system used memory during the run and
reports the peak increase). Not a test: it only measures. Run as root:

    python benchmarks/lab_scale.py [--keep] [--only SELECTOR ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def used_mib() -> float:
    info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    kib = lambda key: int(info[key].split()[0])  # noqa: E731
    return (kib("MemTotal") - kib("MemAvailable")) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", default=[], help="lab subset (default: the whole province)")
    parser.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    args = parser.parse_args()
    only = [a for sel in args.only for a in ("--only", sel)]

    subprocess.run(["egov", "lab", "down"], cwd=REPO, check=False, capture_output=True)
    baseline = used_mib()
    peak = [baseline]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], used_mib())
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    up = subprocess.run(["egov", "lab", "up", "--json", *only], cwd=REPO, capture_output=True, text=True)
    up_seconds = time.monotonic() - started
    summary = json.loads(up.stdout) if up.stdout.strip().startswith("{") else {}
    started = time.monotonic()
    ping = subprocess.run(["egov", "lab", "ping"], cwd=REPO, capture_output=True, text=True)
    ping_seconds = time.monotonic() - started
    settled = used_mib()
    stop.set()
    sampler.join()
    ok = ping.stdout.count("SUCCESS")
    bad = ping.stdout.count("UNREACHABLE") + ping.stdout.count("FAILED")
    down_seconds = 0.0
    if not args.keep:
        started = time.monotonic()
        subprocess.run(["egov", "lab", "down"], cwd=REPO, check=False, capture_output=True)
        down_seconds = time.monotonic() - started
    hosts = summary.get("containers", 0)
    print(f"hosts (systemd containers): {hosts}")
    print(f"LAN clients (namespaces):   {summary.get('clients', 0)}")
    print(f"lab up wall time:           {up_seconds:.1f} s (exit {up.returncode}, failures: "
          f"{len(summary.get('failures', {}))})")
    print(f"ansible ping wall time:     {ping_seconds:.1f} s ({ok} ok, {bad} failed)")
    print(f"memory used by the lab:     {settled - baseline:.0f} MiB settled, {peak[0] - baseline:.0f} MiB peak "
          f"({(settled - baseline) / max(hosts, 1):.1f} MiB per host)")
    if not args.keep:
        print(f"lab down wall time:         {down_seconds:.1f} s")
    return 0 if up.returncode == 0 and ping.returncode == 0 and ok == hosts else 1


if __name__ == "__main__":
    sys.exit(main())
