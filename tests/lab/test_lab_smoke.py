"""Lab smoke test: a real subset of the province (DC + one district + two communes).

Builds real hosts (systemd-nspawn, own network namespaces), pings each over SSH with Ansible,
sends real packets from a commune LAN client to a DC host and proves they take the routed path
(commune firewall -> DC firewall) and no other, then tears everything down and checks that
nothing is left. Needs root and the lab tooling (`make deps`).

The lab owns fixed addresses, so only one can exist on a machine. If a lab is already running
(someone is using it), the test skips unless EGOV_LAB_TAKEOVER=1 (set by CI, where a lab left
by a killed session must be cleaned up rather than respected).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from egov.lab import manager
from egov.lab.topology import PREFIX
from egov.model import load_province
from tests.conftest import MODEL_DIR, REPO

pytestmark = pytest.mark.lab
SUBSET = ["dc", "district:942", "site:31570", "site:31573"]   # DC, Châu Thành, Xã Hồ Đắc Kiện, Xã Phú Tâm
STATE = manager.DEFAULT_STATE


def egov(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["egov", *args], cwd=REPO, capture_output=True, text=True, timeout=900)
    if check and proc.returncode != 0:
        pytest.fail(f"egov {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr[-3000:]}")
    return proc


def in_ns(netns: str, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", netns, *argv], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def lab():
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    missing = [c for c in ("systemd-nspawn", "debootstrap", "apt-cacher-ng", "traceroute", "nc", "ansible")
               if shutil.which(c) is None]
    if missing:
        pytest.skip(f"lab tooling missing ({', '.join(missing)}): run `make deps`")
    running = [r.name for r in manager.lab_status(STATE) if r.state in ("running", "booting")]
    if running and os.environ.get("EGOV_LAB_TAKEOVER") != "1":
        pytest.skip(f"a lab is running ({len(running)} hosts); set EGOV_LAB_TAKEOVER=1 to let this test replace it")
    egov("lab", "down", check=False)               # whatever an earlier (crashed) run left
    only = [a for sel in SUBSET for a in ("--only", sel)]
    egov("lab", "up", *only)
    yield load_province(MODEL_DIR / "province.yml")
    egov("lab", "down")


def test_every_host_answers_ansible_over_ssh(lab) -> None:
    proc = egov("lab", "ping", check=False)
    expected = {lab.dc_firewall.name, *(h.name for h in lab.dc_hosts), "fw-chau-thanh", "fw-thi-tran-chau-thanh",
                "fw-ho-dac-kien", "fw-phu-tam"} | {s.firewall_name for s in lab.communes_of("942")}
    ok = {line.split(" | ")[0] for line in proc.stdout.splitlines() if "| SUCCESS" in line}
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert ok == expected


def test_status_lists_every_host_running(lab) -> None:
    import json

    rows = json.loads(egov("lab", "status", "--json").stdout)
    states = {row["host"]: row["state"] for row in rows}
    assert states["dc-fw-01"] == "running" and states["mail-01"] == "running"
    assert states["pc-ho-dac-kien"] == "up"
    assert all(state in ("running", "up") for state in states.values()), states


def test_commune_packets_take_the_routed_path_only(lab) -> None:
    commune = lab.site("31570")
    client = f"{PREFIX}-{commune.client_name}"
    target = next(h for h in lab.dc_hosts if h.service == "directory")
    hops = in_ns(client, "traceroute", "-n", "-q", "1", "-w", "2", str(target.address)).stdout
    path = [line.split()[1] for line in hops.splitlines()[1:] if len(line.split()) > 1]
    assert path == [str(commune.vlan("office").gateway), str(lab.dc_firewall.wan_address), str(target.address)]
    assert in_ns(client, "nc", "-z", "-w", "3", str(target.address), "22").returncode == 0
    # the client's only way out is its firewall: with the DC firewall's WAN link down, nothing arrives
    dc_fw = f"{PREFIX}-{lab.dc_firewall.name}"
    subprocess.run(["ip", "-n", dc_fw, "link", "set", "wan0", "down"], check=True)
    try:
        assert in_ns(client, "nc", "-z", "-w", "2", str(target.address), "22").returncode != 0
    finally:
        subprocess.run(["ip", "-n", dc_fw, "link", "set", "wan0", "up"], check=True)
        subprocess.run(["ip", "-n", dc_fw, "route", "replace", str(commune.block), "via", str(commune.wan_address)],
                       check=True)
    routes = in_ns(client, "ip", "-4", "route", "show").stdout.splitlines()
    assert routes[0].startswith(f"default via {commune.vlan('office').gateway}")
    assert in_ns(client, "nc", "-z", "-w", "3", str(target.address), "22").returncode == 0


def test_apt_works_through_the_lab_proxy(lab) -> None:
    key = STATE / "ssh" / "id_ed25519"
    known = STATE / "ssh" / "known_hosts"
    host = next(h for h in lab.dc_hosts if h.service == "mirror")
    proc = subprocess.run(
        ["ssh", "-i", str(key), "-o", f"UserKnownHostsFile={known}", "-o", "StrictHostKeyChecking=yes",
         "-o", "BatchMode=yes", f"ansible@{host.address}", "sudo apt-get update -q && apt-cache policy nginx"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Candidate:" in proc.stdout


def test_up_again_repairs_a_broken_host(lab) -> None:
    victim = "fw-phu-tam"
    subprocess.run(["ip", "netns", "delete", f"{PREFIX}-{victim}"], check=True)
    egov("lab", "up", "--only", "site:31573")
    rows = {r.name: r.state for r in manager.lab_status(STATE)}
    assert rows[victim] == "running"


def test_down_leaves_nothing(lab) -> None:
    egov("lab", "down")
    left = manager.leftovers(STATE, unreachable=str(lab.source.addressing.supernet))
    assert left == []
    assert not any(p.name.startswith(PREFIX) for p in Path("/run/netns").glob("*"))
    egov("lab", "down")                                  # idempotent: a second down is a no-op
