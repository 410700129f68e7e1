"""What the roles need of the model's services, for the generated `group_vars/all/services.yml`.

One derivation, so that a port, a service name or a group is written once (in the model):

- ``egov_service_groups``: service -> its inventory group (roles take the group from here);
- ``egov_service_names``: DNS name -> the group whose hosts it points to (DNS, certificates);
- ``egov_component_sites``: the portal's component sites (egov.portal), with their DNS labels;
- ``egov_oss_catalogue``: the one-stop-shop's tenants (agencies) and procedures (egov.oss);
- ``egov_vc_conference``: the video conference's rooms and endpoint accounts (egov.vc);
- ``egov_service_ports``: service -> listener -> the port its daemon listens on;
- ``egov_host_ports``: host listener (every DC host's, e.g. ssh, node-exporter) -> its port;
- ``host_firewall_services_by_group``: per inventory group, the listeners its hosts open and the
  sources the flow matrix admits (explicit prefixes; ``any: true`` where a flow comes from the
  internet). The host firewall role only renders these: it knows no service.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from typing import Any

from egov import oss, portal, vc
from egov.model import Province
from egov.model.schema import EVERY_DC_HOST, PORT_RE

Net = ipaddress.IPv4Network
FIREWALL_GROUPS = ("dc_firewalls", "site_firewalls")


def _port_value(port: str) -> tuple[str, int | str]:
    match = PORT_RE.match(port)
    if not match:
        raise ValueError(f"bad port {port!r}")
    low, high = match.group(2), match.group(4)
    return match.group(1), (int(low) if not high or high == low else f"{low}-{high}")


def flow_sources(province: Province, source: str) -> list[Net] | None:
    """The prefixes a flow source stands for; None for the internet (any address)."""
    adr = province.source.addressing
    kind, _, arg = source.partition(":")
    if source == "internet":
        return None
    if source == "sites":
        return [adr.site_pool]
    if source == "dc":
        return [segment.prefix for segment in adr.dc_segments.values()]
    if source == "site_devices":
        return [ipaddress.IPv4Network(f"{site.wan_address}/32") for site in province.sites]
    if source == "management":
        return [adr.dc_segments["management"].prefix]
    if kind == "site":
        return [site.vlan(arg).network for site in province.sites]
    if kind == "service":
        return [ipaddress.IPv4Network(f"{h.address}/32") for h in province.dc_hosts if h.service == arg]
    raise ValueError(f"unknown flow source {source!r}")


def _entries(province: Province, listeners: dict[str, list[str]],
             admitted: dict[str, list[str]], prefix: str) -> list[dict[str, Any]]:
    """One firewall entry per (listener, protocol), with the sources of every flow reaching it."""
    entries = []
    for listener, ports in listeners.items():
        sources = admitted.get(listener)
        if sources is None:
            continue
        nets: list[Net] = []
        any_source = False
        for source in sources:
            resolved = flow_sources(province, source)
            if resolved is None:
                any_source = True
            else:
                nets += resolved
        by_proto: dict[str, list[int | str]] = defaultdict(list)
        for port in ports:
            proto, value = _port_value(port)
            by_proto[proto].append(value)
        for proto, values in by_proto.items():
            entry: dict[str, Any] = {"name": f"{prefix}{listener}", "proto": [proto], "ports": values}
            if any_source:
                entry["any"] = True
            else:
                entry["sources"] = [str(n) for n in ipaddress.collapse_addresses(nets)]
            entries.append(entry)
    return entries


def services_vars(province: Province) -> dict[str, Any]:
    pf = province.source
    present = {h.service for h in province.dc_hosts}
    admitted: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    management: dict[str, list[str]] = defaultdict(list)   # host listener -> sources of `to: dc` flows
    for flow in pf.flows:
        listeners = admitted[flow.to]
        for listener in flow.listeners:
            for source in flow.from_:
                if source not in listeners[listener]:
                    listeners[listener].append(source)
                if flow.expanded_from == EVERY_DC_HOST and source not in management[listener]:
                    management[listener].append(source)
    by_group: dict[str, list[dict[str, Any]]] = {}
    for name, service in pf.services.items():
        if name not in present:
            continue
        own = _entries(province, dict(service.listeners), admitted[name], f"{name}-")
        common = _entries(province, dict(pf.host_listeners), admitted[name], "")
        by_group[name] = common + own
    # the firewall appliances are managed like every DC host (their other ports are the network
    # tooling's: network/policy.yml)
    for group in FIREWALL_GROUPS:
        by_group[group] = _entries(province, dict(pf.host_listeners), management, "")
    names = [(label, name) for name, service in pf.services.items() if name in present for label in service.names]
    names += [(label, name) for name, service in pf.services.items()
              if name in present and service.component_site_names for label in portal.site_names(province)]
    return {
        "egov_service_groups": {name: name for name in sorted(present)},
        "egov_service_names": dict(sorted(names)),
        # the portal's component sites (egov.portal): one WordPress site and one DNS name each
        "egov_component_sites": portal.component_sites(province),
        # the one-stop-shop's tenants and procedures (egov.oss): one tenant per agency slug
        "egov_oss_catalogue": oss.catalogue(province),
        # the video conference's standing rooms, ad-hoc range and endpoint accounts (egov.vc); the
        # credentials are generated at run time by the roles, never here
        "egov_vc_conference": vc.conference(province),
        "egov_service_ports": {name: {listener: _port_value(ports[0])[1]
                                      for listener, ports in service.listeners.items()}
                               for name, service in sorted(pf.services.items()) if service.listeners},
        "egov_host_ports": {listener: _port_value(ports[0])[1] for listener, ports in pf.host_listeners.items()},
        "host_firewall_services_by_group": by_group,
    }
