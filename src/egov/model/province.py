"""The loaded, validated province: sites, departments, DC hosts, devices and addresses."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from egov.model import ipplan
from egov.model.procedures import Procedure
from egov.model.schema import ProvinceFile, Service

SITE_SYSTEMS = {
    "district": ["one_stop_shop", "video_conference", "mail", "sso", "portal_site", "document_management"],
    "commune": ["one_stop_shop", "video_conference", "mail", "sso", "document_management"],
}


@dataclass(frozen=True)
class Site:
    """A district or commune site: an agency with a LAN, a switch and an edge firewall."""

    code: str                 # GSO code (level2_id or level3_id)
    name: str                 # official Vietnamese name, diacritics kept
    gso_type: str             # Huyện / Thị xã / Thành phố / Xã / Phường / Thị trấn
    kind: str                 # district | commune
    slug: str
    district_code: str        # itself for a district
    slot: int
    officials: int
    systems: tuple[str, ...]
    rollout: dict[str, int]
    vlans: tuple[ipplan.VlanSubnet, ...]
    block: ipaddress.IPv4Network
    wan_address: ipaddress.IPv4Address

    @property
    def firewall_name(self) -> str:
        return f"fw-{self.slug}"

    @property
    def switch_name(self) -> str:
        return f"sw-{self.slug}"

    @property
    def client_name(self) -> str:
        return f"pc-{self.slug}"

    @property
    def counter_client_name(self) -> str:
        """The lab's counter PC in the site's one-stop-shop VLAN (issue 14)."""
        return f"oss-{self.slug}"

    @property
    def vc_client_name(self) -> str:
        """The lab's video-conference endpoint in the site's VC VLAN (issue 15)."""
        return f"vc-{self.slug}"

    def vlan(self, name: str) -> ipplan.VlanSubnet:
        for vlan in self.vlans:
            if vlan.name == name:
                return vlan
        raise KeyError(name)


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    one_stop_shop: bool
    officials: int
    systems: tuple[str, ...]


@dataclass(frozen=True)
class DcHost:
    name: str
    service: str
    index: int                # 1-based within its service
    segment: str
    vlan: int
    address: ipaddress.IPv4Address
    network: ipaddress.IPv4Network
    gateway: ipaddress.IPv4Address
    host_number: int
    ha_group: str | None      # set when the service has more than one host


@dataclass(frozen=True)
class DcFirewall:
    name: str
    interfaces: dict[str, tuple[int, ipaddress.IPv4Interface]]   # name -> (vlan, address)
    wan_address: ipaddress.IPv4Address


@dataclass
class Province:
    source: ProvinceFile
    code: str
    name: str
    slug: str
    domain: str
    districts: list[Site]
    communes: list[Site]
    departments: list[Department]
    dc_hosts: list[DcHost]
    dc_firewall: DcFirewall
    allocations: dict[str, dict[str, int]] = field(default_factory=dict)
    # the one-stop-shop's administrative procedures (province.procedures_file), in file order
    procedures: tuple[Procedure, ...] = ()

    @property
    def sites(self) -> list[Site]:
        return [*self.districts, *self.communes]

    @property
    def short_name(self) -> str:
        """The province's name as the systems show it (banner, webmail, SSO): the model's or `name`."""
        return self.source.province.short_name or self.name

    @property
    def authority(self) -> str:
        """The body the systems belong to (login banner): the model's or `name`."""
        return self.source.province.authority or self.name

    @property
    def services(self) -> dict[str, Service]:
        return dict(self.source.services)

    def site(self, key: str) -> Site:
        for site in self.sites:
            if key in (site.code, site.slug):
                return site
        raise KeyError(f"no district or commune with code or slug {key!r}")

    def communes_of(self, district_code: str) -> list[Site]:
        return [c for c in self.communes if c.district_code == district_code]

    @property
    def lab_stand_ins(self) -> set[str]:
        """The services only the lab builds (`lab_stand_in`): production has something else in their place."""
        return {name for name, s in self.source.services.items() if s.lab_stand_in}

    @property
    def cloud_hosts(self) -> list[DcHost]:
        """The DC hosts the cloud stacks build: every DC host but the lab's stand-ins."""
        return [h for h in self.dc_hosts if h.service not in self.lab_stand_ins]

    @property
    def cloud_services(self) -> list[str]:
        """The services that exist in the cloud (model order): every service but the lab's stand-ins."""
        return [name for name in self.source.services if name not in self.lab_stand_ins]

    def linux_hosts(self) -> list[str]:
        return [self.dc_firewall.name, *(h.name for h in self.dc_hosts), *(s.firewall_name for s in self.sites)]

    @property
    def total_officials(self) -> int:
        return sum(d.officials for d in self.departments) + sum(s.officials for s in self.sites)

    @property
    def lab_gateway(self) -> ipaddress.IPv4Address:
        return ipplan.lab_gateway_address(self.source.addressing)
