"""No SSH, database or administration port open to the whole internet (0.0.0.0/0 or ::/0).

A security-group rule with no remote (no prefix, group or address group) admits everyone, and a
rule without protocol or port range covers every port: both count as open. Octavia listeners
without allowed_cidrs are open to everyone too.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from province_policies import types
from province_policies.props import is_unknown, known, number

WORLD = {"0.0.0.0/0", "::/0"}

# (protocol, port) -> why it must never face the internet
FORBIDDEN_PORTS: dict[tuple[str, int], str] = {
    ("tcp", 22): "SSH", ("tcp", 23): "telnet", ("tcp", 3389): "RDP", ("tcp", 5900): "VNC",
    ("udp", 161): "SNMP", ("udp", 623): "IPMI", ("tcp", 10000): "Webmin", ("tcp", 2375): "Docker API",
    ("tcp", 2376): "Docker API", ("tcp", 6443): "Kubernetes API", ("tcp", 5432): "PostgreSQL",
    ("tcp", 3306): "MySQL", ("tcp", 1433): "SQL Server", ("tcp", 1521): "Oracle", ("tcp", 27017): "MongoDB",
    ("tcp", 6379): "Redis", ("tcp", 9200): "Elasticsearch", ("tcp", 11211): "memcached", ("tcp", 389): "LDAP",
    ("tcp", 636): "LDAPS", ("tcp", 2049): "NFS", ("tcp", 111): "rpcbind",
}


def exposed(protocol: Any, low: float | None, high: float | None) -> list[str]:
    """The forbidden services a (protocol, port range) covers; a missing protocol or range covers all."""
    protocols = {"tcp", "udp"} if protocol in (None, "", "any") else {str(protocol).lower()}
    low = 1 if low is None else low
    high = 65535 if high is None else high
    return sorted({f"{why} ({proto}/{port})" for (proto, port), why in FORBIDDEN_PORTS.items()
                   if proto in protocols and low <= port <= high})


def _validate_rule(args: ResourceValidationArgs, report: ReportViolation) -> None:
    props = args.props
    if known(props, "direction", "ingress") != "ingress":
        return
    prefix = known(props, "remoteIpPrefix")
    remote_group = known(props, "remoteGroupId")
    remote_addresses = known(props, "remoteAddressGroupId")
    if is_unknown(prefix) or remote_group or remote_addresses:
        return
    if prefix not in WORLD and prefix not in (None, ""):
        return
    protocol = known(props, "protocol")
    low, high = known(props, "portRangeMin"), known(props, "portRangeMax")
    if is_unknown(protocol) or is_unknown(low) or is_unknown(high):
        return
    hits = exposed(protocol, number(low), number(high))
    if hits:
        report(f"security-group rule {args.name!r} opens {', '.join(hits)} to {prefix or 'any address'}", None)


def _validate_listener(args: ResourceValidationArgs, report: ReportViolation) -> None:
    cidrs = known(args.props, "allowedCidrs")
    port = known(args.props, "protocolPort")
    if is_unknown(cidrs) or is_unknown(port) or (cidrs and not WORLD & set(cidrs)):
        return
    value = number(port)
    hits = exposed("tcp", value, value) if value is not None else []
    if hits:
        report(f"listener {args.name!r} publishes {', '.join(hits)} to any address", None)


def _validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == types.SEC_GROUP_RULE:
        _validate_rule(args, report)
    elif args.resource_type == types.LISTENER:
        _validate_listener(args, report)


no_admin_ports_to_world = ResourceValidationPolicy(
    name="no-admin-ports-to-world",
    description="No SSH, database or administration port may be reachable from 0.0.0.0/0.",
    validate=_validate,
)
