"""The control catalogue (controls/catalogue.yml) and the inventory the baseline suite runs over."""

from __future__ import annotations

import functools
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from egov import settings

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = REPO / "controls" / "catalogue.yml"
UP_HOSTS = Path(os.environ.get("EGOV_LAB_UP_HOSTS") or settings.lab_up_hosts())
INVENTORY = os.environ.get("EGOV_INVENTORY", str(REPO / "inventories" / "lab"))

CONCERNS = [
    "ssh",
    "sysctl",
    "modules",
    "filesystem",
    "accounts",
    "sudo",
    "coredump",
    "banner",
    "services",
    "time",
    "logging",
    "audit",
    "integrity",
    "updates",
    "firewall",
]


@functools.cache
def catalogue() -> dict[str, Any]:
    return yaml.safe_load(CATALOGUE.read_text())


def controls(concern: str | None = None) -> list[dict[str, Any]]:
    return [c for c in catalogue()["controls"] if concern is None or c["concern"] == concern]


def role_defaults(role: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / "roles" / role / "defaults" / "main.yml").read_text())


def playbook_vars(name: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / "playbooks" / "group_vars" / "all" / f"{name}.yml").read_text())


@dataclass
class InventoryHost:
    name: str
    groups: set[str]
    vars: dict[str, Any] = field(default_factory=dict)

    @property
    def environment(self) -> str:
        return str(self.vars.get("egov_environment", "production"))


@functools.cache
def inventory() -> dict[str, InventoryHost]:
    """Hosts of the `linux` group with their groups and variables (ansible-inventory --list)."""
    out = subprocess.run(
        ["ansible-inventory", "-i", INVENTORY, "--list"], capture_output=True, text=True, check=True, cwd=REPO
    ).stdout
    data = json.loads(out)
    hostvars = data.get("_meta", {}).get("hostvars", {})
    groups: dict[str, set[str]] = {}

    def walk(group: str, parents: tuple[str, ...]) -> None:
        entry = data.get(group, {})
        for host in entry.get("hosts", []):
            groups.setdefault(host, set()).update((group, *parents))
        for child in entry.get("children", []):
            walk(child, (*parents, group))

    walk("all", ())
    return {
        name: InventoryHost(name, grp - {"all"}, hostvars.get(name, {}))
        for name, grp in groups.items()
        if "linux" in grp
    }


def selected_hosts() -> tuple[list[str], str | None]:
    """Hosts to test, or a reason to skip everything."""
    if os.environ.get("EGOV_BASELINE", "") not in ("1", "true", "yes"):
        return [], (
            "baseline suite is live: set EGOV_BASELINE=1 (molecule verify and `pytest -m lab` runs do) "
            "with the lab up (`egov lab up`)"
        )
    if not UP_HOSTS.exists():
        return [], f"lab is not up ({UP_HOSTS} missing): run `egov lab up`"
    up = {line.strip() for line in UP_HOSTS.read_text().splitlines() if line.strip()}
    wanted = os.environ.get("EGOV_BASELINE_HOSTS", "")
    hosts = sorted(h for h in inventory() if h in up)
    if wanted:
        names = {w.strip() for w in wanted.split(",") if w.strip()}
        hosts = [h for h in hosts if h in names or inventory()[h].groups & names]
    if not hosts:
        return [], "no lab host of the inventory is up"
    return hosts, None


def waiver_reason(control: dict[str, Any], host: InventoryHost) -> str | None:
    waiver = control.get("waiver") or {}
    if not waiver.get("waived"):
        return None
    envs = waiver.get("environments")
    if envs and host.environment not in envs:
        return None
    return f"WAIVED {control['id']}: {waiver.get('justification', '(no justification)')}"


def scope_reason(control: dict[str, Any], host: InventoryHost) -> str | None:
    scope = control.get("scope") or {}
    if scope.get("groups") and not host.groups & set(scope["groups"]):
        return f"not applicable: {host.name} is in none of {scope['groups']}"
    if scope.get("exclude_groups") and host.groups & set(scope["exclude_groups"]):
        return f"not applicable: {host.name} is in {sorted(host.groups & set(scope['exclude_groups']))}"
    return None
