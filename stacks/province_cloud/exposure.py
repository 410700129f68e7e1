"""What is published and how: the Octavia load balancers and which DMZ hosts get floating IPs.

A floating IP is given only where the flow matrix lets the ``internet`` reach a DMZ service:
on the load balancer when the LB carries all of the service's internet ports, otherwise on
every host of the service (e.g. SMTP on the mail hosts, whose webmail is behind an LB).
"""

from __future__ import annotations

from dataclasses import dataclass

from egov.model import Province
from province_cloud.flows import INTERNET, LbReach, rule_source


@dataclass(frozen=True)
class LoadBalancerSpec:
    name: str
    service: str
    ports: tuple[str, ...]
    # the model's lab stand-in of this balancer: the VIP takes its address, so the DNS names the
    # model gives the stand-in (www, portal, the component sites) point at the balancer in production
    stand_in: str | None = None


LOAD_BALANCERS = (
    LoadBalancerSpec(name="portal", service="portal_web", ports=("tcp/80", "tcp/443"), stand_in="portal_lb"),
    LoadBalancerSpec(name="webmail", service="mail", ports=("tcp/443",)),
    # the one-stop-shop (issue 14): https only, the lab stand-in's http merely redirects to it
    LoadBalancerSpec(name="oss", service="oss_app", ports=("tcp/443",), stand_in="oss_lb"),
)


def internet_ports(province: Province, service: str) -> set[str]:
    return {port for flow in province.source.flows if flow.to == service and "internet" in flow.from_
            for port in flow.ports}


def flow_sources(province: Province, service: str, port: str) -> list[str]:
    return sorted({source for flow in province.source.flows if flow.to == service and port in flow.ports
                   for source in flow.from_})


def check_load_balancers(province: Province) -> None:
    for spec in LOAD_BALANCERS:
        service = province.source.services.get(spec.service)
        if service is None:
            raise ValueError(f"load balancer {spec.name!r}: unknown service {spec.service!r}")
        if service.segment != "dmz":
            raise ValueError(f"load balancer {spec.name!r}: service {spec.service!r} is not in the DMZ")
        stray = [port for port in spec.ports if port not in service.listens]
        if stray:
            raise ValueError(f"load balancer {spec.name!r}: {spec.service!r} does not listen on {stray}")
        if spec.stand_in is not None:
            _check_stand_in(province, spec)


def _check_stand_in(province: Province, spec: LoadBalancerSpec) -> None:
    stand_in = province.source.services.get(spec.stand_in or "")
    if stand_in is None or not stand_in.lab_stand_in:
        raise ValueError(f"load balancer {spec.name!r}: {spec.stand_in!r} is no service with `lab_stand_in`")
    if stand_in.hosts != 1 or stand_in.segment != province.source.services[spec.service].segment:
        raise ValueError(f"load balancer {spec.name!r}: its stand-in {spec.stand_in!r} must be one host in the "
                         "segment of the VIP")
    missing = [port for port in spec.ports if port not in stand_in.listens]
    if missing:
        raise ValueError(f"load balancer {spec.name!r}: its stand-in {spec.stand_in!r} does not listen on {missing}")


def vip_address(province: Province, spec: LoadBalancerSpec) -> str | None:
    """The VIP's fixed address: the stand-in's model address (None: Octavia picks one)."""
    if spec.stand_in is None:
        return None
    return next(str(h.address) for h in province.dc_hosts if h.service == spec.stand_in)


def lb_has_floating_ip(province: Province, spec: LoadBalancerSpec) -> bool:
    return bool(internet_ports(province, spec.service) & set(spec.ports))


def hosts_with_floating_ip(province: Province) -> list[str]:
    """DMZ hosts reachable from the internet on a port no load balancer carries for them."""
    balanced: dict[str, set[str]] = {}
    for spec in LOAD_BALANCERS:
        balanced.setdefault(spec.service, set()).update(spec.ports)
    return [host.name for host in province.cloud_hosts
            if host.segment == "dmz" and internet_ports(province, host.service) - balanced.get(host.service, set())]


def allowed_cidrs(province: Province, spec: LoadBalancerSpec, port: str,
                  groups: dict[str, list[str]]) -> list[str] | None:
    """Client CIDRs a listener admits (amphorae hide client addresses from the members' SGs).

    None means "everyone" (the internet may use this port).
    """
    cidrs: list[str] = []
    for source in flow_sources(province, spec.service, port):
        rule = rule_source(province, source)
        if rule.kind == "cidr" and rule.value == INTERNET:
            return None
        if rule.kind == "cidr":
            cidrs.append(rule.value)
        elif rule.kind == "address_group":
            cidrs.extend(groups[rule.value])
        elif source.startswith("service:"):
            # a listener admits CIDRs, not security groups: the source service's own addresses
            name = source.split(":", 1)[1]
            addresses = [f"{host.address}/32" for host in province.dc_hosts if host.service == name]
            if not addresses:
                raise ValueError(f"load balancer {spec.name!r}: source {source!r} has no host in the model")
            cidrs.extend(addresses)
        else:
            raise ValueError(f"load balancer {spec.name!r}: source {source!r} cannot be a listener CIDR")
    return cidrs


def lb_reach(province: Province) -> list[LbReach]:
    prefixes = province.source.addressing.dc_segments
    return [LbReach(lb=spec.name, service=spec.service, cidr=str(prefixes["dmz"].prefix), port=port)
            for spec in LOAD_BALANCERS for port in spec.ports]
