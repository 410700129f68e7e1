"""Ownership labels: the owning agency and the Decree 85/2016 security level of every resource.

OpenStack offers two carriers: ``metadata`` (a string map on instances, volumes, containers)
and ``tags`` (a string list on Neutron and Octavia objects). Both carry the same facts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from egov.model import Province

MANAGED_BY = "pulumi"


@dataclass(frozen=True)
class Ownership:
    owner: str            # department code (model departments)
    security_level: int   # Decree 85/2016/ND-CP level 1-5
    system: str           # the service, or "dc" for shared infrastructure
    environment: str

    def metadata(self, **extra: str) -> dict[str, str]:
        return {"owner": self.owner, "security_level": str(self.security_level), "system": self.system,
                "environment": self.environment, "managed_by": MANAGED_BY, **extra}

    def tags(self) -> list[str]:
        return [f"owner={self.owner}", f"security-level={self.security_level}", f"system={self.system}",
                f"environment={self.environment}", f"managed-by={MANAGED_BY}"]


def of_service(province: Province, service: str, environment: str) -> Ownership:
    spec = province.source.services[service]
    return Ownership(owner=spec.owner, security_level=spec.security_level, system=service, environment=environment)


def of_shared(province: Province, services: Iterable[str], operator: str, environment: str,
              system: str = "dc") -> Ownership:
    """Shared infrastructure belongs to the DC operator at the highest level of what it carries."""
    levels = [province.source.services[name].security_level for name in services]
    return Ownership(owner=operator, security_level=max(levels, default=1), system=system, environment=environment)
