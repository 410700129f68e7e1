"""Real Linux firewalls (sshd + nftables in network namespaces) driven over Netmiko `linux`."""

from __future__ import annotations

import functools
import time

from harness.netns import sh

from conftest import context, firewall_device
from egov.network import ops
from egov.network.archive import Archive
from egov.network.runner import run_all

HOST_TABLE = "table inet host_firewall {\n chain input {\n  type filter hook input priority filter; policy accept;\n" \
             "  tcp dport 22 accept\n }\n}\n"


def run(ctx, device, op):
    return run_all([device], functools.partial(ops.TASKS[op], ctx), 1, 0)[0]


def listing(fw_ns: str) -> str:
    return sh("nft", "list", "ruleset", ns=fw_ns).stdout


def test_push_verify_idempotent_and_host_table_kept(province, creds, fw_lab, tmp_path):
    device = firewall_device(province, fw_lab, province.site("942").firewall_name, 0)
    ns = fw_lab.firewalls[-1].netns
    (tmp_path / "host.nft").write_text(HOST_TABLE)
    sh("nft", "-f", str(tmp_path / "host.nft"), ns=ns)
    ctx = context(province, creds)
    assert run(ctx, device, "push").status == "changed"
    assert run(ctx, device, "verify").status == "verified"
    assert run(ctx, device, "push").status == "unchanged"
    ruleset = listing(ns)
    assert "table inet host_firewall" in ruleset and "table inet egov_policy" in ruleset


def test_dc_firewall_policy_applies(province, creds, fw_lab):
    device = firewall_device(province, fw_lab, "dc-fw-01", 1)
    ctx = context(province, creds)
    assert run(ctx, device, "push").status in ("changed", "unchanged")
    assert run(ctx, device, "verify").status == "verified"


def test_policy_cutting_the_controller_off_reverts_by_itself(province, creds, fw_lab):
    name = province.site("31570").firewall_name
    device = firewall_device(province, fw_lab, name, 2)
    ctx = context(province, creds, confirm_timeout=6)
    first = run(ctx, device, "push")
    assert first.status == "changed", first
    before = listing(fw_lab.firewalls[-1].netns)
    locked = firewall_device(province, fw_lab, name, 2, management_net="10.250.99.0/24")   # not the controller
    started = time.monotonic()
    result = run(ctx, locked, "push")
    assert result.failed and result.error_kind == "reverted", result
    assert time.monotonic() - started < 30
    assert listing(fw_lab.firewalls[-1].netns) == before          # the previous policy is back
    assert run(ctx, device, "verify").status == "verified"


def test_ruleset_rejected_by_nft_check_applies_nothing(province, creds, fw_lab, network_copy):
    name = province.site("942").firewall_name
    device = firewall_device(province, fw_lab, name, 0)
    ns = next(f.netns for f in fw_lab.firewalls if f.name == name)
    ctx = context(province, creds)
    run(ctx, device, "push")
    before = listing(ns)
    template = network_copy / "templates" / "linux" / "firewall.nft.j2"
    template.write_text(template.read_text().replace("ct state invalid drop", "ct state invalid frobnicate"))
    result = run(context(province, creds, network_dir=network_copy), device, "push")
    assert result.failed and result.error_kind == "rejected-command", result
    assert "nothing applied" in result.message
    assert listing(ns) == before


def test_drift_and_rollback(province, creds, fw_lab, tmp_path):
    name = province.site("942").firewall_name
    device = firewall_device(province, fw_lab, name, 0)
    ns = next(f.netns for f in fw_lab.firewalls if f.name == name)
    ctx = context(province, creds, archive=Archive(tmp_path / "archive"))
    ctx.archive.ensure()
    run(ctx, device, "push")
    assert run(ctx, device, "backup").status == "backed-up"
    tag = ctx.archive.commit([name], "before change")
    sh("nft", "add", "rule", "inet", "egov_policy", "forward", "tcp", "dport", "6667", "accept", ns=ns)
    drift = run(ctx, device, "drift")
    assert drift.status == "drift" and any("6667" in line for line in drift.changes)
    ctx.rollback_ref = tag
    assert run(ctx, device, "rollback").status == "rolled-back"
    assert "6667" not in listing(ns)
    assert run(ctx, device, "drift").status == "in-sync"


def test_unreachable_firewall(province, creds, fw_lab):
    import dataclasses
    device = firewall_device(province, fw_lab, province.site("942").firewall_name, 0)
    gone = dataclasses.replace(device, host="10.250.200.250")       # inside our /24, nobody there
    result = run(context(province, creds, timeout=2), gone, "diff")
    assert result.failed and result.error_kind == "unreachable"
