"""Lab fixtures of the directory tests: the DC hosts up, playbooks/directory.yml converged once.

The directory is reached the way its clients reach it: ldapsearch/ldapwhoami over SSH on the mail
and sso hosts (the allowed sources of the flow matrix), verifying the CA chain; counts are read on
the directory hosts themselves over ldapi:/// as root.

Environment:
  EGOV_LAB_CONVERGED=1         skip the converge (`make lab-test` converged playbooks/site.yml on these
                               hosts; molecule's verify step: it has just converged)
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
from egov.model import load_province
from egov.model.officials import Directory, build_directory
from tests.conftest import MODEL_DIR, REPO

LAB_SSH = settings.lab_ssh_dir()
SECRETS = settings.secrets_dir()
CA_PUBLIC = settings.lab_ca_dir()
CLIENT_CA = "/tmp/egov-directory-test-ca.pem"
CLIENT_HOSTS = ("mail-01", "sso-01")


@dataclass(frozen=True)
class Host:
    name: str
    address: str

    def run(self, command: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        argv = ["ssh", "-q", "-i", str(LAB_SSH / "id_ed25519"), "-o", f"UserKnownHostsFile={LAB_SSH / 'known_hosts'}",
                "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", f"ansible@{self.address}", command]
        return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout)


@dataclass(frozen=True)
class Lab:
    tree: Directory
    provider: Host
    replica: Host
    clients: dict[str, Host]
    seed: str
    secrets: Path

    def secret(self, name: str) -> str:
        return (self.secrets / "ldap" / name).read_text().strip()


def _inventory_hosts() -> dict[str, str]:
    data = yaml.safe_load((REPO / "inventories/lab/hosts.yml").read_text())
    found: dict[str, str] = {}

    def walk(node: dict) -> None:
        for name, hostvars in (node.get("hosts") or {}).items():
            if hostvars and "ansible_host" in hostvars:
                found[name] = hostvars["ansible_host"]
        for child in (node.get("children") or {}).values():
            walk(child or {})

    for group in data.values():
        walk(group or {})
    return found


def _run(argv: list[str], timeout: float = 3600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    if os.geteuid() != 0:
        pytest.skip("the directory lab tests need root (the lab runs systemd-nspawn hosts)")
    missing = [c for c in ("egov", "ansible-playbook", "systemd-nspawn", "ssh") if shutil.which(c) is None]
    if missing:
        pytest.skip(f"lab tooling missing ({', '.join(missing)}): run `make deps`")
    up = _run(["egov", "lab", "up", "--only", "dc"], timeout=1800)          # additive: running hosts stay
    if up.returncode != 0:
        pytest.fail(f"egov lab up --only dc failed:\n{up.stdout[-2000:]}\n{up.stderr[-2000:]}")
    if not settings.lab_converged():
        for playbook in ("pki.yml", "directory.yml"):
            run = _run(["ansible-playbook", "-i", "inventories/lab", f"playbooks/{playbook}", "--limit", "directory"])
            if run.returncode != 0:
                pytest.fail(f"playbooks/{playbook} failed:\n{run.stdout[-4000:]}\n{run.stderr[-2000:]}")
    addresses = _inventory_hosts()
    clients = {name: Host(name, addresses[name]) for name in CLIENT_HOSTS}
    chain = (CA_PUBLIC / "issuing.crt").read_text() + (CA_PUBLIC / "root.crt").read_text()
    for client in clients.values():
        # the client tools and the CA chain (the lab CA's public certificates) on the allowed sources
        prep = client.run(f"command -v ldapwhoami >/dev/null || sudo DEBIAN_FRONTEND=noninteractive apt-get "
                          f"install -y -q ldap-utils >/dev/null; cat > {CLIENT_CA}", stdin=chain, timeout=600)
        assert prep.returncode == 0, prep.stderr
    yield Lab(tree=build_directory(load_province(MODEL_DIR / "province.yml")),
              provider=Host("directory-01", addresses["directory-01"]),
              replica=Host("directory-02", addresses["directory-02"]), clients=clients,
              seed=(SECRETS / "ldap" / "officials-seed").read_text().strip(), secrets=SECRETS)
