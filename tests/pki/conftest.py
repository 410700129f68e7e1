"""Fixtures of the CA integration tests (issue 6): the lab hosts, SSH to them, the converged CA.

Lab tests bring up what they need (`egov lab up --only dc --only site:<slug>`, additive) and converge
playbooks/pki.yml on pki-01 once per session (EGOV_LAB_CONVERGED=1 skips the converge when
you know it is current). Clients are real: openssl, curl, ansible-playbook, over SSH and from the
LAN client network namespace of a commune (egl-pc-<slug>) through the real firewalls.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from egov import settings
from egov.converge import parse_recap as recap  # host -> {ok, changed, failed, ...}
from tests.conftest import run

REPO = Path(__file__).resolve().parents[2]
INVENTORY = REPO / "inventories" / "lab"
LAB_SSH_KEY = settings.lab_ssh_key()
LAB_KNOWN_HOSTS = settings.lab_known_hosts()
SECRETS = settings.secrets_dir()
CA_PUBLIC = settings.lab_ca_dir()
CA_HOST = "pki-01"
SITE = "an-hiep"                       # a commune of Châu Thành: its office LAN client probes the DC
NETNS = f"egl-pc-{SITE}"
PROVINCE = yaml.safe_load((INVENTORY / "group_vars" / "all" / "province.yml").read_text(encoding="utf-8"))
DOMAIN = PROVINCE["province_domain"]
VALID_OFFICIALS = ["snv.001", "chau-thanh.001", "an-hiep.001"]
REVOKED_OFFICIALS = ["stttt.099"]


def host_address(host: str) -> str:
    hosts = yaml.safe_load((INVENTORY / "hosts.yml").read_text(encoding="utf-8"))

    def find(node: object) -> str | None:
        if not isinstance(node, dict):
            return None
        hv = (node.get("hosts") or {}).get(host)
        if isinstance(hv, dict) and "ansible_host" in hv:
            return str(hv["ansible_host"])
        for child in [*(node.get("children") or {}).values(), *(v for k, v in node.items() if k not in
                                                                ("hosts", "children", "vars"))]:
            if (found := find(child)) is not None:
                return found
        return None

    address = find(hosts)
    assert address, f"{host} is not in {INVENTORY}/hosts.yml"
    return address


@dataclass
class Lab:
    ca_address: str

    def ssh(self, host: str, command: str, *, check: bool = True, timeout: float = 60) -> str:
        argv = ["ssh", "-i", str(LAB_SSH_KEY), "-o", f"UserKnownHostsFile={LAB_KNOWN_HOSTS}",
                "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", f"ansible@{host_address(host)}",
                f"sudo sh -c {sh_quote(command)}"]
        return run(argv, check=check, timeout=timeout).stdout

    def netns(self, *argv: str, check: bool = False, timeout: float = 60,
              input: str | None = None) -> subprocess.CompletedProcess[str]:
        return run(["ip", "netns", "exec", NETNS, *argv], check=check, timeout=timeout, input=input)


def sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def playbook(*args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    return run(["ansible-playbook", "-i", str(INVENTORY), *args], timeout=timeout, check=False)


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    missing = [c for c in ("egov", "ansible-playbook", "systemd-nspawn", "openssl", "curl", "ssh", "ip")
               if shutil.which(c) is None]
    if missing:
        pytest.skip(f"lab tooling missing ({', '.join(missing)}): run `make deps`")
    run(["egov", "lab", "up", "--only", "dc", "--only", f"site:{SITE}"], timeout=900)
    if not Path(f"/run/netns/{NETNS}").exists():
        pytest.skip(f"the LAN client namespace {NETNS} is missing after `egov lab up`")
    yield Lab(ca_address=host_address(CA_HOST))


@pytest.fixture(scope="session")
def converged(lab: Lab) -> Lab:
    """playbooks/pki.yml converged on pki-01 (once per session)."""
    # EGOV_LAB_CONVERGED=1: `make lab-test` converged playbooks/site.yml (twice) on these hosts already
    if not settings.lab_converged():
        proc = playbook(str(REPO / "playbooks" / "pki.yml"), "--limit", CA_HOST)
        if proc.returncode != 0 or recap(proc.stdout).get(CA_HOST, {}).get("failed", 1):
            pytest.fail(f"playbooks/pki.yml failed on {CA_HOST}:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    return lab
