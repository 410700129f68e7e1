"""Inventories generated from the model: groups, lab vs production, staleness, another province."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from egov.inventory import render_files, stale_files, write_inventories
from egov.model import load_province
from tests.conftest import MODEL_DIR, REPO


@pytest.fixture(scope="module")
def province():
    return load_province(MODEL_DIR / "province.yml")


def test_committed_inventories_are_not_stale(province) -> None:
    assert stale_files(province, REPO / "inventories") == [], "run `egov inventory generate` and commit"


def test_a_model_change_makes_them_stale(model_copy, edit_yaml, tmp_path) -> None:
    write_inventories(load_province(model_copy / "province.yml"), tmp_path / "inv")
    edit_yaml(model_copy / "province.yml", lambda d: d["services"]["mail"].update(hosts=3))
    stale = stale_files(load_province(model_copy / "province.yml"), tmp_path / "inv")
    assert any(path.endswith("hosts.yml") for path in stale)


def test_lab_and_production_differ_only_in_connection(province) -> None:
    lab, prod = render_files(province, "lab"), render_files(province, "production")
    assert lab["hosts.yml"] == prod["hosts.yml"]
    assert lab["group_vars/all/province.yml"] == prod["group_vars/all/province.yml"]
    assert lab["group_vars/all/connection.yml"] != prod["group_vars/all/connection.yml"]
    with pytest.raises(ValueError, match="unknown environment"):
        render_files(province, "staging")


def ansible_inventory(env: str) -> dict:
    if shutil.which("ansible-inventory") is None:
        pytest.skip("ansible-inventory is not installed")
    out = subprocess.run(["ansible-inventory", "-i", str(REPO / "inventories" / env), "--list"],
                         capture_output=True, text=True, check=True, cwd=REPO).stdout
    return json.loads(out)


@pytest.mark.parametrize("env", ["lab", "production"])
def test_ansible_sees_the_province(province, env) -> None:
    inv = ansible_inventory(env)
    hostvars = inv["_meta"]["hostvars"]
    assert len(hostvars) == 150
    assert inv["mail"]["hosts"] == ["mail-01", "mail-02"]
    assert len(inv["commune_firewalls"]["hosts"]) == 109
    assert len(inv["district_firewalls"]["hosts"]) == 11
    assert "fw-hoa-tu-2" in inv["district_my_xuyen"]["hosts"]
    assert hostvars["fw-hoa-tu-2"]["site_name"] == "Xã Hòa Tú II"
    assert hostvars["fw-hoa-tu-2"]["ansible_host"] == str(province.site("31729").wan_address)
    assert hostvars["mail-01"]["dc_segment"] == "dmz"
    assert set(inv["type_phuong"]["hosts"]) == {s.firewall_name for s in province.communes if s.gso_type == "Phường"}


def test_graph_shows_the_province() -> None:
    if shutil.which("ansible-inventory") is None:
        pytest.skip("ansible-inventory is not installed")
    graph = subprocess.run(["ansible-inventory", "-i", "inventories/lab", "--graph"], capture_output=True,
                           text=True, check=True, cwd=REPO).stdout
    for needle in ("@dc_servers", "@district_soc_trang", "fw-phuong-1-vinh-chau", "dc-fw-01", "@portal_web"):
        assert needle in graph


def test_another_province_loads_with_data_changes_only(tmp_path) -> None:
    """A made-up province in the same GSO format: only data files change, no code."""
    model_dir = tmp_path / "model"
    (model_dir / "admin-units").mkdir(parents=True)
    register = {"level1_id": "95", "name": "Tỉnh Thử Nghiệm", "type": "Tỉnh", "level2s": [
        {"level2_id": "954", "name": "Thành phố Thử", "type": "Thành phố", "level3s": [
            {"level3_id": "31825", "name": "Phường 1", "type": "Phường"},
            {"level3_id": "31828", "name": "Phường 2", "type": "Phường"}]},
        {"level2_id": "956", "name": "Huyện Hồng Dân", "type": "Huyện", "level3s": [
            {"level3_id": "31840", "name": "Thị trấn Ngan Dừa", "type": "Thị trấn"},
            {"level3_id": "31843", "name": "Xã Ninh Quới A", "type": "Xã"}]}]}
    (model_dir / "admin-units" / "test.json").write_text(json.dumps(register, ensure_ascii=False))
    data = yaml.safe_load((MODEL_DIR / "province.yml").read_text(encoding="utf-8"))
    data["province"].update(code="95", name="Tỉnh Thử Nghiệm", slug="thu-nghiem", domain="thunghiem.gov.vn",
                            admin_units_file="admin-units/test.json")
    # the procedures catalogue is the same data: keep the departments its steps name
    shutil.copy(MODEL_DIR / data["province"]["procedures_file"], model_dir / data["province"]["procedures_file"])
    named = {step.get("department") for p in yaml.safe_load((MODEL_DIR / "procedures.yml").read_text(
        encoding="utf-8"))["procedures"] for step in p["steps"]}
    data["departments"] = [d for d in data["departments"] if d["code"] in {"snv", "stttt", "vpubnd"} | named]
    oss = sum(d["one_stop_shop"] for d in data["departments"])
    data["facts"]["baseline_2016"].update(portal_component_sites=len(data["departments"]) + 2,
                                          one_stop_shop_agencies=oss + 2 + 1, one_stop_shop_communes=1,
                                          communes_with_lan=4, mailboxes=100)
    (model_dir / "province.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    other = load_province(model_dir / "province.yml")
    assert [s.slug for s in other.sites] == ["thu", "hong-dan", "phuong-1", "phuong-2", "ngan-dua", "ninh-quoi-a"]
    written = write_inventories(other, tmp_path / "inventories")
    assert len(written) == 8          # hosts.yml and 3 group_vars files per environment
    hosts = yaml.safe_load((tmp_path / "inventories" / "lab" / "hosts.yml").read_text())
    assert "fw-ninh-quoi-a" in hosts["commune_firewalls"]["hosts"]
    assert Path(tmp_path / "inventories" / "production" / "group_vars" / "all" / "connection.yml").exists()
