"""Fixtures: the province, emulated IOS switches (fake-switches) and real Linux firewalls (netns)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from harness import netns, switches

from egov.model import Province, load_province
from egov.network import credentials, inventory, ops
from egov.network.drivers import Options
from egov.network.inventory import Device
from egov.network.paths import network_dir

SWITCH_SITES = ("942", "31570")


@pytest.fixture(scope="session")
def province() -> Province:
    return load_province()


@pytest.fixture(scope="session")
def creds() -> credentials.Credentials:
    return credentials.generate(firewall_user="root", known_hosts=None)


@pytest.fixture(scope="session")
def switch_farm(tmp_path_factory: pytest.TempPathFactory, province: Province) -> Iterator[switches.SwitchFarm]:
    names = ["dc-sw-01", *(province.site(code).switch_name for code in SWITCH_SITES), "sw-spare-a", "sw-spare-b"]
    farm = switches.start(names, tmp_path_factory.mktemp("farm"))
    yield farm
    farm.stop()


def switch_devices(province: Province, farm: switches.SwitchFarm, names: list[str]) -> list[Device]:
    devices = inventory.apply_hosts_file(inventory.derive(province), farm.hosts_file)
    by_name = {d.name: d for d in devices}
    for entry in farm.entries:              # spare emulated switches outside the inventory
        if entry["name"] not in by_name:
            by_name[entry["name"]] = Device(
                name=entry["name"], role="switch", platform="cisco_ios", host=entry["ip"], port=entry["port"],
                site=province.site("942"), vars={k: entry[k] for k in ("username", "password", "enable")})
    return [by_name[n] for n in names]


@pytest.fixture(scope="session")
def fw_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[netns.Lab]:
    reason = netns.available()
    if reason:
        pytest.skip(f"Linux firewall harness unavailable: {reason}")
    lab = netns.new_lab(tmp_path_factory.mktemp("fwlab"))
    yield lab
    lab.teardown()


def firewall_device(province: Province, lab: netns.Lab, name: str, index: int, **extra: object) -> Device:
    fw = next((f for f in lab.firewalls if f.name == name), None) or netns.add_plain_firewall(lab, name, index)
    hosts = lab.workdir / f"hosts-{name}.yml"
    hosts.write_text(yaml.safe_dump({"devices": {name: lab.hosts_entry(
        fw, **{"management_net": "10.250.200.0/24", **extra})}}))
    return next(d for d in inventory.apply_hosts_file(inventory.derive(province), hosts) if d.name == name)


def context(province: Province, creds: credentials.Credentials, **kw: object) -> ops.Context:
    options = Options(timeout=float(kw.pop("timeout", 8.0)), confirm_timeout=float(kw.pop("confirm_timeout", 8.0)))
    return ops.Context(province=province, credentials=creds, options=options, **kw)  # type: ignore[arg-type]


@pytest.fixture()
def network_copy(tmp_path: Path) -> Path:
    """A writable copy of network/ (templates, registry) for bad-input tests."""
    target = tmp_path / "network"
    shutil.copytree(network_dir(), target)
    return target
