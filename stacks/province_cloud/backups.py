"""Object storage (Swift) for backups: one versioned container per service, owned like the service."""

from __future__ import annotations

import pulumi
import pulumi_openstack as openstack

from egov.model import Province
from province_cloud import labels, naming
from province_cloud.settings import StackSettings


class BackupContainers(pulumi.ComponentResource):
    """backup-<service>: written by backup-01, versioned so an overwritten backup can be recovered."""

    containers: dict[str, openstack.objectstorage.Container]

    def __init__(self, name: str, province: Province, settings: StackSettings,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("egov:cloud:BackupContainers", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.containers = {
            service: openstack.objectstorage.Container(
                naming.backup_container(service), openstack.objectstorage.ContainerArgs(
                    name=naming.backup_container(service), versioning=True,
                    metadata=labels.of_service(province, service, settings.environment).metadata()),
                opts=child)
            for service in province.cloud_services
        }
        self.register_outputs({"containers": len(self.containers)})
