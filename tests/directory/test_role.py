"""Static checks of roles/directory (no lab): argument_specs mirror the defaults, the sync script compiles."""

from __future__ import annotations

import py_compile
from pathlib import Path

import yaml

from tests.conftest import REPO

ROLE = REPO / "roles" / "directory"


def test_argument_specs_mirror_defaults() -> None:
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    options = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    assert set(options) == set(defaults)
    for name, value in defaults.items():
        assert options[name]["default"] == value, name
        assert options[name]["description"], name


def test_every_concern_has_a_switch_and_a_tag() -> None:
    main = yaml.safe_load((ROLE / "tasks" / "main.yml").read_text())
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    for item in main[1:]:
        concern = Path(item["ansible.builtin.import_tasks"]).stem
        assert item["when"] == f"directory_{concern}_enabled | bool"
        assert f"directory_{concern}_enabled" in defaults
        assert f"directory_{concern}" in item["tags"]


def test_sync_script_compiles(tmp_path: Path) -> None:
    py_compile.compile(str(ROLE / "files" / "egov-ldap-sync"), cfile=str(tmp_path / "sync.pyc"), doraise=True)
