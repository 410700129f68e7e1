"""The policy pack against every mocked stack, and against a deliberately bad variant per policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_openstack as openstack
import pytest
from province_policies import POLICIES, anti_affinity_for_ha_pairs
from pulumi_policy import StackValidationArgs
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from egov.cloud.mocked_run import MockedStack, run_mocked
from egov.cloud.policy_run import OPTIONS, Violation, load_policies, run_policies
from egov.cloud.stack_config import read_policy_config
from egov.model import Province
from province_cloud.program import run

GOOD_TAGS = ["owner=stttt", "security-level=3", "system=dc", "environment=prod", "managed-by=pulumi"]
GOOD_METADATA = {"owner": "stttt", "security_level": "3", "environment": "prod"}


def test_every_policy_is_in_the_pack() -> None:
    names = [p.name for p in load_policies()]
    assert names == ["no-admin-ports-to-world", "anti-affinity-for-ha-pairs", "encrypted-volume-types",
                     "san-capacity", "naming-convention", "required-metadata", "floating-ips-only-in-dmz"]


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_every_mocked_stack_passes_every_policy(stack: str, prod: MockedStack, staging: MockedStack) -> None:
    mocked = {"prod": prod, "staging": staging}[stack]
    assert len(mocked.resources) > 200
    assert run_policies(mocked, read_policy_config(stack)) == []


def _bad_variant(province: Province, spoil: Callable[[], object]) -> MockedStack:
    def program(p: Province) -> None:
        run(p)
        spoil()
    return run_mocked(province, "prod", program=program)


def _ssh_to_world() -> None:
    openstack.networking.SecGroupRule("sgr-bad-ssh", openstack.networking.SecGroupRuleArgs(
        security_group_id="secgroup/sg-bastion", direction="ingress", ethertype="IPv4", protocol="tcp",
        port_range_min=22, port_range_max=22, remote_ip_prefix="0.0.0.0/0", description="bad: ssh from anywhere"))


def _database_to_anyone() -> None:
    openstack.networking.SecGroupRule("sgr-bad-any", openstack.networking.SecGroupRuleArgs(
        security_group_id="secgroup/sg-portal-db", direction="ingress", ethertype="IPv4",
        description="bad: every protocol and port, no remote"))


def _ha_instance_without_group() -> None:
    openstack.compute.Instance("mail-03", openstack.compute.InstanceArgs(
        name="mail-03", flavor_name="egov.c4.r8", image_name="debian", tags=GOOD_TAGS,
        metadata={**GOOD_METADATA, "service": "mail"}))


def _ha_pair_in_an_affinity_group() -> None:
    group = openstack.compute.ServerGroup("sgrp-bad", openstack.compute.ServerGroupArgs(
        name="sgrp-bad", policies="affinity"))
    for index in (1, 2):
        openstack.compute.Instance(f"bad-ha-0{index}", openstack.compute.InstanceArgs(
            name=f"bad-ha-0{index}", flavor_name="egov.c2.r2", image_name="debian", tags=GOOD_TAGS,
            metadata={**GOOD_METADATA, "service": "bad_ha"},
            scheduler_hints=[openstack.compute.InstanceSchedulerHintArgs(group=group.id)]))


def _plain_volume() -> None:
    openstack.blockstorage.Volume("vol-bad-plain", openstack.blockstorage.VolumeArgs(
        name="vol-bad-plain", size=10, volume_type="standard", metadata=GOOD_METADATA))


def _huge_volume() -> None:
    openstack.blockstorage.Volume("vol-bad-huge", openstack.blockstorage.VolumeArgs(
        name="vol-bad-huge", size=10000, volume_type="encrypted-hdd", metadata=GOOD_METADATA))


def _badly_named_network() -> None:
    openstack.networking.Network("DMZ_Net", openstack.networking.NetworkArgs(name="DMZ_Net", tags=GOOD_TAGS))


def _unlabelled_volume() -> None:
    openstack.blockstorage.Volume("vol-bad-unlabelled", openstack.blockstorage.VolumeArgs(
        name="vol-bad-unlabelled", size=10, volume_type="encrypted-ssd", metadata={"purpose": "scratch"}))


def _public_bastion() -> None:
    openstack.networking.FloatingIp("fip-bad-bastion", openstack.networking.FloatingIpArgs(
        pool="provider-internet", port_id="port/port-bastion-01", description="bad: bastion on the internet",
        tags=GOOD_TAGS))


BAD_VARIANTS: dict[str, tuple[str, Callable[[], object], str]] = {
    "ssh-to-world": ("no-admin-ports-to-world", _ssh_to_world, "sgr-bad-ssh"),
    "database-to-anyone": ("no-admin-ports-to-world", _database_to_anyone, "sgr-bad-any"),
    "ha-without-group": ("anti-affinity-for-ha-pairs", _ha_instance_without_group, "mail-03"),
    "ha-affinity-group": ("anti-affinity-for-ha-pairs", _ha_pair_in_an_affinity_group, "sgrp-bad"),
    "plain-volume": ("encrypted-volume-types", _plain_volume, "vol-bad-plain"),
    "over-san": ("san-capacity", _huge_volume, ""),
    "bad-name": ("naming-convention", _badly_named_network, "DMZ_Net"),
    "unlabelled": ("required-metadata", _unlabelled_volume, "vol-bad-unlabelled"),
    "public-bastion": ("floating-ips-only-in-dmz", _public_bastion, "fip-bad-bastion"),
}


@pytest.mark.parametrize("variant", sorted(BAD_VARIANTS))
def test_a_deliberately_bad_resource_is_caught(variant: str, province: Province,
                                               prod_policy_config: dict[str, dict[str, Any]]) -> None:
    policy, spoil, culprit = BAD_VARIANTS[variant]
    violations = run_policies(_bad_variant(province, spoil), prod_policy_config)
    assert violations, f"{variant}: nothing caught"
    assert {v.policy for v in violations} == {policy}, violations
    assert culprit in {v.resource for v in violations}, violations


def test_each_policy_has_a_bad_variant() -> None:
    assert {policy for policy, _, _ in BAD_VARIANTS.values()} == {p.name for p in POLICIES}


def test_san_violation_reports_the_total(province: Province, prod: MockedStack,
                                         prod_policy_config: dict[str, dict[str, Any]]) -> None:
    violations = run_policies(_bad_variant(province, _huge_volume), prod_policy_config)
    total = prod.outputs["requested_storage_gb"] + 10000
    assert violations == [Violation("san-capacity", "", f"the stack requests {total} GB of volumes, "
                                    "more than the SAN's 24000 GB")]


def test_anti_affinity_at_preview_matches_groups_by_name(prod: MockedStack) -> None:
    """During a real preview the server-group ids are unknown: the policy must still decide."""
    from pulumi_policy import PolicyResource

    resources = []
    for r in prod.resources:
        props: dict[str, Any] = {**r.state}
        if r.type == "openstack:compute/instance:Instance" and "schedulerHints" in props:
            props["schedulerHints"] = [{"group": UNKNOWN_STRING_VALUE}]
        resources.append(PolicyResource(r.type, unknown_checking_proxy(props), r.urn, r.name, OPTIONS, None, None,
                                        [], {}))
    found: list[str] = []
    result = anti_affinity_for_ha_pairs.validate(StackValidationArgs(resources), lambda m, u=None: found.append(m))
    assert result is None and found == []
    without_groups = [r for r in resources if r.resource_type != "openstack:compute/serverGroup:ServerGroup"]
    anti_affinity_for_ha_pairs.validate(StackValidationArgs(without_groups), lambda m, u=None: found.append(m))
    assert len(found) == sum(1 for r in prod.resources if r.state.get("schedulerHints"))


def test_pulumi_runtime_is_left_clean_between_runs(province: Province) -> None:
    first = run_mocked(province, "staging")
    second = run_mocked(province, "staging")
    assert len(first.resources) == len(second.resources)
    assert pulumi.get_stack() == "staging"


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_policy_config_agrees_with_the_stack_config(stack: str, province: Province) -> None:
    """The pack cannot read stack config: its --policy-pack-config file must say the same."""
    from egov.cloud.stack_config import read_stack_config

    stack_config = read_stack_config(stack)
    policy_config = read_policy_config(stack)
    assert sorted(policy_config["encrypted-volume-types"]["encryptedTypes"]) == sorted(
        stack_config.get("volumeTypes").values())
    # a stack without sanCapacityTb takes the model's SAN (facts.baseline_2016.dc_san_tb)
    san_tb = stack_config.get("sanCapacityTb") or province.source.facts.baseline_2016.dc_san_tb
    assert policy_config["san-capacity"]["capacityGb"] == san_tb * 1000
    assert policy_config["required-metadata"]["environment"] == stack
