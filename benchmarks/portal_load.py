#!/usr/bin/env python3
"""Benchmark: the portal's main page through the balancer from a commune LAN client (issue 13 figures).

Requests per second and p50/p95 latency of GET / on the main portal (HTTPS, chain verified against
the lab CA) at 10, 50 and 200 concurrent clients for a bounded time each, with both web nodes and
with one (nginx stopped on portal-web-01, brought back afterwards); and the time the balancer's
health check takes to mark a stopped node down and up again. Not a test: it only measures. Run as
root after `playbooks/portal.yml` converged, holding the lab lock:

    flock /tmp/egov-lab.lock python benchmarks/portal_load.py [--seconds 10] [--clients 10,50,200] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from egov import settings  # noqa: E402

CLIENT = REPO / "tests" / "portal" / "netns_client.py"
PROVINCE = yaml.safe_load((REPO / "inventories/lab/group_vars/all/province.yml").read_text(encoding="utf-8"))
DOMAIN = PROVINCE["province_domain"]
LB = PROVINCE["province_service_addresses"]["portal_lb"][0]
WEB1 = PROVINCE["province_service_addresses"]["portal_web"][0]


def ssh(address: str, command: str) -> str:
    argv = ["ssh", "-i", str(settings.lab_ssh_key()), "-o", f"UserKnownHostsFile={settings.lab_known_hosts()}",
            "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", f"ansible@{address}",
            "sudo sh -c '" + command.replace("'", "'\"'\"'") + "'"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True).stdout


def pool_state(server: str) -> set[str]:
    script = ("import socket; s=socket.socket(socket.AF_UNIX); s.connect('/run/haproxy/admin.sock'); "
              "s.sendall(b'show stat\\n'); print(b''.join(iter(lambda: s.recv(65536), b'')).decode())")
    out = ssh(LB, f'python3 -c "{script}"')
    return {line.split(",")[17] for line in out.splitlines() if line.split(",")[1:2] == [server]}


def wait_state(server: str, status: str, timeout: float = 60) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        states = pool_state(server)
        if states and all(s.startswith(status) for s in states):
            return round(time.monotonic() - started, 1)
        time.sleep(0.5)
    raise SystemExit(f"{server} not {status} after {timeout}s")


def stream(netns: str, cafile: Path, clients: int, seconds: float) -> dict[str, Any]:
    req = {"action": "stream", "address": LB, "cafile": str(cafile), "names": [DOMAIN], "clients": clients,
           "seconds": seconds}
    proc = subprocess.run(["ip", "netns", "exec", netns, sys.executable, str(CLIENT), json.dumps(req)],
                          capture_output=True, text=True, timeout=seconds + 300, check=True)
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", default="10,50,200")
    parser.add_argument("--site", default="an-hiep")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cafile = Path("/tmp/egov-portal-bench-ca.pem")
    cafile.write_text("".join(p.read_text() for p in sorted(settings.lab_ca_dir().glob("*.crt"))), encoding="utf-8")
    netns = f"egl-pc-{args.site}"
    rows: list[dict[str, Any]] = []
    levels = [int(c) for c in args.clients.split(",")]
    for nodes in (2, 1):
        if nodes == 1:
            ssh(WEB1, "systemctl stop nginx")
            down = wait_state("portal-web-01", "DOWN")
        try:
            for clients in levels:
                rows.append({"web_nodes": nodes, "clients": clients, **stream(netns, cafile, clients, args.seconds)})
        finally:
            if nodes == 1:
                ssh(WEB1, "systemctl start nginx")
                up = wait_state("portal-web-01", "UP")
    figures = {"rows": rows, "marked_down_s": down, "back_up_s": up}
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{'web nodes':>9} {'clients':>7} {'requests':>8} {'failed':>6} {'rps':>7} {'p50 s':>7} {'p95 s':>7}")
    for r in rows:
        print(f"{r['web_nodes']:>9} {r['clients']:>7} {r['requests']:>8} {r['failed']:>6} {r['rps']:>7} "
              f"{r['p50']:>7} {r['p95']:>7}")
    print(f"stopped node marked down after {down} s, back up {up} s after its restart")


if __name__ == "__main__":
    main()
