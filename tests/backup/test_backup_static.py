"""Backup roles without the lab (issue 16): specs mirror defaults, declarations render, metrics, model.

The declaration cases run the real playbook with `--tags backup_client_assert`: argument validation,
the `group_by` of the hosts with declared sources and the assert run on the controller, no lab host.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import jinja2
import pytest
import yaml

from tests.conftest import REPO, model_problem

ROLES = {name: REPO / "roles" / name for name in ("backup_client", "backup_server")}
SCRIPT = ROLES["backup_client"] / "files" / "egov-backup"
GROUP_VARS = REPO / "playbooks" / "group_vars"
# the systems that exist and what they must back up (issue 16: directory, mail, DNS keys, CA state)
DECLARED = {"directory-01": "directory", "directory-02": "directory", "mail-01": "mail", "dns-01": "dns",
            "pki-01": "pki"}


def test_the_backup_roles_know_no_system() -> None:
    """What is backed up comes from the systems' declarations, never from the backup roles."""
    text = "\n".join(line for role in ROLES.values() for p in role.rglob("*")
                     if p.is_file() and "__pycache__" not in p.parts
                     for line in p.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("#"))
    for system_word in ("slapcat", "vmail", "/etc/bind", "egov-ca", "ldapadd", "soctrang"):
        assert system_word not in text, f"{system_word!r} in a backup role: declare it in the system's group_vars"


def declarations() -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(GROUP_VARS.glob("*/*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, value in data.items():
            if name.startswith("backup_client_sources_"):
                if isinstance(value, str):      # a conditional declaration: its list is beside it
                    value = next(v for k, v in data.items() if isinstance(v, list) and k in value)
                found[f"{path.parent.name}/{name}"] = value
    return found


def test_declarations_name_absolute_paths_once() -> None:
    found = declarations()
    assert {"directory", "mail", "dns", "pki"} <= {p.split("/")[0] for p in found}
    names = [src["name"] for sources in found.values() for src in sources]
    assert len(names) == len(set(names)), names
    for where, sources in found.items():
        for src in sources:
            assert src["paths"] and all(p.startswith(("/", "{{")) for p in src["paths"]), where
            assert set(src) <= {"name", "paths", "before", "verify", "restore", "exclude"}, where


ALL_LIMIT = ",".join(DECLARED) + ",mirror-01"


def playbook(*extra: str, tmp_path: Path, limit: str = ALL_LIMIT) -> subprocess.CompletedProcess[str]:
    if shutil.which("ansible-playbook") is None:
        pytest.skip("ansible-playbook missing: run `make deps`")
    return subprocess.run(
        ["ansible-playbook", "-i", str(REPO / "inventories" / "lab"), str(REPO / "playbooks" / "backup.yml"),
         "--limit", limit, "--tags", "backup_client_assert",
         "-e", f"egov_secrets_dir={tmp_path}", *extra],
        capture_output=True, text=True, timeout=300, cwd=REPO, env={**os.environ, "ANSIBLE_STRATEGY": "linear"})


def test_each_systems_declaration_renders_on_its_hosts(tmp_path: Path) -> None:
    proc = playbook(tmp_path=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    for host, source in DECLARED.items():
        assert f"backup sources of {host}: {source}\"" in out, out[-3000:]
    assert "backup sources of mirror-01" not in out     # nothing declared: not a backup client


def test_a_later_system_adds_its_backup_without_touching_the_role(tmp_path: Path) -> None:
    extra = json.dumps({"backup_client_sources_portal_uploads": [{"name": "uploads", "paths": ["/srv/uploads"]}]})
    proc = playbook("-e", extra, tmp_path=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'backup sources of mail-01: mail,uploads"' in out or 'backup sources of mail-01: uploads,mail"' in out
    assert "backup sources of mirror-01: uploads" in out     # a host with a declaration becomes a client


@pytest.mark.parametrize("bad", [
    {"backup_client_sources_x": [{"name": "Bad Name", "paths": ["/srv"]}]},
    {"backup_client_sources_x": [{"name": "rel", "paths": ["relative/path"]}]},
    {"backup_client_sources_x": [{"name": "mail", "paths": ["/srv"]}]},          # a second source `mail`
    {"backup_client_keep": {"daily": 0, "weekly": 0, "monthly": 0}},
])
def test_a_bad_declaration_fails_naming_the_variable(tmp_path: Path, bad: dict[str, Any]) -> None:
    proc = playbook("-e", json.dumps(bad), tmp_path=tmp_path, limit="mail-01")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-2000:]
    assert "backup_client_sources must be a non-empty list" in out, out[-3000:]


def render(template: str, **context: Any) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(ROLES["backup_client"] / "templates"),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["to_json"] = json.dumps
    env.filters["to_nice_json"] = lambda v, indent=4: json.dumps(v, indent=indent, sort_keys=True)
    return env.get_template(template).render(ansible_managed="test", **context)


def test_borgmatic_configuration_of_every_declaration_is_valid(tmp_path: Path) -> None:
    context = {"backup_client_repository": "ssh://borg@10.94.3.11/srv/borg/repos/mail-01",
               "backup_client_config_dir": "/etc/egov-backup", "backup_client_borg_rsh": "ssh -i key",
               "backup_client_compression": "zstd,3", "backup_client_lock_wait": 300,
               "backup_client_keep": {"daily": 7, "weekly": 0, "monthly": 6}}
    validator = shutil.which("validate-borgmatic-config")
    for sources in declarations().values():
        for src in sources:
            text = render("borgmatic.yaml.j2", item=src, **context)
            conf = yaml.safe_load(text)
            assert conf["location"]["source_directories"] == src["paths"]
            assert conf["storage"]["archive_name_format"].startswith(f"{src['name']}-")
            assert conf["retention"] == {"keep_daily": 7, "keep_monthly": 6, "prefix": f"{src['name']}-"}
            if validator:
                path = tmp_path / f"{src['name']}.yaml"
                path.write_text(text, encoding="utf-8")
                proc = subprocess.run([validator, "-c", str(path)], capture_output=True, text=True, timeout=60)
                assert proc.returncode == 0, proc.stdout + proc.stderr


def load_script() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("egov_backup", str(SCRIPT))
    spec = importlib.util.spec_from_loader("egov_backup", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    dont_write, sys.dont_write_bytecode = sys.dont_write_bytecode, True     # no __pycache__ in the role
    try:
        loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = dont_write
    return module


def test_results_are_prometheus_metrics_per_source(tmp_path: Path) -> None:
    module = load_script()
    config = {"repository": "ssh://x/r", "borg_rsh": "ssh", "passcommand": "cat p", "timeout_seconds": 60,
              "borgmatic_dir": str(tmp_path), "state_file": str(tmp_path / "state.json"),
              "lock_file": str(tmp_path / "lock"), "metrics_file": str(tmp_path / "prom" / "egov_backup.prom"),
              "drill_dir": str(tmp_path / "d"), "restore_dir": str(tmp_path / "r"),
              "sources": [{"name": "mail", "paths": ["/var/vmail"]}, {"name": "dns", "paths": ["/etc/bind"]}]}
    backup = module.Backup(config)
    backup.record("mail", last_run_success=1, last_success_timestamp_seconds=1764720000.5, last_size_bytes=12345)
    backup.record("dns", last_run_success=0)
    backup.record("mail", drill_success=1)
    backup.record("gone", last_run_success=1)       # not a source any more: dropped
    text = (tmp_path / "prom" / "egov_backup.prom").read_text(encoding="utf-8")
    assert 'egov_backup_last_run_success{system="mail"} 1\n' in text
    assert 'egov_backup_last_run_success{system="dns"} 0\n' in text
    assert 'egov_backup_last_success_timestamp_seconds{system="mail"} 1764720000\n' in text
    assert 'egov_restore_drill_success{system="mail"} 1\n' in text
    assert 'system="gone"' not in text
    assert "# TYPE egov_backup_last_size_bytes gauge" in text
    # the exposition format parses (every sample line: name{labels} value)
    for line in text.splitlines():
        if not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            float(value)
            assert name.startswith(("egov_backup_", "egov_restore_")) and name.endswith('"}')


def test_a_missing_source_path_fails_the_backup_and_is_recorded(tmp_path: Path) -> None:
    module = load_script()
    config = {"repository": "ssh://x/r", "borg_rsh": "ssh", "passcommand": "cat p", "timeout_seconds": 60,
              "borgmatic_dir": str(tmp_path), "state_file": str(tmp_path / "state.json"),
              "lock_file": str(tmp_path / "lock"), "metrics_file": str(tmp_path / "egov_backup.prom"),
              "drill_dir": str(tmp_path / "d"), "restore_dir": str(tmp_path / "r"),
              "sources": [{"name": "mail", "paths": [str(tmp_path / "no-such-dir")]}]}
    with pytest.raises(module.Failure, match=r"source path\(s\) missing"):
        module.Backup(config).run("mail")
    assert 'egov_backup_last_run_success{system="mail"} 0' in (tmp_path / "egov_backup.prom").read_text()


def test_the_models_backup_policy_is_in_the_inventory() -> None:
    province = yaml.safe_load((REPO / "inventories" / "lab" / "group_vars" / "all" / "province.yml").read_text())
    policy = province["province_backup_policy"]
    assert policy["schedule"] and policy["drill_schedule"] and max(policy["keep"].values()) > 0


def test_a_policy_keeping_nothing_is_a_model_problem(model_copy: Path,
                                                    edit_yaml: Callable[[Path, Callable[[Any], None]], None]) -> None:
    def keep_nothing(data: Any) -> None:
        data["services"]["backup"]["backup_policy"]["keep"] = {"daily": 0, "weekly": 0, "monthly": 0}

    edit_yaml(model_copy / "province.yml", keep_nothing)
    assert "keep at least one" in model_problem(model_copy, "backup_policy")


Edit = Callable[[Path, Callable[[Any], None]], None]


def test_a_policy_with_a_bad_schedule_is_a_model_problem(model_copy: Path, edit_yaml: Edit) -> None:
    def bad(data: Any) -> None:
        data["services"]["backup"]["backup_policy"]["schedule"] = "daily; rm -rf /"

    edit_yaml(model_copy / "province.yml", bad)
    model_problem(model_copy, "backup_policy", "schedule")
