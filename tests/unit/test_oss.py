"""The one-stop-shop platform derived from the model (issue 14): its tenants, the catalogue the
application reads (`egov_oss_catalogue`), and its hosts, listeners and flows."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
import yaml

from egov import oss
from egov.model import Province, load_province
from egov.model.officials import build_directory
from egov.service_vars import services_vars
from tests.conftest import REPO

AGENCY_KEYS = ["slug", "name", "kind", "parent"]
PROCEDURE_KEYS = ["code", "name", "unit_kind", "deadline_days", "steps"]
STEP_KEYS = ["name", "level", "department", "days"]


@pytest.fixture(scope="module")
def province() -> Province:
    return load_province()


@pytest.fixture(scope="module")
def generated(province: Province) -> dict[str, Any]:
    return services_vars(province)


# -- tenants -----------------------------------------------------------------------------------------
def test_136_agencies_one_per_unit_running_a_one_stop_shop(province: Province) -> None:
    agencies = oss.agencies(province)
    kinds = [a["kind"] for a in agencies]
    assert len(agencies) == 136 == 16 + 11 + 109
    assert (kinds.count("department"), kinds.count("district"), kinds.count("commune")) == (16, 11, 109)
    assert len({a["slug"] for a in agencies}) == len(agencies), "a slug keys one tenant"
    assert all(list(a) == AGENCY_KEYS for a in agencies)


def test_every_commune_hangs_under_its_district_agency(province: Province) -> None:
    agencies = oss.agencies(province)
    districts = {a["slug"] for a in agencies if a["kind"] == "district"}
    for agency in agencies:
        if agency["kind"] == "commune":
            assert agency["parent"] in districts, agency
            site = province.site(agency["slug"])
            assert province.site(site.district_code).slug == agency["parent"]
        else:
            assert agency["parent"] is None, agency


def test_a_department_flagged_false_is_no_tenant(province: Province, model_copy: Path, edit_yaml: Any) -> None:
    slugs = {a["slug"] for a in oss.agencies(province)}
    assert {"vpubnd", "ttt", "bdt", "sngv"}.isdisjoint(slugs)
    assert {"stp", "skhdt", "sgtvt"} <= slugs

    def change(data: dict[str, Any]) -> None:      # swap two flags: the plan's count of 16 still holds
        flags = {d["code"]: d for d in data["departments"]}
        flags["skhcn"]["one_stop_shop"], flags["sngv"]["one_stop_shop"] = False, True
    edit_yaml(model_copy / "province.yml", change)
    swapped = {a["slug"] for a in oss.agencies(load_province(model_copy / "province.yml"))}
    assert "skhcn" not in swapped and "sngv" in swapped and len(swapped) == 136


def test_an_agency_is_the_directory_unit_of_its_officials(province: Province) -> None:
    """The key is what the directory writes into departmentNumber: an official lands in their tenant."""
    units = {unit.slug: unit for unit in build_directory(province).units}
    for agency in oss.agencies(province):
        assert units[agency["slug"]].kind == agency["kind"] and units[agency["slug"]].name == agency["name"]


# -- the catalogue the application reads -------------------------------------------------------------
def test_the_catalogue_is_emitted_with_its_exact_shape(province: Province, generated: dict[str, Any]) -> None:
    catalogue = generated["egov_oss_catalogue"]
    assert list(catalogue) == ["agencies", "procedures"]
    assert catalogue == oss.catalogue(province)
    assert len(catalogue["procedures"]) == len(province.procedures)
    slugs = {a["slug"] for a in catalogue["agencies"] if a["kind"] == "department"}
    for procedure in catalogue["procedures"]:
        assert list(procedure) == PROCEDURE_KEYS
        for step in procedure["steps"]:
            assert list(step) == STEP_KEYS
            assert (step["department"] in slugs) if step["level"] == "department" else step["department"] is None
    route = next(p for p in catalogue["procedures"] if p["code"] == "ncc-mai-tang-phi")
    assert [(s["level"], s["department"]) for s in route["steps"]] == [
        ("commune", None), ("district", None), ("department", "sldtbxh")]


def test_the_generated_inventory_carries_the_catalogue() -> None:
    for env in ("lab", "production"):
        path = REPO / "inventories" / env / "group_vars" / "all" / "services.yml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert len(data["egov_oss_catalogue"]["agencies"]) == 136, env


# -- hosts, listeners and flows ----------------------------------------------------------------------
def _admitted(generated: dict[str, Any], group: str, entry: str) -> set[str]:
    found = [e for e in generated["host_firewall_services_by_group"][group] if e["name"] == entry]
    assert found, (group, entry)
    return {source for e in found for source in e.get("sources", ["any"] if e.get("any") else [])}


def _hosts(province: Province, service: str) -> set[str]:
    return {f"{h.address}/32" for h in province.dc_hosts if h.service == service}


def test_the_quorum_host_and_the_balancer_take_the_next_free_numbers(province: Province) -> None:
    arb = next(h for h in province.dc_hosts if h.service == "oss_arb")
    lb = next(h for h in province.dc_hosts if h.service == "oss_lb")
    assert (arb.name, arb.segment, lb.name, lb.segment) == ("oss-arb-01", "services", "oss-lb-01", "dmz")
    for host in (arb, lb):
        taken = {h.host_number for h in province.dc_hosts if h.segment == host.segment and h is not host}
        assert host.host_number == max(taken) + 1, "a new host never renumbers an existing one"
    assert province.allocations["hosts"]["oss-db-01"] == 18 and province.allocations["hosts"]["oss-app-01"] == 17
    assert {"motcua", "dichvucong"} <= {name for name, group in services_vars(province)["egov_service_names"].items()
                                        if group == "oss_lb"}


def test_the_database_quorum_is_open_only_between_its_members(province: Province, generated: dict[str, Any]) -> None:
    members = _hosts(province, "oss_db") | _hosts(province, "oss_arb")
    collapse = {str(n) for n in ipaddress.collapse_addresses(ipaddress.IPv4Network(m) for m in members)}
    assert _admitted(generated, "oss_db", "oss_db-etcd-peer") == collapse
    assert _admitted(generated, "oss_arb", "oss_arb-etcd-peer") == {
        str(n) for n in ipaddress.collapse_addresses(ipaddress.IPv4Network(m) for m in _hosts(province, "oss_db"))}
    monitoring = _hosts(province, "monitoring")
    assert monitoring <= _admitted(generated, "oss_db", "oss_db-patroni-api")
    assert not _hosts(province, "oss_app") & _admitted(generated, "oss_db", "oss_db-patroni-api"), \
        "the application finds the primary with libpq's target_session_attrs, not through Patroni's API"
    assert _hosts(province, "oss_app") <= _admitted(generated, "oss_db", "oss_db-postgresql")
    assert _hosts(province, "oss_app") <= _admitted(generated, "oss_db", "oss_db-pgbouncer")
    assert generated["egov_service_ports"]["oss_db"] == {"postgresql": 5432, "patroni-api": 8008, "etcd-client": 2379,
                                                         "etcd-peer": 2380, "pgbouncer": 6432}


def test_the_application_is_reached_through_its_balancer_and_the_lgsp(province: Province,
                                                                       generated: dict[str, Any]) -> None:
    assert _admitted(generated, "oss_lb", "oss_lb-https") == {"any"}
    admitted = _admitted(generated, "oss_app", "oss_app-https")
    assert admitted == {"any"}, "the portal's precedent: the members admit what the balancer admits"
    pool = [f for f in province.source.flows if f.to == "oss_app" and "service:oss_lb" in f.from_]
    gateway = [f for f in province.source.flows if f.to == "oss_app" and "service:lgsp" in f.from_]
    assert [f.listeners for f in pool] == [["https"]] and [f.listeners for f in gateway] == [["https"]]
    assert set(province.source.services["oss_arb"].listeners) == {"etcd-client", "etcd-peer"}
