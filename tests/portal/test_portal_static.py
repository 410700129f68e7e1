"""The portal without the lab (issue 13): role specs, the sites and names derived from the model.

The sites are the model's: the main portal plus one component site per department and district
(egov.portal), generated into the inventory (egov_component_sites, and one DNS name each pointing to
the balancer). A department added to the model is one more site and one more name.
"""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from egov.model import load_province
from egov.service_vars import services_vars
from tests.conftest import model_problem

REPO = Path(__file__).resolve().parents[2]
ROLES = ["portal_db", "portal_web", "portal_lb"]
SERVICES = yaml.safe_load((REPO / "inventories" / "lab" / "group_vars" / "all" / "services.yml").read_text("utf-8"))


def test_secrets_come_from_the_controller_secrets_dir() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for role in ROLES
                     for p in (REPO / "roles" / role).rglob("*") if p.is_file())
    assert "PRIVATE KEY" not in text
    assert "egov_secrets_dir ~ '/portal/db-wordpress'" in text
    web = (REPO / "roles" / "portal_web" / "templates" / "config-portal.php.j2").read_text(encoding="utf-8")
    assert "lookup('ansible.builtin.password', portal_web_secrets_dir" in web
    # no port of the model written in a role: they come from egov_service_ports
    for role in ROLES:
        defaults = (REPO / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8")
        for port in ("3306", "4567", "4568", "4444", ": 80", ": 443"):
            assert port not in defaults, f"{role} hard-codes {port}"


def test_the_32_sites_come_from_the_model() -> None:
    province = load_province(REPO / "model" / "province.yml")
    generated = services_vars(province)
    sites = generated["egov_component_sites"]
    assert len(sites) == len(province.departments) + len(province.districts)
    assert len(sites) + 1 == province.source.facts.baseline_2016.portal_component_sites + 1 == 32
    assert [s["name"] for s in sites[:len(province.departments)]] == [d.code for d in province.departments]
    assert [s["name"] for s in sites[len(province.departments):]] == [d.slug for d in province.districts]
    for site in sites:
        assert generated["egov_service_names"][site["name"]] == "portal_lb", site
    # the committed inventory is the same derivation
    assert SERVICES["egov_component_sites"] == sites
    assert {n for n, g in SERVICES["egov_service_names"].items() if g == "portal_lb"} == {
        s["name"] for s in sites} | {"www", "portal"}


EditYaml = Callable[[Path, Callable[[Any], None]], None]


def test_a_department_added_to_the_model_is_one_more_site(model_copy: Path, edit_yaml: EditYaml) -> None:
    def add(data: dict[str, Any]) -> None:
        data["departments"].append({"code": "sdulich", "name": "Sở Du lịch", "one_stop_shop": False})
        data["facts"]["baseline_2016"]["portal_component_sites"] += 1

    edit_yaml(model_copy / "province.yml", add)
    generated = services_vars(load_province(model_copy / "province.yml"))
    names = [s["name"] for s in generated["egov_component_sites"]]
    assert len(names) == 32 and names.count("sdulich") == 1
    assert generated["egov_service_names"]["sdulich"] == "portal_lb"


def test_a_site_name_may_not_shadow_a_service_name(model_copy: Path, edit_yaml: EditYaml) -> None:
    def add(data: dict[str, Any]) -> None:
        data["departments"].append({"code": "mail", "name": "Sở Bưu chính", "one_stop_shop": False})
        data["facts"]["baseline_2016"]["portal_component_sites"] += 1

    edit_yaml(model_copy / "province.yml", add)
    assert "component portals" in model_problem(model_copy, "DNS name 'mail'")


def test_portal_db_listens_where_the_model_says() -> None:
    ports = SERVICES["egov_service_ports"]
    assert ports["portal_db"] == {"mysql": 3306, "galera": 4567, "galera-ist": 4568, "galera-sst": 4444}
    assert ports["portal_lb"] == {"http": 80, "https": 443}
    fw = {e["name"]: e for e in SERVICES["host_firewall_services_by_group"]["portal_db"]}
    addresses = yaml.safe_load((REPO / "inventories" / "lab" / "group_vars" / "all" / "province.yml")
                               .read_text("utf-8"))["province_service_addresses"]

    def hosts(entry: dict[str, Any]) -> set[str]:
        assert "any" not in entry, entry
        return {str(a) for net in entry["sources"] for a in ipaddress.ip_network(net)}

    assert set(addresses["portal_web"]) <= hosts(fw["portal_db-mysql"])   # the web nodes (and what else flows say)
    assert hosts(fw["portal_db-galera-sst"]) == set(addresses["portal_db"])  # state transfers: members only
    assert hosts(fw["portal_db-galera"]) == set(addresses["portal_db"]) | set(addresses["portal_arb"])


@pytest.mark.parametrize(("extra", "expected"), [
    ("portal_web_upload_max_mb=0", "portal_web_upload_max_mb must be 1..512"),
    ('{"portal_web_tls_protocols": ["SSLv3"]}', "portal_web_tls_protocols"),
    ('{"portal_web_component_sites": [{"name": "nowhere"}]}', "missing: ['nowhere']"),
])
def test_bad_input_names_the_variable(tmp_path: Path, extra: str, expected: str) -> None:
    if shutil.which("ansible-playbook") is None:
        pytest.skip("ansible-playbook missing: run `make deps`")
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(REPO / "inventories" / "lab"), str(REPO / "playbooks" / "portal.yml"),
         "--limit", "portal-web-01", "--tags", "portal_web_validate", "-e", f"egov_secrets_dir={tmp_path}",
         "-e", extra],
        capture_output=True, text=True, timeout=300, cwd=REPO)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-2000:]
    assert expected in out, out[-3000:]
