"""Bad model files: every problem reported at once, each naming file, line, key path and cause."""

from __future__ import annotations

from tests.conftest import model_problem, model_problems

problems = model_problems
one = model_problem


def test_unknown_department_reference(model_copy, edit_yaml) -> None:
    edit_yaml(model_copy / "province.yml", lambda d: d["services"]["mail"].update(owner="sxyz"))
    message = one(model_copy, "services.mail.owner", "unknown department 'sxyz'")
    assert message.startswith(str(model_copy / "province.yml") + ":")


def test_unknown_district_reference(model_copy, edit_yaml) -> None:
    edit_yaml(model_copy / "province.yml", lambda d: d.update(site_overrides={"31729": {"district": "999"}}))
    one(model_copy, "site_overrides.31729.district", "unknown district '999'")


def test_site_in_the_wrong_district(model_copy, edit_yaml) -> None:
    edit_yaml(model_copy / "province.yml", lambda d: d.update(site_overrides={"31729": {"district": "941"}}))
    one(model_copy, "site_overrides.31729.district", "belongs to district 947")


def test_unknown_site_code(model_copy, edit_yaml) -> None:
    edit_yaml(model_copy / "province.yml", lambda d: d.update(site_overrides={"99999": {"officials": 3}}))
    one(model_copy, "site_overrides.99999", "unknown site code")


def test_duplicate_department_code(model_copy, edit_yaml) -> None:
    edit_yaml(model_copy / "province.yml", lambda d: d["departments"][1].update(code="snv"))
    one(model_copy, "departments[1].code", "duplicate department code 'snv'")


def test_duplicate_gso_code(model_copy, edit_gso) -> None:
    edit_gso(model_copy, lambda d: d["level2s"][1]["level3s"][0].update(level3_id="31498"))
    message = one(model_copy, "level2s[1].level3s[0].level3_id", "duplicate code 31498")
    assert "soc-trang-admin-units-2017.json" in message


def test_duplicate_slot_in_the_ledger(model_copy) -> None:
    ledger = model_copy / "allocations.yml"
    ledger.write_text(ledger.read_text().replace('"942": 2', '"942": 1'))
    message = one(model_copy, "sites.942", "slot 1 is already given")
    assert "allocations.yml:" in message


def test_bad_hostname_from_a_service_name(model_copy, edit_yaml) -> None:
    def change(data: dict) -> None:
        data["services"]["Web Portal"] = data["services"].pop("portal_web")
    edit_yaml(model_copy / "province.yml", change)
    one(model_copy, "services.Web Portal", "cannot make a hostname")


def test_overlapping_subnets(model_copy, edit_yaml) -> None:
    edit_yaml(model_copy / "province.yml",
              lambda d: d["addressing"]["dc_segments"]["dmz"].update(prefix="10.94.2.0/23"))
    one(model_copy, "addressing.dc_segments", "overlaps")


def test_subnet_outside_the_supernet(model_copy, edit_yaml) -> None:
    edit_yaml(model_copy / "province.yml", lambda d: d["addressing"].update(site_pool="10.200.0.0/16"))
    one(model_copy, "addressing.site_pool", "outside the supernet")


def test_vlan_clash_between_site_vlans(model_copy, edit_yaml) -> None:
    edit_yaml(model_copy / "province.yml", lambda d: d["addressing"]["site_vlans"]["guest"].update(vlan=10))
    one(model_copy, "addressing.site_vlans.guest.vlan", "VLAN 10 clashes with site VLAN office")


def test_vlan_clash_between_dc_segments(model_copy, edit_yaml) -> None:
    edit_yaml(model_copy / "province.yml", lambda d: d["addressing"]["dc_segments"]["dmz"].update(vlan=10))
    one(model_copy, "addressing.dc_segments.dmz.vlan", "clashes")


def test_overlapping_site_vlan_subnets(model_copy, edit_yaml) -> None:
    edit_yaml(model_copy / "province.yml", lambda d: d["addressing"]["site_vlans"]["guest"].update(offset=64))
    one(model_copy, "addressing.site_vlans.guest", "overlaps site VLAN office")


def test_missing_required_field(model_copy, edit_yaml) -> None:
    edit_yaml(model_copy / "province.yml", lambda d: d["services"]["mail"].pop("size"))
    one(model_copy, "services.mail.size", "required field is missing")


def test_wrong_type(model_copy, edit_yaml) -> None:
    edit_yaml(model_copy / "province.yml", lambda d: d["services"]["mail"].update(hosts="two"))
    one(model_copy, "services.mail.hosts", "valid integer", "'two'")


def test_unknown_key_is_a_typo(model_copy, edit_yaml) -> None:
    edit_yaml(model_copy / "province.yml", lambda d: d["services"]["mail"].update(hostz=2))
    one(model_copy, "services.mail.hostz", "unknown key")


def test_bad_port_and_unknown_flow_target(model_copy, edit_yaml) -> None:
    def change(data: dict) -> None:
        data["services"]["portal_web"]["listeners"]["https"] = ["tcp/99999"]
        data["flows"][1]["to"] = "nosuch"
        data["flows"][2]["from"] = ["site:nosuchvlan"]
    edit_yaml(model_copy / "province.yml", change)
    one(model_copy, "services.portal_web.listeners", "outside 1-65535")


def test_flow_references(model_copy, edit_yaml) -> None:
    def change(data: dict) -> None:
        data["flows"][1]["to"] = "nosuch"
        data["flows"][2]["from"] = ["site:nosuchvlan"]
    edit_yaml(model_copy / "province.yml", change)
    one(model_copy, "flows[1].to", "unknown service 'nosuch'")
    one(model_copy, "flows[2].from[0]", "unknown flow source 'site:nosuchvlan'")


def test_every_problem_is_reported_at_once(model_copy, edit_yaml) -> None:
    def change(data: dict) -> None:
        data["services"]["dns"]["hosts"] = "two"                 # shape error (wrong type)
        data["departments"][2]["code"] = "snv"                   # duplicate
        data["addressing"]["site_vlans"]["guest"]["vlan"] = 10   # VLAN clash
        data["addressing"]["wan"]["prefix"] = "10.94.0.0/22"     # overlaps the DC segments
    edit_yaml(model_copy / "province.yml", change)
    found = problems(model_copy)
    for needle in ("services.dns.hosts", "departments[2].code", "site_vlans.guest.vlan", "addressing.wan.prefix"):
        assert any(needle in p for p in found), (needle, found)
    assert all(p.split(": ")[0].rsplit(":", 1)[1].isdigit() for p in found)     # file:line on each


def test_semantic_problems_all_reported_together(model_copy, edit_yaml) -> None:
    def change(data: dict) -> None:
        data["services"]["mail"]["owner"] = "nobody"
        data["flows"][0]["to"] = "nosuch"
        data["departments"][2]["code"] = "snv"
    edit_yaml(model_copy / "province.yml", change)
    found = problems(model_copy)
    assert len(found) >= 4
    for needle in ("services.mail.owner", "flows[0].to", "departments[2].code"):
        assert any(needle in p for p in found), (needle, found)


def test_yaml_syntax_error_names_the_line(model_copy) -> None:
    path = model_copy / "province.yml"
    lines = path.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("  slug:"))
    lines[at] = lines[at] + " : : ["
    path.write_text("\n".join(lines))
    message = one(model_copy, "not valid YAML")
    assert str(path) in message


def test_gso_file_of_another_province_is_refused(model_copy, edit_gso) -> None:
    edit_gso(model_copy, lambda d: d.update(level1_id="95"))
    one(model_copy, "level1_id", "differs from province.code")


def test_missing_gso_file(model_copy, edit_yaml) -> None:
    edit_yaml(model_copy / "province.yml", lambda d: d["province"].update(admin_units_file="nope.json"))
    one(model_copy, "cannot read the GSO register")


def test_staffing_below_the_plans_mailboxes(model_copy, edit_yaml) -> None:
    edit_yaml(model_copy / "province.yml", lambda d: d["staffing"].update(commune=1, district=1, department=1))
    one(model_copy, "staffing", "fewer than the plan's 3445")


def test_cli_exits_2_with_every_problem(model_copy, edit_yaml) -> None:
    from click.testing import CliRunner

    from egov.cli import main

    edit_yaml(model_copy / "province.yml", lambda d: d["services"]["mail"].update(owner="x1", hosts="n"))
    result = CliRunner().invoke(main, ["model", "check", "--model", str(model_copy / "province.yml")])
    assert result.exit_code == 2
    assert "services.mail.hosts" in result.output
