"""Offline: inventory derivation, rendering and the diff engines."""

from __future__ import annotations

import ipaddress

from conftest import context
from egov.network import inventory, iosdiff, nftdiff


def test_inventory_covers_every_site(province):
    devices = inventory.derive(province)
    names = {d.name for d in devices}
    for site in province.sites:
        assert site.switch_name in names and site.firewall_name in names
    assert province.dc_firewall.name in names
    assert len(devices) == 2 * len(province.sites) + 1 + province.source.devices.dc_core_switches
    assert {d.platform for d in devices} == {province.source.devices.switch_platform,
                                             province.source.devices.firewall_platform}


def test_select(province):
    devices = inventory.derive(province)
    site = province.site("942")
    chosen = inventory.select(devices, ["site:942", "dc"])
    assert {d.name for d in chosen} >= {site.switch_name, site.firewall_name, "dc-fw-01"}
    assert all(d.site is None or d.site.code == "942" for d in chosen)


def test_hosts_from_restricts_selection(province, tmp_path):
    nodes = tmp_path / "nodes.json"
    nodes.write_text('{"dc-fw-01": {"kind": "container"}, "fw-chau-thanh": {}, "pc-chau-thanh": {}}')
    up = inventory.restrict(inventory.derive(province), nodes)
    assert {d.name for d in inventory.select(up, ["kind:firewall"])} == {"dc-fw-01", "fw-chau-thanh"}
    lines = tmp_path / "up-hosts"
    lines.write_text("dc-fw-01\nsw-chau-thanh\n")
    assert {d.name for d in inventory.restrict(inventory.derive(province), lines)} == {"dc-fw-01", "sw-chau-thanh"}


def test_env_flows_only_in_their_environment(province, creds):
    dc_fw = next(d for d in inventory.derive(province) if d.name == "dc-fw-01")
    lab = context(province, creds, env="lab").renderer.render(dc_fw).text
    prod = context(province, creds).renderer.render(dc_fw).text
    gateway = f"ip daddr {province.lab_gateway} tcp dport 3142 accept"
    assert gateway in lab and gateway not in prod
    # the DC hosts are managed by the model's `to: dc` ssh flow, the same in both environments
    assert '"management -> mail"' in lab and '"management -> mail"' in prod
    assert '"management of the DC hosts"' not in lab


def test_switch_render_has_site_vlans_and_services(province, creds):
    ctx = context(province, creds)
    site = province.site("31570")
    device = next(d for d in inventory.derive(province) if d.name == site.switch_name)
    text = ctx.renderer.render(device).text
    for vlan in site.vlans:
        assert f"vlan {vlan.vlan}\n name {vlan.name}" in text
    logs = next(h for h in province.dc_hosts if h.service == "logs")
    assert f"logging host {logs.address}" in text
    assert "transport input ssh" in text and "snmp-server group" in text
    assert creds.switch.password not in text          # only the scrypt hash
    assert text.isascii()


def test_site_firewall_policy_follows_flow_matrix(province, creds):
    ctx = context(province, creds)
    site = province.site("942")
    device = next(d for d in inventory.derive(province) if d.name == site.firewall_name)
    text = ctx.renderer.render(device).text
    vc = site.vlan("video_conference").network
    mcu = next(h for h in province.dc_hosts if h.service == "vc_mcu")
    assert f'ip saddr {vc} ip daddr {mcu.address} udp dport {{ 3478, 5060, 20000-20499, 49152-49251 }} accept' in text
    assert "policy drop;" in text and "log prefix" in text
    portal_db = [h.address for h in province.dc_hosts if h.service == "portal_db"]
    assert not any(str(a) in text for a in portal_db)   # no site may reach the portal database


def test_nft_normalize_ignores_order_handles_and_tabs():
    a = 'table inet egov_policy {\n\tchain c {\n\t\tiifname { "b", "a" } accept # handle 4\n\t}\n}\n'
    b = 'table inet egov_policy {\n  chain c {\n    iifname { "a", "b" } accept\n  }\n}\n'
    assert nftdiff.diff(a, b) == []
    assert nftdiff.diff(a, b.replace('"a"', '"c"')) != []


def test_ios_remediation_is_minimal():
    intended = "hostname s\nvlan 10\n name office\n!\ninterface Fa0/1\n switchport access vlan 10\n description x\n"
    running = "hostname s\nvlan 10\n name office\n!\nvlan 77\n name old\n!\ninterface Fa0/1\n description y\n"
    cmds = iosdiff.remediation(intended, running)
    assert cmds == ["interface Fa0/1", " switchport access vlan 10", " description x", "exit", "no vlan 77"]
    assert iosdiff.remediation(intended, intended) == []


def test_address_formatting_matches_nft():
    from egov.network.policy import nft_addresses
    nets = (ipaddress.ip_network("10.0.0.0/25"), ipaddress.ip_network("10.0.0.128/27"))
    assert nft_addresses(nets) == "10.0.0.0-10.0.0.159"
    assert nft_addresses((ipaddress.ip_network("10.0.0.4/32"),)) == "10.0.0.4"
