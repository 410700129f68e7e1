"""The lab's topology, derived from the province model: namespaces, bridges, links, routes.

Pure data (no side effects) so it can be unit-tested and diffed against what exists.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass, field

from egov.errors import EgovError
from egov.inventory import SEGMENT_IFACE
from egov.model import Province, Site

PREFIX = "egl"                     # every namespace, veth and cgroup of the lab starts with it
FABRIC_NS = f"{PREFIX}-fabric"      # holds every bridge (the lab's switches and cables)
CONTROLLER_IF = f"{PREFIX}-ctl"     # the controller's leg (root namespace) on the DC management LAN
WAN_BRIDGE = "br-wan"
# The Internet side of the lab (citizens, the national platform): a segment on the DC firewall in
# RFC 5737's TEST-NET-2, which no real network routes; it exists only inside the lab's namespaces.
INTERNET_BRIDGE = "br-inet"
INTERNET_NET = ipaddress.IPv4Network("198.51.100.0/24")
INTERNET_CLIENT = "inet-citizen"


def segment_bridge(segment: str) -> str:
    return f"br-{SEGMENT_IFACE[segment].rstrip('0')}"


def site_bridge(site: Site, vlan: int) -> str:
    """One bridge per site VLAN: this kernel has neither 802.1Q devices nor VLAN-aware bridges,
    so each VLAN is its own L2 segment (what a VLAN is) and the firewall has one link per VLAN,
    named like the sub-interface it is on real hardware (lan0.<vid>)."""
    return f"br-s{site.slot}-{vlan}"


def fabric_port(node: str, ifname: str) -> str:
    digest = hashlib.sha1(f"{node}:{ifname}".encode()).hexdigest()[:12]
    return f"p{digest}"


def mac_for(node: str, ifname: str) -> str:
    digest = hashlib.sha1(f"mac:{node}:{ifname}".encode()).digest()
    return "02:" + ":".join(f"{b:02x}" for b in digest[:5])   # locally administered, unicast


@dataclass(frozen=True)
class Link:
    ifname: str                          # name inside the node
    bridge: str                          # bridge in the fabric namespace
    addresses: tuple[str, ...] = ()      # CIDR addresses on the interface (untagged)


@dataclass(frozen=True)
class Node:
    name: str
    kind: str                            # container | client
    links: tuple[Link, ...]
    routes: tuple[tuple[str, str], ...]  # (destination, via)
    address: str                         # where the controller reaches it (SSH) / its primary address
    forwarding: bool = False
    group: str = ""                      # dc | site:<code>

    @property
    def netns(self) -> str:
        return f"{PREFIX}-{self.name}"


@dataclass
class Topology:
    nodes: list[Node]
    bridges: set[str] = field(default_factory=set)
    controller_address: str = ""
    controller_routes: list[tuple[str, str]] = field(default_factory=list)
    unreachable: str = ""

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    @property
    def containers(self) -> list[Node]:
        return [n for n in self.nodes if n.kind == "container"]

    @property
    def clients(self) -> list[Node]:
        return [n for n in self.nodes if n.kind == "client"]


class SelectionError(EgovError, ValueError):
    pass


def select_sites(province: Province, only: list[str]) -> tuple[bool, list[Site]]:
    """--only selectors -> (include DC, sites).

    dc; district:<code|slug> (the district site and all its communes); site:<code|slug>;
    communes:N (the first N communes in code order); all. No selector = the whole province.
    """
    if not only or "all" in only:
        return True, province.sites
    with_dc = False
    chosen: dict[str, Site] = {}
    for selector in only:
        kind, _, arg = selector.partition(":")
        try:
            if selector == "dc":
                with_dc = True
            elif kind == "district":
                district = province.site(arg)
                if district.kind != "district":
                    raise SelectionError(f"--only {selector}: {arg} is a commune, not a district")
                for site in [district, *province.communes_of(district.code)]:
                    chosen[site.code] = site
            elif kind == "site":
                site = province.site(arg)
                chosen[site.code] = site
            elif kind == "communes" and arg.isdigit():
                for site in sorted(province.communes, key=lambda s: s.code)[: int(arg)]:
                    chosen[site.code] = site
            else:
                raise SelectionError(f"--only {selector!r}: use dc, district:<code|slug>, site:<code|slug>, "
                                     "communes:<N> or all")
        except KeyError as exc:
            raise SelectionError(f"--only {selector!r}: {exc.args[0]}") from None
    sites = [s for s in province.sites if s.code in chosen]
    return with_dc, sites


def build_topology(province: Province, only: list[str] | None = None) -> Topology:
    with_dc, sites = select_sites(province, only or [])
    adr = province.source.addressing
    topo = Topology(nodes=[])
    fw = province.dc_firewall
    wan_len = adr.wan.prefix.prefixlen
    wan_gateway = str(fw.wan_address)

    # The DC firewall is always there: it is the path from the controller to everything.
    topo.bridges.add(WAN_BRIDGE)
    dc_links = []
    for segment, (_vlan, iface) in fw.interfaces.items():
        bridge = segment_bridge(segment)
        topo.bridges.add(bridge)
        dc_links.append(Link(ifname=SEGMENT_IFACE[segment], bridge=bridge, addresses=(str(iface),)))
    dc_links.append(Link(ifname="wan0", bridge=WAN_BRIDGE, addresses=(f"{fw.wan_address}/{wan_len}",)))
    topo.bridges.add(INTERNET_BRIDGE)
    inet_gateway = INTERNET_NET.network_address + 1
    dc_links.append(Link(ifname="inet0", bridge=INTERNET_BRIDGE,
                         addresses=(f"{inet_gateway}/{INTERNET_NET.prefixlen}",)))
    topo.nodes.append(Node(
        name=fw.name, kind="container", links=tuple(dc_links),
        # routes to every site of the province, present or not: a partial lab never needs a DC fw rebuild
        routes=tuple((str(site.block), str(site.wan_address)) for site in province.sites),
        address=str(fw.interfaces["management"][1].ip), forwarding=True, group="dc",
    ))
    # a citizen's (or the national platform's) machine on the Internet side of the DC firewall
    inet_client = INTERNET_NET.network_address + 10
    topo.nodes.append(Node(
        name=INTERNET_CLIENT, kind="client",
        links=(Link(ifname="eth0", bridge=INTERNET_BRIDGE, addresses=(f"{inet_client}/{INTERNET_NET.prefixlen}",)),),
        routes=(("default", str(inet_gateway)),), address=str(inet_client), group="dc",
    ))
    if with_dc:
        for host in province.dc_hosts:
            topo.nodes.append(Node(
                name=host.name, kind="container",
                links=(Link(ifname="eth0", bridge=segment_bridge(host.segment),
                            addresses=(f"{host.address}/{host.network.prefixlen}",)),),
                routes=(("default", str(host.gateway)),), address=str(host.address), group="dc",
            ))
    for site in sites:
        lan_links = []
        for vlan in site.vlans:
            topo.bridges.add(site_bridge(site, vlan.vlan))
            lan_links.append(Link(ifname=f"lan0.{vlan.vlan}", bridge=site_bridge(site, vlan.vlan),
                                  addresses=(f"{vlan.gateway}/{vlan.network.prefixlen}",)))
        topo.nodes.append(Node(
            name=site.firewall_name, kind="container",
            links=(Link(ifname="wan0", bridge=WAN_BRIDGE, addresses=(f"{site.wan_address}/{wan_len}",)),
                   *lan_links),
            routes=(("default", wan_gateway),), address=str(site.wan_address), forwarding=True,
            group=f"site:{site.code}",
        ))
        # a client at host .10 of three of the site's VLANs: the office PC, the one-stop-shop's counter PC
        # (issue 14: its VLAN reaches the application only) and the video-conference endpoint (issue 15:
        # the address its account is bound to)
        for vlan_name, client in (("office", site.client_name), ("one_stop_shop", site.counter_client_name),
                                  ("video_conference", site.vc_client_name)):
            vlan = site.vlan(vlan_name)
            client_ip = vlan.network.network_address + 10
            topo.nodes.append(Node(
                name=client, kind="client",
                links=(Link(ifname="eth0", bridge=site_bridge(site, vlan.vlan),
                            addresses=(f"{client_ip}/{vlan.network.prefixlen}",)),),
                routes=(("default", str(vlan.gateway)),), address=str(client_ip), group=f"site:{site.code}",
            ))

    mgmt = adr.dc_segments["management"]
    gateway = province.lab_gateway
    topo.controller_address = f"{gateway}/{mgmt.prefix.prefixlen}"
    via = str(fw.interfaces["management"][1].ip)
    others = [seg.prefix for name, seg in adr.dc_segments.items() if name != "management"]
    topo.controller_routes = [(str(net), via) for net in [*others, adr.wan.prefix, adr.site_pool]]
    topo.unreachable = str(adr.supernet)
    for net, _ in topo.controller_routes:
        assert ipaddress.IPv4Network(net).subnet_of(adr.supernet)
    return topo
