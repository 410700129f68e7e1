#!/usr/bin/env python3
"""Benchmark: the ingest rate the central log host sustains (issue 16 figures).

From each of the given DC hosts at once, `seq 1 N | logger` writes N numbered messages into the
host's syslog (journald -> rsyslog -> TLS -> logs-01); the script waits (bounded) until every message
is in the log host's store and prints the messages per second end to end, per host and in total.
Not a test: it only measures (and adds N lines per host to the store). Run as root on the converged
lab, holding the lab lock:

    flock /tmp/egov-lab.lock python benchmarks/logs_ingest.py [--hosts pki-01,dns-01] [--messages 8000]
"""

from __future__ import annotations

import argparse
import random
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from egov import settings  # noqa: E402
from egov.inventory import host_addresses  # noqa: E402

STORE = "/var/log/remote"


def addresses() -> dict[str, str]:
    return host_addresses(REPO / "inventories" / "lab")


def ssh(address: str, command: str, timeout: float = 300) -> str:
    argv = ["ssh", "-i", str(settings.lab_ssh_key()), "-o", f"UserKnownHostsFile={settings.lab_known_hosts()}",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
            f"ansible@{address}", f"sudo sh -c {shlex.quote(command)}"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=True).stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", default="pki-01,dns-01,directory-01,mail-01")
    parser.add_argument("--messages", type=int, default=8000,
                        help="per host (journald keeps 10,000 per 30 s and service by default)")
    parser.add_argument("--log-host", default="logs-01")
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    addr = addresses()
    hosts = [h for h in args.hosts.split(",") if h]
    tag = f"egov-ingest-{random.randrange(10**8):08d}"
    start = time.monotonic()
    with ThreadPoolExecutor(len(hosts)) as pool:
        list(pool.map(lambda h: ssh(addr[h], f"seq 1 {args.messages} | logger -t {tag}"), hosts))
    sent = time.monotonic() - start
    done: dict[str, float] = {}
    counts: dict[str, int] = {}
    while len(done) < len(hosts) and time.monotonic() - start < args.timeout:
        for host in hosts:
            if host in done:
                continue
            out = ssh(addr[args.log_host], f"cat {STORE}/dc/{host}/*.log 2>/dev/null | grep -c ' {tag}' || true")
            counts[host] = int(out.strip() or 0)
            if counts[host] >= args.messages:
                done[host] = time.monotonic() - start
        time.sleep(0.5)
    total = sum(min(counts.get(h, 0), args.messages) for h in hosts)
    elapsed = max(done.values()) if len(done) == len(hosts) else time.monotonic() - start
    print(f"{len(hosts)} hosts x {args.messages} messages, written in {sent:.1f} s")
    for host in hosts:
        when = f"{done[host]:.1f} s" if host in done else f"INCOMPLETE ({counts.get(host, 0)})"
        print(f"  {host:<14} all in the store after {when}")
    print(f"total {total} messages in {elapsed:.1f} s: {total / elapsed:.0f} messages/s end to end")
    return 0 if len(done) == len(hosts) else 1


if __name__ == "__main__":
    sys.exit(main())
