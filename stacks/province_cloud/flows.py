"""The flow matrix (model ``flows``) as security-group ingress rules: least privilege, no stack-local rules.

Sources map to the narrowest OpenStack construct that expresses them:

- ``internet``                -> 0.0.0.0/0
- ``sites``                   -> address group of every allocated site block
- ``site_devices``            -> address group of every site firewall's WAN address
- ``site:<vlan>``             -> address group of that VLAN in every site
- ``dc``                      -> address group of the DC segments
- ``management``              -> the management segment's prefix
- ``service:<name>``          -> the security group of that service (remote group)

Administration (SSH from the DC management segment to every host, the Ansible path) is a flow of
the model like any other (`to: dc`, listener ``ssh``). One rule source that the matrix cannot
express is added explicitly and labelled: ``lb:<name>`` (the Octavia amphorae reaching the pool
members from the VIP subnet).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from egov.model import Province
from egov.model.schema import PORT_RE

INTERNET = "0.0.0.0/0"


@dataclass(frozen=True)
class PortRange:
    protocol: str
    low: int
    high: int

    @property
    def label(self) -> str:
        return f"{self.protocol}/{self.low}" if self.low == self.high else f"{self.protocol}/{self.low}-{self.high}"


@dataclass(frozen=True)
class RuleSource:
    kind: str      # cidr | address_group | security_group
    value: str     # a CIDR, an address-group key, or a service name
    label: str     # the flow-matrix source it came from


@dataclass(frozen=True)
class IngressRule:
    service: str
    ports: PortRange
    source: RuleSource

    @property
    def description(self) -> str:
        return f"{self.source.label} -> {self.service} {self.ports.label}"


def parse_port(text: str) -> PortRange:
    match = PORT_RE.match(text)
    if not match:
        raise ValueError(f"bad port {text!r}")
    low = int(match.group(2))
    return PortRange(protocol=match.group(1), low=low, high=int(match.group(4) or low))


def address_groups(province: Province) -> dict[str, list[str]]:
    """Address-group key -> CIDRs, for every source the flow matrix uses that needs one."""
    used = {source for flow in province.source.flows for source in flow.from_}
    groups: dict[str, list[str]] = {}
    if "sites" in used:
        groups["sites"] = sorted((str(site.block) for site in province.sites), key=_cidr_key)
    if "site_devices" in used:
        groups["site_devices"] = sorted((f"{site.wan_address}/32" for site in province.sites), key=_cidr_key)
    if "dc" in used:
        groups["dc"] = [str(seg.prefix) for seg in province.source.addressing.dc_segments.values()]
    for source in sorted(used):
        kind, _, vlan = source.partition(":")
        if kind == "site":
            groups[f"site-{vlan}"] = sorted((str(site.vlan(vlan).network) for site in province.sites), key=_cidr_key)
    return groups


def rule_source(province: Province, source: str) -> RuleSource:
    kind, _, arg = source.partition(":")
    if source == "internet":
        return RuleSource("cidr", INTERNET, source)
    if source == "management":
        return RuleSource("cidr", str(province.source.addressing.dc_segments["management"].prefix), source)
    if source in ("sites", "site_devices", "dc"):
        return RuleSource("address_group", source, source)
    if kind == "site":
        return RuleSource("address_group", f"site-{arg}", source)
    if kind == "service":
        return RuleSource("security_group", arg, source)
    raise ValueError(f"unknown flow source {source!r}")


@dataclass(frozen=True)
class LbReach:
    """An Octavia load balancer whose amphorae (on ``cidr``) forward ``port`` to ``service``."""

    lb: str
    service: str
    cidr: str
    port: str


def ingress_rules(province: Province, lb_reach: Sequence[LbReach] = ()) -> list[IngressRule]:
    """Every ingress rule, de-duplicated, in a stable order."""
    rules: list[IngressRule] = []
    stand_ins = province.lab_stand_ins
    for flow in province.source.flows:
        if flow.to in stand_ins:
            continue                # no such host in the cloud (its replacement has its own rules)
        for source in flow.from_:
            if source.removeprefix("service:") in stand_ins:
                continue
            for port in flow.ports:
                rules.append(IngressRule(flow.to, parse_port(port), rule_source(province, source)))
    for reach in lb_reach:
        amphorae = RuleSource("cidr", reach.cidr, f"lb:{reach.lb}")
        rules.append(IngressRule(reach.service, parse_port(reach.port), amphorae))
    unique = list(dict.fromkeys(rules))
    return sorted(unique, key=lambda r: (r.service, r.ports.protocol, r.ports.low, r.source.label, r.source.value))


def _cidr_key(cidr: str) -> tuple[int, ...]:
    address = cidr.split("/")[0]
    return tuple(int(part) for part in address.split("."))
