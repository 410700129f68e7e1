"""Stack settings: what differs between `prod` and `staging`, read from Pulumi.<stack>.yaml.

Everything about *what* to build comes from the province model; the stack config says only
*how* this OpenStack names things (flavors, image, external network, volume types) and how much
the stack is scaled down.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from egov.model import Province
from egov.model.schema import Size

VOLUME_TIERS = ("fast", "bulk")
GB_PER_TB = 1000   # SAN vendors size in decimal terabytes


class SettingsError(ValueError):
    """A stack config value is missing or malformed; the message names the key."""


@dataclass(frozen=True)
class StackSettings:
    environment: str                       # the Pulumi stack name: prod | staging
    operator: str                          # department code of the agency running the DC
    image: str                             # Glance image for every instance ...
    service_images: dict[str, str]         # ... unless a service has its own
    flavors: dict[str, str]                # size key "<vcpu>c<ram>g" -> Nova flavor name
    external_network: str                  # Neutron external network (router gateway, floating IPs)
    volume_types: dict[str, str]           # tier (fast | bulk) -> Cinder volume type (encrypted)
    bulk_threshold_gb: int                 # volumes at least this large go to the bulk tier
    volume_scale_pct: int                  # 100 in prod; staging keeps the topology, shrinks the disks
    san_capacity_gb: int
    ssh_public_key: str
    dns_servers_external: tuple[str, ...] = field(default_factory=tuple)

    def flavor_for(self, service: str, size: Size) -> str:
        key = size_key(size)
        if key not in self.flavors:
            raise SettingsError(f"config 'flavors' has no entry {key!r} (needed by service {service!r}); "
                                f"known: {sorted(self.flavors)}")
        return self.flavors[key]

    def image_for(self, service: str) -> str:
        return self.service_images.get(service, self.image)


def size_key(size: Size) -> str:
    return f"{size.vcpu}c{size.ram_gb}g"


def read_settings(config: pulumi.Config, province: Province) -> StackSettings:
    """Read and check the stack config. Raise SettingsError naming the bad key."""
    environment = pulumi.get_stack()
    operator = config.require("operator")
    if operator not in {d.code for d in province.departments}:
        raise SettingsError(f"config 'operator': {operator!r} is not a department code of the province model")
    san_tb = config.get_float("sanCapacityTb")
    if san_tb is None:
        san_tb = province.source.facts.baseline_2016.dc_san_tb
    scale = config.get_int("volumeScalePercent") or 100
    if not 1 <= scale <= 100:
        raise SettingsError(f"config 'volumeScalePercent': {scale} is outside 1..100")
    return StackSettings(
        environment=environment,
        operator=operator,
        image=config.require("image"),
        service_images=_str_map(config.get_object("serviceImages") or {}, "serviceImages"),
        flavors=_str_map(config.require_object("flavors"), "flavors"),
        external_network=config.require("externalNetwork"),
        volume_types=_volume_types(config.require_object("volumeTypes")),
        bulk_threshold_gb=config.get_int("bulkThresholdGb") or 500,
        volume_scale_pct=scale,
        san_capacity_gb=int(san_tb * GB_PER_TB),
        ssh_public_key=config.require("sshPublicKey"),
        dns_servers_external=tuple(_str_list(config.get_object("externalDnsServers") or [], "externalDnsServers")),
    )


def _str_map(value: Any, key: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise SettingsError(f"config {key!r} must be a mapping of strings to strings, got {value!r}")
    return dict(value)


def _str_list(value: Any, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingsError(f"config {key!r} must be a list of strings, got {value!r}")
    return list(value)


def _volume_types(value: Any) -> dict[str, str]:
    types = _str_map(value, "volumeTypes")
    missing = [tier for tier in VOLUME_TIERS if tier not in types]
    if missing:
        raise SettingsError(f"config 'volumeTypes' lacks the tier(s) {missing}")
    return types
