"""Task-level bounds in the roles (issue 12, section 1), checked statically (no lab):

- Ansible applies a task's `timeout:` to each attempt of an `until`/`retries` loop separately (and an
  attempt it ends is not retried), so a bound computed from the number of retries is the sum mistake:
  each attempt could then run for the whole sum;
- every task of role `directory` that talks to slapd through the community.general LDAP modules has a
  task-level `timeout:` (the modules have no time limit of their own).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

LDAP_MODULES = ("community.general.ldap_attrs", "community.general.ldap_entry", "community.general.ldap_search",
                "community.general.ldap_passwd")


def tasks_of(data: Any) -> Iterator[dict[str, Any]]:
    """Every task of a task file, inside blocks too."""
    for task in data or []:
        if not isinstance(task, dict):
            continue
        yield task
        for key in ("block", "rescue", "always"):
            yield from tasks_of(task.get(key))


def retry_bound_problems(tasks: list[dict[str, Any]]) -> list[str]:
    """Tasks whose `timeout:` is computed from their retries (it bounds one attempt, not their sum)."""
    return [f"{task.get('name')}: timeout {task['timeout']!r} is computed from the retries; it bounds each attempt"
            for task in tasks
            if "timeout" in task and ("retries" in task or "until" in task) and "retries" in str(task["timeout"])]


def ldap_bound_problems(tasks: list[dict[str, Any]]) -> list[str]:
    return [f"{task.get('name')}: an LDAP module task without a task-level timeout" for task in tasks
            if any(module in task for module in LDAP_MODULES) and "timeout" not in task]


def role_task_files(role: str = "*") -> list[Path]:
    return sorted(REPO.glob(f"roles/{role}/tasks/*.yml")) + sorted(REPO.glob(f"roles/{role}/handlers/*.yml"))


def load(path: Path) -> list[dict[str, Any]]:
    return list(tasks_of(yaml.safe_load(path.read_text(encoding="utf-8"))))


@pytest.mark.parametrize("path", role_task_files(), ids=lambda p: str(p.relative_to(REPO / "roles")))
def test_no_task_bound_is_the_sum_of_its_attempts(path: Path) -> None:
    assert retry_bound_problems(load(path)) == []


@pytest.mark.parametrize("path", role_task_files("directory"), ids=lambda p: p.name)
def test_every_ldap_task_of_the_directory_is_bounded(path: Path) -> None:
    assert ldap_bound_problems(load(path)) == []


def test_the_checks_flag_what_they_are_for() -> None:
    summed = {"name": "Apt | update", "ansible.builtin.shell": "apt-get update", "until": "r.rc == 0",
              "retries": "{{ base_apt_update_retries | int }}",
              "timeout": "{{ (base_apt_update_attempt_timeout | int + 15) * (base_apt_update_retries | int + 1) }}"}
    per_attempt = summed | {"timeout": "{{ base_apt_update_attempt_timeout | int + 40 }}"}
    assert retry_bound_problems([summed]) == ["Apt | update: timeout '{{ (base_apt_update_attempt_timeout | int "
                                              "+ 15) * (base_apt_update_retries | int + 1) }}' is computed from the "
                                              "retries; it bounds each attempt"]
    assert retry_bound_problems([per_attempt]) == []
    unbounded = {"name": "ACL", "community.general.ldap_attrs": {"dn": "cn=config"}}
    assert ldap_bound_problems([unbounded]) == ["ACL: an LDAP module task without a task-level timeout"]
    assert ldap_bound_problems([unbounded | {"timeout": 60}]) == []
    nested = [{"name": "outer", "block": [unbounded]}]
    assert ldap_bound_problems(list(tasks_of(nested))) == ["ACL: an LDAP module task without a task-level timeout"]
