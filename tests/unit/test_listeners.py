"""Ports, service names and groups come from the model once (issue 11, section 1).

Every consumer — the host firewalls (generated inventory), the security groups (stacks), the
DC/site firewall policy (network) — derives from the model's listeners and flows; a change of one
listener's port changes all of them and nothing else.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
import yaml

from egov.cloud.paths import make_stacks_importable
from egov.model import Province, load_province
from egov.network.policy import dc_rules, site_rules
from egov.network.registry import policy_data as load_policy
from egov.service_vars import services_vars
from tests.conftest import model_problems

REPO = Path(__file__).resolve().parents[2]
make_stacks_importable()


@pytest.fixture(scope="module")
def province() -> Province:
    return load_province()


problems = model_problems


def test_a_flow_naming_ports_is_refused(model_copy: Path, edit_yaml: Any) -> None:
    edit_yaml(model_copy / "province.yml", lambda d: d["flows"][0].update(ports=["tcp/80"]))
    found = [p for p in problems(model_copy) if "flows[0]" in p and "names listeners, not ports" in p]
    assert found and found[0].startswith(f"{model_copy / 'province.yml'}:"), found


def test_unknown_listener_is_named_with_the_known_ones(model_copy: Path, edit_yaml: Any) -> None:
    index: list[int] = []

    def change(data: dict[str, Any]) -> None:
        index.append(next(i for i, f in enumerate(data["flows"]) if f["to"] == "mail" and "smtp" in f["listeners"]))
        data["flows"][index[0]]["listeners"] = ["smpt"]
    edit_yaml(model_copy / "province.yml", change)
    found = [p for p in problems(model_copy) if f"flows[{index[0]}].listeners[0]" in p]
    assert found and "no listener 'smpt'" in found[0] and "smtp" in found[0], found


def test_a_listener_no_flow_reaches_is_an_error(model_copy: Path, edit_yaml: Any) -> None:
    edit_yaml(model_copy / "province.yml",
              lambda d: d["services"]["monitoring"]["listeners"].update(grafana=["tcp/3000"]))
    found = [p for p in problems(model_copy) if "services.monitoring.listeners.grafana" in p]
    assert found and "no flow reaches listener 'grafana'" in found[0], found


def test_two_listeners_on_one_port_are_an_error(model_copy: Path, edit_yaml: Any) -> None:
    edit_yaml(model_copy / "province.yml",
              lambda d: d["services"]["mail"]["listeners"].update(webmail=["tcp/443"]))
    assert any("already the port of listener 'https'" in p for p in problems(model_copy))


def test_every_dc_host_takes_only_host_listeners(model_copy: Path, edit_yaml: Any) -> None:
    def change(data: dict[str, Any]) -> None:
        data["flows"].append({"from": ["management"], "to": "dc", "listeners": ["https"]})
    edit_yaml(model_copy / "province.yml", change)
    assert any("`to: dc` takes a listener of host_listeners" in p for p in problems(model_copy))


def _host_firewall(province: Province, group: str, name: str) -> list[dict[str, Any]]:
    return [e for e in services_vars(province)["host_firewall_services_by_group"][group] if e["name"] == name]


def _dc_ports(province: Province, comment: str) -> set[tuple[str, tuple[tuple[int, int], ...]]]:
    return {(r.proto, r.ports) for r in dc_rules(province, load_policy()) if r.comment == comment}


def test_one_port_changed_in_the_model_changes_every_consumer(model_copy: Path, edit_yaml: Any) -> None:
    """tcp/993 -> tcp/1993 for mail's imaps: the host firewall, the security groups, the DC and
    site firewall policy and the daemon port all follow; nothing else changes."""
    from province_cloud.flows import ingress_rules

    before = load_province(model_copy / "province.yml")
    edit_yaml(model_copy / "province.yml", lambda d: d["services"]["mail"]["listeners"].update(imaps=["tcp/1993"]))
    after = load_province(model_copy / "province.yml")

    assert _host_firewall(before, "mail", "mail-imaps")[0]["ports"] == [993]
    assert _host_firewall(after, "mail", "mail-imaps")[0]["ports"] == [1993]
    assert services_vars(after)["egov_service_ports"]["mail"]["imaps"] == 1993

    def sg(province: Province) -> set[str]:
        return {r.description for r in ingress_rules(province)}
    assert sg(before) - sg(after) == {"sites -> mail tcp/993", "service:mail -> mail tcp/993",
                                      "service:monitoring -> mail tcp/993"}
    assert sg(after) - sg(before) == {"sites -> mail tcp/1993", "service:mail -> mail tcp/1993",
                                      "service:monitoring -> mail tcp/1993"}

    def policy(province: Province) -> set[str]:
        site = province.sites[0]
        return {r.nft() for r in dc_rules(province, load_policy())} | {
            r.nft() for r in site_rules(province, site, load_policy())}
    changed_before, changed_after = policy(before) - policy(after), policy(after) - policy(before)
    assert changed_before and changed_after
    assert all("993" in rule for rule in changed_before) and all("1993" in rule for rule in changed_after)
    # nothing else: the other services' generated variables are unchanged
    vb, va = services_vars(before), services_vars(after)
    assert {g: e for g, e in vb["host_firewall_services_by_group"].items() if g != "mail"} == \
        {g: e for g, e in va["host_firewall_services_by_group"].items() if g != "mail"}


def test_host_firewall_opens_what_the_flows_admit(province: Province) -> None:
    by_group = services_vars(province)["host_firewall_services_by_group"]
    smtp = _host_firewall(province, "mail", "mail-smtp")
    assert smtp == [{"name": "mail-smtp", "proto": ["tcp"], "ports": [25], "any": True}]
    sessions = _host_firewall(province, "sso", "sso-sessions")[0]
    sso_hosts = sorted(f"{h.address}/32" for h in province.dc_hosts if h.service == "sso")
    assert sessions["ports"] == [6379] and sessions["sources"] == sso_hosts
    management = str(province.source.addressing.dc_segments["management"].prefix)
    for group, entries in by_group.items():
        ssh = [e for e in entries if e["name"] == "ssh"]
        assert ssh and ssh[0]["ports"] == [22], group
        mgmt = ipaddress.ip_network(management)
        assert any(mgmt.subnet_of(ipaddress.ip_network(s)) for s in ssh[0]["sources"]), group
        if group == "backup":       # borg over SSH from every DC host (flow dc -> backup ssh)
            assert ssh[0]["sources"] == [str(n) for n in ipaddress.collapse_addresses(
                s.prefix for s in province.source.addressing.dc_segments.values())], group
        elif group == "portal_web":     # uploads pushed between the web nodes (service:portal_web -> portal_web)
            webs = sorted(f"{h.address}/32" for h in province.dc_hosts if h.service == "portal_web")
            assert ssh[0]["sources"] == [management, *webs], group
        elif group != "bastion":
            assert ssh[0]["sources"] == [management], group
    site_management = {str(s.vlan("management").network) for s in province.sites}
    assert set(_host_firewall(province, "bastion", "ssh")[0]["sources"]) == {management} | site_management
    # the ports the hand-written file opened and no flow needs are closed
    monitoring = {p for e in by_group["monitoring"] for p in e["ports"]}
    assert monitoring == {22, 9100}     # 9100: every DC host's node exporter (host_listeners); UIs on loopback
    backup = {p for e in by_group["backup"] for p in e["ports"]}
    assert backup == {22, 9100}


def test_the_committed_inventories_carry_the_services(province: Province) -> None:
    generated = yaml.safe_load((REPO / "inventories" / "lab" / "group_vars" / "all" / "services.yml").read_text())
    assert generated == yaml.safe_load(yaml.safe_dump(services_vars(province)))
    assert not (REPO / "playbooks" / "group_vars" / "all" / "host_firewall.yml").exists(), \
        "the hand-written host firewall services came back"


def _reached_from(province: Province, site_index: int, vlan: str) -> set[str]:
    """The services a site VLAN may open, from the site firewall's generated rules."""
    site = province.sites[site_index]
    network = site.vlan(vlan).network
    return {r.comment.split(" -> ")[1] for r in site_rules(province, site, load_policy())
            if any(network.subnet_of(s) for s in r.saddr)}


def test_the_counter_vlan_reaches_only_its_own_flows(province: Province) -> None:
    """The one-stop-shop VLAN is isolated: the application, its SSO login and DNS, nothing of `sites`."""
    assert _reached_from(province, 0, "one_stop_shop") == {"oss_lb", "sso", "dns"}
    office = _reached_from(province, 0, "office")
    assert {"portal_lb", "mail", "oss_lb", "mirror"} <= office


def test_an_isolated_vlan_is_outside_sites(model_copy: Path, edit_yaml: Any) -> None:
    """Negative: without `isolated`, the counter VLAN gets every `sites` flow again (mail, portal, ...)."""
    def open_counters(doc: Any) -> None:
        doc["addressing"]["site_vlans"]["one_stop_shop"].pop("isolated")
    edit_yaml(model_copy / "province.yml", open_counters)
    reached = _reached_from(load_province(model_copy / "province.yml"), 0, "one_stop_shop")
    assert {"mail", "portal_lb", "mirror"} <= reached
