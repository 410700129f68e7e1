"""Naming convention: instances carry hostnames (service-NN), other objects ``<kind>-<what>``.

Names are lower case, digits and single dashes, at most 63 characters (a DNS label). Objects
without a name in the OpenStack API (rules, floating IPs) must carry a description instead.
"""

from __future__ import annotations

import re

from pulumi_policy import ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from province_policies import types
from province_policies.props import is_unknown, known

LABEL_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
HOSTNAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*-\d{2}$")
MAX_LENGTH = 63

PREFIX = {
    types.NETWORK: "net", types.SUBNET: "subnet", types.ROUTER: "rtr", types.SEC_GROUP: "sg",
    types.ADDRESS_GROUP: "ag", types.SERVER_GROUP: "sgrp", types.PORT: "port", types.VOLUME: "vol",
    types.LOAD_BALANCER: "lb", types.LISTENER: "lsn", types.POOL: "pool", types.MEMBER: "mbr",
    types.MONITOR: "mon", types.CONTAINER: "backup", types.KEYPAIR: "kp",
}
DESCRIBED = {types.SEC_GROUP_RULE, types.FLOATING_IP}


def name_problem(resource_type: str, name: object) -> str | None:
    """Why ``name`` breaks the convention for that type, or None."""
    if not isinstance(name, str) or not name:
        return "has no name"
    if len(name) > MAX_LENGTH or not LABEL_RE.match(name):
        return f"name {name!r} is not lower-case words joined by single dashes (max {MAX_LENGTH})"
    if resource_type == types.INSTANCE:
        return None if HOSTNAME_RE.match(name) else f"instance name {name!r} is not a hostname <service>-NN"
    prefix = PREFIX.get(resource_type)
    if prefix and not name.startswith(f"{prefix}-"):
        return f"name {name!r} does not start with {prefix + '-'!r}"
    return None


def _validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type in DESCRIBED:
        description = known(args.props, "description")
        if not is_unknown(description) and not description:
            report(f"{args.resource_type.split(':')[-1]} {args.name!r} has no description", None)
        return
    if args.resource_type != types.INSTANCE and args.resource_type not in PREFIX:
        return
    name = known(args.props, "name")
    if is_unknown(name):
        return
    problem = name_problem(args.resource_type, name)
    if problem:
        report(f"{args.resource_type.split(':')[-1]} {args.name!r} {problem}", None)


naming_convention = ResourceValidationPolicy(
    name="naming-convention",
    description="OpenStack names follow the province's convention (hostnames for instances, kind prefixes).",
    validate=_validate,
)
