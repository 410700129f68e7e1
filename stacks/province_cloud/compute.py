"""Instances of every DC host: fixed-address port, server group for HA pairs, volumes, floating IPs."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_openstack as openstack

from egov.model import DcHost, Province
from province_cloud import exposure, labels, naming, sizing
from province_cloud.network import NetworkFabric
from province_cloud.security import SecurityGroups
from province_cloud.settings import StackSettings

ANTI_AFFINITY = "anti-affinity"


@dataclass
class HostResources:
    host: DcHost
    port: openstack.networking.Port
    instance: openstack.compute.Instance
    volumes: dict[str, openstack.blockstorage.Volume]
    floating_ip: openstack.networking.FloatingIp | None


class DcInstances(pulumi.ComponentResource):
    """Everything per host, plus one anti-affinity server group per HA pair and the operators' keypair."""

    hosts: dict[str, HostResources]
    server_groups: dict[str, openstack.compute.ServerGroup]
    keypair: openstack.compute.Keypair

    def __init__(self, name: str, province: Province, settings: StackSettings, fabric: NetworkFabric,
                 security: SecurityGroups, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("egov:cloud:DcInstances", name, None, opts)
        self._child = pulumi.ResourceOptions(parent=self)
        self._province = province
        self._settings = settings
        self.keypair = openstack.compute.Keypair(
            naming.keypair(settings.environment), openstack.compute.KeypairArgs(
                name=naming.keypair(settings.environment), public_key=settings.ssh_public_key),
            opts=self._child)
        ha_groups = sorted({h.ha_group for h in province.cloud_hosts if h.ha_group})
        self.server_groups = {
            group: openstack.compute.ServerGroup(
                naming.server_group(group), openstack.compute.ServerGroupArgs(
                    name=naming.server_group(group), policies=ANTI_AFFINITY),
                opts=self._child)
            for group in ha_groups
        }
        public = set(exposure.hosts_with_floating_ip(province))
        self.hosts = {host.name: self._host(host, fabric, security, host.name in public)
                      for host in province.cloud_hosts}
        self.register_outputs({"hosts": len(self.hosts)})

    def _host(self, host: DcHost, fabric: NetworkFabric, security: SecurityGroups,
              public: bool) -> HostResources:
        settings = self._settings
        service = self._province.source.services[host.service]
        owner = labels.of_service(self._province, host.service, settings.environment)
        port = openstack.networking.Port(
            naming.port(host.name), openstack.networking.PortArgs(
                name=naming.port(host.name), network_id=fabric.networks[host.segment].id, admin_state_up=True,
                fixed_ips=[openstack.networking.PortFixedIpArgs(subnet_id=fabric.subnets[host.segment].id,
                                                                 ip_address=str(host.address))],
                security_group_ids=[security.groups[host.service].id], tags=owner.tags()),
            opts=self._child)
        hints = None
        if host.ha_group:
            hints = [openstack.compute.InstanceSchedulerHintArgs(group=self.server_groups[host.ha_group].id)]
        instance = openstack.compute.Instance(
            host.name, openstack.compute.InstanceArgs(
                name=host.name, flavor_name=settings.flavor_for(host.service, service.size),
                image_name=settings.image_for(host.service), key_pair=self.keypair.name,
                networks=[openstack.compute.InstanceNetworkArgs(port=port.id)], scheduler_hints=hints,
                metadata=owner.metadata(service=host.service, ha_group=host.ha_group or "", segment=host.segment,
                                        fqdn=f"{host.name}.{self._province.domain}"),
                tags=owner.tags()),
            opts=self._child)
        volumes = {}
        for spec in sizing.volumes_for(self._province, host, settings.volume_scale_pct, settings.bulk_threshold_gb):
            volume = openstack.blockstorage.Volume(
                naming.volume(host.name, spec.purpose), openstack.blockstorage.VolumeArgs(
                    name=naming.volume(host.name, spec.purpose), size=spec.size_gb,
                    volume_type=settings.volume_types[spec.tier],
                    description=f"{spec.purpose} of {host.name}",
                    metadata=owner.metadata(host=host.name, purpose=spec.purpose, tier=spec.tier)),
                opts=self._child)
            openstack.compute.VolumeAttach(
                naming.volume_attachment(host.name, spec.purpose), openstack.compute.VolumeAttachArgs(
                    instance_id=instance.id, volume_id=volume.id),
                opts=self._child)
            volumes[spec.purpose] = volume
        floating_ip = None
        if public:
            floating_ip = openstack.networking.FloatingIp(
                naming.floating_ip(host.name), openstack.networking.FloatingIpArgs(
                    pool=settings.external_network, port_id=port.id,
                    description=f"public address of {host.name}", tags=owner.tags()),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[fabric]))
        return HostResources(host=host, port=port, instance=instance, volumes=volumes, floating_ip=floating_ip)
