"""The Pulumi program under mocks: resource properties, counts and outputs against the province model."""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from egov.cloud.mocked_run import MockedStack, run_mocked
from egov.cloud.paths import STACKS_DIR
from egov.model import Province
from province_cloud import exposure, sizing
from province_cloud.flows import address_groups, rule_source
from province_cloud.settings import SettingsError

INSTANCE = "openstack:compute/instance:Instance"
SERVER_GROUP = "openstack:compute/serverGroup:ServerGroup"
VOLUME = "openstack:blockstorage/volume:Volume"
PORT = "openstack:networking/port:Port"
SUBNET = "openstack:networking/subnet:Subnet"
RULE = "openstack:networking/secGroupRule:SecGroupRule"
FLOATING_IP = "openstack:networking/floatingIp:FloatingIp"
MEMBER = "openstack:loadbalancer/member:Member"


def test_one_instance_per_dc_host_named_by_hostname(prod: MockedStack, province: Province) -> None:
    instances = {r.name: r for r in prod.of_type(INSTANCE)}
    assert sorted(instances) == sorted(h.name for h in province.cloud_hosts)
    for host in province.cloud_hosts:
        state = instances[host.name].state
        assert state["name"] == host.name
        assert state["accessIpV4"] == str(host.address)
        assert state["keyPair"] == "kp-prod-ops"
        assert state["imageName"] == "debian-12-genericcloud-amd64-20250210"


def test_flavors_come_from_stack_config(prod: MockedStack, staging: MockedStack) -> None:
    assert prod.named("mail-01").state["flavorName"] == "egov.c4.r8"
    assert prod.named("vc-mcu-01").state["flavorName"] == "egov.c8.r16"
    assert staging.named("mail-01").state["flavorName"] == "m1.medium"


def test_ownership_metadata_matches_the_model(prod: MockedStack, province: Province) -> None:
    for host in province.cloud_hosts:
        service = province.source.services[host.service]
        meta = prod.named(host.name).state["metadata"]
        assert meta["owner"] == service.owner
        assert meta["security_level"] == str(service.security_level)
        assert meta["service"] == host.service
        assert meta["environment"] == "prod"
    assert "owner=vpubnd" in prod.named("portal-db-01").state["tags"]
    assert "security-level=4" in prod.named("port-pki-01").state["tags"]


def test_networks_and_subnets_follow_the_ip_plan(prod: MockedStack, province: Province) -> None:
    subnets = {r.name: r.state for r in prod.of_type(SUBNET)}
    assert sorted(subnets) == sorted(f"subnet-{s}" for s in province.source.addressing.dc_segments)
    for segment, spec in province.source.addressing.dc_segments.items():
        state = subnets[f"subnet-{segment}"]
        assert state["cidr"] == str(spec.prefix)
        assert state["gatewayIp"] == str(spec.prefix.network_address + 1)
        pool = state["allocationPools"][0]
        hosts = [h.address for h in province.cloud_hosts if h.segment == segment]
        assert all(h < ipaddress.IPv4Address(pool["start"]) for h in hosts), "a model host is in Neutron's pool"
    assert prod.named("rtr-dc").state["externalNetworkId"] == "external-network-id"


def test_ports_carry_the_model_addresses_and_one_security_group(prod: MockedStack, province: Province) -> None:
    for host in province.cloud_hosts:
        port = prod.named(f"port-{host.name}").state
        assert port["fixedIps"][0]["ipAddress"] == str(host.address)
        assert port["networkId"] == f"network/net-{host.segment}"
        assert port["securityGroupIds"] == [f"secgroup/sg-{host.service.replace('_', '-')}"]


def test_every_ha_pair_has_an_anti_affinity_group(prod: MockedStack, province: Province) -> None:
    ha_groups = {h.ha_group for h in province.cloud_hosts if h.ha_group}
    groups = {r.name: r.state for r in prod.of_type(SERVER_GROUP)}
    assert sorted(groups) == sorted(f"sgrp-{g.replace('_', '-')}" for g in ha_groups)
    assert {g["policies"] for g in groups.values()} == {"anti-affinity"}
    for host in province.cloud_hosts:
        hints = prod.named(host.name).state.get("schedulerHints")
        if host.ha_group:
            assert hints == [{"group": f"servergroup/sgrp-{host.ha_group.replace('_', '-')}"}]
        else:
            assert not hints


def test_mail_storage_is_mailboxes_times_quota(prod: MockedStack, province: Province) -> None:
    quota = province.source.services["mail"].mailbox_quota_gb
    assert quota is not None
    expected = math.ceil(max(province.total_officials, province.source.facts.baseline_2016.mailboxes) * quota)
    for host in ("mail-01", "mail-02"):
        store = prod.named(f"vol-{host}-mailstore").state
        assert store["size"] == expected
        assert store["volumeType"] == "encrypted-hdd"
    assert prod.named("vol-portal-db-01-data").state["size"] == 200
    assert prod.named("vol-portal-db-01-data").state["volumeType"] == "encrypted-ssd"


def test_volume_totals_fit_the_san_and_staging_is_scaled(prod: MockedStack, staging: MockedStack,
                                                         province: Province) -> None:
    prod_total = sum(r.state["size"] for r in prod.of_type(VOLUME))
    staging_total = sum(r.state["size"] for r in staging.of_type(VOLUME))
    assert prod_total == prod.outputs["requested_storage_gb"]
    assert prod_total <= province.source.facts.baseline_2016.dc_san_tb * 1000
    assert staging_total < prod_total / 10
    assert len(prod.of_type(VOLUME)) == len(staging.of_type(VOLUME)) == len(province.cloud_hosts) + 2


def test_security_group_rules_cover_the_flow_matrix_and_nothing_else(prod: MockedStack, province: Province) -> None:
    rules = {(r.state["securityGroupId"], r.state["protocol"], int(r.state["portRangeMin"]), r.state["description"])
             for r in prod.of_type(RULE)}
    stand_ins = province.lab_stand_ins
    for flow in province.source.flows:
        if flow.to in stand_ins:
            continue
        for source in flow.from_:
            if source.removeprefix("service:") in stand_ins:
                continue
            for port in flow.ports:
                proto, _, numbers = port.partition("/")
                key = (f"secgroup/sg-{flow.to.replace('_', '-')}", proto, int(numbers.split("-")[0]),
                       f"{source} -> {flow.to} {port}")
                assert key in rules, key
    labels = {r.state["description"].split(" -> ")[0] for r in prod.of_type(RULE)}
    flow_sources = {s for f in province.source.flows for s in f.from_}
    assert labels - flow_sources == {"lb:portal", "lb:webmail", "lb:oss"}
    assert stand_ins == {"portal_lb", "oss_lb"}
    for stand_in in stand_ins:
        group = f"secgroup/sg-{stand_in.replace('_', '-')}"
        assert not any(stand_in in r.state["description"] or r.state["securityGroupId"] == group
                       for r in prod.of_type(RULE)), f"the lab's stand-in balancer {stand_in} has no rules in the cloud"


def test_ssh_from_management_everywhere_and_from_site_management_only_to_the_bastion(
        prod: MockedStack, province: Province) -> None:
    ssh = [r.state for r in prod.of_type(RULE) if r.state["portRangeMin"] == 22]
    management = str(province.source.addressing.dc_segments["management"].prefix)
    by_group: dict[str, set[str]] = {}
    for rule in ssh:
        source = rule.get("remoteIpPrefix") or rule.get("remoteAddressGroupId") or rule.get("remoteGroupId")
        by_group.setdefault(rule["securityGroupId"], set()).add(source)
    assert set(by_group) == {f"secgroup/sg-{name.replace('_', '-')}" for name in province.cloud_services}
    for service in province.cloud_services:
        group = f"secgroup/sg-{service.replace('_', '-')}"
        expected = set()
        for flow in province.source.flows:
            if flow.to == service and "ssh" in flow.listeners:
                for source in flow.from_:
                    rule = rule_source(province, source)
                    expected.add(rule.value if rule.kind == "cidr" else
                                 f"secgroup/sg-{rule.value.replace('_', '-')}" if rule.kind == "security_group"
                                 else f"addressgroupv2/ag-{rule.value}")
        assert management in expected, service     # the model's management SSH reaches every DC host
        assert by_group[group] == expected, group
    assert by_group["secgroup/sg-bastion"] == {management, "addressgroupv2/ag-site-management"}
    # the web pair pushes uploads to each other (flow service:portal_web -> portal_web ssh): its own group
    assert by_group["secgroup/sg-portal-web"] == {management, "secgroup/sg-portal-web"}
    assert all(s.get("remoteIpPrefix") != "0.0.0.0/0" for s in ssh)


def test_address_groups_hold_every_site(prod: MockedStack, province: Province) -> None:
    groups = address_groups(province)
    assert len(groups["sites"]) == len(province.sites) == 120
    assert len(groups["site-management"]) == len(province.sites)
    assert prod.named("ag-sites").state["addresses"] == groups["sites"]
    assert rule_source(province, "service:portal_web").kind == "security_group"


def test_floating_ips_only_for_internet_facing_dmz_services(prod: MockedStack, province: Province) -> None:
    fips = {r.name: r.state for r in prod.of_type(FLOATING_IP)}
    host_fips = {name.removeprefix("fip-") for name in fips} - {"lb-portal", "lb-oss"}
    assert host_fips == set(exposure.hosts_with_floating_ip(province))
    assert {province.source.services[h.rsplit("-", 1)[0].replace("-", "_")].segment for h in host_fips} == {"dmz"}
    assert "fip-lb-portal" in fips and "fip-lb-webmail" not in fips
    assert not any(name.startswith("fip-portal-web") for name in fips), "the portal is published by its LB only"
    assert prod.outputs["load_balancers"]["portal"]["floating_ip"] == fips["fip-lb-portal"]["address"]
    assert "fip-lb-oss" in fips and not any(name.startswith("fip-oss-app") for name in fips), \
        "the one-stop-shop is published by its LB only"
    assert prod.outputs["load_balancers"]["oss"]["floating_ip"] == fips["fip-lb-oss"]["address"]


def test_load_balancers_for_portal_webmail_and_oss(prod: MockedStack, province: Province) -> None:
    members = sorted((r.state["address"], int(r.state["protocolPort"])) for r in prod.of_type(MEMBER))
    assert members == [("10.94.1.13", 443), ("10.94.1.14", 443), ("10.94.1.15", 80), ("10.94.1.15", 443),
                       ("10.94.1.16", 80), ("10.94.1.16", 443), ("10.94.1.17", 443), ("10.94.1.18", 443)]
    assert {r.name for r in prod.of_type(MEMBER) if r.name.startswith("mbr-oss-")} == {
        f"mbr-oss-443-{h.name}" for h in province.dc_hosts if h.service == "oss_app"}
    webmail = prod.named("lsn-webmail-443").state
    # the sites, and each host of a service the model lets probe it (the monitoring's blackbox), as /32
    probes = {f"{h.address}/32" for flow in province.source.flows if flow.to == "mail" and "https" in flow.listeners
              for src in flow.from_ if src.startswith("service:")
              for h in province.cloud_hosts if h.service == src.split(":", 1)[1]}
    assert set(webmail["allowedCidrs"]) == {str(site.block) for site in province.sites} | probes, \
        "webmail is for the sites (and the probes the model names) only"
    assert "allowedCidrs" not in prod.named("lsn-portal-443").state
    assert "allowedCidrs" not in prod.named("lsn-oss-443").state, "citizens file dossiers from anywhere"
    assert not any(r.name == "lsn-oss-80" for r in prod.resources), "production's oss balancer is https only"


@pytest.mark.parametrize(("balancer", "service"), [("portal", "portal_lb"), ("oss", "oss_lb")])
def test_a_vip_takes_the_address_of_its_lab_stand_in(prod: MockedStack, province: Province, balancer: str,
                                                     service: str) -> None:
    stand_in = next(h for h in province.dc_hosts if h.service == service)
    assert prod.named(f"lb-{balancer}").inputs["vipAddress"] == str(stand_in.address)
    assert prod.outputs["load_balancers"][balancer]["vip_address"] == str(stand_in.address)
    assert "vipAddress" not in prod.named("lb-webmail").inputs
    names = {r.name for r in prod.resources}
    assert not any(stand_in.name in name for name in names), "no instance, port or volume for the stand-in"


@pytest.mark.parametrize(("stand_in", "change", "problem"), [
    ("portal_lb", {"hosts": 2}, "must be one host in the segment of the VIP"),
    ("portal_lb", {"segment": "services"}, "must be one host in the segment of the VIP"),
    ("portal_lb", {"listeners": {"https": ["tcp/443"]}}, "does not listen on ['tcp/80']"),
    ("portal_lb", {"lab_stand_in": None}, "is no service with `lab_stand_in`"),
    ("oss_lb", {"hosts": 2}, "'oss': its stand-in 'oss_lb' must be one host in the segment of the VIP"),
    ("oss_lb", {"listeners": {"http": ["tcp/80"]}}, "'oss': its stand-in 'oss_lb' does not listen on ['tcp/443']"),
    ("oss_lb", {"lab_stand_in": None}, "'oss': 'oss_lb' is no service with `lab_stand_in`"),
])
def test_a_balancer_stand_in_must_match_its_balancer(province: Province, stand_in: str, change: dict[str, Any],
                                                     problem: str) -> None:
    services = dict(province.source.services)
    services[stand_in] = services[stand_in].model_copy(update=change)
    spoiled = dataclasses.replace(province, source=province.source.model_copy(update={"services": services}))
    with pytest.raises(ValueError, match=re.escape(problem)):
        exposure.check_load_balancers(spoiled)


def test_backup_containers_and_keypair(prod: MockedStack, province: Province) -> None:
    assert prod.outputs["backup_containers"] == sorted(f"backup-{s.replace('_', '-')}"
                                                       for s in province.cloud_services)
    assert prod.named("backup-mail").state["versioning"] is True
    assert prod.named("kp-prod-ops").state["publicKey"].startswith("ssh-ed25519 ")


def test_outputs_name_every_host_at_its_model_address(prod: MockedStack, province: Province) -> None:
    hosts = prod.outputs["hosts"]
    assert {name: entry["address"] for name, entry in hosts.items()} == {h.name: str(h.address)
                                                                         for h in province.cloud_hosts}
    assert hosts["sso-01"]["floating_ip"].startswith("203.0.113.")
    assert hosts["bastion-01"]["floating_ip"] is None


def test_database_passwords_are_generated_secrets(prod: MockedStack) -> None:
    assert "database_admin_passwords" in prod.secret_outputs
    assert sorted(prod.outputs["database_admin_passwords"]) == ["oss_db", "portal_db"]
    assert {"hosts", "load_balancers"}.isdisjoint(prod.secret_outputs)


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_stack_files_hold_no_plain_secrets(stack: str) -> None:
    config = yaml.safe_load((STACKS_DIR / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))["config"]
    risky = ("password", "secret", "token", "credential", "privatekey")
    for key, value in config.items():
        if any(word in key.lower().replace("_", "") for word in risky):
            assert isinstance(value, dict) and set(value) == {"secure"}, f"{key} is in plain text"
    assert not any(Path(STACKS_DIR).glob("Pulumi.*.secret*"))


def test_missing_flavor_is_reported_by_key(province: Province) -> None:
    with pytest.raises(SettingsError, match=r"'flavors' has no entry '2c4g' \(needed by service 'mirror'\)"):
        run_mocked(province, "staging", overrides={"flavors": {"2c2g": "m1.small"}})


def test_san_smaller_than_the_volumes_stops_the_program(province: Province) -> None:
    needed = sizing.total_gb(sizing.all_volumes(province, 100, 500))
    with pytest.raises(ValueError, match=f"need {needed} GB, more than the SAN's 10000 GB"):
        run_mocked(province, "prod", overrides={"sanCapacityTb": 10})
