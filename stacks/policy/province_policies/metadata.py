"""Required metadata: the owning agency and the Decree 85/2016 security level on every resource.

Instances, volumes and containers carry ``metadata`` (owner, security_level); Neutron and Octavia
objects carry ``tags`` (owner=, security-level=). Types whose OpenStack API has neither (server
groups, keypairs, volume attachments, router interfaces, rules, monitors, address groups) are
exempt; they belong to a tagged parent object.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pulumi_policy import PolicyConfigSchema, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from province_policies import types
from province_policies.props import is_unknown, known, tag_map

AGENCY_RE = re.compile(r"^[a-z][a-z0-9]{1,15}$")
LEVELS = {"1", "2", "3", "4", "5"}
WITH_METADATA = {types.INSTANCE, types.VOLUME, types.CONTAINER}
WITH_TAGS = {types.NETWORK, types.SUBNET, types.ROUTER, types.PORT, types.SEC_GROUP, types.FLOATING_IP,
             types.LOAD_BALANCER, types.LISTENER, types.POOL, types.MEMBER, types.INSTANCE}


def labels_problems(labels: Mapping[str, str] | None, level_key: str, environment: str | None) -> list[str]:
    if labels is None:
        return ["has no owner or security level"]
    problems = []
    owner = labels.get("owner")
    if not owner or not AGENCY_RE.match(owner):
        problems.append(f"owner {owner!r} is not an agency code")
    level = labels.get(level_key)
    if level not in LEVELS:
        problems.append(f"{level_key} {level!r} is not a Decree 85/2016 level 1-5")
    if environment and labels.get("environment") != environment:
        problems.append(f"environment {labels.get('environment')!r} is not {environment!r}")
    return problems


def _validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
    environment = args.get_config().get("environment")
    kind = args.resource_type.split(":")[-1]
    if args.resource_type in WITH_METADATA:
        metadata = known(args.props, "metadata")
        if not is_unknown(metadata):
            labels = {str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, Mapping) else None
            for problem in labels_problems(labels, "security_level", environment):
                report(f"{kind} {args.name!r} metadata: {problem}", None)
    if args.resource_type in WITH_TAGS:
        if is_unknown(known(args.props, "tags")):
            return
        for problem in labels_problems(tag_map(args.props), "security-level", environment):
            report(f"{kind} {args.name!r} tags: {problem}", None)


required_metadata = ResourceValidationPolicy(
    name="required-metadata",
    description="Every taggable resource names its owning agency and its Decree 85/2016 security level.",
    validate=_validate,
    config_schema=PolicyConfigSchema(properties={"environment": {"type": "string"}}),
)
