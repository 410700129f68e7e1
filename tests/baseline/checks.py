"""Check types of the catalogue (`check.type`), proving the EFFECTIVE state of a host.

Each check asserts; a control that cannot apply (container, scope, waiver) is SKIPPED with the
reason, never passed. Where a rendered file exists (sysctl.d, modprobe.d, audit rules), it is
checked everywhere before the effective part is skipped in a container.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from typing import Any

import pytest

from tests.baseline.catalogue import InventoryHost, playbook_vars, role_defaults, scope_reason, waiver_reason

SYSCTL_FILES = ("/etc/sysctl.d/60-egov-network.conf", "/etc/sysctl.d/61-egov-kernel.conf")


class LabHost:
    """A testinfra host plus cached effective state (sshd -T, nft ruleset ...)."""

    def __init__(self, name: str, backend: Any, inv: InventoryHost) -> None:
        self.name = name
        self.host = backend
        self.inv = inv

    def run(self, cmd: str) -> Any:
        return self.host.run(cmd)

    @functools.cached_property
    def is_container(self) -> bool:
        return self.host.run("systemd-detect-virt -c -q").rc == 0

    @functools.cached_property
    def virt(self) -> str:
        return self.host.run("systemd-detect-virt -c").stdout.strip()

    @functools.cached_property
    def sshd(self) -> dict[str, str]:
        out = self.host.run("/usr/sbin/sshd -T")
        assert out.rc == 0, f"sshd -T failed: {out.stderr}"
        values: dict[str, str] = {}
        for line in out.stdout.splitlines():
            key, _, value = line.partition(" ")
            values.setdefault(key.lower(), value.strip())
        return values

    @functools.cached_property
    def nft_table(self) -> str:
        out = self.host.run("nft list table inet host_firewall")
        return out.stdout if out.rc == 0 else ""

    def fmt(self, text: str, escape: bool = True) -> str:
        """Replace {var} by the host's inventory variable (regex-escaped)."""

        def sub(m: re.Match[str]) -> str:
            if m[1] not in self.inv.vars:
                return m[0]
            value = str(self.inv.vars[m[1]])
            return re.escape(value) if escape else value

        return re.sub(r"\{([a-z_]+)\}", sub, text)


def not_applicable(lab: LabHost, control: dict[str, Any]) -> str | None:
    if (control.get("container") or {}).get("not_applicable") and lab.is_container:
        return f"NOT APPLICABLE in a {lab.virt} container: {control['container']['reason']}"
    return None


def verify(lab: LabHost, control: dict[str, Any]) -> None:
    """Run the control's check on the host (assert / skip)."""
    for reason in (waiver_reason(control, lab.inv), scope_reason(control, lab.inv)):
        if reason:
            pytest.skip(reason)
    check = control["check"]
    handler = CHECKS[check["type"]]
    handler(lab, control, check)


# --------------------------------------------------------------------------------------- checks
def _skip_if_na(lab: LabHost, control: dict[str, Any]) -> None:
    reason = not_applicable(lab, control)
    if reason:
        pytest.skip(reason)


def check_sshd(lab: LabHost, control: dict[str, Any], check: dict[str, Any]) -> None:
    _skip_if_na(lab, control)
    actual = lab.sshd.get(check["key"])
    assert actual is not None, f"sshd -T has no {check['key']}"
    assert actual.lower() == str(check["value"]).lower(), f"sshd -T {check['key']} = {actual!r}"


def check_sysctl(lab: LabHost, control: dict[str, Any], check: dict[str, Any]) -> None:
    key, value = check["key"], str(check["value"])
    rendered = lab.run(f"grep -hE '^{re.escape(key)}\\s*=' {' '.join(SYSCTL_FILES)}").stdout.strip()
    assert rendered, f"{key} is not rendered in {SYSCTL_FILES}"
    assert rendered.split("=", 1)[1].strip() == value, f"rendered {rendered!r}, expected {value}"
    _skip_if_na(lab, control)
    actual = lab.run(f"sysctl -n {key}")
    assert actual.rc == 0, actual.stderr
    assert actual.stdout.strip() == value, f"sysctl -n {key} = {actual.stdout.strip()!r}"


def check_module(lab: LabHost, control: dict[str, Any], check: dict[str, Any]) -> None:
    name = check["name"]
    conf = lab.host.file("/etc/modprobe.d/egov-hardening.conf")
    assert conf.exists, "modprobe.d/egov-hardening.conf missing"
    assert re.search(rf"^install {re.escape(name)} /bin/false$", conf.content_string, re.M)
    assert re.search(rf"^blacklist {re.escape(name)}$", conf.content_string, re.M)
    _skip_if_na(lab, control)
    dry = lab.run(f"modprobe -n -v {name}")
    assert "install /bin/false" in dry.stdout, f"modprobe -n -v {name}: {dry.stdout or dry.stderr}"
    mod = name.replace("-", "_")
    assert lab.run(f"lsmod | grep -qw ^{mod}").rc != 0, f"{name} is loaded"


def check_mount(lab: LabHost, control: dict[str, Any], check: dict[str, Any]) -> None:
    _skip_if_na(lab, control)
    out = lab.run(f"findmnt -rn -o OPTIONS --mountpoint {check['path']}")
    assert out.rc == 0 and out.stdout.strip(), f"{check['path']} is not a separate mount"
    assert check["option"] in out.stdout.strip().split(","), f"{check['path']} options: {out.stdout.strip()}"


def check_file(lab: LabHost, control: dict[str, Any], check: dict[str, Any]) -> None:
    _skip_if_na(lab, control)
    f = lab.host.file(check["path"])
    if not f.exists:
        if check.get("optional"):
            pytest.skip(f"NOT APPLICABLE: {check['path']} does not exist (nothing to protect)")
        pytest.fail(f"{check['path']} does not exist")
    if "owner" in check:
        assert f.user == check["owner"], f"{check['path']} owner {f.user}"
    if "group" in check:
        assert f.group == check["group"], f"{check['path']} group {f.group}"
    if "mode" in check:
        allowed = int(check["mode"], 8)
        assert f.mode & ~allowed == 0, f"{check['path']} mode {oct(f.mode)} is looser than {check['mode']}"


def check_file_regex(lab: LabHost, control: dict[str, Any], check: dict[str, Any]) -> None:
    _skip_if_na(lab, control)
    f = lab.host.file(check["path"])
    assert f.exists, f"{check['path']} does not exist"
    assert re.search(lab.fmt(check["regex"]), f.content_string, re.M), f"{check['path']} lacks /{check['regex']}/"


def command_ok_rc(check: dict[str, Any]) -> set[int]:
    """Exit codes a command check documents as success (`ok_rc`, default only 0).

    grep-style commands list 1 ("no match", the good outcome for `stdout_empty`); anything else
    (2 = grep error, 126 permission denied, 127 command not found ...) fails the check.
    """
    return {int(rc) for rc in check.get("ok_rc", [0])}


def check_command(lab: LabHost, control: dict[str, Any], check: dict[str, Any]) -> None:
    _skip_if_na(lab, control)
    out = lab.run(check["cmd"])
    stdout = out.stdout.strip()
    ok = command_ok_rc(check)
    assert out.rc in ok, (
        f"`{check['cmd']}` exited {out.rc} (documented: {sorted(ok)}): {(out.stderr or stdout).strip()[:500]}"
    )
    if check.get("stdout_empty"):
        assert stdout == "", f"`{check['cmd']}` printed: {stdout[:500]}"
    if "stdout_regex" in check:
        assert re.search(lab.fmt(check["stdout_regex"]), stdout, re.M), (
            f"`{check['cmd']}` printed {stdout[:500]!r}, expected /{check['stdout_regex']}/"
        )


def check_package(lab: LabHost, control: dict[str, Any], check: dict[str, Any]) -> None:
    _skip_if_na(lab, control)
    assert lab.host.package(check["name"]).is_installed, f"{check['name']} is not installed"
    for other in check.get("absent", []):
        assert not lab.host.package(other).is_installed, f"{other} is installed"


def check_package_absent(lab: LabHost, control: dict[str, Any], check: dict[str, Any]) -> None:
    _skip_if_na(lab, control)
    installed = [n for n in check["names"] if lab.host.package(n).is_installed]
    assert not installed, f"installed: {installed}"


def check_service(lab: LabHost, control: dict[str, Any], check: dict[str, Any]) -> None:
    _skip_if_na(lab, control)
    svc = lab.host.service(check["name"])
    if check.get("enabled"):
        assert svc.is_enabled, f"{check['name']} is not enabled"
    if check.get("running"):
        assert svc.is_running, f"{check['name']} is not running"


def check_audit_rule(lab: LabHost, control: dict[str, Any], check: dict[str, Any]) -> None:
    rules = lab.host.file("/etc/audit/rules.d/50-egov.rules")
    assert rules.exists, "audit rules not rendered"
    assert re.search(rf"-k {re.escape(check['key'])}$", rules.content_string, re.M), f"no rule keyed {check['key']}"
    _skip_if_na(lab, control)
    live = lab.run("auditctl -l")
    assert re.search(rf"(-k |key=){re.escape(check['key'])}\b", live.stdout), f"auditctl -l lacks {check['key']}"


def check_audit_immutable(lab: LabHost, control: dict[str, Any], check: dict[str, Any]) -> None:
    rules = lab.host.file("/etc/audit/rules.d/50-egov.rules")
    assert re.search(r"^-e 2$", rules.content_string, re.M), "rules do not end with -e 2"
    _skip_if_na(lab, control)
    assert "enabled 2" in lab.run("auditctl -s").stdout


def check_suid(lab: LabHost, control: dict[str, Any], check: dict[str, Any]) -> None:
    allow = set(role_defaults("os_hardening")["os_hardening_suid_allowlist"])
    found = set(lab.run("find / -xdev -type f -perm /6000 2>/dev/null").stdout.split())
    unexpected = sorted(p for p in found if p not in allow and not p.startswith("/proc/"))
    assert not unexpected, f"unreviewed SUID/SGID programs: {unexpected}"


def check_admins(lab: LabHost, control: dict[str, Any], check: dict[str, Any]) -> None:
    admins = playbook_vars("admins")["egov_admins"]
    assert admins, "no admins in playbooks/group_vars/all/admins.yml"
    for admin in admins:
        user = lab.host.user(admin["name"])
        assert user.exists, f"admin {admin['name']} missing"
        assert {"egov-admins", "sshusers"} <= set(user.groups), f"{admin['name']} groups {user.groups}"
        keys = lab.host.file(f"{user.home}/.ssh/authorized_keys")
        assert keys.exists and "ssh-ed25519 " in keys.content_string, f"{admin['name']} has no key"
        sudo = lab.run(f"sudo -l -U {admin['name']}").stdout
        assert "(ALL : ALL)" in sudo and "ALL" in sudo, f"{admin['name']} has no sudo: {sudo}"


def _expected_services(lab: LabHost) -> list[dict[str, Any]]:
    # generated from the model's listeners and flows (inventories/<env>/group_vars/all/services.yml)
    by_group = lab.inv.vars["host_firewall_services_by_group"]
    return [s for g, services in by_group.items() if g in lab.inv.groups for s in services]


def check_listeners(lab: LabHost, control: dict[str, Any], check: dict[str, Any]) -> None:
    allowed = {("tcp", "22")}
    for s in _expected_services(lab):
        for proto in s["proto"]:
            for port in s["ports"]:
                lo, _, hi = str(port).partition("-")
                for p in range(int(lo), int(hi or lo) + 1):
                    allowed.add((proto, str(p)))
    out = lab.run("ss -H -tuln").stdout
    bad = []
    for line in out.splitlines():
        cols = line.split()
        if len(cols) < 5:
            continue
        proto, local = cols[0], cols[4]
        addr, _, port = local.rpartition(":")
        if addr.startswith("127.") or addr in ("[::1]",) or addr.startswith("[::ffff:127."):
            continue
        if (proto, port) not in allowed:
            bad.append(f"{proto}/{local}")
    assert not bad, f"listening beyond the allowed services: {bad}"


def check_chrony_sources(lab: LabHost, control: dict[str, Any], check: dict[str, Any]) -> None:
    expected = {s for s in lab.inv.vars.get("province_ntp_servers", []) if s != lab.inv.vars.get("ansible_host")}
    out = lab.run("chronyc -n sources")
    assert out.rc == 0, f"chronyc: {out.stderr}"
    # Source lines start with the mode (^ server, = peer, # refclock) then the state; skip the ==== rule.
    sources = {line.split()[1] for line in out.stdout.splitlines() if line[:1] in "^=#" and line[:2] != "=="}
    assert sources == expected, f"chrony sources {sorted(sources)}, expected {sorted(expected)}"


def _log_tls_port(lab: LabHost) -> int:
    """The model's services.logs.listeners.syslog-tls (generated egov_service_ports)."""
    return int(lab.inv.vars["egov_service_ports"]["logs"]["syslog-tls"])


def check_rsyslog_forward(lab: LabHost, control: dict[str, Any], check: dict[str, Any]) -> None:
    log_host, port = lab.inv.vars["province_log_host"], _log_tls_port(lab)
    conf = lab.host.file("/etc/rsyslog.d/90-egov-forward.conf").content_string
    assert f'target="{log_host}"' in conf and 'StreamDriver="gtls"' in conf, "TLS forwarding not configured"
    out = lab.run(f"ss -Htn state established dst {log_host} dport = :{port}")
    assert out.stdout.strip(), f"no established TLS session to the log host {log_host}:{port}"


def check_rsyslog_receiver(lab: LabHost, control: dict[str, Any], check: dict[str, Any]) -> None:
    port = _log_tls_port(lab)
    listening = lab.run(f"ss -Hltn '( sport = :{port} or sport = :514 )'").stdout.strip()
    if "logs" in lab.inv.groups:
        assert listening, f"the DC log host does not listen on {port}/tcp"
    else:
        assert not listening, f"a non-log host receives syslog: {listening}"


def check_nft(lab: LabHost, control: dict[str, Any], check: dict[str, Any]) -> None:
    _skip_if_na(lab, control)
    assert lab.nft_table, "table inet host_firewall is not loaded"
    assert re.search(check["regex"], lab.nft_table), f"nft ruleset lacks /{check['regex']}/"


def _covers(element: str, net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    """True when an nft set element (address or prefix; not a named set) contains the whole of `net`."""
    try:
        return net.subnet_of(ipaddress.ip_network(element, strict=False))  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return False


GUARD_RULE = 'ip saddr @ssh_guard tcp dport 22 accept comment "ssh: the controller (lockout guard)"'


def check_nft_ssh(lab: LabHost, control: dict[str, Any], check: dict[str, Any]) -> None:
    """SSH from the DC management segment (the model's `to: dc` ssh flow) and the controller's guard."""
    table = lab.nft_table
    assert table, "table inet host_firewall is not loaded"
    mgmt = lab.inv.vars["province_dc_segments"]["management"]["prefix"]
    net = ipaddress.ip_network(mgmt)
    sources = [e.strip() for m in re.finditer(r'ip saddr (\{[^}]*\}|\S+) tcp dport 22 accept comment "ssh"', table)
               for e in m.group(1).strip("{}").split(",")]
    covering = [e for e in sources if _covers(e, net)]
    assert covering, f"no ssh rule admits {mgmt} (ssh sources: {sources}): {table}"
    assert GUARD_RULE in table, f"the controller's lockout guard is missing: {table}"


def check_nft_services(lab: LabHost, control: dict[str, Any], check: dict[str, Any]) -> None:
    table = lab.nft_table
    assert table, "table inet host_firewall is not loaded"
    expected = 0
    for s in _expected_services(lab):
        for proto in s["proto"]:
            expected += 1
            for port in s["ports"]:
                pat = rf"{proto} dport (\{{[^}}]*\b{port}\b[^}}]*\}}|{port}) accept comment \"{re.escape(s['name'])}\""
                assert re.search(pat, table), f"{s['name']} {proto}/{port} is not open"
    actual = len(re.findall(r"dport .* accept comment", table)) - table.count(GUARD_RULE)
    assert actual == expected, f"{actual} service rules, expected exactly {expected}"


CHECKS = {
    "sshd": check_sshd,
    "sysctl": check_sysctl,
    "module": check_module,
    "mount": check_mount,
    "file": check_file,
    "file_regex": check_file_regex,
    "command": check_command,
    "package": check_package,
    "package_absent": check_package_absent,
    "service": check_service,
    "audit_rule": check_audit_rule,
    "audit_immutable": check_audit_immutable,
    "suid": check_suid,
    "admins": check_admins,
    "listeners": check_listeners,
    "chrony_sources": check_chrony_sources,
    "rsyslog_forward": check_rsyslog_forward,
    "rsyslog_receiver": check_rsyslog_receiver,
    "nft": check_nft,
    "nft_ssh": check_nft_ssh,
    "nft_services": check_nft_services,
}
