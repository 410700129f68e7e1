"""Faults during a firewall push (issue 12, section 2), on real Linux firewalls of the netns harness.

1. One `egov network push` over three firewalls (the runner's pool, three workers): one good, one whose
   rendered policy the device refuses (`nft -c`: its `deny_log_group` overridden to a word), one that
   drops every packet to its SSH port (unreachable). The good one changes; the other two are reported
   by name with the reason; the refused one keeps its ruleset; the run exits 1.
2. The controller SIGKILLed during a push, once the device holds the new policy pending confirmation
   (its state directory's `pending` token, the new table loaded): the device's own revert timer
   (commit_confirmed.sh `revert-after`, started with setsid, so it outlives the SSH session) puts the
   previous ruleset back within the confirm timeout; a push of the last good policy then changes nothing.

Needs root (network namespaces, sshd, nft), like every test of tests/network; not run in parallel
(`pytest -q -m "not lab" -p no:xdist tests/network/test_push_faults.py`).
"""

from __future__ import annotations

import functools
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from harness import netns
from harness.netns import sh
from tests.conftest import REPO

from conftest import context, firewall_device
from egov.model import Province
from egov.network import credentials, ops
from egov.network.inventory import Device
from egov.network.report import DeviceResult
from egov.network.runner import run_all

# sites and harness indexes of their own (test_firewalls.py uses 942, 31570 and dc-fw-01 on 0-2)
GOOD, REFUSED, UNREACHABLE, KILLED = "943", "944", "945", "946"
INDEX = {GOOD: 3, REFUSED: 4, UNREACHABLE: 5, KILLED: 6}
MANAGEMENT_NET = "10.250.200.0/24"          # the controller's side of every harness /30
REFUSED_POLICY = {"deny_log_group": "frobnicate"}      # renders `log ... group frobnicate`: nft -c refuses
INTERRUPTED_POLICY = {"deny_log_prefix": "egov-killtest"}  # a valid policy that differs from the last good one
CONFIRM_TIMEOUT = 10
RUN_BOUND = 90


def run(ctx: ops.Context, device: Device, op: str) -> DeviceResult:
    return run_all([device], functools.partial(ops.TASKS[op], ctx), 1, 0)[0]


def listing(ns: str) -> str:
    return sh("nft", "list", "ruleset", ns=ns).stdout


def harness_fw(lab: netns.Lab, name: str) -> netns.Firewall:
    return next(f for f in lab.firewalls if f.name == name)


def hosts_file(lab: netns.Lab, path: Path, entries: dict[str, dict[str, Any]]) -> Path:
    """One --hosts-file for the CLI: each named harness firewall with its extra vars."""
    devices = {name: lab.hosts_entry(harness_fw(lab, name), **{"management_net": MANAGEMENT_NET, **extra})
               for name, extra in entries.items()}
    path.write_text(yaml.safe_dump({"devices": devices}))
    return path


def push_argv(hosts: Path, names: list[str], *extra: str) -> list[str]:
    argv = [sys.executable, "-m", "egov", "network", "push", "--env", "lab", "--hosts-file", str(hosts),
            "--retries", "0", "--timeout", "4", "--confirm-timeout", str(CONFIRM_TIMEOUT), "--json",
            "--no-progress", *extra]
    for name in names:
        argv += ["--only", name]
    return argv


def test_a_push_over_many_firewalls_isolates_the_refused_and_the_unreachable(
        province: Province, creds: credentials.Credentials, fw_lab: netns.Lab, tmp_path: Path) -> None:
    names = {code: province.site(code).firewall_name for code in (GOOD, REFUSED, UNREACHABLE)}
    devices = {code: firewall_device(province, fw_lab, names[code], INDEX[code]) for code in names}
    ns = {code: harness_fw(fw_lab, names[code]).netns for code in names}
    ctx = context(province, creds, env="lab")
    # the refused one runs the province policy already (its ruleset before is not empty)
    first = run(ctx, devices[REFUSED], "push")
    assert first.status == "changed", first
    # the unreachable one drops every packet to it, ahead of sshd: connections time out
    sh("nft", "add", "table", "inet", "egnt_cut", ns=ns[UNREACHABLE])
    sh("nft", "add", "chain", "inet", "egnt_cut", "input",
       "{ type filter hook input priority -300; policy drop; }", ns=ns[UNREACHABLE])
    before = {code: listing(ns[code]) for code in names}
    assert "table inet egov_policy" in before[REFUSED] and "table inet egov_policy" not in before[GOOD]

    hosts = hosts_file(fw_lab, tmp_path / "hosts.yml", {names[GOOD]: {}, names[REFUSED]: {
        "policy_overrides": REFUSED_POLICY}, names[UNREACHABLE]: {}})
    started = time.monotonic()
    proc = subprocess.run(push_argv(hosts, list(names.values()), "--workers", "3"), cwd=REPO, capture_output=True,
                          text=True, timeout=RUN_BOUND)
    seconds = time.monotonic() - started
    print(f"push over 3 firewalls: {seconds:.1f} s, exit {proc.returncode}\n{proc.stdout}\n{proc.stderr[-2000:]}")
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr[-2000:])
    report = json.loads(proc.stdout)
    results = {r["device"]: r for r in report["results"]}
    assert set(results) == set(names.values()), results
    assert report["workers"] == 3

    good = results[names[GOOD]]
    assert good["status"] == "changed" and good["error_kind"] is None, good
    assert "table inet egov_policy" in listing(ns[GOOD])
    assert run(ctx, devices[GOOD], "verify").status == "verified"

    refused = results[names[REFUSED]]
    assert refused["status"] == "failed" and refused["error_kind"] == "rejected-command", refused
    assert "nft -c refused the policy, nothing applied" in refused["message"], refused
    assert listing(ns[REFUSED]) == before[REFUSED]

    unreachable = results[names[UNREACHABLE]]
    assert unreachable["status"] == "failed" and unreachable["error_kind"] == "unreachable", unreachable
    assert harness_fw(fw_lab, names[UNREACHABLE]).address in unreachable["message"], unreachable
    assert listing(ns[UNREACHABLE]) == before[UNREACHABLE]
    assert seconds < RUN_BOUND


def _state(lab: netns.Lab, name: str) -> Path:
    return Path(str(lab.hosts_entry(harness_fw(lab, name))["state_dir"]))


def test_a_controller_killed_while_the_new_policy_awaits_confirmation_leaves_the_last_good_one(
        province: Province, creds: credentials.Credentials, fw_lab: netns.Lab, tmp_path: Path) -> None:
    name = province.site(KILLED).firewall_name
    last_good = firewall_device(province, fw_lab, name, INDEX[KILLED])
    ns = harness_fw(fw_lab, name).netns
    state = _state(fw_lab, name)
    ctx = context(province, creds, env="lab", confirm_timeout=CONFIRM_TIMEOUT)
    hosts = hosts_file(fw_lab, tmp_path / "hosts.yml", {name: {"policy_overrides": INTERRUPTED_POLICY}})

    # The window between "applied, pending" and the controller's confirm is one SSH reconnect (about a
    # second): an attempt whose kill came after the confirm proves nothing and is made again.
    for attempt in range(1, 4):
        assert run(ctx, last_good, "push").status in ("changed", "unchanged")
        before = listing(ns)
        assert "egov-killtest" not in before
        proc = subprocess.Popen(push_argv(hosts, [name], "--workers", "1"), cwd=REPO, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        held, killed_at = "", 0.0
        try:
            deadline = time.monotonic() + RUN_BOUND
            while time.monotonic() < deadline and proc.poll() is None:
                # `apply` removes `confirmed`, writes the `pending` token, then loads the new table
                if (state / "pending").exists() and not (state / "confirmed").exists():
                    held = listing(ns)
                    if "egov-killtest" in held:
                        proc.send_signal(signal.SIGKILL)
                        killed_at = time.monotonic()
                        break
                time.sleep(0.02)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        time.sleep(1)          # a confirm already on its way to the device finishes there (or never does)
        if (state / "confirmed").exists():
            print(f"attempt {attempt}: the controller confirmed before the kill (too late), again")
            continue
        assert killed_at, (f"attempt {attempt}: the push never held the new policy pending "
                           f"(exit {proc.returncode}): {out[-1500:]} {err[-1500:]}")
        assert proc.returncode == -signal.SIGKILL, (proc.returncode, out, err)
        break
    else:
        raise AssertionError("3 attempts: the controller confirmed before it could be killed every time")

    # the device held the new policy (the negative: a push that never applied would 'revert' trivially)
    assert "egov-killtest" in held and held != before
    reverted_after: float | None = None
    while time.monotonic() < killed_at + CONFIRM_TIMEOUT + 5:
        if listing(ns) == before:
            reverted_after = time.monotonic() - killed_at
            break
        time.sleep(0.2)
    print(f"killed at attempt {attempt}; "
          f"ruleset back after {reverted_after} s (confirm timeout {CONFIRM_TIMEOUT} s)")
    assert reverted_after is not None, f"the ruleset did not come back within {CONFIRM_TIMEOUT + 5} s:\n{listing(ns)}"
    assert reverted_after <= CONFIRM_TIMEOUT + 2
    assert (state / "reverted").exists() and not (state / "pending").exists()
    assert not (state / "confirmed").exists()
    # back at the last good policy exactly: pushing it changes nothing; the interrupted change re-applies
    assert run(ctx, last_good, "push").status == "unchanged"
    interrupted = firewall_device(province, fw_lab, name, INDEX[KILLED], policy_overrides=INTERRUPTED_POLICY)
    assert run(ctx, interrupted, "push").status == "changed"
    assert run(ctx, interrupted, "verify").status == "verified"
