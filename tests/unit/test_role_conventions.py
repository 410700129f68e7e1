"""The conventions every role of the repository keeps, checked once for all of them (no lab):

- `meta/argument_specs.yml` mirrors `defaults/main.yml`: the same variables, the same defaults, each
  with a description;
- `tasks/main.yml` is thin: each concern is one task file imported with a `<role>_<concern>_enabled`
  switch (true by default), the tag `<role>` and a tag of its own (dev-sec style; the baseline roles
  keep their short concern tags such as `apt`); the input checks (`assert.yml`, `preflight.yml`)
  always run, so they have no switch;
- `meta/main.yml` names no province (the province comes from the model).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

ALWAYS_RUN = {"assert", "preflight"}
ROLES = sorted(p.name for p in (REPO / "roles").iterdir() if (p / "tasks" / "main.yml").exists())


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def spec_problems(role_dir: Path) -> list[str]:
    """What differs between a role's defaults and its argument specs (empty: they mirror)."""
    defaults = _yaml(role_dir / "defaults" / "main.yml") if (role_dir / "defaults" / "main.yml").exists() else {}
    spec_file = role_dir / "meta" / "argument_specs.yml"
    if not spec_file.exists():
        return ["meta/argument_specs.yml is missing"] if defaults else []
    options = (_yaml(spec_file)["argument_specs"]["main"].get("options") or {})
    problems = [f"{name}: in defaults/main.yml, not in the argument specs" for name in defaults if name not in options]
    problems += [f"{name}: in the argument specs, not in defaults/main.yml"
                 for name, opt in options.items() if name not in defaults and "default" in opt]
    for name, value in (defaults or {}).items():
        if name in options:
            if options[name].get("default") != value:
                problems.append(f"{name}: default {options[name].get('default')!r} != {value!r} of defaults/main.yml")
            if not options[name].get("description"):
                problems.append(f"{name}: no description")
    return problems


def concern_problems(role_dir: Path) -> list[str]:
    role = role_dir.name
    defaults = _yaml(role_dir / "defaults" / "main.yml") if (role_dir / "defaults" / "main.yml").exists() else {}
    problems = []
    for task in _yaml(role_dir / "tasks" / "main.yml") or []:
        imported = task.get("ansible.builtin.import_tasks")
        if not imported:
            continue
        concern = Path(imported).stem
        switch = f"{role}_{concern}_enabled"
        tags = set(task.get("tags") or [])
        if role not in tags or len(tags) < 2:
            problems.append(f"{imported}: tags {task.get('tags')} lack {role} and a tag of the concern")
        if concern not in ALWAYS_RUN:
            if task.get("when") != f"{switch} | bool":
                problems.append(f"{imported}: when is {task.get('when')!r}, not '{switch} | bool'")
            if (defaults or {}).get(switch) is not True:
                problems.append(f"{imported}: {switch} is not true in defaults/main.yml")
        if not (role_dir / "tasks" / imported).exists():
            problems.append(f"{imported}: no such task file")
    return problems


@pytest.mark.parametrize("role", ROLES)
def test_argument_specs_mirror_the_defaults(role: str) -> None:
    assert spec_problems(REPO / "roles" / role) == []


@pytest.mark.parametrize("role", ROLES)
def test_every_concern_has_a_switch_and_tags(role: str) -> None:
    assert concern_problems(REPO / "roles" / role) == []


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")


def test_a_role_that_breaks_the_conventions_is_named(tmp_path: Path) -> None:
    role = tmp_path / "demo"
    _write(role / "defaults" / "main.yml", {"demo_web_enabled": True, "demo_port": 80, "demo_only_here": 1})
    _write(role / "meta" / "argument_specs.yml", {"argument_specs": {"main": {"options": {
        "demo_web_enabled": {"type": "bool", "default": True, "description": "switch"},
        "demo_port": {"type": "int", "default": 8080, "description": "port"}}}}})
    _write(role / "tasks" / "main.yml", [
        {"name": "Web", "ansible.builtin.import_tasks": "web.yml", "when": "demo_web_enabled | bool",
         "tags": ["demo", "demo_web"]},
        {"name": "Db", "ansible.builtin.import_tasks": "db.yml", "tags": ["demo"]}])
    (role / "tasks" / "web.yml").write_text("---\n[]\n", encoding="utf-8")
    assert spec_problems(role) == ["demo_only_here: in defaults/main.yml, not in the argument specs",
                                   "demo_port: default 8080 != 80 of defaults/main.yml"]
    assert concern_problems(role) == ["db.yml: tags ['demo'] lack demo and a tag of the concern",
                                      "db.yml: when is None, not 'demo_db_enabled | bool'",
                                      "db.yml: demo_db_enabled is not true in defaults/main.yml",
                                      "db.yml: no such task file"]
