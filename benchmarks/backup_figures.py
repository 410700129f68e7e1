#!/usr/bin/env python3
"""Benchmark: backup, drill and restore times and sizes per system on the lab (issue 16 figures).

On every backup client of the lab (the hosts with /etc/egov-backup/backup.json), runs
`egov-backup run` (every source), then `egov-backup drill`, and prints per host and source: backup
seconds, original/compressed/deduplicated bytes, files, drill seconds; and the repository sizes on
the backup host. Not a test: it only measures (and adds one archive per source). Run as root after
`playbooks/backup.yml` converged, holding the lab lock:

    flock /tmp/egov-lab.lock python benchmarks/backup_figures.py [--hosts mail-01,directory-01] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from egov import settings  # noqa: E402
from egov.inventory import host_addresses  # noqa: E402


def addresses() -> dict[str, str]:
    return host_addresses(REPO / "inventories" / "lab")


def ssh(address: str, command: str, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
    quoted = "'" + command.replace("'", "'\"'\"'") + "'"
    return subprocess.run(["ssh", "-i", str(settings.lab_ssh_key()),
                           "-o", f"UserKnownHostsFile={settings.lab_known_hosts()}", "-o", "StrictHostKeyChecking=yes",
                           "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", f"ansible@{address}", f"sudo sh -c {quoted}"],
                          capture_output=True, text=True, timeout=timeout, check=False)


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", help="comma-separated hosts (default: every client that is up)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    addr = addresses()
    up = set(settings.lab_up_hosts().read_text().split()) if settings.lab_up_hosts().exists() else set()
    hosts = args.hosts.split(",") if args.hosts else sorted(h for h in up if h in addr and not h.startswith("fw-"))
    figures: dict[str, Any] = {"clients": {}, "repositories": {}}
    for host in hosts:
        if ssh(addr[host], "test -f /etc/egov-backup/backup.json", timeout=60).returncode != 0:
            continue
        run = ssh(addr[host], "egov-backup run")
        drill = ssh(addr[host], "egov-backup drill")
        figures["clients"][host] = {"backup": lines(run.stdout), "drill": lines(drill.stdout),
                                    "ok": run.returncode == 0 and drill.returncode == 0}
    backup_host = next(h for h in addr if h.startswith("backup-"))
    du = ssh(addr[backup_host], "du -sb /srv/borg/repos/*/ 2>/dev/null", timeout=300).stdout
    for line in du.splitlines():
        size, path = line.split("\t")
        figures["repositories"][Path(path).name] = int(size)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"{'host':14} {'source':10} {'backup s':>9} {'original':>12} {'dedup':>12} {'files':>7} {'drill s':>8}")
    for host, data in figures["clients"].items():
        drills = {d["source"]: d for d in data["drill"]}
        for b in data["backup"]:
            if "failed" in b:
                print(f"{host:14} {b['source']:10} FAILED: {b['failed'][:80]}")
                continue
            d = drills.get(b["source"], {})
            print(f"{host:14} {b['source']:10} {b['seconds']:9.1f} {b['original_bytes']:12,} "
                  f"{b['deduplicated_bytes']:12,} {b['files']:7} {d.get('seconds', float('nan')):8.1f}")
    print("repositories on the backup host (bytes):", figures["repositories"])
    return 0 if all(c["ok"] for c in figures["clients"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
