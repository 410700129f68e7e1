"""The device-type registry (network/platforms.yml) and the province policy data (network/policy.yml)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from egov.network.paths import network_dir


@dataclass(frozen=True)
class Platform:
    name: str
    netmiko_device_type: str
    driver: str
    templates: dict[str, str]
    error_patterns: tuple[str, ...]


@cache
def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def registry_data(base: Path | None = None) -> dict[str, Any]:
    return _load((base or network_dir()) / "platforms.yml")


def policy_data(base: Path | None = None) -> dict[str, Any]:
    return _load((base or network_dir()) / "policy.yml")


def platforms(base: Path | None = None) -> dict[str, Platform]:
    out = {}
    for name, spec in registry_data(base)["platforms"].items():
        out[name] = Platform(name=name, netmiko_device_type=spec["netmiko_device_type"], driver=spec["driver"],
                             templates=dict(spec["templates"]), error_patterns=tuple(spec.get("error_patterns", [])))
    return out


def expand_ports(spec: str) -> list[str]:
    """'FastEthernet0/1-3' -> FastEthernet0/1, FastEthernet0/2, FastEthernet0/3."""
    match = re.fullmatch(r"(.*?)(\d+)-(\d+)", spec)
    if not match:
        return [spec]
    prefix, low, high = match.group(1), int(match.group(2)), int(match.group(3))
    return [f"{prefix}{n}" for n in range(low, high + 1)]
