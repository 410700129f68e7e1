"""Real SSH sessions (Netmiko cisco_ios) against emulated IOS switches (fake-switches + harness)."""

from __future__ import annotations

import dataclasses
import functools

from conftest import context, switch_devices
from egov.network import ops
from egov.network.archive import Archive
from egov.network.runner import run_all


def run(ctx, devices, op, workers=4, retries=0):
    return {r.device: r for r in run_all(devices, functools.partial(ops.TASKS[op], ctx), workers, retries)}


def test_push_then_second_push_changes_nothing(province, creds, switch_farm):
    names = ["dc-sw-01", *(province.site(c).switch_name for c in ("942", "31570"))]
    devices = switch_devices(province, switch_farm, names)
    ctx = context(province, creds)
    first = run(ctx, devices, "push")
    assert all(r.status in ("changed", "unchanged") for r in first.values()), first
    verified = run(ctx, devices, "verify")
    assert {r.status for r in verified.values()} == {"verified"}, verified
    second = run(ctx, devices, "push")
    assert {r.status for r in second.values()} == {"unchanged"}, second


def test_drift_detected_and_rollback_restores_backup(province, creds, switch_farm, tmp_path):
    device = switch_devices(province, switch_farm, [province.site("942").switch_name])[0]
    ctx = context(province, creds, archive=Archive(tmp_path / "archive"))
    ctx.archive.ensure()
    assert run(ctx, [device], "push")[device.name].status in ("changed", "unchanged")
    assert run(ctx, [device], "backup")[device.name].status == "backed-up"
    tag = ctx.archive.commit([device.name], "test backup")
    # someone changes the switch by hand: a rogue VLAN and a moved port
    driver = ctx.driver(device)
    with driver.session() as conn:
        conn.send_config_set(["vlan 777", " name rogue", "exit", "interface FastEthernet0/3",
                              " switchport access vlan 50", "exit"])
    drifted = run(ctx, [device], "drift")[device.name]
    assert drifted.status == "drift"
    assert any("vlan 777" in line for line in drifted.changes)
    ctx.rollback_ref = tag
    rolled = run(ctx, [device], "rollback")[device.name]
    assert rolled.status == "rolled-back", rolled
    assert "no vlan 777" in rolled.changes
    assert run(ctx, [device], "drift")[device.name].status == "in-sync"


def test_unknown_platform(province, creds, switch_farm):
    base = switch_devices(province, switch_farm, [province.site("942").switch_name])[0]
    device = dataclasses.replace(base, platform="juniper_junos")
    result = run(context(province, creds), [device], "push")[device.name]
    assert result.failed and result.error_kind == "unknown-platform"
    assert "juniper_junos" in result.message


def test_template_error_is_reported_per_device(province, creds, switch_farm, network_copy):
    template = network_copy / "templates" / "cisco_ios" / "switch.j2"
    template.write_text(template.read_text() + "{{ no_such_variable.field }}\n")
    devices = switch_devices(province, switch_farm, [province.site("942").switch_name])
    result = run(context(province, creds, network_dir=network_copy), devices, "push")[devices[0].name]
    assert result.failed and result.error_kind == "template-error"
    assert "no_such_variable" in result.message


def test_rejected_command_and_other_devices_unaffected(province, creds, switch_farm, network_copy):
    template = network_copy / "templates" / "cisco_ios" / "switch.j2"
    template.write_text(template.read_text().replace("logging trap informational",
                                                     "logging trap informational\nfrobnicate the-switch now"))
    devices = switch_devices(province, switch_farm, ["sw-spare-a"])
    devices = [dataclasses.replace(d, site=province.site("942")) for d in devices]
    good = switch_devices(province, switch_farm, ["sw-spare-b"])
    good = [dataclasses.replace(d, site=province.site("31570")) for d in good]
    bad_ctx = context(province, creds, network_dir=network_copy)
    result = run(bad_ctx, devices, "push")["sw-spare-a"]
    assert result.failed and result.error_kind == "rejected-command", result
    assert "frobnicate" in result.message
    ok = run(context(province, creds), good, "push")["sw-spare-b"]
    assert not ok.failed, ok


def test_wrong_credentials_and_unreachable_are_isolated(province, creds, switch_farm):
    good, other = switch_devices(province, switch_farm, ["dc-sw-01", province.site("31570").switch_name])
    wrong = dataclasses.replace(other, vars={**other.vars, "password": "not-the-password"})
    closed = dataclasses.replace(good, name="sw-nowhere", host="127.0.0.1", port=9)
    results = run(context(province, creds, timeout=3), [good, wrong, closed], "verify", retries=1)
    assert results["sw-nowhere"].error_kind == "unreachable"
    assert results["sw-nowhere"].attempts == 2          # retried once
    assert results[other.name].error_kind == "wrong-credentials"
    assert results[other.name].attempts == 1            # never retried
    assert not results[good.name].failed, results[good.name]
