"""The province model: the one source of truth for inventories, plans, stacks and devices."""

from egov.model.errors import ModelError, ModelIssue
from egov.model.loader import DEFAULT_MODEL, load_province, render_allocations
from egov.model.province import DcFirewall, DcHost, Department, Province, Site

__all__ = ["DEFAULT_MODEL", "DcFirewall", "DcHost", "Department", "ModelError", "ModelIssue", "Province", "Site",
           "load_province", "render_allocations"]
