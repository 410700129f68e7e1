"""The province's cloud policies, importable without starting a policy pack (tests run them directly)."""

from pulumi_policy import Policy

from province_policies.affinity import anti_affinity_for_ha_pairs
from province_policies.floating_ips import floating_ips_only_in_dmz
from province_policies.metadata import required_metadata
from province_policies.naming import naming_convention
from province_policies.open_ports import no_admin_ports_to_world
from province_policies.storage import encrypted_volume_types, san_capacity

POLICIES: list[Policy] = [
    no_admin_ports_to_world,
    anti_affinity_for_ha_pairs,
    encrypted_volume_types,
    san_capacity,
    naming_convention,
    required_metadata,
    floating_ips_only_in_dmz,
]

__all__ = ["POLICIES", "anti_affinity_for_ha_pairs", "encrypted_volume_types", "floating_ips_only_in_dmz",
           "naming_convention", "no_admin_ports_to_world", "required_metadata", "san_capacity"]
