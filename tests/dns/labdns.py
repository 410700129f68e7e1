"""Helpers of the DNS lab tests: the inventory as data, commands in lab namespaces and on lab hosts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from egov import settings
from tests.conftest import REPO

INVENTORY = REPO / "inventories" / "lab"
SECRETS = settings.secrets_dir()
SSH_DIR = settings.lab_ssh_dir()
SITE_SLUG = "an-hiep"                 # the site LAN client the tests query from (netns egl-pc-an-hiep)
CLIENT_NETNS = f"egl-pc-{SITE_SLUG}"
LAB_SELECTORS = ["dc", f"site:{SITE_SLUG}"]
HERE = Path(__file__).resolve().parent


@cache
def hosts_yml() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((INVENTORY / "hosts.yml").read_text(encoding="utf-8"))
    return data


@cache
def province() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((INVENTORY / "group_vars" / "all" / "province.yml").read_text())
    return data


def group_hosts(group: str) -> dict[str, dict[str, Any]]:
    """Hosts of an inventory group (children included) with their host vars."""
    inv = hosts_yml()
    spec = inv.get(group) or {}
    hosts: dict[str, dict[str, Any]] = {}
    for name, hvars in (spec.get("hosts") or {}).items():
        hosts[name] = hvars or all_hostvars().get(name, {})
    for child in spec.get("children") or {}:
        hosts.update(group_hosts(child))
    return {name: all_hostvars().get(name, v) for name, v in hosts.items()}


@cache
def all_hostvars() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for spec in hosts_yml().values():
        for name, hvars in ((spec or {}).get("hosts") or {}).items():
            if hvars:
                out[name] = hvars
    return out


def domain() -> str:
    return str(province()["province_domain"])


def service_names() -> dict[str, str]:
    """DNS name -> group, generated from the model (services.<name>.names) into the inventory."""
    data = yaml.safe_load((REPO / "inventories" / "lab" / "group_vars" / "all" / "services.yml").read_text())
    return dict(data["egov_service_names"])


def dkim_selector() -> str:
    """The DKIM selector of the contract (egov_mail_dkim_selector, the roles' default egov2026)."""
    data = yaml.safe_load((REPO / "playbooks" / "group_vars" / "all" / "trust_identity.yml").read_text())
    return str(data.get("egov_mail_dkim_selector", "egov2026"))


def reverse_zones() -> list[str]:
    """One reverse zone per DC segment (/24), as the role derives them."""
    prefixes = [seg["prefix"] for seg in province()["province_dc_segments"].values()]
    return [".".join(reversed(p.split("/")[0].split(".")[:3])) + ".in-addr.arpa" for p in prefixes]


def dc_host_addresses() -> dict[str, str]:
    return {name: v["ansible_host"] for name, v in group_hosts("dc_servers").items() if "dc_service" in v}


def dns_servers() -> dict[str, str]:
    """{host: address} of the DNS servers, primary first (sorted, as the role picks it)."""
    return {name: group_hosts("dns")[name]["ansible_host"] for name in sorted(group_hosts("dns"))}


def lab_ready_reason() -> str | None:
    """Why the lab tests cannot run here (None when they can)."""
    if os.geteuid() != 0:
        return "the DNS lab tests need root (network namespaces of the lab)"
    missing = [c for c in ("egov", "ansible-playbook", "ip", "ssh", "systemd-nspawn") if shutil.which(c) is None]
    if missing:
        return f"lab tooling missing ({', '.join(missing)}): run `make deps`"
    try:
        import dns.query  # noqa: F401
    except ImportError:
        return "dnspython missing: pip install -r requirements/test.txt"
    return None


def run(argv: list[str], timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-3000:]}")
    return proc


def playbook(*args: str, timeout: float = 1200) -> subprocess.CompletedProcess[str]:
    return run(["ansible-playbook", "-i", str(INVENTORY), "playbooks/dns.yml", *args], timeout=timeout)


def ssh(host: str, command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    address = all_hostvars()[host]["ansible_host"]
    return run(
        ["ssh", "-i", str(SSH_DIR / "id_ed25519"), "-o", f"UserKnownHostsFile={SSH_DIR / 'known_hosts'}",
         "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", f"ansible@{address}",
         command],
        timeout=timeout, check=False,
    )


def in_netns(netns: str, script: str, *args: str, timeout: float = 60) -> Any:
    """Run a helper script of this directory with the controller's Python inside a network namespace."""
    proc = run(["ip", "netns", "exec", netns, sys.executable, str(HERE / script), *args], timeout=timeout)
    return json.loads(proc.stdout)
