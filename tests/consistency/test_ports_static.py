"""The cloud security groups and the DC/site firewall policy admit exactly what the flow matrix
says, toward every DC host, in both directions (issue 11, section 1). The stacks run under
Pulumi's mocks (no engine or OpenStack API here); the device policy is rendered from the model.
The lab half (daemons' sockets and the host firewalls' live rules) is test_ports_lab.py.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from egov.cloud.mocked_run import MockedStack, run_mocked
from egov.cloud.paths import make_stacks_importable
from egov.model import DcHost, Province, load_province
from egov.network.policy import dc_rules, site_rules
from egov.network.registry import policy_data
from tests.conftest import model_problem
from tests.consistency import matrix

make_stacks_importable()
RULE = "openstack:networking/secGroupRule:SecGroupRule"
ADDRESS_GROUP = "openstack:networking/addressGroupV2:AddressGroupV2"
PORT = "openstack:networking/port:Port"


@pytest.fixture(scope="module")
def province() -> Province:
    return load_province()


@pytest.fixture(scope="module")
def prod(province: Province) -> MockedStack:
    return run_mocked(province, "prod")


def _sg_inputs(stack: MockedStack) -> tuple[list[dict[str, Any]], dict[str, list[str]], dict[str, list[str]]]:
    rules = [r.state for r in stack.of_type(RULE)]
    groups = {f"addressgroupv2/{r.name}": list(r.state["addresses"]) for r in stack.of_type(ADDRESS_GROUP)}
    members: dict[str, list[str]] = defaultdict(list)
    for port in stack.of_type(PORT):
        for group in port.state.get("securityGroupIds", []):
            members[group] += port.state.get("allFixedIps", [])
    return rules, groups, members


def _sg_id(host: DcHost) -> str:
    return f"secgroup/sg-{host.service.replace('_', '-')}"


def sg_differences(province: Province, rules: list[dict[str, Any]], groups: dict[str, list[str]],
                   members: dict[str, list[str]], host: DcHost) -> list[str]:
    got = matrix.security_group(rules, _sg_id(host), groups, members)
    return matrix.differences("security_group", matrix.expected(province, host, "security_group"), got)


def test_security_groups_match_the_flow_matrix(province: Province, prod: MockedStack) -> None:
    rules, groups, members = _sg_inputs(prod)
    problems = [f"{h.name}: {p}" for h in province.cloud_hosts
                for p in sg_differences(province, rules, groups, members, h)]
    assert not problems, "\n".join(problems)


def test_a_lab_stand_in_has_no_security_group(province: Province, prod: MockedStack) -> None:
    """A lab stand-in (portal-lb-01 for the Octavia balancer) is not a cloud instance: the prod
    stack gives it no rule at all."""
    rules, _, _ = _sg_inputs(prod)
    stand_ins = [h for h in province.dc_hosts if h.service in province.lab_stand_ins]
    assert stand_ins, "the model names no lab stand-in"
    for host in stand_ins:
        assert not [r for r in rules if r["securityGroupId"] == _sg_id(host)], host.name


def test_a_security_group_drift_is_caught(province: Province, prod: MockedStack) -> None:
    """The test of the test: a rule too many and a rule too few, each named."""
    rules, groups, members = _sg_inputs(prod)
    mail = next(h for h in province.dc_hosts if h.service == "mail")
    extra = {"securityGroupId": _sg_id(mail), "protocol": "tcp", "portRangeMin": 143.0, "portRangeMax": 143.0,
             "remoteIpPrefix": "10.94.0.0/15", "direction": "ingress", "description": "hand-made"}
    fewer = [r for r in rules if r["description"] != "sites -> mail tcp/993"]
    assert len(fewer) == len(rules) - 1
    problems = sg_differences(province, [*fewer, extra], groups, members, mail)
    assert any("tcp/143 is admitted" in p and "no flow needs it" in p for p in problems), problems
    assert any("tcp/993" in p for p in problems), problems


def policy_differences(province: Province, host: DcHost, dc: list[Any], sites: dict[str, list[Any]]) -> list[str]:
    supernet = province.source.addressing.supernet
    out = matrix.differences("dc_firewall", matrix.expected(province, host, "dc_firewall"),
                             matrix.device_policy(dc, host, supernet))
    for site in province.sites:
        want = matrix.expected(province, host, "site_firewall", site)
        got = matrix.device_policy(sites[site.code], host, supernet)
        out += [f"{site.firewall_name}: {p}" for p in matrix.differences("site_firewall", want, got)]
    return out


@pytest.fixture(scope="module")
def rendered(province: Province) -> tuple[list[Any], dict[str, list[Any]]]:
    policy = policy_data()
    return dc_rules(province, policy), {s.code: site_rules(province, s, policy) for s in province.sites}


def test_device_policy_matches_the_flow_matrix(province: Province, rendered: Any) -> None:
    dc, sites = rendered
    problems = [f"{h.name}: {p}" for h in province.dc_hosts for p in policy_differences(province, h, dc, sites)]
    assert not problems, "\n".join(problems[:40])


def test_a_device_policy_drift_is_caught(province: Province, rendered: Any) -> None:
    dc, sites = rendered
    dns = next(h for h in province.dc_hosts if h.service == "dns")
    # the DC firewall loses udp/123 toward the DNS hosts, and one site firewall gains tcp/22 toward them
    trimmed = [dataclasses.replace(r, ports=tuple(p for p in r.ports if not (r.proto == "udp" and p == (123, 123))))
               for r in dc]
    site = province.sites[0]
    extra = dataclasses.replace(sites[site.code][0], proto="tcp", ports=((22, 22),),
                                daddr=(matrix._host_net(dns.address),))
    problems = policy_differences(province, dns, trimmed, {**sites, site.code: [*sites[site.code], extra]})
    assert any(p.startswith("dc_firewall: udp/123") for p in problems), problems
    assert any(site.firewall_name in p and "tcp/22 is admitted" in p for p in problems), problems


def test_an_on_demand_listener_need_not_listen_but_others_must(province: Province) -> None:
    """Galera's IST/SST receivers open only during a state transfer: not flagged when closed; the
    member's other listeners still are, and a socket the model does not know is still flagged."""
    db = next(h for h in province.dc_hosts if h.service == "portal_db")
    want, on_demand = matrix.expected_listeners(province, db), matrix.on_demand_ports(province, db)
    assert on_demand == {("tcp", 4444, 4444), ("tcp", 4568, 4568)}
    assert not matrix.listener_differences(want, {("tcp", 22), ("tcp", 3306), ("tcp", 4567), ("tcp", 9100)},
                                           on_demand)
    problems = matrix.listener_differences(want, {("tcp", 22), ("tcp", 4567), ("tcp", 9100), ("tcp", 8080)},
                                           on_demand)
    assert problems == ["listening: tcp/3306 is in the model but nothing listens",
                        "listening: tcp/8080 is open but the model has no listener for it"], problems


def test_an_on_demand_listener_must_be_a_listener(model_copy: Path, edit_yaml: Any) -> None:
    edit_yaml(model_copy / "province.yml",
              lambda d: d["services"]["portal_db"].__setitem__("on_demand_listeners", ["galera-xyz"]))
    assert "on_demand_listeners ['galera-xyz'] are not listeners" in model_problem(model_copy, "portal_db")
