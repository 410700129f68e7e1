"""Fixtures of the mail tests (issue 6): lab hosts, the converged mail system, real clients.

Lab tests bring up what they need (`egov lab up --only dc --only site:<slug>`, additive) and converge
once per session what mail depends on and then playbooks/mail.yml on the mail group:
playbooks/pki.yml (lab CA on pki-01, CA chain on the mail hosts) and playbooks/directory.yml when
they exist, then playbooks/mail.yml. EGOV_LAB_CONVERGED=1 skips every converge (you know the lab
is current); EGOV_MAIL_NO_DEPS=1 converges only playbooks/mail.yml.

Clients are real and run in the office LAN namespace of a commune (egl-pc-<slug>): smtplib, imaplib
and ssl in tests/mail/netns_client.py, through the site firewall, the DC firewall and the host
firewall, with certificates verified against the lab CA.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from egov import settings
from egov.converge import parse_recap as recap  # host -> {ok, changed, failed, ...}
from egov.inventory import host_addresses
from tests.conftest import lab_site_up, lab_ssh, run

REPO = Path(__file__).resolve().parents[2]
INVENTORY = REPO / "inventories" / "lab"
LAB_SSH_KEY = settings.lab_ssh_key()
LAB_KNOWN_HOSTS = settings.lab_known_hosts()
SECRETS = settings.secrets_dir()
CA_PUBLIC = settings.lab_ca_dir()
CLIENT = Path(__file__).resolve().parent / "netns_client.py"
SITE = os.environ.get("EGOV_MAIL_SITE", "an-hiep")      # a commune of Châu Thành
NETNS = f"egl-pc-{SITE}"
PROVINCE = yaml.safe_load((INVENTORY / "group_vars" / "all" / "province.yml").read_text(encoding="utf-8"))
DOMAIN = PROVINCE["province_domain"]
SERVER_NAME = f"mail.{DOMAIN}"
MAIL_HOSTS = ["mail-01", "mail-02"]
DKIM_SELECTOR = os.environ.get("EGOV_MAIL_DKIM_SELECTOR", "egov2026")
DNS_SERVERS = list(PROVINCE["province_dns_servers"])


def inventory_hosts() -> dict[str, str]:
    """host -> ansible_host of the lab inventory."""
    return host_addresses(INVENTORY)


def playbook(name: str, limit: str, *extra: str, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
    return run(["ansible-playbook", "-i", str(INVENTORY), str(REPO / "playbooks" / name), "--limit", limit, *extra],
               timeout=timeout, check=False)


def converge(name: str, limit: str) -> None:
    proc = playbook(name, limit)
    failed = {h: c for h, c in recap(proc.stdout).items() if c.get("failed") or c.get("unreachable")}
    if proc.returncode != 0 or failed:
        pytest.fail(f"playbooks/{name} --limit {limit} failed {failed}:\n{proc.stdout[-5000:]}\n{proc.stderr[-2000:]}")


@dataclass
class Lab:
    addresses: dict[str, str]
    cafile: Path
    seed: str | None
    official_uids: list[str] = field(default_factory=list)

    def ssh(self, host: str, command: str, *, check: bool = True, timeout: float = 60) -> str:
        return lab_ssh(self.addresses[host], command, check=check, timeout=timeout).stdout

    def client(self, action: str, host: str, **request: Any) -> dict[str, Any]:
        """Run one probe of netns_client.py in the site LAN client's namespace."""
        req = {"action": action, "address": self.addresses[host], "server_name": SERVER_NAME,
               "cafile": str(self.cafile), **request}
        proc = run(["ip", "netns", "exec", NETNS, sys.executable, str(CLIENT), json.dumps(req)],
                   timeout=float(request.get("timeout", 60)) + 60, check=False)
        assert proc.returncode == 0, f"{action} on {host} crashed:\n{proc.stdout}\n{proc.stderr[-3000:]}"
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))

    def password(self, uid: str) -> str:
        if self.seed is None:
            pytest.skip(f"no officials seed at {SECRETS}/ldap/officials-seed (directory not converged)")
        from egov.model.officials import lab_password

        return lab_password(self.seed, uid)


def lab_ca_bundle(target: Path) -> Path:
    """The lab CA certificates (issuing + root) as one bundle for the clients."""
    certs = sorted(CA_PUBLIC.glob("*.crt")) + sorted(CA_PUBLIC.glob("*.pem"))
    if not certs:
        pytest.skip(f"no lab CA certificates in {CA_PUBLIC} (playbooks/pki.yml not converged)")
    target.write_text("".join(c.read_text(encoding="utf-8") for c in certs), encoding="utf-8")
    return target


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    lab_site_up(SITE, NETNS)
    # EGOV_LAB_CONVERGED=1: `make lab-test` converged playbooks/site.yml (twice) on these hosts already
    if not settings.lab_converged():
        if os.environ.get("EGOV_MAIL_NO_DEPS") != "1":
            if (REPO / "playbooks" / "pki.yml").exists():
                converge("pki.yml", "pki,mail")
            if (REPO / "playbooks" / "directory.yml").exists():
                converge("directory.yml", "directory")
        converge("mail.yml", "mail")
    seed_file = SECRETS / "ldap" / "officials-seed"
    seed = seed_file.read_text(encoding="utf-8").strip() if seed_file.exists() else None
    yield Lab(addresses=inventory_hosts(), cafile=lab_ca_bundle(tmp_path_factory.mktemp("ca") / "lab-ca.pem"),
              seed=seed)


@pytest.fixture(scope="session")
def officials() -> list[str]:
    """Every official's uid, from the model (the directory is built from the same function)."""
    from egov.model import load_province
    from egov.model.officials import build_directory

    province = load_province(REPO / "model" / "province.yml")
    return [o.uid for o in build_directory(province).officials]
