"""Floating IPs only on DMZ ports: a host's port or a load-balancer VIP on the DMZ network."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyConfigSchema, ReportViolation, StackValidationArgs, StackValidationPolicy

from province_policies import types
from province_policies.props import is_unknown, known

DEFAULT_DMZ_NETWORK = "net-dmz"


def _index(args: StackValidationArgs, resource_type: str, key: str) -> dict[Any, Any]:
    out = {}
    for resource in args.resources:
        if resource.resource_type == resource_type:
            value = known(resource.props, key)
            if value is not None and not is_unknown(value):
                out[value] = resource
    return out


def _validate(args: StackValidationArgs, report: ReportViolation) -> None:
    dmz_name = args.get_config().get("dmzNetwork") or DEFAULT_DMZ_NETWORK
    networks = _index(args, types.NETWORK, "id")
    subnets = _index(args, types.SUBNET, "id")
    ports = _index(args, types.PORT, "id")
    vip_ports = _index(args, types.LOAD_BALANCER, "vipPortId")
    for fip in (r for r in args.resources if r.resource_type == types.FLOATING_IP):
        port_id = known(fip.props, "portId")
        if port_id is None or is_unknown(port_id):
            continue
        network_id: Any = None
        if port_id in ports:
            network_id = known(ports[port_id].props, "networkId")
        elif port_id in vip_ports:
            subnet = subnets.get(known(vip_ports[port_id].props, "vipSubnetId"))
            network_id = known(subnet.props, "networkId") if subnet else None
        else:
            report(f"floating IP {fip.name!r} is attached to port {port_id!r}, which this stack does not manage",
                   fip.urn)
            continue
        if is_unknown(network_id):
            continue
        network = networks.get(network_id)
        name = known(network.props, "name") if network is not None and isinstance(network.props, Mapping) else None
        if name != dmz_name:
            report(f"floating IP {fip.name!r} is attached to a port on {name or network_id!r}, not {dmz_name!r}",
                   fip.urn)


floating_ips_only_in_dmz = StackValidationPolicy(
    name="floating-ips-only-in-dmz",
    description="Floating (public) IPs are attached only to ports and load balancers on the DMZ network.",
    validate=_validate,
    config_schema=PolicyConfigSchema(properties={"dmzNetwork": {"type": "string", "default": DEFAULT_DMZ_NETWORK}}),
)
