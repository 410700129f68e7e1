"""Fixtures of the central-log lab tests (issue 16): the log host, a DC client, a commune's firewall
and its LAN client.

The site is the one the mail and SSO tests use (EGOV_LOGS_SITE, default an-hiep): `egov lab up
--only dc --only site:<slug>` (additive) brings its firewall and LAN client up. `make lab-test`'s
shared converge (EGOV_LAB_CONVERGED=1) covers the log host and the DC clients but not the site
firewall, so the fixture converges what the firewall needs for its logs (baseline apt, packages and
rsyslog concerns, the CA chain, playbooks/logs.yml) unless it is in place already
(EGOV_LOGS_CONVERGE=1 forces it: egov.settings.force_converge), and pushes the province policy
onto it with `egov network push` (and removes it again afterwards if the firewall had none, as the
other tests found it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from egov import settings
from egov.converge import parse_recap as recap
from egov.inventory import host_addresses
from tests.conftest import lab_ssh, province_policy_on, run

REPO = Path(__file__).resolve().parents[2]
INVENTORY = REPO / "inventories" / "lab"
SITE = os.environ.get("EGOV_LOGS_SITE", "an-hiep")
FIREWALL = f"fw-{SITE}"
NETNS = f"egl-pc-{SITE}"
LOG_HOST = os.environ.get("EGOV_LOGS_HOST", "logs-01")
CLIENT = os.environ.get("EGOV_LOGS_CLIENT", "pki-01")      # a DC host of make lab-test's LAB_SYSTEMS
STORE = "/var/log/remote"


@dataclass
class LogLab:
    addresses: dict[str, str]
    site: str = SITE
    firewall: str = FIREWALL
    netns: str = NETNS
    log_host: str = LOG_HOST
    client: str = CLIENT
    store: str = STORE

    def ssh(self, host: str, command: str, *, check: bool = True,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return lab_ssh(self.addresses[host], command, check=check, timeout=timeout)

    def in_lan(self, argv: list[str], *, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return run(["ip", "netns", "exec", self.netns, *argv], check=False, timeout=timeout)


def _playbook(name: str, limit: str, *extra: str) -> None:
    proc = run(["ansible-playbook", "-i", str(INVENTORY), str(REPO / "playbooks" / name), "--limit", limit, *extra],
               timeout=1800, check=False)
    failed = {h: c for h, c in recap(proc.stdout).items() if c.get("failed") or c.get("unreachable")}
    if proc.returncode != 0 or failed:
        pytest.fail(f"playbooks/{name} --limit {limit} failed {failed}:\n{proc.stdout[-5000:]}\n{proc.stderr[-2000:]}")


FIREWALL_READY = ("systemctl is-active -q rsyslog ulogd2 && test -s /etc/ssl/egov/ca-chain.pem"
                  " && grep -q gtls /etc/rsyslog.d/90-egov-forward.conf")


@pytest.fixture(scope="session")
def loglab() -> Iterator[LogLab]:
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    missing = [c for c in ("egov", "ansible-playbook", "systemd-nspawn", "ssh", "ip", "nc") if shutil.which(c) is None]
    if missing:
        pytest.skip(f"lab tooling missing ({', '.join(missing)}): run `make deps`")
    run(["egov", "lab", "up", "--only", "dc", "--only", f"site:{SITE}"], timeout=900)
    if not Path(f"/run/netns/{NETNS}").exists():
        pytest.skip(f"the LAN client namespace {NETNS} is missing after `egov lab up`")
    lab = LogLab(addresses=host_addresses(INVENTORY))
    if not settings.lab_converged():
        _playbook("site.yml", f"{LOG_HOST},{CLIENT}")
    ready = lab.ssh(FIREWALL, FIREWALL_READY, check=False).returncode == 0
    chain = {"baseline.yml": ("--tags", "apt,packages,rsyslog"), "pki.yml": (), "logs.yml": ()}
    # EGOV_LOGS_CONVERGE=1 (or =logs.yml,...): converge the firewall's chain (or these of it) even when ready
    for playbook in settings.force_converge("logs", list(chain)) or ([] if ready else list(chain)):
        _playbook(playbook, FIREWALL, *chain[playbook])
    with province_policy_on(lab.addresses, [FIREWALL]):
        yield lab
