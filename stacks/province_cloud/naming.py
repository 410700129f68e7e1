"""The naming convention of every OpenStack object (the policy pack checks it independently).

Instances carry the model's hostnames (``mail-01``); everything else is ``<kind>-<what>`` in
lower case with dashes, at most 63 characters.
"""

from __future__ import annotations


def dashed(name: str) -> str:
    """Model service names use underscores; OpenStack names use dashes."""
    return name.replace("_", "-")


def network(segment: str) -> str:
    return f"net-{segment}"


def subnet(segment: str) -> str:
    return f"subnet-{segment}"


def router() -> str:
    return "rtr-dc"


def router_interface(segment: str) -> str:
    return f"rif-{segment}"


def security_group(service: str) -> str:
    return f"sg-{dashed(service)}"


def address_group(key: str) -> str:
    return f"ag-{dashed(key)}"


def server_group(ha_group: str) -> str:
    return f"sgrp-{dashed(ha_group)}"


def port(host: str) -> str:
    return f"port-{host}"


def volume(host: str, purpose: str) -> str:
    return f"vol-{host}-{purpose}"


def volume_attachment(host: str, purpose: str) -> str:
    return f"att-{host}-{purpose}"


def floating_ip(target: str) -> str:
    return f"fip-{target}"


def load_balancer(name: str) -> str:
    return f"lb-{name}"


def listener(lb: str, port_number: int) -> str:
    return f"lsn-{lb}-{port_number}"


def pool(lb: str, port_number: int) -> str:
    return f"pool-{lb}-{port_number}"


def member(lb: str, port_number: int, host: str) -> str:
    return f"mbr-{lb}-{port_number}-{host}"


def monitor(lb: str, port_number: int) -> str:
    return f"mon-{lb}-{port_number}"


def backup_container(service: str) -> str:
    return f"backup-{dashed(service)}"


def keypair(environment: str) -> str:
    return f"kp-{environment}-ops"


def database_password(service: str) -> str:
    return f"pw-{dashed(service)}-admin"
