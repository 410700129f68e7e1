"""Central logs on the lab (issue 16), real packets and real daemons:

- a probe from a commune's LAN client that the commune's firewall denies is in the log host's store
  within 10 s, under that site and firewall, with the firewall's deny prefix; an allowed connection
  from the same client is not logged as denied;
- the log host's rsyslog stopped (EGOV_LOGS_OUTAGE_SECONDS, default 60 s), 1,000 numbered messages
  sent from a DC host meanwhile are not in the store; started again, all 1,000 arrive (bounded wait).

Figures (delivery times) are printed: run with -s to see them.
"""

from __future__ import annotations

import os
import random
import re
import time

import pytest

from tests.logs.conftest import LogLab

pytestmark = pytest.mark.lab
DENY_DEADLINE = 10.0
OUTAGE = float(os.environ.get("EGOV_LOGS_OUTAGE_SECONDS", "60"))
MESSAGES = 1000
RECOVERY_DEADLINE = 120.0


def _store_grep(lab: LogLab, path: str, pattern: str) -> str:
    return lab.ssh(lab.log_host, f"grep -hE {pattern!r} {path} 2>/dev/null || true").stdout


def _probe(lab: LogLab, address: str, port: int, source_port: int) -> None:
    lab.in_lan(["nc", "-z", "-w", "2", "-p", str(source_port), address, str(port)], timeout=15)


def test_denied_probe_reaches_the_central_log_within_10s(loglab: LogLab) -> None:
    lab = loglab
    rng = random.Random()
    dns = lab.addresses["dns-01"]
    log_host = lab.addresses[lab.log_host]
    allowed_sport, denied_sport = rng.randrange(20000, 30000), rng.randrange(30000, 40000)
    denied_port = rng.randrange(40000, 50000)
    files = f"{lab.store}/{lab.site}/{lab.firewall}/*.log"
    # an allowed flow first (office LAN -> DC DNS, tcp/53): it must never show up as denied
    _probe(lab, dns, 53, allowed_sport)
    sent = time.monotonic()
    _probe(lab, log_host, denied_port, denied_sport)
    pattern = f"egov-deny {lab.firewall} .*SPT={denied_sport} DPT={denied_port} "
    lines = ""
    while time.monotonic() - sent < DENY_DEADLINE + 5:
        lines = _store_grep(lab, files, pattern)
        if lines:
            break
        time.sleep(0.25)
    elapsed = time.monotonic() - sent
    print(f"\ndenied probe {lab.firewall} -> {log_host}:{denied_port} in the central store after {elapsed:.2f} s")
    assert lines, (f"no denied-packet line in {lab.log_host}:{files} after {elapsed:.1f} s; the store has: "
                   + lab.ssh(lab.log_host, f"ls -R {lab.store} | head -50").stdout)
    assert elapsed <= DENY_DEADLINE, f"the denied probe took {elapsed:.1f} s (> {DENY_DEADLINE} s)"
    line = lines.splitlines()[0]
    assert f" {lab.firewall} " in line and f"DST={log_host} " in line, line      # attributed to that firewall
    assert re.search(r"SRC=10\.\d+\.\d+\.\d+ ", line), line
    # the allowed connection went through before the denied one: delivery is in order, so it is absent
    assert not _store_grep(lab, files, f"egov-deny .*SPT={allowed_sport} "), "an allowed flow was logged as denied"


def _count(lab: LogLab, tag: str) -> tuple[int, int]:
    """(how many of the numbers 1..MESSAGES, how many lines) of the tag's messages in the client's store."""
    out = lab.ssh(lab.log_host, f"cat {lab.store}/dc/{lab.client}/*.log 2>/dev/null "
                  f"| grep -ohE ' {tag}(\\[[0-9]+\\])?:? msg [0-9]+$' | sed 's/.*msg //'").stdout.split()
    numbers = [int(n) for n in out]
    return len(set(numbers) & set(range(1, MESSAGES + 1))), len(numbers)


def test_log_host_outage_loses_nothing(loglab: LogLab) -> None:
    lab = loglab
    tag = f"egov-outage-{random.randrange(10**8):08d}"
    stop = "systemctl stop syslog.socket rsyslog.service"
    start = "systemctl start rsyslog.service syslog.socket"
    try:
        began = time.monotonic()
        lab.ssh(lab.log_host, stop)
        state = lab.ssh(lab.log_host, "systemctl is-active rsyslog", check=False).stdout.strip()
        assert state != "active", f"rsyslog on {lab.log_host} still {state} after `{stop}`"
        lab.ssh(lab.client, f"for i in $(seq 1 {MESSAGES}); do logger -t {tag} \"msg $i\"; done", timeout=120)
        sent = time.monotonic() - began
        time.sleep(max(0.0, OUTAGE - sent))
        during = _count(lab, tag)      # queued on the client, not delivered: the store has none yet
        assert during == (0, 0), f"messages reached the store while its rsyslog was stopped: {during}"
        lab.ssh(lab.log_host, start)
        restarted = time.monotonic()
        distinct, lines = 0, 0
        while time.monotonic() - restarted < RECOVERY_DEADLINE:
            distinct, lines = _count(lab, tag)
            if distinct >= MESSAGES:
                break
            time.sleep(1)
        recovered = time.monotonic() - restarted
    finally:
        lab.ssh(lab.log_host, start, check=False)
    print(f"\noutage of {lab.log_host} for {restarted - began:.0f} s: {distinct}/{MESSAGES} messages from "
          f"{lab.client} in the store {recovered:.1f} s after the restart ({lines - distinct} duplicates)")
    assert distinct == MESSAGES, f"{MESSAGES - distinct} of {MESSAGES} messages lost after {recovered:.0f} s"

