"""The province security policy: the model's flow matrix turned into firewall rules.

One policy for the province, rendered per firewall: the DC firewall enforces every flow; a site
firewall enforces the flows its own site VLANs may open toward the DC. Everything else is
denied and logged. Rules come out in the canonical form `nft list` prints, so the running
ruleset can be compared with the intent line by line.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from egov.model import Province, Site
from egov.model.schema import PORT_RE

Net = ipaddress.IPv4Network


@dataclass(frozen=True)
class Rule:
    comment: str
    saddr: tuple[Net, ...]
    daddr: tuple[Net, ...]
    proto: str                        # tcp | udp
    ports: tuple[tuple[int, int], ...]
    iifname: tuple[str, ...] = ()
    negate_saddr: bool = False

    def nft(self) -> str:
        parts = []
        if self.iifname:
            quoted = ['"' + name + '"' for name in self.iifname]
            parts.append(f"iifname {nft_set(quoted)}")
        if self.saddr:
            parts.append(f"ip saddr {'!= ' if self.negate_saddr else ''}{nft_addresses(self.saddr)}")
        if self.daddr:
            parts.append(f"ip daddr {nft_addresses(self.daddr)}")
        parts.append(f"{self.proto} dport {nft_ports(self.ports)}")
        parts.append("accept")
        parts.append(f'comment "{self.comment}"')
        return " ".join(parts)


def nft_set(items: list[str]) -> str:
    return items[0] if len(items) == 1 else "{ " + ", ".join(items) + " }"


def nft_addresses(nets: tuple[Net, ...]) -> str:
    """Addresses as nft prints them: merged, sorted; aligned blocks as prefixes, the rest as ranges."""
    ranges: list[list[int]] = []
    for net in sorted(ipaddress.collapse_addresses(nets)):
        low, high = int(net.network_address), int(net.broadcast_address)
        if ranges and low <= ranges[-1][1] + 1:
            ranges[-1][1] = max(ranges[-1][1], high)
        else:
            ranges.append([low, high])
    items = []
    for low, high in ranges:
        blocks = list(ipaddress.summarize_address_range(ipaddress.IPv4Address(low), ipaddress.IPv4Address(high)))
        if len(blocks) == 1:
            block = blocks[0]
            items.append(str(block.network_address) if block.prefixlen == 32 else str(block))
        else:
            items.append(f"{ipaddress.IPv4Address(low)}-{ipaddress.IPv4Address(high)}")
    return nft_set(items)


def nft_ports(ports: tuple[tuple[int, int], ...]) -> str:
    merged: list[list[int]] = []
    for low, high in sorted(ports):
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return nft_set([str(low) if low == high else f"{low}-{high}" for low, high in merged])


def parse_port(port: str) -> tuple[str, int, int]:
    match = PORT_RE.match(port)
    if not match:
        raise ValueError(f"bad port {port!r}")
    low = int(match.group(2))
    return match.group(1), low, int(match.group(4) or low)


def listener_ports(province: Province, service: str, listeners: list[str], where: str) -> list[str]:
    """The ports of listeners of a model service (network/policy.yml names listeners, not ports)."""
    spec = province.source.services.get(service)
    if spec is None:
        raise ValueError(f"network/policy.yml {where}: unknown service {service!r}")
    ports: list[str] = []
    for name in listeners:
        if name not in spec.listeners:
            raise ValueError(f"network/policy.yml {where}: service {service!r} has no listener {name!r} "
                             f"(its listeners: {', '.join(spec.listeners) or 'none'})")
        ports += spec.listeners[name]
    return ports


def _host(address: ipaddress.IPv4Address) -> Net:
    return ipaddress.IPv4Network(f"{address}/32")


def service_hosts(province: Province) -> dict[str, tuple[Net, ...]]:
    out: dict[str, list[Net]] = defaultdict(list)
    for host in province.dc_hosts:
        out[host.service].append(_host(host.address))
    return {k: tuple(v) for k, v in out.items()}


def _grouped(rules: Sequence[tuple[str, tuple[str, ...], tuple[Net, ...], tuple[Net, ...], bool, str, int, int]]
             ) -> list[Rule]:
    """Merge entries with the same (iif, sources, destinations, protocol) into one rule with a port set."""
    ports: dict[tuple[Any, ...], list[tuple[int, int]]] = defaultdict(list)
    comments: dict[tuple[Any, ...], str] = {}
    for comment, iif, src, dst, negate, proto, low, high in rules:
        key = (iif, src, dst, negate, proto)
        ports[key].append((low, high))
        comments.setdefault(key, comment)
    return [Rule(comment=comments[key], iifname=key[0], saddr=key[1], daddr=key[2], negate_saddr=key[3],
                 proto=key[4], ports=tuple(sorted(set(value)))) for key, value in ports.items()]


def site_rules(province: Province, site: Site, policy: dict[str, Any]) -> list[Rule]:
    """Forward rules of a site firewall: what its VLANs may open toward the DC."""
    hosts = service_hosts(province)
    lan = policy["site_firewall_interfaces"]["lan_prefix"]
    entries = []
    for flow in province.source.flows:
        for source in flow.from_:
            kind, _, arg = source.partition(":")
            if source == "sites":
                # every VLAN but the isolated ones (the one-stop-shop counters reach their own flows only)
                open_vlans = [v for v in site.vlans if not v.isolated]
                src: tuple[Net, ...] = tuple(v.network for v in open_vlans)
                iif: tuple[str, ...] = (f"{lan}*",) if len(open_vlans) == len(site.vlans) else tuple(
                    f"{lan}{v.vlan}" for v in open_vlans)
            elif kind == "site":
                src = (site.vlan(arg).network,)
                iif = (f"{lan}{site.vlan(arg).vlan}",)
            else:
                continue    # internet, site_devices, dc, management, service:* never cross a site firewall
            for port in flow.ports:
                proto, low, high = parse_port(port)
                entries.append((f"{source} -> {flow.to}", iif, src, hosts[flow.to], False, proto, low, high))
    return _grouped(entries)


def site_management_rules(province: Province, site: Site, policy: dict[str, Any]) -> list[Rule]:
    mgmt = province.source.addressing.dc_segments["management"].prefix
    wan = policy["site_firewall_interfaces"]["wan"]
    entries = []
    for port in policy["management_ports"]:
        proto, low, high = parse_port(port)
        entries.append(("management from the DC", (wan,), (mgmt,), (site.vlan("management").network,), False,
                        proto, low, high))
    return _grouped(entries)


def dc_rules(province: Province, policy: dict[str, Any], env: str = "production") -> list[Rule]:
    """Forward rules of the DC firewall: the whole flow matrix, device flows, management, env flows."""
    adr = province.source.addressing
    names = policy["dc_firewall_interfaces"]
    hosts = service_hosts(province)
    segment_of = {h.service: h.segment for h in province.dc_hosts}
    dc_ifaces = tuple(names[s] for s in adr.dc_segments)
    wan = (names["wan"],)
    entries = []
    for flow in province.source.flows:
        for source in flow.from_:
            kind, _, arg = source.partition(":")
            negate = False
            if source == "internet":
                iif: tuple[str, ...] = ()
                src: tuple[Net, ...] = (adr.supernet,)
                negate = True
            elif source == "sites":
                iif, src = wan, (adr.site_pool,)
            elif kind == "site":
                iif, src = wan, tuple(s.vlan(arg).network for s in province.sites)
            elif source == "dc":
                iif, src = dc_ifaces, tuple(s.prefix for s in adr.dc_segments.values())
            elif source == "management":
                iif, src = (names["management"],), (adr.dc_segments["management"].prefix,)
            elif source == "site_devices":
                iif, src = wan, tuple(_host(s.wan_address) for s in province.sites)
            else:
                iif, src = (names[segment_of[arg]],), hosts[arg]
            for port in flow.ports:
                proto, low, high = parse_port(port)
                entries.append((f"{source} -> {flow.to}", iif, src, hosts[flow.to], negate, proto, low, high))
    wan_nets = tuple(_host(s.wan_address) for s in province.sites)
    mgmt = adr.dc_segments["management"].prefix
    managed = (*wan_nets, *(s.vlan("management").network for s in province.sites))
    for port in policy["management_ports"]:
        proto, low, high = parse_port(port)
        entries.append(("management of the sites", (names["management"],), (mgmt,), managed, False, proto, low, high))
    dc_managed = tuple(adr.dc_segments[s].prefix for s in policy.get("managed_dc_segments", []))
    if dc_managed:
        for port in policy["management_ports"]:
            proto, low, high = parse_port(port)
            entries.append(("management of the DC hosts", (names["management"],), (mgmt,), dc_managed, False,
                            proto, low, high))
    entries += _env_entries(province, policy, env, wan_nets, hosts)
    return _grouped(entries)


def _env_entries(province: Province, policy: dict[str, Any], env: str, wan_nets: tuple[Net, ...],
                 hosts: dict[str, tuple[Net, ...]]) -> list[tuple[Any, ...]]:
    """The flows policy.yml `env_flows` adds in one environment (e.g. the lab's apt proxy)."""
    adr = province.source.addressing
    names = policy["dc_firewall_interfaces"]
    wan = (names["wan"],)
    dc_ifaces = tuple(names[s] for s in adr.dc_segments)
    sources: dict[str, tuple[tuple[str, ...], tuple[Net, ...]]] = {
        "site_devices": (wan, wan_nets),
        "sites": (wan, (adr.site_pool,)),
        "dc": (dc_ifaces, tuple(s.prefix for s in adr.dc_segments.values())),
    }
    entries = []
    for flow in (policy.get("env_flows") or {}).get(env, []):
        to = flow["to"]
        if to == "lab_gateway":
            targets: tuple[Net, ...] = (_host(province.lab_gateway),)
        elif to in hosts:
            targets = hosts[to]
        else:
            raise ValueError(f"env_flows.{env}: unknown destination {to!r} (a DC service or lab_gateway)")
        ports = listener_ports(province, flow.get("plays", to), flow["listeners"], f"env_flows.{env}")
        for source in flow["from"]:
            if source not in sources:
                raise ValueError(f"env_flows.{env}: unknown source {source!r} (one of {', '.join(sources)})")
            iif, src = sources[source]
            for port in ports:
                proto, low, high = parse_port(port)
                entries.append((f"{env}: {source} -> {to}", iif, src, targets, False, proto, low, high))
    return entries
