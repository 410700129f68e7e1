"""Generated administrator credentials: never in stack config, only as Pulumi secrets in the state."""

from __future__ import annotations

import pulumi
import pulumi_random as random

from egov.model import Province
from province_cloud import naming

DATABASE_PORTS = {"tcp/5432", "tcp/3306"}


def database_services(province: Province) -> list[str]:
    return [name for name, service in province.source.services.items() if DATABASE_PORTS & set(service.listens)]


def database_admin_passwords(province: Province,
                             parent: pulumi.Resource | None = None) -> dict[str, pulumi.Output[str]]:
    """One random admin password per database service, wrapped as a secret output."""
    passwords: dict[str, pulumi.Output[str]] = {}
    for service in database_services(province):
        password = random.RandomPassword(
            naming.database_password(service),
            random.RandomPasswordArgs(length=32, special=True, override_special="-_.,"),
            opts=pulumi.ResourceOptions(parent=parent))
        passwords[service] = pulumi.Output.secret(password.result)
    return passwords
