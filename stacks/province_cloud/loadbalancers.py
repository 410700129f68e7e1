"""Octavia load balancers (portal, webmail, one-stop-shop): listeners, pools, members, health monitors."""

from __future__ import annotations

import pulumi
import pulumi_openstack as openstack

from egov.model import Province
from province_cloud import exposure, labels, naming
from province_cloud.compute import DcInstances
from province_cloud.flows import address_groups, parse_port
from province_cloud.network import NetworkFabric
from province_cloud.settings import StackSettings

# TCP pass-through: TLS stays end-to-end on the members (certificates managed by Ansible).
LISTENER_PROTOCOL = {80: "HTTP", 443: "TCP"}


class LoadBalancers(pulumi.ComponentResource):
    """lb-<name> with a listener, pool and monitor per port, members on every host of the service."""

    balancers: dict[str, openstack.loadbalancer.LoadBalancer]
    floating_ips: dict[str, openstack.networking.FloatingIp]

    def __init__(self, name: str, province: Province, settings: StackSettings, fabric: NetworkFabric,
                 instances: DcInstances, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("egov:cloud:LoadBalancers", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        exposure.check_load_balancers(province)
        groups = address_groups(province)
        self.balancers = {}
        self.floating_ips = {}
        for spec in exposure.LOAD_BALANCERS:
            service = province.source.services[spec.service]
            tags = labels.of_service(province, spec.service, settings.environment).tags()
            subnet = fabric.subnets[service.segment]
            lb = openstack.loadbalancer.LoadBalancer(
                naming.load_balancer(spec.name), openstack.loadbalancer.LoadBalancerArgs(
                    name=naming.load_balancer(spec.name), vip_subnet_id=subnet.id,
                    vip_address=exposure.vip_address(province, spec),
                    description=f"{spec.name}: {service.description}", tags=tags),
                opts=child)
            self.balancers[spec.name] = lb
            for port_text in spec.ports:
                port = parse_port(port_text).low
                protocol = LISTENER_PROTOCOL.get(port, "TCP")
                listener = openstack.loadbalancer.Listener(
                    naming.listener(spec.name, port), openstack.loadbalancer.ListenerArgs(
                        name=naming.listener(spec.name, port), loadbalancer_id=lb.id, protocol=protocol,
                        protocol_port=port, allowed_cidrs=exposure.allowed_cidrs(province, spec, port_text, groups),
                        tags=tags),
                    opts=child)
                pool = openstack.loadbalancer.Pool(
                    naming.pool(spec.name, port), openstack.loadbalancer.PoolArgs(
                        name=naming.pool(spec.name, port), listener_id=listener.id, protocol=protocol,
                        lb_method="LEAST_CONNECTIONS", tags=tags),
                    opts=child)
                openstack.loadbalancer.Monitor(
                    naming.monitor(spec.name, port), openstack.loadbalancer.MonitorArgs(
                        name=naming.monitor(spec.name, port), pool_id=pool.id,
                        type="HTTP" if protocol == "HTTP" else "TCP", delay=10, timeout=5, max_retries=3),
                    opts=child)
                for host in (h for h in province.dc_hosts if h.service == spec.service):
                    openstack.loadbalancer.Member(
                        naming.member(spec.name, port, host.name), openstack.loadbalancer.MemberArgs(
                            name=naming.member(spec.name, port, host.name), pool_id=pool.id,
                            address=str(host.address), protocol_port=port, subnet_id=subnet.id, tags=tags),
                        opts=pulumi.ResourceOptions(parent=self, depends_on=[instances.hosts[host.name].instance]))
            if exposure.lb_has_floating_ip(province, spec):
                self.floating_ips[spec.name] = openstack.networking.FloatingIp(
                    naming.floating_ip(naming.load_balancer(spec.name)), openstack.networking.FloatingIpArgs(
                        pool=settings.external_network, port_id=lb.vip_port_id,
                        description=f"public address of {spec.name}", tags=tags),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[fabric]))
        self.register_outputs({"balancers": len(self.balancers)})
