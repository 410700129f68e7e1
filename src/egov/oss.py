"""The one-stop-shop platform's tenants and procedures, derived from the model (issue 14).

One tenant (agency) per unit that runs a one-stop-shop: every department marked ``one_stop_shop``,
every district and every commune whose systems include it (the plan's 16 + 11 + 109). An agency's
key is the unit's slug, the value the directory writes into its officials' ``departmentNumber``
(egov.model.officials: a department's code, a district's or commune's site slug), so that an official
signing in through the SSO lands in the tenant of their unit. A commune's parent is its district.

The procedures (model/procedures.yml) come with each step's department as that department's slug.
``catalogue`` is what the application reads (``egov_oss_catalogue`` in the generated services vars).
"""

from __future__ import annotations

from typing import Any

from egov.model import Province

SYSTEM = "one_stop_shop"


def agencies(province: Province) -> list[dict[str, Any]]:
    """The tenants: departments (model order), then districts, then communes (register order)."""
    found: list[dict[str, Any]] = [
        {"slug": d.code, "name": d.name, "kind": "department", "parent": None}
        for d in province.departments if SYSTEM in d.systems
    ]
    found += [{"slug": s.slug, "name": s.name, "kind": "district", "parent": None}
              for s in province.districts if SYSTEM in s.systems]
    district_slug = {s.code: s.slug for s in province.districts}
    found += [{"slug": c.slug, "name": c.name, "kind": "commune", "parent": district_slug[c.district_code]}
              for c in province.communes if SYSTEM in c.systems]
    return found


def procedures(province: Province) -> list[dict[str, Any]]:
    """The procedures in catalogue order, each step's department resolved to its slug (null off a
    department level)."""
    return [
        {"code": p.code, "name": p.name, "unit_kind": p.unit_kind, "deadline_days": p.deadline_days,
         "steps": [{"name": s.name, "level": s.level, "department": s.department, "days": s.days}
                   for s in p.steps]}
        for p in province.procedures
    ]


def catalogue(province: Province) -> dict[str, list[dict[str, Any]]]:
    """What the one-stop-shop application is configured from: its tenants and its procedures."""
    return {"agencies": agencies(province), "procedures": procedures(province)}
