"""Networks, subnets and the edge router: one network per DC segment of the IP plan.

Each subnet is the segment's prefix with the plan's gateway (.1, the router in the cloud). Hosts
get the fixed addresses of the model on their ports; Neutron's own allocations (DHCP, router,
Octavia VIPs) come from a pool at the top of the segment that the model never hands out.
"""

from __future__ import annotations

import ipaddress

import pulumi
import pulumi_openstack as openstack

from egov.model import Province
from province_cloud import labels, naming
from province_cloud.settings import StackSettings

DYNAMIC_POOL_FIRST = 200   # .200 .. last-2: Neutron-allocated; last-1 is the lab gateway


class NetworkFabric(pulumi.ComponentResource):
    """net-<segment>, subnet-<segment>, rtr-dc with its external gateway and one interface per segment."""

    networks: dict[str, openstack.networking.Network]
    subnets: dict[str, openstack.networking.Subnet]
    router: openstack.networking.Router

    def __init__(self, name: str, province: Province, settings: StackSettings,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("egov:cloud:NetworkFabric", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        env = settings.environment
        services_by_segment: dict[str, list[str]] = {}
        for service_name, service in province.source.services.items():
            services_by_segment.setdefault(service.segment, []).append(service_name)
        dns = [str(h.address) for h in province.dc_hosts if h.service == "dns"] or list(settings.dns_servers_external)

        external = openstack.networking.get_network_output(name=settings.external_network, external=True)
        self.router = openstack.networking.Router(
            naming.router(), openstack.networking.RouterArgs(
                name=naming.router(), admin_state_up=True, external_network_id=external.id,
                description="DC edge router: segment gateways and floating IPs",
                tags=labels.of_shared(province, province.source.services, settings.operator, env).tags()),
            opts=child)

        self.networks = {}
        self.subnets = {}
        for segment, spec in province.source.addressing.dc_segments.items():
            owner = labels.of_shared(province, services_by_segment.get(segment, []), settings.operator, env)
            prefix = spec.prefix
            net = openstack.networking.Network(
                naming.network(segment), openstack.networking.NetworkArgs(
                    name=naming.network(segment), admin_state_up=True, port_security_enabled=True,
                    description=f"DC segment {segment} (VLAN {spec.vlan} in the IP plan)", tags=owner.tags()),
                opts=child)
            sub = openstack.networking.Subnet(
                naming.subnet(segment), openstack.networking.SubnetArgs(
                    name=naming.subnet(segment), network_id=net.id, cidr=str(prefix), ip_version=4,
                    gateway_ip=str(prefix.network_address + 1), enable_dhcp=True, dns_nameservers=dns,
                    allocation_pools=[dynamic_pool(prefix)], tags=owner.tags()),
                opts=child)
            openstack.networking.RouterInterface(
                naming.router_interface(segment), openstack.networking.RouterInterfaceArgs(
                    router_id=self.router.id, subnet_id=sub.id),
                opts=child)
            self.networks[segment] = net
            self.subnets[segment] = sub
        self.register_outputs({"router": self.router.id})


def dynamic_pool(prefix: ipaddress.IPv4Network) -> openstack.networking.SubnetAllocationPoolArgs:
    return openstack.networking.SubnetAllocationPoolArgs(
        start=str(prefix.network_address + DYNAMIC_POOL_FIRST), end=str(prefix.broadcast_address - 2))
