"""The province model built from the real data: counts, names, facts, plan consistency."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from egov.model import load_province
from tests.conftest import MODEL_DIR


@pytest.fixture(scope="module")
def province():
    return load_province(MODEL_DIR / "province.yml")


def test_counts_match_the_register(province) -> None:
    register = json.loads(next((MODEL_DIR / "admin-units").glob("*.json")).read_text(encoding="utf-8"))
    assert len(province.districts) == len(register["level2s"]) == 11
    assert len(province.communes) == sum(len(d["level3s"]) for d in register["level2s"]) == 109
    assert Counter(c.gso_type for c in province.communes) == {"Xã": 80, "Phường": 17, "Thị trấn": 12}


def test_sites_are_keyed_by_gso_code_with_names_kept(province) -> None:
    site = province.site("31729")
    assert site.name == "Xã Hòa Tú II"
    assert site.slug == "hoa-tu-2"
    assert site.kind == "commune" and site.district_code == "947"
    assert province.site("947").name == "Huyện Mỹ Xuyên"
    assert province.site("hoa-tu-2") is site


def test_departments_make_the_31_component_portals(province) -> None:
    assert len(province.departments) + len(province.districts) == 31
    assert sum(d.one_stop_shop for d in province.departments) == 16
    assert len({d.code for d in province.departments}) == len(province.departments)


def test_dc_catalogue_has_every_service_with_ha_pairs(province) -> None:
    services = set(province.services)
    assert {"mirror", "dns", "directory", "sso", "mail", "portal_web", "portal_db", "oss_app", "oss_db",
            "vc_mcu", "pki", "lgsp", "monitoring", "logs", "backup", "bastion"} <= services
    pairs = {h.ha_group for h in province.dc_hosts if h.ha_group}
    assert {"portal_web", "portal_db", "oss_app", "oss_db", "directory", "dns"} <= pairs
    for host in province.dc_hosts:
        size = province.services[host.service].size
        assert size.vcpu >= 1 and size.ram_gb >= 1 and size.disk_gb >= 1


def test_officials_cover_the_plans_mailboxes(province) -> None:
    assert province.total_officials >= province.source.facts.baseline_2016.mailboxes == 3445


def test_counts_without_names_stay_at_province_level(province) -> None:
    baseline = province.source.facts.baseline_2016
    assert baseline.communes_with_lan == 80
    assert not hasattr(province.communes[0], "has_lan")
    assert province.site("31729").rollout["video_conference"] == 2018


def test_every_hostname_is_unique_and_valid(province) -> None:
    names = province.linux_hosts()
    assert len(names) == len(set(names)) == 1 + 29 + 120
    assert all(len(n) <= 63 and n == n.lower() for n in names)
