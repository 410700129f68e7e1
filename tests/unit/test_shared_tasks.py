"""Tasks written once and reused (issue 11, section 4): the apt log fix, the restart guard, the
front ends' /etc/hosts, certificate and site tasks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

ROLES = REPO / "roles"
# roles/oss_app keeps its own restart guard for now (another developer's role; see issue 11)
OWN_GUARD_PENDING = {"oss_app"}
APT_LOG_FIX = re.compile(r"/var/log/apt\b")
OWN_GUARD = re.compile(r"\b(?:ExecMainStartTimestamp|ActiveEnterTimestamp)\b")


def _task_files() -> list[Path]:
    return sorted(ROLES.glob("*/tasks/*.yml"))


def _offenders(pattern: re.Pattern[str], files: list[Path], allowed: set[str]) -> list[str]:
    return [f"{p.relative_to(REPO)}" for p in files
            if p.parts[-3] not in allowed and pattern.search(p.read_text(encoding="utf-8"))]


def test_only_os_hardening_keeps_apt_logs_private() -> None:
    """Its DPkg::Post-Invoke hook runs after apt closed its logs: no role needs its own chmod."""
    assert not _offenders(APT_LOG_FIX, _task_files(), {"os_hardening"})


def test_only_base_ships_a_restart_guard() -> None:
    """Roles call egov-restart-stale (roles/base/files) instead of comparing start times themselves."""
    assert not _offenders(OWN_GUARD, _task_files(), OWN_GUARD_PENDING)


def test_the_scans_name_a_copy(tmp_path: Path) -> None:
    copy = tmp_path / "roles" / "demo" / "tasks" / "packages.yml"
    copy.parent.mkdir(parents=True)
    copy.write_text("- ansible.builtin.command: find /var/log/apt -type f -exec chmod o-rwx {} +\n"
                    "- ansible.builtin.shell: systemctl show -p ExecMainStartTimestamp --value x\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("tests.unit.test_shared_tasks.REPO", tmp_path)
        assert _offenders(APT_LOG_FIX, [copy], {"os_hardening"}) == ["roles/demo/tasks/packages.yml"]
        assert _offenders(OWN_GUARD, [copy], set()) == ["roles/demo/tasks/packages.yml"]
        assert _offenders(OWN_GUARD, [copy], {"demo"}) == []


SHARED = {"hosts.yml": "site_hosts.yml", "certificates.yml": "site_certificate.yml", "nginx.yml": "site.yml"}


@pytest.mark.parametrize("role", ["sso", "webmail"])
@pytest.mark.parametrize("concern", sorted(SHARED))
def test_the_front_ends_import_the_shared_tasks(role: str, concern: str) -> None:
    tasks = yaml.safe_load((ROLES / role / "tasks" / concern).read_text(encoding="utf-8"))
    imports = [t["ansible.builtin.import_role"] for t in tasks if "ansible.builtin.import_role" in t]
    assert imports == [{"name": "nginx_base", "tasks_from": SHARED[concern]}]
    modules = {k for t in tasks for k in t if k.startswith("ansible.builtin.")}
    assert not modules & {"ansible.builtin.blockinfile", "ansible.builtin.include_role", "ansible.builtin.file"}, \
        "a copy of a shared task is back"


@pytest.mark.parametrize("entry", ["site_hosts", "site_certificate", "site"])
def test_every_shared_parameter_is_set_by_both_front_ends(entry: str) -> None:
    specs = yaml.safe_load((ROLES / "nginx_base" / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    required = {name for name, opt in specs["argument_specs"][entry]["options"].items() if opt.get("required")}
    concern = next(c for c, f in SHARED.items() if f == f"{entry}.yml")
    for role in ("sso", "webmail"):
        tasks = yaml.safe_load((ROLES / role / "tasks" / concern).read_text(encoding="utf-8"))
        given = {k for t in tasks if "ansible.builtin.import_role" in t for k in t.get("vars", {})}
        assert given == required, (role, concern)
    text = (ROLES / "nginx_base" / "tasks" / f"{entry}.yml").read_text(encoding="utf-8")
    assert set(re.findall(r"\bnginx_base_site_\w+", text)) == required, "spec and task file name the same parameters"
