"""Fault test: the lab's apt proxy accepts connections and never answers (issue 12, section 1).

A tiny "silent listener" (accepts TCP, never sends a byte, never closes) runs on the lab gateway at
another port; one host is pointed at it by overriding `egov_apt_proxy` for that host only, and the
base role's apt tasks (tag `apt`) run on three DC hosts of the `--only dc` lab in one converge.

Expected: the affected host fails within 300 s, the failure names the task and the reason, and the
other hosts finish with failed=0 (the play tolerates it: egov_max_fail_percentage=50); the bound ended
apt on the affected host too: no apt/dpkg/method process is left there, the apt and dpkg locks are
free and `dpkg --audit` reports nothing (checked over SSH, tests/faults/aptstate.py). Afterwards the
affected host is pointed back at the real proxy. Cost: about 2-3 minutes on the 2-core machine.

Runs on a lab that is already up (`egov lab up --only dc`); skips otherwise. Lab commands on a
shared machine go through `flock /tmp/egov-lab.lock` (set EGOV_LAB_LOCKED=1 when already holding it).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from egov import settings
from egov.lab import manager
from tests.conftest import REPO
from tests.faults.aptstate import LOCK_PROBE, PS_COMMAND, held_locks, leftover_apt

pytestmark = pytest.mark.lab

# The affected host is on the DC management segment, beside the lab gateway: its way to the silent
# listener crosses no DC firewall (whose lab policy, once pushed, admits only the real proxy's port),
# so the test holds whatever ran before it.
AFFECTED = "monitoring-01"
OTHERS = ["bastion-01", "backup-01"]
GATEWAY = "10.94.0.254"
REAL_PROXY = f"http://{GATEWAY}:3142"
SILENT_PORT = 3199
BOUND = 300
SETTLE = 20              # seconds for processes ended by the bound to be gone


class SilentListener:
    """Accepts TCP connections and never answers (holds them open until stopped)."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_server((host, port), reuse_port=False)
        self.sock.settimeout(0.5)
        self.conns: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.conns.append(conn)      # read nothing, answer nothing

    def __enter__(self) -> SilentListener:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        for conn in self.conns:
            conn.close()
        self.sock.close()


def converge(report_dir: Path, proxy_expr: str, *extra: str,
             timeout: float = 900) -> tuple[subprocess.CompletedProcess[str], float]:
    argv = ["egov", "converge", "--playbook", "playbooks/baseline.yml", "--limit", ",".join([AFFECTED, *OTHERS]),
            "--report-dir", str(report_dir), "--tags", "apt",
            "-e", f"egov_apt_proxy={proxy_expr}", "-e", "egov_max_fail_percentage=50", *extra]
    if os.environ.get("EGOV_LAB_LOCKED") != "1":
        argv = ["flock", "/tmp/egov-lab.lock", *argv]
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env=os.environ | {"EGOV_PROGRESS_INTERVAL": "15"})
    return proc, time.monotonic() - started


def ssh(address: str, command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    argv = ["ssh", "-i", str(settings.lab_ssh_key()), "-o", f"UserKnownHostsFile={settings.lab_known_hosts()}",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
            "-o", "ConnectTimeout=10", f"ansible@{address}", f"sudo sh -c {shlex.quote(command)}"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def apt_left_on(address: str) -> tuple[list[str], list[str], str]:
    """(apt processes, held apt/dpkg locks, `dpkg --audit` output) on a host, after SETTLE s at most."""
    deadline = time.monotonic() + SETTLE
    while True:
        ps = ssh(address, PS_COMMAND)
        assert ps.returncode == 0, ps.stderr
        left = leftover_apt(ps.stdout)
        if not left or time.monotonic() > deadline:
            break
        time.sleep(2)
    probe = ssh(address, LOCK_PROBE)
    assert probe.returncode == 0, probe.stdout + probe.stderr
    audit = ssh(address, "dpkg --audit")
    return left, held_locks(probe.stdout), (audit.stdout + audit.stderr).strip() + ("" if audit.returncode == 0
                                                                                    else f" (exit {audit.returncode})")


@pytest.fixture(scope="module")
def dc_lab() -> dict[str, str]:
    """The three hosts' addresses (skips unless they are up)."""
    if os.geteuid() != 0 or shutil.which("ansible-playbook") is None:
        pytest.skip("needs root and the lab tooling (`make deps`)")
    rows = {r.name: r for r in manager.lab_status(manager.DEFAULT_STATE)}
    down = [h for h in [AFFECTED, *OTHERS] if h not in rows or rows[h].state not in ("running", "booting")]
    if down:
        pytest.skip(f"lab hosts not up ({', '.join(down)}): `egov lab up --only dc` first")
    return {h: rows[h].address for h in [AFFECTED, *OTHERS]}


def test_silent_proxy_fails_only_the_affected_host_within_bound(dc_lab: dict[str, str], tmp_path: Path) -> None:
    silent = f"http://{GATEWAY}:{SILENT_PORT}"
    expr = f"{{{{ '{silent}' if inventory_hostname == '{AFFECTED}' else '{REAL_PROXY}' }}}}"
    # the affected host must really fetch (its lists may be fresh): cache_valid_time 0 for it only
    cache = f"base_apt_cache_valid_time={{{{ 0 if inventory_hostname == '{AFFECTED}' else 86400 }}}}"
    try:
        with SilentListener(GATEWAY, SILENT_PORT) as listener:
            proc, seconds = converge(tmp_path, expr, "-e", cache)
            accepted = len(listener.conns)
        report = json.loads((tmp_path / "converge-latest.json").read_text())
        run = report["runs"][0]
        log = Path(run["log"]).read_text()
        print(f"silent proxy: {seconds:.0f} s, {accepted} connection(s) accepted, exit {proc.returncode}")
        print(proc.stdout)
        print("\n".join(line for line in proc.stderr.splitlines() if "hosts:" in line))
        assert seconds < BOUND, f"converge took {seconds:.0f} s (bound {BOUND} s)"
        assert accepted >= 1, "the affected host never reached the silent listener"
        hosts = run["hosts"]
        assert hosts[AFFECTED]["failed"] == 1, hosts
        for other in OTHERS:
            assert hosts[other]["failed"] == 0 and hosts[other]["unreachable"] == 0, hosts
        failure = run["failures"][AFFECTED]
        assert failure.startswith("base : Apt | update the package cache through the mirror"), failure
        assert len(failure.split(": ", 1)[1]) > 0, failure
        assert f"{AFFECTED}: base : Apt | update the package cache through the mirror" in proc.stdout
        assert "PLAY RECAP" in log
        # the bound ended apt on the host as well: nothing left holding the lists or the dpkg lock
        left, locks, audit = apt_left_on(dc_lab[AFFECTED])
        print(f"{AFFECTED} after the run: apt processes {left or 'none'}, held locks {locks or 'none'}, "
              f"dpkg --audit {audit or 'clean'}")
        assert left == [], f"apt left running on {AFFECTED} after its bound: {left}"
        assert locks == [], f"apt/dpkg locks still held on {AFFECTED}: {locks}"
        assert audit == "", f"dpkg --audit on {AFFECTED}: {audit}"
    finally:
        # point the affected host back at the real proxy (cheap: its lists are left as they were)
        restore, _ = converge(tmp_path / "restore", REAL_PROXY)
        assert restore.returncode == 0, restore.stdout + restore.stderr[-2000:]
