"""Bad inputs, tried as a new user would: each one is refused, every problem of a run is reported
(file, line, key path, cause), and no command writes anything on a bad model (issue 11, section 2)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from egov.model import load_province
from tests.conftest import MODEL_DIR, model_problem, model_problems

issues = model_problems
find = model_problem


TOP_LEVEL = ("services:", "flows:", "sites:", "hosts:")


def line_of(path: Path, text: str) -> int:
    """1-based number of the first line of path starting with text (after indentation; at the
    start of the line for a top-level key such as `services:`)."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if (line == text) if text in TOP_LEVEL else line.lstrip().startswith(text):
            return number
    raise AssertionError(f"{text!r} not in {path}")


def insert_after(path: Path, after: str, new_lines: list[str]) -> int:
    """Insert raw lines after the first line starting with `after`; returns the first new line's number."""
    lines = path.read_text(encoding="utf-8").splitlines()
    at = line_of(path, after)
    lines[at:at] = new_lines
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return at + 1


def register(model_dir: Path) -> Path:
    return next((model_dir / "admin-units").glob("*.json"))


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


# -- duplicate keys ------------------------------------------------------------------------------
def test_duplicate_key_in_the_model_names_both_lines(model_copy: Path) -> None:
    path = model_copy / "province.yml"
    first = line_of(path, "domain:")
    second = insert_after(path, "domain:", ["  domain: example.gov.vn"])
    message = find(model_copy, "province.domain", "duplicate key 'domain'")
    assert message.startswith(f"{path}:{second}: ")
    assert f"first at line {first}" in message


def test_duplicate_service_is_refused_not_merged(model_copy: Path) -> None:
    path = model_copy / "province.yml"
    lines = path.read_text(encoding="utf-8").splitlines()
    first = lines.index("  dns:", line_of(path, "services:")) + 1
    # a second `dns:` service (one host) would silently replace the first (two hosts)
    second = insert_after(path, "services:", ["  dns:", "    description: second DNS", "    segment: services",
                                              "    hosts: 1", "    size: {vcpu: 1, ram_gb: 1, disk_gb: 1}",
                                              "    owner: stttt", "    security_level: 3",
                                              "    listeners: {dns: [udp/53, tcp/53], ntp: [udp/123]}"])
    message = find(model_copy, "services.dns", "duplicate key 'dns'")
    assert message.startswith(f"{path}:")
    assert message.startswith(f"{path}:{first + 8}: ")      # the original, now after the inserted one
    assert f"first at line {second}" in message


def test_duplicate_key_in_the_ledger_cannot_renumber_a_site(model_copy: Path) -> None:
    ledger = model_copy / "allocations.yml"
    first = line_of(ledger, '"942":')
    second = insert_after(ledger, '"951":', ['  "942": 250'])
    message = find(model_copy, "allocations.yml", "sites.942", "duplicate key '942'")
    assert message.startswith(f"{ledger}:{second}: ")
    assert f"first at line {first}" in message


def test_duplicate_key_in_the_register(model_copy: Path) -> None:
    path = register(model_copy)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"level1_id": "94",', '"level1_id": "94",\n "level1_id": "95",', 1),
                    encoding="utf-8")
    message = find(model_copy, "level1_id", "duplicate key 'level1_id'")
    assert message.startswith(f"{path}:3: ") and "first at line 2" in message


# -- every problem in one run --------------------------------------------------------------------
def test_a_schema_error_does_not_hide_the_cross_checks_of_its_section(model_copy: Path, edit_yaml) -> None:
    def change(data: dict) -> None:
        data["services"]["dns"]["hosts"] = "two"            # shape error in services
        data["services"]["mail"]["owner"] = "nobody"        # cross-check in services
        data["flows"][0]["to"] = "nosuch"                   # cross-check of flows against services
    edit_yaml(model_copy / "province.yml", change)
    found = issues(model_copy)
    for needle in ("services.dns.hosts", "services.mail.owner: unknown department 'nobody'",
                   "flows[0].to: unknown service 'nosuch'"):
        assert any(needle in p for p in found), (needle, found)
    assert not any("unknown service 'dns'" in p for p in found), found   # dns exists, only malformed


def test_a_schema_error_in_the_model_does_not_stop_the_register_checks(model_copy: Path, edit_yaml,
                                                                        edit_gso) -> None:
    edit_yaml(model_copy / "province.yml", lambda d: d["staffing"].update(commune="many"))
    edit_gso(model_copy, lambda d: d["level2s"][1]["level3s"][0].update(level3_id="31498"))
    found = issues(model_copy)
    assert any("staffing.commune" in p for p in found), found
    assert any(str(register(model_copy)) in p and "duplicate code 31498" in p for p in found), found


def test_a_malformed_commune_does_not_hide_the_other_register_checks(model_copy: Path, edit_gso) -> None:
    def change(data: dict) -> None:
        data["level2s"][0]["level3s"][0]["type"] = "Làng"                       # not a GSO type
        data["level2s"][2]["level3s"][0]["level3_id"] = data["level2s"][2]["level3s"][1]["level3_id"]
    edit_gso(model_copy, change)
    found = issues(model_copy)
    assert any("level2s[0].level3s[0].type" in p for p in found), found
    assert any("level2s[2].level3s[1].level3_id" in p and "duplicate code" in p for p in found), found


# -- register problems against the register, with a line -----------------------------------------
def test_register_problems_name_the_register_and_its_line(model_copy: Path, edit_gso) -> None:
    edit_gso(model_copy, lambda d: d["level2s"][1]["level3s"][0].update(level3_id="31498"))
    path = register(model_copy)
    message = find(model_copy, "level2s[1].level3s[0].level3_id", "duplicate code 31498")
    lines = path.read_text(encoding="utf-8").splitlines()
    number = int(message.split(": ")[0].rsplit(":", 1)[1])
    assert message.startswith(f"{path}:")
    assert '"level3_id": "31498"' in lines[number - 1]
    first = next(i for i, line in enumerate(lines, 1) if '"31498"' in line)
    assert f"line {first}" in message and first != number


def test_province_code_mismatch_is_on_the_register_line(model_copy: Path, edit_gso) -> None:
    edit_gso(model_copy, lambda d: d.update(level1_id="95"))
    message = find(model_copy, "level1_id", "differs from province.code")
    assert message.startswith(f"{register(model_copy)}:2: ")


def test_duplicate_slug_names_both_communes_and_their_lines(model_copy: Path, edit_gso) -> None:
    def change(data: dict) -> None:
        commune = data["level2s"][2]["level3s"][0]
        commune.update(name="Xã Thử Nghiệm", type="Xã")
        data["level2s"][2]["level3s"][1].update(name="Xã Thử Nghiệm", type="Xã")
        data["level2s"][2]["level3s"][2].update(name="Xã Thử Nghiệm", type="Xã")
    edit_gso(model_copy, change)
    data = json.loads(register(model_copy).read_text(encoding="utf-8"))
    codes = [c["level3_id"] for c in data["level2s"][2]["level3s"][:3]]
    found = [p for p in issues(model_copy) if "gets the slug" in p]
    assert len(found) == 3, found
    for message in found:
        assert message.startswith(f"{register(model_copy)}:")
        assert message.split(": ")[0].rsplit(":", 1)[1].isdigit()
        assert "Xã Thử Nghiệm" in message
        assert sum(code in message for code in codes) == 3    # itself and the two others


# -- service names -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["mail-gw", "Mail", "9mail", "m", "mail gw"])
def test_service_name_must_be_an_ansible_group_name(model_copy: Path, edit_yaml, name: str) -> None:
    def change(data: dict) -> None:
        data["services"][name] = data["services"].pop("mirror")
        for flow in data["flows"]:
            if flow["to"] == "mirror":
                flow["to"] = name
    edit_yaml(model_copy / "province.yml", change)
    message = find(model_copy, f"services.{name}", "not a valid Ansible group name")
    assert message.split(": ")[0].rsplit(":", 1)[1].isdigit()


# -- the commands --------------------------------------------------------------------------------
def bad_model(model_copy: Path, edit_yaml) -> Path:
    edit_yaml(model_copy / "province.yml", lambda d: d["services"]["mail"].update(hosts="two", owner="x1"))
    return model_copy / "province.yml"


@pytest.mark.parametrize("argv", [["model", "check"], ["model", "allocate"], ["network", "render"],
                                  ["directory", "summary"], ["inventory", "generate", "--root", "{tmp}/inv"],
                                  ["report", "--out", "{tmp}/site", "--evidence-dir", "{tmp}"],
                                  ["cloud", "plan", "--out", "{tmp}/cloud"]])
def test_commands_print_the_error_list_not_a_traceback(model_copy: Path, edit_yaml, tmp_path: Path,
                                                       argv: list[str]) -> None:
    from egov.cli import main

    model = bad_model(model_copy, edit_yaml)
    result = CliRunner().invoke(main, [*(a.replace("{tmp}", str(tmp_path)) for a in argv), "--model", str(model)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert f"{model}:" in result.output and "services.mail.hosts" in result.output
    assert "problems:" in result.output


def test_commands_on_a_bad_model_write_nothing(model_copy: Path, edit_yaml, tmp_path: Path) -> None:
    from egov.cli import main

    model = bad_model(model_copy, edit_yaml)
    (model_copy / "allocations.yml").write_text(
        (model_copy / "allocations.yml").read_text(encoding="utf-8").replace('  "31498": 12', ''), encoding="utf-8")
    inventories = tmp_path / "inv"
    before = snapshot(tmp_path)
    for argv in (["model", "allocate", "--model", str(model)],
                 ["inventory", "generate", "--model", str(model), "--root", str(inventories)],
                 ["report", "--model", str(model), "--out", str(tmp_path / "site"), "--evidence-dir", str(tmp_path)],
                 ["cloud", "plan", "--model", str(model), "--out", str(tmp_path / "cloud")]):
        result = CliRunner().invoke(main, argv)
        assert result.exit_code == 2, (argv, result.output)
    assert snapshot(tmp_path) == before
    assert not inventories.exists() and not (tmp_path / "site").exists() and not (tmp_path / "cloud").exists()


def test_the_ledger_note_counts_what_is_missing(model_copy: Path) -> None:
    from egov.cli import main

    ledger = model_copy / "allocations.yml"
    text = ledger.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines()
             if not line.startswith(('  "31498":', '  "31501":', "  mail-01:"))]
    ledger.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["model", "check", "--model", str(model_copy / "province.yml")])
    assert result.exit_code == 0, result.output
    assert "2 sites and 1 DC host not yet in the ledger" in result.output
    assert "31498" in result.output and "mail-01" in result.output


# -- scale ---------------------------------------------------------------------------------------
def test_an_exhausted_pool_is_one_problem_saying_what_to_change(model_copy: Path, edit_gso) -> None:
    def change(data: dict) -> None:
        communes = data["level2s"][0]["level3s"]
        communes += [{"level3_id": f"{40000 + n}", "name": f"Xã Mới {n}", "type": "Xã"} for n in range(200)]
    edit_gso(model_copy, change)
    found = issues(model_copy)
    assert len(found) == 1, found[:5]
    message = found[0]
    assert message.startswith(f"{model_copy / 'province.yml'}:")
    assert "addressing.site_pool: address pool exhausted: 64 of 320 sites do not fit" in message
    assert "256 available" in message and "set addressing.site_pool to a /15" in message


def test_libyaml_writes_the_same_inventories_as_the_pure_emitter() -> None:
    from egov import inventory

    if inventory._CDumper is None:
        pytest.skip("PyYAML without libyaml")
    province = load_province(MODEL_DIR / "province.yml")
    fast = {env: inventory.render_files(province, env) for env in inventory.ENVIRONMENTS}
    saved, inventory._CDumper = inventory._CDumper, None
    try:
        pure = {env: inventory.render_files(province, env) for env in inventory.ENVIRONMENTS}
    finally:
        inventory._CDumper = saved
    assert fast == pure


@pytest.mark.parametrize("data", [
    {"a": [1, 2, {"b": [3, [4, 5]]}], "c": None, "d": {"e": "Xã Hòa Tú II", "l": [], "m": {}}},
    {"shared": (shared := ["10.0.0.1", "10.0.0.2"]), "again": shared, "in": [{"k": shared}, [shared]]},
    {"yes": "yes", "on": "on", "num": "012", "float": 1.5, "bool": True, "date": "2016-01-01", "colon": "a: b"},
    {"long": "word " * 40, "multi": "line one\nline two", "key " * 40: 1},
])
def test_the_fast_emitter_matches_the_pure_one(data: dict) -> None:
    from egov import inventory

    pure = "---\n" + yaml.dump(data, Dumper=inventory._Dumper, **inventory._DUMP_OPTIONS)
    assert inventory._dump(data) == pure
