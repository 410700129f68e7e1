"""The provincial portal's sites, derived from the model (issue 13).

One WordPress Multisite network: the main portal on the province domain and one component portal per
department (DNS label: its code) and per district (its slug), the plan's 31 component sites. The DNS
names come from here too (``services.<name>.component_site_names`` in the model), so a department
added to the model is one more site and one more name after a re-run.
"""

from __future__ import annotations

from typing import Any

from egov.model import Province


def component_sites(province: Province) -> list[dict[str, Any]]:
    """The component portals, departments first then districts, in model order."""
    sites: list[dict[str, Any]] = [
        {"name": d.code, "title": d.name, "kind": "department", "code": d.code}
        for d in province.departments
    ]
    sites += [{"name": s.slug, "title": s.name, "kind": "district", "code": s.code} for s in province.districts]
    return sites


def site_names(province: Province) -> list[str]:
    """The DNS labels of the component portals (under the province domain)."""
    return [site["name"] for site in component_sites(province)]
