"""Every HA pair (two or more instances of one service) runs in one anti-affinity server group.

Instances name their service in metadata (``service``). Each instance of an HA service needs a
scheduler hint to a server group whose policy is ``anti-affinity``; all of them the same group.
At preview the group id is not known yet: the group is then matched by its name (sgrp-<service>).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, StackValidationArgs, StackValidationPolicy

from province_policies import types
from province_policies.props import first, is_unknown, known

ANTI_AFFINITY = "anti-affinity"


def _policies_of(group: PolicyResource) -> set[str]:
    value = known(group.props, "policies")
    if is_unknown(value) or value is None:
        return set()
    return {value} if isinstance(value, str) else {str(v) for v in value}


def _service_of(instance: PolicyResource) -> Any:
    metadata = known(instance.props, "metadata")
    if not isinstance(metadata, Mapping):
        return None
    return known(metadata, "service")


def _validate(args: StackValidationArgs, report: ReportViolation) -> None:
    groups = [r for r in args.resources if r.resource_type == types.SERVER_GROUP]
    by_id = {known(g.props, "id"): g for g in groups}
    by_name = {known(g.props, "name"): g for g in groups}
    by_service: dict[str, list[PolicyResource]] = defaultdict(list)
    for instance in (r for r in args.resources if r.resource_type == types.INSTANCE):
        service = _service_of(instance)
        if service is None:
            report(f"instance {instance.name!r} has no 'service' metadata: its HA pair cannot be checked",
                   instance.urn)
        elif not is_unknown(service):
            by_service[str(service)].append(instance)
    for service, instances in sorted(by_service.items()):
        if len(instances) < 2:
            continue
        chosen: set[str] = set()
        for instance in instances:
            hint = first(instance.props, "schedulerHints")
            if is_unknown(hint):
                continue
            group_ref = known(hint, "group") if isinstance(hint, Mapping) else None
            if not group_ref:
                report(f"instance {instance.name!r} of HA service {service!r} has no server-group hint",
                       instance.urn)
                continue
            group = by_name.get(f"sgrp-{service.replace('_', '-')}") if is_unknown(group_ref) else by_id.get(group_ref)
            if group is None:
                report(f"instance {instance.name!r} of HA service {service!r} points at no server group of "
                       f"this stack", instance.urn)
                continue
            if ANTI_AFFINITY not in _policies_of(group):
                report(f"server group {group.name!r} of HA service {service!r} is not {ANTI_AFFINITY!r} "
                       f"(policies {sorted(_policies_of(group))})", group.urn)
            chosen.add(group.urn)
        if len(chosen) > 1:
            report(f"the instances of HA service {service!r} are split over {len(chosen)} server groups", None)


anti_affinity_for_ha_pairs = StackValidationPolicy(
    name="anti-affinity-for-ha-pairs",
    description="Every HA pair is placed on different hypervisors by one anti-affinity server group.",
    validate=_validate,
)
