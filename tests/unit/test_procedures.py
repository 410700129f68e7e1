"""The one-stop-shop's procedures catalogue (model/procedures.yml, issue 14): the real catalogue loads,
and each bad input is refused naming the procedures file, the line, the key path and the problem."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from egov.model import Province, load_province
from egov.model.errors import format_path
from egov.model.procedures import MIN_PER_UNIT_KIND
from egov.model.yamlpos import line_for, load_with_lines
from tests.conftest import model_problem, model_problems

Edit = Callable[[Path, Callable[[Any], None]], None]


@pytest.fixture(scope="module")
def province() -> Province:
    return load_province()


def first(data: dict[str, Any], kind: str, levels: int = 1) -> int:
    """Index of the first procedure filed at `kind` whose steps span `levels` levels."""
    return next(i for i, p in enumerate(data["procedures"])
                if p["unit_kind"] == kind and len({s["level"] for s in p["steps"]}) >= levels)


def refused(model_dir: Path, key: tuple[object, ...], *needles: str) -> str:
    """The problem at `key` of the procedures file: it names the file and the key's line."""
    path = model_dir / "procedures.yml"
    _, lines = load_with_lines(path.read_text(encoding="utf-8"))
    message = model_problem(model_dir, str(path), *needles)
    assert message.startswith(f"{path}:{line_for(lines, key)}: "), message
    return message


def edit_procedures(model_dir: Path, edit_yaml: Edit, change: Callable[[dict[str, Any]], object]) -> None:
    edit_yaml(model_dir / "procedures.yml", lambda data: change(data) and None)


# -- the real catalogue ------------------------------------------------------------------------------
def test_the_catalogue_has_five_real_procedures_per_unit_type_with_inter_level_routes(province: Province) -> None:
    kinds = Counter(p.unit_kind for p in province.procedures)
    assert all(kinds[kind] >= MIN_PER_UNIT_KIND for kind in ("commune", "district", "department")), kinds
    routes = {tuple(dict.fromkeys(s.level for s in p.steps)) for p in province.procedures}
    assert {("commune", "district"), ("district", "department"), ("commune", "district", "department")} <= routes
    oss_departments = {d.code for d in province.departments if d.one_stop_shop}
    for procedure in province.procedures:
        assert procedure.basis and procedure.steps[0].level == procedure.unit_kind
        assert sum(s.days for s in procedure.steps) <= procedure.deadline_days, procedure.code
        assert {s.department for s in procedure.steps if s.level == "department"} <= oss_departments
    by_code = {p.code: p for p in province.procedures}
    assert by_code["ht-khai-sinh"].deadline_days == 1               # Luật Hộ tịch 2014, Điều 16: trong ngày
    assert by_code["lltp-cap-phieu"].steps[0].department == "stp"
    assert by_code["dn-thanh-lap"].steps[0].department == "skhdt"


# -- bad inputs --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("field", "value"), [("level", "province"), ("unit_kind", "ward")])
def test_an_unknown_level_or_unit_kind_is_refused(model_copy: Path, edit_yaml: Edit, field: str, value: str) -> None:
    key: tuple[object, ...] = ()

    def change(data: dict[str, Any]) -> None:
        nonlocal key
        index = first(data, "commune")
        target = data["procedures"][index]["steps"][0] if field == "level" else data["procedures"][index]
        target[field] = value
        key = ("procedures", index, "steps", 0, "level") if field == "level" else ("procedures", index, field)
    edit_procedures(model_copy, edit_yaml, change)
    refused(model_copy, key, format_path(key), "'commune', 'district' or 'department'", repr(value))


def test_a_department_step_without_department_is_refused(model_copy: Path, edit_yaml: Edit) -> None:
    def change(data: dict[str, Any]) -> None:
        data["procedures"][first(data, "department")]["steps"][0].pop("department")
    edit_procedures(model_copy, edit_yaml, change)
    index = first(load_with_lines((model_copy / "procedures.yml").read_text(encoding="utf-8"))[0], "department")
    refused(model_copy, ("procedures", index, "steps", 0), f"procedures[{index}].steps[0]: ", "needs `department`")


@pytest.mark.parametrize(("code", "problem"), [("sxyz", "unknown department 'sxyz'"),
                                               ("vpubnd", "'vpubnd' runs no one-stop-shop")])
def test_a_step_at_an_unknown_or_non_oss_department_is_refused(model_copy: Path, edit_yaml: Edit, code: str,
                                                               problem: str) -> None:
    index = 0

    def change(data: dict[str, Any]) -> None:
        nonlocal index
        index = first(data, "commune", levels=3)
        data["procedures"][index]["steps"][-1]["department"] = code
    edit_procedures(model_copy, edit_yaml, change)
    data = load_with_lines((model_copy / "procedures.yml").read_text(encoding="utf-8"))[0]
    last = len(data["procedures"][index]["steps"]) - 1
    refused(model_copy, ("procedures", index, "steps", last, "department"),
            f"procedures[{index}].steps[{last}].department", problem)


def test_a_department_on_a_commune_step_is_refused(model_copy: Path, edit_yaml: Edit) -> None:
    edit_procedures(model_copy, edit_yaml, lambda d: d["procedures"][0]["steps"][0].update(department="stp"))
    refused(model_copy, ("procedures", 0, "steps", 0, "department"), "procedures[0].steps[0].department",
            "a step at the commune level names no department")


@pytest.mark.parametrize("days", [0, -2, 2.5, "3"])
def test_days_are_a_positive_whole_number(model_copy: Path, edit_yaml: Edit, days: object) -> None:
    edit_procedures(model_copy, edit_yaml, lambda d: d["procedures"][1]["steps"][0].update(days=days))
    expected = "greater than or equal to 1" if isinstance(days, int) else "valid integer"
    refused(model_copy, ("procedures", 1, "steps", 0, "days"), "procedures[1].steps[0].days", expected)


def test_a_non_positive_deadline_is_refused(model_copy: Path, edit_yaml: Edit) -> None:
    edit_procedures(model_copy, edit_yaml, lambda d: d["procedures"][2].update(deadline_days=0))
    refused(model_copy, ("procedures", 2, "deadline_days"), "procedures[2].deadline_days", "greater than or equal")


def test_steps_beyond_the_legal_deadline_are_refused(model_copy: Path, edit_yaml: Edit) -> None:
    def change(data: dict[str, Any]) -> None:
        procedure = data["procedures"][first(data, "commune", levels=3)]
        procedure["steps"][0]["days"] += procedure["deadline_days"] - sum(s["days"] for s in procedure["steps"]) + 1
    edit_procedures(model_copy, edit_yaml, change)
    data = load_with_lines((model_copy / "procedures.yml").read_text(encoding="utf-8"))[0]
    index = first(data, "commune", levels=3)
    deadline = data["procedures"][index]["deadline_days"]
    refused(model_copy, ("procedures", index, "steps"), f"procedures[{index}].steps:",
            f"take {deadline + 1} working days, beyond the legal deadline of {deadline}")


def test_a_duplicate_procedure_code_is_refused(model_copy: Path, edit_yaml: Edit) -> None:
    edit_procedures(model_copy, edit_yaml, lambda d: d["procedures"][3].update(code=d["procedures"][0]["code"]))
    refused(model_copy, ("procedures", 3, "code"), "procedures[3].code", "duplicate procedure code 'ht-khai-sinh'")


def test_a_first_step_away_from_where_it_is_filed_is_refused(model_copy: Path, edit_yaml: Edit) -> None:
    def change(data: dict[str, Any]) -> None:
        data["procedures"][0]["steps"][0].update(level="district")
    edit_procedures(model_copy, edit_yaml, change)
    refused(model_copy, ("procedures", 0, "steps", 0, "level"), "procedures[0].steps[0].level",
            "the first step is at the district level, but the procedure is filed at the commune")


@pytest.mark.parametrize("kind", ["commune", "district", "department"])
def test_fewer_than_five_procedures_for_a_unit_type_with_a_one_stop_shop(model_copy: Path, edit_yaml: Edit,
                                                                        kind: str) -> None:
    def change(data: dict[str, Any]) -> None:
        ours = [p for p in data["procedures"] if p["unit_kind"] == kind]
        data["procedures"] = [p for p in data["procedures"] if p["unit_kind"] != kind] + ours[:MIN_PER_UNIT_KIND - 1]
    edit_procedures(model_copy, edit_yaml, change)
    refused(model_copy, ("procedures",), f"4 procedures are filed at a {kind}", f"at least {MIN_PER_UNIT_KIND}")


def test_fewer_than_five_is_fine_where_no_one_stop_shop_runs(model_copy: Path, edit_yaml: Edit) -> None:
    """Without any department marked one_stop_shop, departments need no procedure (the counts still
    hold the plan's facts: the model's other checks say so, not this one)."""
    edit_yaml(model_copy / "province.yml", lambda d: [dept.update(one_stop_shop=False) for dept in d["departments"]])
    edit_procedures(model_copy, edit_yaml,
                    lambda d: d.update(procedures=[p for p in d["procedures"] if p["unit_kind"] != "department"
                                                   and all(s["level"] != "department" for s in p["steps"])]))
    found = [p for p in model_problems(model_copy) if "procedures.yml" in p]
    assert found == [], found


def test_every_problem_of_the_catalogue_is_reported_at_once(model_copy: Path, edit_yaml: Edit) -> None:
    def change(data: dict[str, Any]) -> None:
        data["procedures"][0]["steps"][0]["days"] = "two"         # shape error in one entry
        data["procedures"][1]["steps"][0]["department"] = "stp"   # cross-check of another
        data["procedures"][2]["steps"][0]["dayz"] = 1             # a typo
    edit_procedures(model_copy, edit_yaml, change)
    found = model_problems(model_copy)
    for needle in ("procedures[0].steps[0].days", "procedures[1].steps[0].department: a step at the commune level",
                   "procedures[2].steps[0].dayz: unknown key"):
        assert any(needle in p for p in found), (needle, found)
    assert not any("procedures are filed at a commune" in p for p in found), "no count from a malformed entry"


def test_the_catalogue_file_is_required(model_copy: Path, edit_yaml: Edit) -> None:
    edit_yaml(model_copy / "province.yml", lambda d: d["province"].pop("procedures_file"))
    model_problem(model_copy, "province.procedures_file", "required field is missing")
    (model_copy / "procedures.yml").unlink()
    edit_yaml(model_copy / "province.yml", lambda d: d["province"].update(procedures_file="procedures.yml"))
    model_problem(model_copy, str(model_copy / "procedures.yml"), "cannot read file")


def test_a_duplicate_key_in_the_catalogue_names_both_lines(model_copy: Path) -> None:
    path = model_copy / "procedures.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    deadline_days: 1\n", "    deadline_days: 1\n    deadline_days: 30\n", 1),
                    encoding="utf-8")
    message = model_problem(model_copy, str(path), "procedures[0].deadline_days", "duplicate key 'deadline_days'")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row == "    deadline_days: 1")
    assert message.startswith(f"{path}:{line + 1}: ") and f"first at line {line}" in message


def test_a_shape_error_in_the_model_does_not_hide_the_catalogue_checks(model_copy: Path, edit_yaml: Edit) -> None:
    edit_yaml(model_copy / "province.yml", lambda d: d["services"]["dns"].update(hosts="two"))
    edit_procedures(model_copy, edit_yaml, lambda d: d["procedures"][0]["steps"][0].update(department="stp"))
    found = model_problems(model_copy)
    assert any("services.dns.hosts" in p for p in found), found
    assert any("procedures[0].steps[0].department: a step at the commune level" in p for p in found), found
