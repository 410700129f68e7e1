"""Tests of the tests: the `command` check fails when the command itself fails (no lab needed).

A fake testinfra-like host returns a scripted result, or runs the catalogue's real command in a
local /bin/sh against a deliberately broken tree (a missing file, a command not found).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.baseline.catalogue import InventoryHost, controls
from tests.baseline.checks import LabHost, check_command, check_nft_ssh

COMMANDS = [c for c in controls() if c["check"]["type"] == "command"]


@dataclass
class Result:
    rc: int
    stdout: str = ""
    stderr: str = ""


class FakeBackend:
    """Answers `run` like testinfra; `systemd-detect-virt` says 'not a container'."""

    def __init__(
        self, result: Result | None = None, env: dict[str, str] | None = None, rewrite: tuple[str, str] | None = None
    ) -> None:
        self.result = result
        self.env = env
        self.rewrite = rewrite

    def run(self, cmd: str) -> Result:
        if cmd.startswith("systemd-detect-virt"):
            return Result(1, "none\n")
        if self.result is not None:
            return self.result
        if self.rewrite:
            cmd = cmd.replace(*self.rewrite)
        done = subprocess.run(["/bin/sh", "-c", cmd], capture_output=True, text=True, env=self.env, check=False)
        return Result(done.returncode, done.stdout, done.stderr)


def lab(backend: FakeBackend) -> LabHost:
    return LabHost("fake-01", backend, InventoryHost("fake-01", {"linux"}, {}))


def control(check: dict[str, Any]) -> dict[str, Any]:
    return {"id": "TST-001", "check": {"type": "command", **check}}


@pytest.mark.parametrize(
    ("result", "why"),
    [
        (Result(127, "", "sh: 1: nosuchtool: not found"), "command not found"),
        (Result(126, "", "sh: 1: /usr/sbin/x: Permission denied"), "permission denied"),
        (Result(2, "", "grep: /etc/sudoers: Permission denied"), "grep error"),
    ],
)
def test_stdout_empty_fails_when_the_command_fails(result: Result, why: str) -> None:
    with pytest.raises(AssertionError, match=rf"exited {result.rc}"):
        check = {"cmd": "x", "stdout_empty": True}
        check_command(lab(FakeBackend(result)), control(check), check)


def test_grep_no_match_is_a_documented_success() -> None:
    check = {"cmd": "grep x /f", "ok_rc": [0, 1], "stdout_empty": True}
    check_command(lab(FakeBackend(Result(1))), control(check), check)


def test_grep_error_fails_even_with_ok_rc_0_1() -> None:
    check = {"cmd": "grep x /f", "ok_rc": [0, 1], "stdout_empty": True}
    with pytest.raises(AssertionError, match="exited 2"):
        check_command(lab(FakeBackend(Result(2, "", "grep: /f: No such file or directory"))), control(check), check)


def test_default_ok_rc_is_zero_only() -> None:
    check = {"cmd": "x", "stdout_empty": True}
    with pytest.raises(AssertionError, match="exited 1"):
        check_command(lab(FakeBackend(Result(1))), control(check), check)


def test_no_catalogue_command_swallows_its_exit_code() -> None:
    swallowing = [c["id"] for c in COMMANDS if re.search(r"\|\|\s*(true|:)\s*$|;\s*(true|:)\s*$", c["check"]["cmd"])]
    assert not swallowing, f"commands ending in `|| true`: {swallowing}"


def test_ok_rc_lists_are_integers_and_never_all_codes() -> None:
    for c in COMMANDS:
        ok = c["check"].get("ok_rc", [0])
        assert all(isinstance(rc, int) for rc in ok), c["id"]
        assert not {2, 126, 127} & set(ok), f"{c['id']} accepts an error exit code: {ok}"


def _by_id(cid: str) -> dict[str, Any]:
    return next(c for c in COMMANDS if c["id"] == cid)


@pytest.mark.parametrize("cid", ["ACC-025", "SUDO-005", "BAN-003", "HFW-009"])
def test_real_grep_command_on_missing_files_fails(cid: str, tmp_path: Path) -> None:
    """The catalogue's real grep against files that do not exist (grep rc 2) must fail the check."""
    c = _by_id(cid)
    backend = FakeBackend(rewrite=("/etc/", f"{tmp_path}/nonexistent/"))
    with pytest.raises(AssertionError, match="exited 2"):
        check_command(lab(backend), c, c["check"])


def test_real_apt_config_command_not_found_fails(tmp_path: Path) -> None:
    """UPD-005 with apt-config missing (rc 127 inside the pipe) must fail, not print nothing and pass."""
    c = _by_id("UPD-005")
    backend = FakeBackend(env={"PATH": str(tmp_path)})
    with pytest.raises(AssertionError, match="exited 3"):
        check_command(lab(backend), c, c["check"])


def test_real_apt_config_no_match_passes(tmp_path: Path) -> None:
    """A working apt-config without the insecure options: grep rc 1, nothing printed: pass."""
    fake = tmp_path / "apt-config"
    fake.write_text("#!/bin/sh\necho 'APT::Get::AllowUnauthenticated \"false\";'\n")
    fake.chmod(0o755)
    c = _by_id("UPD-005")
    check_command(lab(FakeBackend(env={"PATH": f"{tmp_path}:/usr/bin:/bin"})), c, c["check"])


def test_real_apt_config_insecure_option_fails(tmp_path: Path) -> None:
    fake = tmp_path / "apt-config"
    fake.write_text("#!/bin/sh\necho 'APT::Get::AllowUnauthenticated \"true\";'\n")
    fake.chmod(0o755)
    c = _by_id("UPD-005")
    with pytest.raises(AssertionError, match="printed"):
        check_command(lab(FakeBackend(env={"PATH": f"{tmp_path}:/usr/bin:/bin"})), c, c["check"])


@pytest.mark.parametrize("cid", ["ACC-011", "ACC-012", "ACC-013"])
def test_real_pipeline_keeps_the_first_commands_failure(cid: str, tmp_path: Path) -> None:
    """`cut /etc/passwd | sort | uniq -d` printed nothing (pass) when cut failed; now it exits 3."""
    c = _by_id(cid)
    backend = FakeBackend(rewrite=("/etc/", f"{tmp_path}/nonexistent/"))
    with pytest.raises(AssertionError, match="exited 3"):
        check_command(lab(backend), c, c["check"])


@pytest.mark.parametrize("cid", ["FS-015", "FS-016", "FS-017", "LOG-010"])
def test_real_find_pipeline_keeps_finds_failure(cid: str, tmp_path: Path) -> None:
    """`find ... 2>/dev/null | head -5` exited with head's 0 whatever find did; now with find's."""
    c = _by_id(cid)
    backend = FakeBackend(rewrite=("find /", f"find {tmp_path}/nonexistent/"))
    with pytest.raises(AssertionError, match="exited 1"):
        check_command(lab(backend), c, c["check"])


def test_no_stdout_empty_pipeline_hides_its_first_command() -> None:
    """A `stdout_empty` command piped straight into another loses the first one's exit code."""
    hiding = []
    for c in COMMANDS:
        cmd = c["check"]["cmd"]
        if c["check"].get("stdout_empty") and "|" in cmd.split("'")[0] and not re.match(r"^\w+=\$\(", cmd):
            hiding.append(c["id"])
    assert not hiding, f"stdout_empty pipelines that hide a failure: {hiding}"


def nft_lab(table: str) -> LabHost:
    host = lab(FakeBackend(Result(0, table)))
    host.inv.vars["province_dc_segments"] = {"management": {"prefix": "10.94.0.0/24"}}
    return host


GUARD = 'ip saddr @ssh_guard tcp dport 22 accept comment "ssh: the controller (lockout guard)"\n'


@pytest.mark.parametrize("sources", ["10.94.0.0/24", "10.94.0.0/22", "{ 10.94.8.0/24, 10.94.0.0/23 }"])
def test_nft_ssh_accepts_a_rule_covering_the_management_segment(sources: str) -> None:
    check_nft_ssh(nft_lab(GUARD + f'ip saddr {sources} tcp dport 22 accept comment "ssh"\n'), {}, {})


@pytest.mark.parametrize("sources", ["10.94.1.0/24", "10.94.0.0/25", "{ 10.94.0.1, 10.94.2.0/24 }"])
def test_nft_ssh_refuses_a_rule_not_covering_the_management_segment(sources: str) -> None:
    with pytest.raises(AssertionError, match=re.escape("no ssh rule admits 10.94.0.0/24")):
        check_nft_ssh(nft_lab(GUARD + f'ip saddr {sources} tcp dport 22 accept comment "ssh"\n'), {}, {})


def test_nft_ssh_requires_the_lockout_guard() -> None:
    with pytest.raises(AssertionError, match="lockout guard"):
        check_nft_ssh(nft_lab('ip saddr 10.94.0.0/24 tcp dport 22 accept comment "ssh"\n'), {}, {})
