"""Typed schema of the province model file (model/province.yml).

Pydantic checks shape and types; the cross-reference checks (unknown district, duplicate
codes, overlapping subnets, VLAN clashes ...) live in :mod:`egov.model.validate`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PORT_RE = re.compile(r"^(tcp|udp)/(\d{1,5})(-(\d{1,5}))?$")
HOST_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
SERVICE_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
LISTENER_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
# `to:` of a flow naming every DC host (with a listener of `host_listeners`)
EVERY_DC_HOST = "dc"

UnitType = Literal["department", "district", "commune"]
SegmentName = Literal["management", "dmz", "services", "storage"]


class Strict(BaseModel):
    """Base: unknown keys are errors (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_port(value: str) -> str:
    match = PORT_RE.match(value)
    if not match:
        raise ValueError(f"port {value!r} is not of the form tcp/N, udp/N or tcp/N-M")
    low = int(match.group(2))
    high = int(match.group(4) or low)
    if not (1 <= low <= high <= 65535):
        raise ValueError(f"port range {value!r} is outside 1-65535 or reversed")
    return value


Port = Annotated[str, Field(description="tcp/N, udp/N or a range tcp/N-M")]


class ProvinceInfo(Strict):
    code: str = Field(pattern=r"^\d{2}$")
    name: str = Field(min_length=1)
    # the names the systems show (login banner, webmail, SSO, portal titles): absent = `name`
    short_name: str | None = Field(default=None, min_length=1)
    authority: str | None = Field(default=None, min_length=1)
    slug: str
    domain: str
    timezone: str
    admin_units_file: str
    # the one-stop-shop's administrative procedures (egov.model.procedures); path relative to the model
    procedures_file: str = Field(min_length=1)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not HOST_LABEL_RE.match(value):
            raise ValueError(f"slug {value!r} is not a valid DNS label")
        return value

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        labels = value.split(".")
        if len(labels) < 2 or not all(HOST_LABEL_RE.match(label) for label in labels):
            raise ValueError(f"domain {value!r} is not a valid DNS name")
        return value


class Baseline2016(Strict):
    communes_with_lan: int = Field(ge=0)
    departments_districts_with_lan_pct: float = Field(ge=0, le=100)
    mailboxes: int = Field(ge=0)
    interagency_mail_share_pct: float = Field(ge=0, le=100)
    one_stop_shop_agencies: int = Field(ge=0)
    one_stop_shop_communes: int = Field(ge=0)
    one_stop_shop_dossiers: int = Field(ge=0)
    one_stop_shop_on_time_pct: float = Field(ge=0, le=100)
    vc_endpoints_provincial: int = Field(ge=0)
    vc_endpoints_district: int = Field(ge=0)
    ca_certified_agencies: int = Field(ge=0)
    ca_certified_leaders: int = Field(ge=0)
    online_services_level34: int = Field(ge=0)
    online_services_level2: int = Field(ge=0)
    portal_component_sites: int = Field(ge=0)
    dc_physical_servers: int = Field(ge=0)
    dc_physical_servers_eol: int = Field(ge=0)
    dc_san_tb: float = Field(gt=0)
    dc_firewalls: int = Field(ge=0)
    internet_mbps: float = Field(ge=0)


class YearTarget(Strict):
    year: int = Field(ge=2000, le=2100)
    mail_use_pct: float | None = Field(default=None, ge=0, le=100)
    level3_pct: float | None = Field(default=None, ge=0, le=100)
    level4_pct: float | None = Field(default=None, ge=0, le=100)


class Facts(Strict):
    baseline_2016: Baseline2016
    targets: list[YearTarget]
    budget_million_vnd: float = Field(ge=0)


class Staffing(Strict):
    department: int = Field(ge=1)
    district: int = Field(ge=1)
    commune: int = Field(ge=1)


class RolloutYears(Strict):
    department: int = Field(ge=2000, le=2100)
    district: int = Field(ge=2000, le=2100)
    commune: int = Field(ge=2000, le=2100)


class Department(Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9]{1,15}$")
    name: str = Field(min_length=1)
    one_stop_shop: bool


class Segment(Strict):
    vlan: int = Field(ge=1, le=4094)
    prefix: ipaddress.IPv4Network


class SiteVlan(Strict):
    vlan: int = Field(ge=1, le=4094)
    offset: int = Field(ge=0)
    prefix_len: int = Field(ge=8, le=30)
    # outside `sites` in the flow matrix: only flows naming site:<this vlan> leave it (the site firewall)
    isolated: bool = False


class Addressing(Strict):
    supernet: ipaddress.IPv4Network
    dc_segments: dict[SegmentName, Segment]
    wan: Segment
    # The provincial departments' video-conference rooms (the plan's provincial endpoints): a block of
    # the supernet of its own, neither a DC segment (`dc` flows must not reach conference rooms) nor a
    # site (no register entry, no site firewall). egov.vc places the provincial endpoints in it.
    provincial_video_conference: Segment | None = None
    site_pool: ipaddress.IPv4Network
    site_prefix_len: int = Field(ge=16, le=28)
    site_vlans: dict[str, SiteVlan]
    dc_first_host: int = Field(ge=2)
    wan_first_site: int = Field(ge=2)


class Size(Strict):
    vcpu: int = Field(ge=1, le=128)
    ram_gb: int = Field(ge=1, le=2048)
    disk_gb: int = Field(ge=1, le=100000)


def check_listeners(value: dict[str, list[str]]) -> dict[str, list[str]]:
    for name, ports in value.items():
        if not LISTENER_NAME_RE.match(name):
            raise ValueError(f"listener name {name!r} is not lower-case letters, digits and '-' "
                             "(it names firewall rules and role variables)")
        if not ports:
            raise ValueError(f"listener {name!r} has no port")
        for port in ports:
            check_port(port)
    return value


Listeners = Annotated[dict[str, list[Port]], Field(description="listener name -> its ports (tcp/N, udp/N-M)")]


class BackupKeep(Strict):
    """Archives kept per system (borg prune --keep-*): at least one is non-zero."""

    daily: int = Field(default=7, ge=0, le=3660)
    weekly: int = Field(default=4, ge=0, le=520)
    monthly: int = Field(default=6, ge=0, le=1200)

    @model_validator(mode="after")
    def _keeps_something(self) -> BackupKeep:
        if not (self.daily or self.weekly or self.monthly):
            raise ValueError("a retention keeping no archive deletes every backup: keep at least one")
        return self


class BackupPolicy(Strict):
    """services.backup.backup_policy: when backups, drills and compaction run (systemd OnCalendar)."""

    schedule: str = Field(min_length=1, pattern=r"^[A-Za-z0-9*:., /~-]+$")
    randomized_delay_minutes: int = Field(default=30, ge=0, le=720)
    timeout_minutes: int = Field(default=120, ge=1, le=1440)
    drill_schedule: str = Field(min_length=1, pattern=r"^[A-Za-z0-9*:., /~-]+$")
    compact_schedule: str = Field(min_length=1, pattern=r"^[A-Za-z0-9*:., /~-]+$")
    keep: BackupKeep = Field(default_factory=BackupKeep)


class ProvincialEndpoint(Strict):
    """A provincial department's video-conference room (it has no site in the register)."""

    department: str = Field(description="the department's code (departments[].code)")
    name: str = Field(min_length=1)


class AdhocRooms(Strict):
    """Room numbers kept free for ad-hoc meetings (created at run time by the operators)."""

    first: int = Field(ge=1, le=2**31 - 1)
    count: int = Field(ge=0, le=1000)


class Conference(Strict):
    """services.vc_mcu.conference: the standing rooms, the ad-hoc range and the endpoints (egov.vc).

    Room numbers: the province room, then one per district at `district_room_base` + the district's
    site slot (the allocation ledger keeps it stable); the ad-hoc rooms from `adhoc_rooms.first`.
    Every district and commune site has one endpoint account, host `endpoint_host` of its
    video_conference VLAN; the provincial endpoints are hosts `endpoint_host`, +1, ... of
    addressing.provincial_video_conference.
    """

    province_room: int = Field(ge=1, le=2**31 - 1)
    district_room_base: int = Field(ge=1, le=2**31 - 1)
    adhoc_rooms: AdhocRooms
    endpoint_host: int = Field(ge=2, le=254)
    provincial_endpoints: list[ProvincialEndpoint] = Field(default_factory=list)


class Service(Strict):
    description: str = Field(min_length=1)
    segment: SegmentName
    hosts: int = Field(ge=1, le=9)
    size: Size
    owner: str
    security_level: int = Field(ge=1, le=5)
    # Every socket the service's daemons open beyond loopback, once: flows name these listeners,
    # and the host firewalls, security groups, device policy and daemon ports are derived from them.
    listeners: Listeners = Field(default_factory=dict)
    # DNS names (labels under the province domain) with A records to every host of the service.
    names: list[str] = Field(default_factory=list)
    mailbox_quota_gb: float | None = Field(default=None, gt=0)
    # the backup service's schedules and retention (roles backup_server and backup_client)
    backup_policy: BackupPolicy | None = None
    # the logs service's retention of the central store, in days (role log_server)
    retention_days: int | None = Field(default=None, ge=1, le=3660)
    # One more DNS name per component portal (each department's code, each district's slug), with A
    # records to the service's hosts (the portal's balancer): egov.portal.component_sites.
    component_site_names: bool = False
    # A host the lab needs but production does not build: what takes its place in production (e.g. the
    # portal's Octavia balancer). The stacks create no instance, volume, security group, floating IP or
    # backup container for it; its model address becomes the production replacement's address.
    lab_stand_in: str | None = Field(default=None, min_length=1)
    # Listeners whose daemon opens the socket only while it works (Galera's IST and SST receivers, during
    # a state transfer): the firewalls admit them like any other; no socket is expected between times.
    on_demand_listeners: list[str] = Field(default_factory=list)
    # the video-conference MCU's rooms and endpoint accounts (egov.vc; roles vc_mcu and vc_endpoint)
    conference: Conference | None = None

    @field_validator("listeners")
    @classmethod
    def _listeners(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        return check_listeners(value)

    @model_validator(mode="after")
    def _on_demand_listeners_exist(self) -> Service:
        unknown = [name for name in self.on_demand_listeners if name not in self.listeners]
        if unknown:
            raise ValueError(f"on_demand_listeners {unknown} are not listeners of the service "
                             f"(listeners: {sorted(self.listeners)})")
        return self

    @field_validator("names")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not HOST_LABEL_RE.match(name):
                raise ValueError(f"service DNS name {name!r} is not a valid DNS label")
        return value

    @property
    def listens(self) -> list[str]:
        """Every port of every listener (tcp/N, udp/N-M), in model order."""
        return [port for ports in self.listeners.values() for port in ports]


class Flow(Strict):
    """Who may open which listeners of a service (`to`: a service, or `dc` for every DC host).

    The file names listeners only; the loader resolves them into `ports` (one flow per service
    when `to` is `dc`), so a port is written once, in the service's `listeners`.
    """

    from_: list[str] = Field(alias="from", min_length=1)
    to: str
    listeners: list[str] = Field(min_length=1)
    ports: tuple[str, ...] = Field(default=(), description="resolved by the loader, not written in the file")
    expanded_from: str | None = Field(default=None, description="`dc` when resolved from a `to: dc` flow")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _no_ports(cls, data: object) -> object:
        if isinstance(data, dict) and "ports" in data:
            raise ValueError("a flow names listeners, not ports: state the ports once, in "
                             "services.<to>.listeners (or host_listeners), and name them here")
        if isinstance(data, dict) and "expanded_from" in data:
            raise ValueError("unknown key 'expanded_from' (typo?)")
        return data


class SiteOverride(Strict):
    """Per-site facts that differ from the unit-type defaults (keyed by GSO code)."""

    district: str | None = Field(default=None, description="expected district code (a consistency check)")
    officials: int | None = Field(default=None, ge=1)
    note: str | None = None


class Devices(Strict):
    dc_core_switches: int = Field(ge=1, le=8)
    switch_platform: str
    firewall_platform: str


class ProvinceFile(Strict):
    """The whole of model/province.yml."""

    @field_validator("host_listeners")
    @classmethod
    def _host_listeners(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        return check_listeners(value)

    schema_version: Literal[1]
    province: ProvinceInfo
    facts: Facts
    staffing: Staffing
    rollout: dict[str, RolloutYears]
    departments: list[Department] = Field(min_length=1)
    addressing: Addressing
    services: dict[str, Service] = Field(min_length=1)
    # Listeners every DC host has whatever its service (the OS baseline's sshd).
    host_listeners: Listeners = Field(default_factory=dict)
    flows: list[Flow]
    devices: Devices
    site_overrides: dict[str, SiteOverride] = Field(default_factory=dict)


class GsoCommune(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    level3_id: str = Field(pattern=r"^\d{5}$")
    name: str = Field(min_length=1)
    type: Literal["Xã", "Phường", "Thị trấn"]


class GsoDistrict(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    level2_id: str = Field(pattern=r"^\d{3}$")
    name: str = Field(min_length=1)
    type: Literal["Huyện", "Thị xã", "Thành phố", "Quận"]
    level3s: list[GsoCommune]


class GsoProvince(BaseModel):
    """The national register's format (one province of danhmuchanhchinh.gso.gov.vn)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    level1_id: str = Field(pattern=r"^\d{2}$")
    name: str
    type: str
    level2s: list[GsoDistrict] = Field(min_length=1)


class Allocations(Strict):
    """model/allocations.yml: the ledger that keeps numbering stable."""

    sites: dict[str, int] = Field(default_factory=dict)
    hosts: dict[str, int] = Field(default_factory=dict)
