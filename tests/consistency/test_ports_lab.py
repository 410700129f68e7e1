"""On the converged lab, every DC host's daemons listen on exactly the model's listeners and its
host firewall admits exactly what the flow matrix says (issue 11, section 1). The other two
layers (security groups, device policy) are test_ports_static.py.

Runs after `make lab-test`'s converge (EGOV_LAB_CONVERGED=1) on the hosts of EGOV_LAB_SYSTEMS (the
inventory groups that converge covered, e.g. pki,dns,directory,mail,sso,logs); skipped otherwise,
with the reason.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from egov import settings
from egov.model import DcHost, Province, load_province
from tests.consistency import matrix

pytestmark = pytest.mark.lab
SYSTEMS_ENV = "EGOV_LAB_SYSTEMS"
PROVINCE = load_province()


def _systems() -> list[str]:
    return [s for s in os.environ.get(SYSTEMS_ENV, "").split(",") if s]


def _hosts() -> list[DcHost]:
    """The DC hosts of the converged systems that are up (the main job names every system)."""
    systems = set(_systems())
    up_file = settings.lab_up_hosts()
    up = set(up_file.read_text(encoding="utf-8").split()) if up_file.exists() else set()
    return [h for h in PROVINCE.dc_hosts if h.service in systems and h.name in up]


def ssh(host: DcHost, command: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    argv = ["ssh", "-q", "-i", str(settings.lab_ssh_key()), "-o", f"UserKnownHostsFile={settings.lab_known_hosts()}",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
            f"ansible@{host.address}", command]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def _need_converged() -> None:
    if not settings.lab_converged() or not _systems():
        pytest.skip(f"needs the converged lab: {settings.LAB_CONVERGED_ENV}=1 and {SYSTEMS_ENV}=<groups> "
                    "(make lab-test sets both after its converge)")


def layer_problems(province: Province, host: DcHost) -> list[str]:
    """The host's listening sockets and live host firewall against the flow matrix."""
    sockets = ssh(host, "ss -H -tuln")
    assert sockets.returncode == 0, f"{host.name}: ss failed: {sockets.stderr}"
    problems = matrix.listener_differences(matrix.expected_listeners(province, host),
                                           matrix.listening(sockets.stdout), matrix.on_demand_ports(province, host))
    rules = ssh(host, "sudo nft -j list table inet host_firewall")
    assert rules.returncode == 0, f"{host.name}: no host firewall table: {rules.stderr}"
    problems += matrix.differences("host_firewall", matrix.expected(province, host, "host_firewall"),
                                   matrix.host_firewall(rules.stdout))
    return problems


@pytest.mark.parametrize("host", _hosts() or [None], ids=lambda h: h.name if h else "none")
def test_sockets_and_host_firewall_match_the_flow_matrix(host: DcHost | None) -> None:
    _need_converged()
    assert host is not None
    problems = layer_problems(PROVINCE, host)
    assert not problems, f"{host.name}:\n" + "\n".join(problems)


def test_a_stray_listener_and_a_stray_rule_are_caught() -> None:
    """The test of the test: a daemon on a port the model does not know, and a host firewall rule no
    flow needs, on one converged host; both named; both removed afterwards."""
    _need_converged()
    host = _hosts()[0]
    port = 8099
    start = ssh(host, f"sudo systemd-run --unit=egov-stray-listener --collect python3 -m http.server {port} "
                      f"--bind 0.0.0.0 && sudo nft add rule inet host_firewall input tcp dport {port} accept "
                      f"comment egov-stray-rule")
    assert start.returncode == 0, start.stderr
    try:
        for _ in range(20):
            problems = layer_problems(PROVINCE, host)
            if any(f"tcp/{port} is open" in p for p in problems):
                break
            subprocess.run(["sleep", "0.5"], check=True)
        assert any(p.startswith(f"listening: tcp/{port} is open but the model has no listener") for p in problems), \
            problems
        assert any(p.startswith(f"host_firewall: tcp/{port} is admitted") for p in problems), problems
    finally:
        ssh(host, "sudo systemctl stop egov-stray-listener; "
                  "handle=$(sudo nft -a list chain inet host_firewall input | "
                  "sed -n 's/.*comment \"egov-stray-rule\" # handle \\([0-9]*\\)$/\\1/p'); "
                  "[ -z \"$handle\" ] || sudo nft delete rule inet host_firewall input handle $handle")
    assert not [p for p in layer_problems(PROVINCE, host) if str(port) in p], "the stray listener/rule stayed"
