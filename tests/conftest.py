"""Shared fixtures: a writable copy of the model for bad-input and generalisation tests."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
MODEL_DIR = REPO / "model"


def model_problems(model_dir: Path) -> list[str]:
    """Every problem loading model_dir/province.yml reports (the load must fail)."""
    from egov.model import ModelError, load_province

    with pytest.raises(ModelError) as info:
        load_province(model_dir / "province.yml")
    return [str(issue) for issue in info.value.issues]


def model_problem(model_dir: Path, *needles: str) -> str:
    """The first problem mentioning every needle (fails, listing them all, when none does)."""
    problems = model_problems(model_dir)
    found = [p for p in problems if all(n in p for n in needles)]
    assert found, f"no problem mentions {needles}: {problems}"
    return found[0]


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    """A copy of model/ (province.yml, allocations.yml, admin-units/) in a temporary directory."""
    target = tmp_path / "model"
    shutil.copytree(MODEL_DIR, target)
    return target


@pytest.fixture
def edit_yaml() -> Callable[[Path, Callable[[Any], None]], None]:
    def edit(path: Path, change: Callable[[Any], None]) -> None:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")

    return edit


@pytest.fixture
def edit_gso() -> Callable[[Path, Callable[[Any], None]], None]:
    def edit(model_dir: Path, change: Callable[[Any], None]) -> None:
        path = next((model_dir / "admin-units").glob("*.json"))
        data = json.loads(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")

    return edit


def run(argv: list[str], *, timeout: float = 120, check: bool = True, input: str | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A bounded command from the repository root; with check, a failure fails the test with its output."""
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input, cwd=REPO,
                          env={**os.environ, **(env or {})})
    if check and proc.returncode != 0:
        pytest.fail(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def lab_ssh_argv(address: str, command: str) -> list[str]:
    """ssh to a lab host as the admin account (run-time key, pinned host keys, bounded connect), the
    command run as root through one `sh -c`."""
    from egov import settings
    quoted = "'" + command.replace("'", "'\"'\"'") + "'"
    return ["ssh", "-i", str(settings.lab_ssh_key()), "-o", f"UserKnownHostsFile={settings.lab_known_hosts()}",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
            "-o", "ConnectTimeout=10", f"ansible@{address}", f"sudo sh -c {quoted}"]


def lab_ssh(address: str, command: str, *, check: bool = True,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """A root command on a lab host (:func:`lab_ssh_argv`), bounded."""
    return run(lab_ssh_argv(address, command), check=check, timeout=timeout)


def has_province_policy(address: str) -> bool:
    """Does the firewall at ``address`` enforce the province policy (`egov network push`) already?"""
    return lab_ssh(address, "nft list table inet egov_policy >/dev/null", check=False).returncode == 0


@contextlib.contextmanager
def province_policy_on(addresses: dict[str, str], firewalls: list[str]) -> Iterator[None]:
    """The province policy on these firewalls for the time of the block (real packets meet what
    production enforces); taken off again where it was not there before."""
    from egov import settings
    had = {fw: has_province_policy(addresses[fw]) for fw in firewalls}
    run(["egov", "network", "push", "--env", "lab", "--hosts-from", str(settings.lab_nodes_file()),
         *[arg for fw in firewalls for arg in ("--only", fw)], "--no-progress"], timeout=300)
    try:
        yield
    finally:
        for fw, present in had.items():
            if not present:
                lab_ssh(addresses[fw], "nft delete table inet egov_policy", check=False)


def lab_site_up(site: str, netns: str) -> None:
    """Skip unless root and the lab tooling are here; bring the DC and `site` up; its LAN client must exist."""
    if os.geteuid() != 0:
        pytest.skip("the lab needs root")
    missing = [c for c in ("egov", "ansible-playbook", "systemd-nspawn", "ssh", "ip") if shutil.which(c) is None]
    if missing:
        pytest.skip(f"lab tooling missing ({', '.join(missing)}): run `make deps`")
    run(["egov", "lab", "up", "--only", "dc", "--only", f"site:{site}"], timeout=900)
    if not Path(f"/run/netns/{netns}").exists():
        pytest.skip(f"the LAN client namespace {netns} is missing after `egov lab up`")
