"""The deterministic IP and VLAN plan.

Every address is a pure function of the addressing section and a slot number taken from the
allocation ledger, so adding a site (a new slot) never renumbers an existing one.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from egov.model.schema import Addressing

IPv4 = ipaddress.IPv4Address
Net = ipaddress.IPv4Network


@dataclass(frozen=True)
class VlanSubnet:
    name: str
    vlan: int
    network: Net
    isolated: bool = False      # not part of `sites` in the flow matrix (model: site_vlans.<name>.isolated)

    @property
    def gateway(self) -> IPv4:
        return self.network.network_address + 1


def site_block(addressing: Addressing, slot: int) -> Net:
    """The slot-th block (1-based) of the site pool."""
    size = 2 ** (32 - addressing.site_prefix_len)
    capacity = site_capacity(addressing)
    if not 1 <= slot <= capacity:
        raise ValueError(f"site slot {slot} is outside 1..{capacity} of the site pool")
    base = addressing.site_pool.network_address + (slot - 1) * size
    return ipaddress.IPv4Network((base, addressing.site_prefix_len))


def site_capacity(addressing: Addressing) -> int:
    pool_bits = 32 - addressing.site_pool.prefixlen
    block_bits = 32 - addressing.site_prefix_len
    return 2 ** max(pool_bits - block_bits, 0) if pool_bits >= block_bits else 0


def site_vlans(addressing: Addressing, slot: int) -> list[VlanSubnet]:
    block = site_block(addressing, slot)
    out = []
    for name, spec in addressing.site_vlans.items():
        network = ipaddress.IPv4Network((block.network_address + spec.offset, spec.prefix_len))
        out.append(VlanSubnet(name=name, vlan=spec.vlan, network=network, isolated=spec.isolated))
    return out


def wan_capacity(addressing: Addressing) -> int:
    return addressing.wan.prefix.num_addresses - 2 - addressing.wan_first_site


def site_wan_address(addressing: Addressing, slot: int) -> IPv4:
    if not 1 <= slot <= wan_capacity(addressing):
        raise ValueError(f"site slot {slot} does not fit the WAN {addressing.wan.prefix}")
    return addressing.wan.prefix.network_address + addressing.wan_first_site + slot


def dc_firewall_wan_address(addressing: Addressing) -> IPv4:
    return addressing.wan.prefix.network_address + 1


def dc_firewall_address(addressing: Addressing, segment: str) -> IPv4:
    return addressing.dc_segments[segment].prefix.network_address + 1  # type: ignore[index]


def dc_host_address(addressing: Addressing, segment: str, host_number: int) -> IPv4:
    prefix = addressing.dc_segments[segment].prefix  # type: ignore[index]
    if not 1 < host_number < prefix.num_addresses - 2:
        raise ValueError(f"host number {host_number} does not fit segment {segment} {prefix}")
    return prefix.network_address + host_number


def lab_gateway_address(addressing: Addressing) -> IPv4:
    """The controller's address in the lab: last usable address of the management segment."""
    return addressing.dc_segments["management"].prefix.broadcast_address - 1


def lan_client_address(vlan: VlanSubnet) -> IPv4:
    return vlan.network.network_address + 10
