"""The IP/VLAN plan: no overlaps, inside the supernet, stable when a site is added."""

from __future__ import annotations

import itertools

import pytest

from egov.model import load_province, render_allocations
from egov.model.ipplan import site_block
from tests.conftest import MODEL_DIR


@pytest.fixture(scope="module")
def province():
    return load_province(MODEL_DIR / "province.yml")


def test_site_subnets_never_overlap(province) -> None:
    nets = [v.network for s in province.sites for v in s.vlans]
    assert len(nets) == 120 * 5
    nets.sort()
    for a, b in itertools.pairwise(nets):
        assert not a.overlaps(b), (a, b)


def test_everything_inside_the_supernet_and_disjoint(province) -> None:
    adr = province.source.addressing
    blocks = [seg.prefix for seg in adr.dc_segments.values()] + [adr.wan.prefix] + [s.block for s in province.sites]
    for net in blocks:
        assert net.subnet_of(adr.supernet)
    for a, b in itertools.combinations(blocks, 2):
        assert not a.overlaps(b), (a, b)


def test_every_site_has_the_five_vlans(province) -> None:
    for site in province.sites:
        assert {v.name for v in site.vlans} == {"office", "one_stop_shop", "video_conference", "management", "guest"}
        assert len({v.vlan for v in site.vlans}) == 5
        for vlan in site.vlans:
            assert vlan.network.subnet_of(site.block)
            assert vlan.gateway in vlan.network


def test_addresses_are_unique(province) -> None:
    addresses = [h.address for h in province.dc_hosts] + [s.wan_address for s in province.sites]
    addresses.append(province.dc_firewall.wan_address)
    assert len(addresses) == len(set(addresses))
    for host in province.dc_hosts:
        assert host.address in host.network and host.gateway in host.network


def test_plan_is_deterministic(province) -> None:
    again = load_province(MODEL_DIR / "province.yml")
    assert [(s.code, s.block, s.wan_address) for s in again.sites] == [
        (s.code, s.block, s.wan_address) for s in province.sites]
    assert render_allocations(again) == (MODEL_DIR / "allocations.yml").read_text()


def test_adding_a_commune_never_renumbers_an_existing_site(model_copy, edit_gso) -> None:
    before = load_province(model_copy / "province.yml")
    old = {s.code: (s.block, s.wan_address, tuple(v.network for v in s.vlans)) for s in before.sites}
    old_hosts = {h.name: h.address for h in before.dc_hosts}
    # a new commune whose code sorts in the middle of the register, in the first district
    edit_gso(model_copy, lambda d: d["level2s"][0]["level3s"].insert(0, {
        "level3_id": "31499", "name": "Xã Mới Thành Lập", "type": "Xã"}))
    after = load_province(model_copy / "province.yml")
    assert len(after.communes) == 110
    for site in after.sites:
        if site.code in old:
            assert (site.block, site.wan_address, tuple(v.network for v in site.vlans)) == old[site.code]
    new = after.site("31499")
    assert new.slot == max(s.slot for s in before.sites) + 1
    assert new.block not in {blk for blk, _, _ in old.values()}
    assert {h.name: h.address for h in after.dc_hosts} == old_hosts


def test_adding_a_dc_host_never_renumbers_others(model_copy, edit_yaml) -> None:
    before = {h.name: h.address for h in load_province(model_copy / "province.yml").dc_hosts}
    edit_yaml(model_copy / "province.yml", lambda d: d["services"]["sso"].update(hosts=3))
    after = {h.name: h.address for h in load_province(model_copy / "province.yml").dc_hosts}
    assert all(after[name] == address for name, address in before.items())
    assert after["sso-03"] not in before.values()


def test_slot_out_of_range_is_refused(province) -> None:
    with pytest.raises(ValueError, match="outside"):
        site_block(province.source.addressing, 100000)
