"""The flow matrix as each enforcement layer should see it, and the layers as they really are.

For one DC host, every layer is reduced to the same shape, ``Admitted``: (protocol, low port,
high port) -> the sources admitted there (collapsed IPv4 prefixes, plus ANY for "no source
restriction" and INTERNET for the DC firewall's "outside the province"). The expected shape comes
from the model's flows alone (``expected``), the real one from the layer (``listening``,
``host_firewall``, ``security_group``, ``device_policy``); ``differences`` names every mismatch,
in both directions.
"""

from __future__ import annotations

import ipaddress
import json
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from typing import Any

from egov.model import DcHost, Province, Site
from egov.model.schema import PORT_RE
from egov.network.policy import Rule

Net = ipaddress.IPv4Network
PortKey = tuple[str, int, int]
ANY = "any"                  # no source restriction (host firewall, security group 0.0.0.0/0)
INTERNET = "internet"        # the DC firewall's "not from the province" (saddr != supernet)
Sources = frozenset[object]
Admitted = dict[PortKey, Sources]

LAYERS = ("host_firewall", "security_group", "dc_firewall", "site_firewall")


def port_key(port: str) -> PortKey:
    match = PORT_RE.match(port)
    if not match:
        raise ValueError(f"bad port {port!r}")
    low = int(match.group(2))
    return match.group(1), low, int(match.group(4) or low)


def _collapse(items: Iterable[object]) -> Sources:
    nets = [i for i in items if isinstance(i, ipaddress.IPv4Network)]
    tokens = {i for i in items if not isinstance(i, ipaddress.IPv4Network)}
    if ANY in tokens:
        return frozenset({ANY})
    return frozenset({*ipaddress.collapse_addresses(nets), *tokens})


def _host_net(address: object) -> Net:
    return ipaddress.IPv4Network(f"{address}/32")


def source_nets(province: Province, source: str, layer: str, site: Site | None = None) -> list[object]:
    """What a flow source stands for in one layer (site: the one site a site firewall guards)."""
    adr = province.source.addressing
    kind, _, arg = source.partition(":")
    if layer == "site_firewall":        # only a site's own VLANs cross its firewall
        assert site is not None
        if source == "sites":       # an isolated VLAN (the one-stop-shop counters) is not part of `sites`
            return [v.network for v in site.vlans if not v.isolated]
        if kind == "site":
            return [site.vlan(arg).network]
        return []
    if source == "internet":
        return [INTERNET if layer == "dc_firewall" else ANY]
    if source == "sites":
        return [adr.site_pool] if layer != "security_group" else [s.block for s in province.sites]
    if source == "site_devices":
        return [_host_net(s.wan_address) for s in province.sites]
    if source == "dc":
        return [s.prefix for s in adr.dc_segments.values()]
    if source == "management":
        return [adr.dc_segments["management"].prefix]
    if kind == "site":
        return [s.vlan(arg).network for s in province.sites]
    if kind == "service":
        return [_host_net(h.address) for h in province.dc_hosts if h.service == arg]
    raise ValueError(f"unknown flow source {source!r}")


def expected(province: Province, host: DcHost, layer: str, site: Site | None = None) -> Admitted:
    """What the flow matrix says this layer admits toward this host."""
    collected: dict[PortKey, list[object]] = defaultdict(list)
    for flow in province.source.flows:
        if flow.to != host.service:
            continue
        for source in flow.from_:
            nets = source_nets(province, source, layer, site)
            if not nets:
                continue
            for port in flow.ports:
                collected[port_key(port)] += nets
    return {key: _collapse(value) for key, value in collected.items()}


def expected_listeners(province: Province, host: DcHost) -> set[PortKey]:
    """The sockets the host's daemons must open: every listener a flow reaches."""
    return {port_key(port) for flow in province.source.flows if flow.to == host.service for port in flow.ports}


def differences(layer: str, want: Admitted, got: Admitted) -> list[str]:
    out = []
    for key in sorted(set(want) | set(got)):
        label = f"{key[0]}/{key[1]}" + (f"-{key[2]}" if key[2] != key[1] else "")
        w, g = want.get(key, frozenset()), got.get(key, frozenset())
        if w == g:
            continue
        if not g:
            out.append(f"{layer}: {label} is in the flow matrix but not admitted")
        elif not w:
            out.append(f"{layer}: {label} is admitted ({_show(g)}) but no flow needs it")
        else:
            out.append(f"{layer}: {label} admits {_show(g)}, the flow matrix says {_show(w)}")
    return out


def _show(sources: Sources) -> str:
    items = sorted(str(s) for s in sources)
    return ", ".join(items[:4]) + (f" … ({len(items)} in all)" if len(items) > 4 else "")


# --- the layers as they are ------------------------------------------------------------------

def listening(ss_output: str) -> set[tuple[str, int]]:
    """(protocol, port) of every socket `ss -H -tuln` shows beyond loopback."""
    out = set()
    for line in ss_output.splitlines():
        cols = line.split()
        if len(cols) < 5:
            continue
        address, _, port = cols[4].rpartition(":")
        address = address.split("%")[0]
        if address.startswith("127.") or address in ("[::1]",) or address.startswith("[::ffff:127."):
            continue
        out.add((cols[0], int(port)))
    return out


def on_demand_ports(province: Province, host: DcHost) -> set[PortKey]:
    """The ports of the service's on-demand listeners (open only while the daemon works)."""
    service = province.source.services[host.service]
    return {port_key(port) for name in service.on_demand_listeners for port in service.listeners[name]}


def listener_differences(want: set[PortKey], got: set[tuple[str, int]],
                         on_demand: AbstractSet[PortKey] = frozenset()) -> list[str]:
    out = [f"listening: {proto}/{low}{'' if low == high else f'-{high}'} is in the model but nothing listens"
           for proto, low, high in sorted(want - on_demand) if low == high and (proto, low) not in got]
    for proto, port in sorted(got):
        if not any(p == proto and low <= port <= high for p, low, high in want):
            out.append(f"listening: {proto}/{port} is open but the model has no listener for it")
    return out


def _nft_values(right: Any) -> list[Any]:
    if isinstance(right, dict) and "set" in right:
        return list(right["set"])
    return [right]


def _nft_net(value: Any) -> Net:
    if isinstance(value, dict) and "prefix" in value:
        return ipaddress.IPv4Network(f"{value['prefix']['addr']}/{value['prefix']['len']}")
    if isinstance(value, dict) and "range" in value:
        low, high = value["range"]
        raise ValueError(f"address range {low}-{high}")   # expanded by the caller
    return _host_net(value)


def _nft_nets(values: list[Any], named_sets: dict[str, list[Any]]) -> list[Net]:
    nets: list[Net] = []
    for value in values:
        if isinstance(value, str) and value.startswith("@"):
            nets += _nft_nets(named_sets.get(value[1:], []), named_sets)
        elif isinstance(value, dict) and "range" in value:
            low, high = (ipaddress.IPv4Address(v) for v in value["range"])
            nets += list(ipaddress.summarize_address_range(low, high))
        else:
            nets.append(_nft_net(value))
    return nets


def host_firewall(nft_json: str, chain: str = "input") -> Admitted:
    """`nft -j list table inet host_firewall` -> what its input chain accepts, per port."""
    items = json.loads(nft_json)["nftables"]
    named_sets = {i["set"]["name"]: i["set"].get("elem", []) for i in items if "set" in i}
    collected: dict[PortKey, list[object]] = defaultdict(list)
    for item in items:
        rule = item.get("rule")
        if not rule or rule.get("chain") != chain:
            continue
        exprs = rule["expr"]
        if not any("accept" in e for e in exprs):
            continue
        sources: list[object] = [ANY]
        ports: list[PortKey] = []
        for expr in exprs:
            match = expr.get("match")
            if not match:
                continue
            left = match["left"]
            payload = left.get("payload") if isinstance(left, dict) else None
            if not payload:
                continue
            if payload.get("protocol") == "ip" and payload.get("field") == "saddr":
                sources = list(_nft_nets(_nft_values(match["right"]), named_sets))
            elif payload.get("field") == "dport":
                for value in _nft_values(match["right"]):
                    if isinstance(value, dict) and "range" in value:
                        ports.append((payload["protocol"], int(value["range"][0]), int(value["range"][1])))
                    else:
                        ports.append((payload["protocol"], int(value), int(value)))
        for key in ports:
            collected[key] += sources
    return {key: _collapse(value) for key, value in collected.items()}


def security_group(rules: list[dict[str, Any]], group_id: str, address_groups: dict[str, list[str]],
                   group_addresses: dict[str, list[str]]) -> Admitted:
    """Mocked-stack rule states of one security group -> what it admits (the balancers' own
    amphorae rules, labelled `lb:`, are the stack's explicit addition and are left out)."""
    collected: dict[PortKey, list[object]] = defaultdict(list)
    for rule in rules:
        if rule["securityGroupId"] != group_id or rule.get("direction", "ingress") != "ingress":
            continue
        if str(rule.get("description", "")).startswith("lb:"):
            continue
        key = (rule["protocol"], int(rule["portRangeMin"]), int(rule["portRangeMax"]))
        if rule.get("remoteIpPrefix"):
            prefix = rule["remoteIpPrefix"]
            collected[key].append(ANY if prefix == "0.0.0.0/0" else ipaddress.IPv4Network(prefix))
        elif rule.get("remoteAddressGroupId"):
            collected[key] += [ipaddress.IPv4Network(c) for c in address_groups[rule["remoteAddressGroupId"]]]
        elif rule.get("remoteGroupId"):
            collected[key] += [_host_net(a) for a in group_addresses[rule["remoteGroupId"]]]
    return {key: _collapse(value) for key, value in collected.items()}


def device_policy(rules: list[Rule], host: DcHost, supernet: Net) -> Admitted:
    """A firewall's forward rules -> what they admit toward one host."""
    collected: dict[PortKey, list[object]] = defaultdict(list)
    address = ipaddress.IPv4Address(str(host.address))
    for rule in rules:
        if rule.daddr and not any(address in net for net in rule.daddr):
            continue
        if rule.negate_saddr:
            sources: list[object] = [INTERNET] if rule.saddr == (supernet,) else [f"not {rule.saddr}"]
        else:
            sources = list(rule.saddr) or [ANY]
        for low, high in rule.ports:
            collected[(rule.proto, low, high)] += sources
    return {key: _collapse(value) for key, value in collected.items()}
