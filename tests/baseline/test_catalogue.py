"""The control catalogue itself (no lab needed): structure, coverage, consistency with the roles."""

import re

import pytest

from tests.baseline.catalogue import CONCERNS, controls, role_defaults
from tests.baseline.checks import CHECKS

ALL = controls()
TCVN = {"network", "server", "application", "data"}
SEVERITY = {"low", "medium", "high", "critical"}


def test_at_least_100_controls():
    assert len(ALL) >= 100


def test_ids_are_unique():
    ids = [c["id"] for c in ALL]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("control", ALL, ids=[c["id"] for c in ALL])
def test_control_is_complete(control):
    assert re.fullmatch(r"[A-Z]+-\d{3}", control["id"])
    assert control["title"]
    assert re.fullmatch(r"\d+(\.\d+)*", str(control["cis"])), "CIS Debian 12 section"
    assert control["tcvn"] in TCVN
    assert control["severity"] in SEVERITY
    assert control["concern"] in CONCERNS
    assert control["check"]["type"] in CHECKS
    waiver = control["waiver"]
    assert isinstance(waiver["waived"], bool)
    if waiver["waived"]:
        assert len(waiver.get("justification", "")) > 40, "a waiver needs a written justification"
    if (control.get("container") or {}).get("not_applicable"):
        assert control["container"]["reason"]


def test_every_concern_has_a_test_module():
    from pathlib import Path

    here = Path(__file__).parent
    for concern in CONCERNS:
        assert (here / f"test_{concern}.py").exists()
        assert controls(concern), f"no control for {concern}"


def _by_id():
    return {c["id"]: c for c in ALL}


def test_sysctl_values_match_os_hardening():
    d = role_defaults("os_hardening")
    items = (
        d["os_hardening_sysctl_network"]
        + d["os_hardening_sysctl_host_only"]
        + d["os_hardening_sysctl_router_only"]
        + d["os_hardening_sysctl_kernel"]
    )
    by_id = _by_id()
    for item in items:
        check = by_id[item["control"]]["check"]
        assert (check["key"], str(check["value"])) == (item["key"], item["value"]), item["control"]
    sysctl_ids = {c["id"] for c in ALL if c["check"]["type"] == "sysctl"}
    assert sysctl_ids == {i["control"] for i in items}


def test_kernel_wide_sysctls_are_not_applicable_in_containers():
    for c in ALL:
        if c["check"].get("kernel_wide"):
            assert c["container"]["not_applicable"], c["id"]


def test_modules_match_os_hardening():
    d = role_defaults("os_hardening")
    by_id = _by_id()
    for item in d["os_hardening_disabled_modules"]:
        assert by_id[item["control"]]["check"]["name"] == item["name"]


def test_sshd_settings_match_ssh_hardening():
    d = role_defaults("ssh_hardening")
    by_id = _by_id()
    literal = {
        "ssh_hardening_ciphers": d["ssh_hardening_ciphers"],
        "ssh_hardening_macs": d["ssh_hardening_macs"],
        "ssh_hardening_kex": d["ssh_hardening_kex"],
        "ssh_hardening_allow_group": d["ssh_hardening_allow_group"],
    }
    for item in d["ssh_hardening_settings"]:
        value = str(item["value"])
        m = re.fullmatch(r"\{\{ (\w+) \}\}", value)
        if m:
            value = literal[m[1]]
        check = by_id[item["control"]]["check"]
        assert check["key"] == item["key"].lower(), item["control"]
        assert str(check["value"]) == value, item["control"]


