"""The whole provincial cloud for one stack: ``build`` creates it, ``run`` is the Pulumi entry point."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from egov.model import Province, load_province
from province_cloud import exposure, naming, sizing
from province_cloud.backups import BackupContainers
from province_cloud.compute import DcInstances
from province_cloud.credentials import database_admin_passwords
from province_cloud.loadbalancers import LoadBalancers
from province_cloud.network import NetworkFabric
from province_cloud.security import SecurityGroups
from province_cloud.settings import StackSettings, read_settings


@dataclass
class ProvinceCloud:
    fabric: NetworkFabric
    security: SecurityGroups
    instances: DcInstances
    load_balancers: LoadBalancers
    backups: BackupContainers
    database_passwords: dict[str, pulumi.Output[str]]
    requested_storage_gb: int


def build(province: Province, settings: StackSettings) -> ProvinceCloud:
    requested = sizing.total_gb(sizing.all_volumes(province, settings.volume_scale_pct, settings.bulk_threshold_gb))
    if requested > settings.san_capacity_gb:
        raise ValueError(f"the volumes need {requested} GB, more than the SAN's {settings.san_capacity_gb} GB "
                         f"(config sanCapacityTb)")
    fabric = NetworkFabric("network", province, settings)
    security = SecurityGroups("security", province, settings, exposure.lb_reach(province))
    instances = DcInstances("instances", province, settings, fabric, security)
    balancers = LoadBalancers("load-balancers", province, settings, fabric, instances)
    backups = BackupContainers("backups", province, settings)
    passwords = database_admin_passwords(province)
    return ProvinceCloud(fabric=fabric, security=security, instances=instances, load_balancers=balancers,
                         backups=backups, database_passwords=passwords, requested_storage_gb=requested)


def export(cloud: ProvinceCloud) -> None:
    """The stack outputs: what the Ansible hand-off (``egov cloud handoff``) and operators read."""
    hosts = {}
    for name, res in cloud.instances.hosts.items():
        hosts[name] = {
            "address": str(res.host.address),
            "segment": res.host.segment,
            "service": res.host.service,
            "instance_id": res.instance.id,
            "floating_ip": res.floating_ip.address if res.floating_ip else None,
        }
    pulumi.export("hosts", hosts)
    pulumi.export("load_balancers", {
        name: {"vip_address": lb.vip_address,
               "floating_ip": cloud.load_balancers.floating_ips[name].address
               if name in cloud.load_balancers.floating_ips else None}
        for name, lb in cloud.load_balancers.balancers.items()})
    pulumi.export("networks", {segment: {"id": net.id, "cidr": cloud.fabric.subnets[segment].cidr}
                               for segment, net in cloud.fabric.networks.items()})
    pulumi.export("backup_containers", sorted(naming.backup_container(s) for s in cloud.backups.containers))
    pulumi.export("requested_storage_gb", cloud.requested_storage_gb)
    pulumi.export("database_admin_passwords", cloud.database_passwords)


def run(province: Province | None = None) -> ProvinceCloud:
    """Entry point for ``__main__.py`` and the mocked tests: read config, build, export."""
    province = province or load_province()
    settings = read_settings(pulumi.Config(), province)
    cloud = build(province, settings)
    export(cloud)
    return cloud
