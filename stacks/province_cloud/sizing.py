"""Cinder volumes derived from the model: sizes, tiers, and the SAN total.

Every DC host gets a ``data`` volume of its service's ``size.disk_gb``. A service with a
``mailbox_quota_gb`` also gets a ``mailstore`` on every host (each host of the HA pair keeps a
full replica): mailboxes × quota, where mailboxes are the officials of the whole province (the
plan's 2020 target: 100 % of officials use mail), never fewer than the plan's 2016 count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from egov.model import DcHost, Province

MIN_VOLUME_GB = 10


@dataclass(frozen=True)
class VolumeSpec:
    host: str
    service: str
    purpose: str      # data | mailstore
    size_gb: int
    tier: str         # fast | bulk


def mailboxes(province: Province) -> int:
    return max(province.total_officials, province.source.facts.baseline_2016.mailboxes)


def scaled(size_gb: float, scale_pct: int) -> int:
    return max(MIN_VOLUME_GB, math.ceil(size_gb * scale_pct / 100))


def tier_for(size_gb: int, bulk_threshold_gb: int) -> str:
    return "bulk" if size_gb >= bulk_threshold_gb else "fast"


def volumes_for(province: Province, host: DcHost, scale_pct: int, bulk_threshold_gb: int) -> list[VolumeSpec]:
    service = province.source.services[host.service]
    wanted = {"data": float(service.size.disk_gb)}
    if service.mailbox_quota_gb is not None:
        wanted["mailstore"] = mailboxes(province) * service.mailbox_quota_gb
    specs = []
    for purpose, full_size in wanted.items():
        tier = tier_for(math.ceil(full_size), bulk_threshold_gb)   # the tier follows the production size
        specs.append(VolumeSpec(host=host.name, service=host.service, purpose=purpose,
                                size_gb=scaled(full_size, scale_pct), tier=tier))
    return specs


def all_volumes(province: Province, scale_pct: int, bulk_threshold_gb: int) -> list[VolumeSpec]:
    return [spec for host in province.cloud_hosts for spec in volumes_for(province, host, scale_pct, bulk_threshold_gb)]


def total_gb(volumes: list[VolumeSpec]) -> int:
    return sum(v.size_gb for v in volumes)
