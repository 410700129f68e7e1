"""The device inventory, derived from the province model.

DC: the core switches (dc-sw-NN) and the DC firewall. Every district and commune: an access
switch sw-<slug> and an edge firewall fw-<slug>. The platform is a field of each device.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from egov.model import Province, Site

ROLES = ("core-switch", "dc-firewall", "switch", "firewall")


@dataclass(frozen=True)
class Device:
    name: str
    role: str                      # core-switch | dc-firewall | switch | firewall
    platform: str                  # a key of network/platforms.yml
    host: str                      # management address (or the emulator's)
    port: int = 22
    site: Site | None = None
    index: int = 1                 # core switches: 1-based
    vars: dict[str, Any] = field(default_factory=dict)   # per-device overrides (hosts file)

    @property
    def kind(self) -> str:
        return "switch" if self.role in ("switch", "core-switch") else "firewall"

    @property
    def site_key(self) -> str:
        return self.site.code if self.site else "dc"


def derive(province: Province) -> list[Device]:
    """Every device of the province at its production management address."""
    devices_spec = province.source.devices
    mgmt = province.source.addressing.dc_segments["management"].prefix
    out: list[Device] = []
    for index in range(1, devices_spec.dc_core_switches + 1):
        out.append(Device(name=f"dc-sw-{index:02d}", role="core-switch", platform=devices_spec.switch_platform,
                          host=str(mgmt.network_address + 1 + index), index=index))
    dc_fw = province.dc_firewall
    out.append(Device(name=dc_fw.name, role="dc-firewall", platform=devices_spec.firewall_platform,
                      host=str(dc_fw.interfaces["management"][1].ip)))
    for site in province.sites:
        mgmt_vlan = site.vlan("management").network
        out.append(Device(name=site.switch_name, role="switch", platform=devices_spec.switch_platform,
                          host=str(mgmt_vlan.network_address + 2), site=site))
        out.append(Device(name=site.firewall_name, role="firewall", platform=devices_spec.firewall_platform,
                          host=str(site.wan_address), site=site))
    return out


def apply_hosts_file(devices: list[Device], path: Path | None) -> list[Device]:
    """Override addresses (and per-device vars) from a YAML file: {devices: {name: {host, port, ...}}}.

    Used for emulated switches (fake-switches listens on 127.0.x.y) and test harnesses.
    """
    if path is None:
        return devices
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    overrides: dict[str, dict[str, Any]] = data.get("devices", {})
    out = []
    for device in devices:
        spec = dict(overrides.get(device.name, {}))
        if not spec:
            out.append(device)
            continue
        host = str(spec.pop("host", device.host))
        port = int(spec.pop("port", device.port))
        platform = str(spec.pop("platform", device.platform))
        out.append(replace(device, host=host, port=port, platform=platform, vars={**device.vars, **spec}))
    return out


def names_from(path: Path) -> set[str]:
    """Device names listed in a file: a JSON object keyed by name (the lab's nodes.json) or list of
    names, or a text file with one name per line (the lab's up-hosts)."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {line.split()[0] for line in text.splitlines() if line.strip() and not line.startswith("#")}
    if isinstance(data, dict):
        return set(data)
    if isinstance(data, list):
        return {str(item) for item in data}
    raise ValueError(f"{path}: expected a JSON object or list of device names")


def restrict(devices: list[Device], path: Path | None) -> list[Device]:
    """Keep only the devices named in `path` (--hosts-from): e.g. the lab hosts that are up."""
    if path is None:
        return devices
    names = names_from(path)
    return [d for d in devices if d.name in names]


def select(devices: list[Device], only: tuple[str, ...] | list[str] = ()) -> list[Device]:
    """Filter with --only values: a device name or glob, `dc`, `site:<code|slug>`, `role:<role>`,
    `kind:switch|firewall`, `platform:<name>`. Several values add up (union)."""
    if not only:
        return list(devices)
    chosen: dict[str, Device] = {}
    for term in only:
        kind, _, arg = term.partition(":")
        for device in devices:
            if _matches(device, term, kind, arg):
                chosen[device.name] = device
    if not chosen:
        raise ValueError(f"--only {' '.join(only)} selects no device")
    return [d for d in devices if d.name in chosen]


def _matches(device: Device, term: str, kind: str, arg: str) -> bool:
    if term == "dc":
        return device.site is None
    if kind == "site" and arg:
        return device.site is not None and arg in (device.site.code, device.site.slug)
    if kind == "district" and arg:
        return device.site is not None and arg in (device.site.district_code,)
    if kind == "role" and arg:
        return device.role == arg
    if kind == "kind" and arg:
        return device.kind == arg
    if kind == "platform" and arg:
        return device.platform == arg
    return fnmatch.fnmatchcase(device.name, term)


def is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
