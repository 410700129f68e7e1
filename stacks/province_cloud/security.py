"""One security group per service, its ingress rules generated from the flow matrix."""

from __future__ import annotations

from collections import Counter

import pulumi
import pulumi_openstack as openstack

from egov.model import Province
from province_cloud import labels, naming
from province_cloud.flows import IngressRule, LbReach, address_groups, ingress_rules
from province_cloud.settings import StackSettings


class SecurityGroups(pulumi.ComponentResource):
    """sg-<service> for every service (default rules kept: egress only), ag-<key> address groups."""

    groups: dict[str, openstack.networking.SecGroup]
    address_groups: dict[str, openstack.networking.AddressGroupV2]
    rules: list[IngressRule]

    def __init__(self, name: str, province: Province, settings: StackSettings, lb_reach: list[LbReach],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("egov:cloud:SecurityGroups", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        env = settings.environment
        self.address_groups = {
            key: openstack.networking.AddressGroupV2(
                naming.address_group(key), openstack.networking.AddressGroupV2Args(
                    name=naming.address_group(key), addresses=cidrs,
                    description=f"flow-matrix source {key!r}: {len(cidrs)} prefixes"),
                opts=child)
            for key, cidrs in address_groups(province).items()
        }
        self.groups = {
            service: openstack.networking.SecGroup(
                naming.security_group(service), openstack.networking.SecGroupArgs(
                    name=naming.security_group(service), description=f"ingress of {service} from the flow matrix",
                    delete_default_rules=False, tags=labels.of_service(province, service, env).tags()),
                opts=child)
            for service in province.cloud_services
        }
        self.rules = ingress_rules(province, lb_reach)
        numbers: Counter[str] = Counter()
        for rule in self.rules:
            numbers[rule.service] += 1
            logical = f"sgr-{naming.dashed(rule.service)}-{numbers[rule.service]:03d}"
            openstack.networking.SecGroupRule(logical, self._rule_args(rule), opts=child)
        self.register_outputs({"rules": len(self.rules)})

    def _rule_args(self, rule: IngressRule) -> openstack.networking.SecGroupRuleArgs:
        remote_ip: str | None = None
        remote_group: pulumi.Output[str] | None = None
        remote_addresses: pulumi.Output[str] | None = None
        if rule.source.kind == "cidr":
            remote_ip = rule.source.value
        elif rule.source.kind == "address_group":
            remote_addresses = self.address_groups[rule.source.value].id
        else:
            remote_group = self.groups[rule.source.value].id
        return openstack.networking.SecGroupRuleArgs(
            security_group_id=self.groups[rule.service].id, direction="ingress", ethertype="IPv4",
            protocol=rule.ports.protocol, port_range_min=rule.ports.low, port_range_max=rule.ports.high,
            remote_ip_prefix=remote_ip, remote_group_id=remote_group, remote_address_group_id=remote_addresses,
            description=rule.description)
