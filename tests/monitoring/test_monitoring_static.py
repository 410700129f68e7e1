"""Roles monitoring and node_exporter without the lab (issue 16): specs mirror the defaults, the
configuration rendered from the inventory passes Debian's own checkers (promtool, amtool, the
blackbox exporter's --config.check) and a broken rule or config is refused by them, the targets are
the inventory's (a host added to the model is scraped and probed with no list edited), bad input
names the variable.

The checkers are the binaries of Debian 12's packages, unpacked into the venv by `make deps`
(`make monitoring-tools`); the role runs the same ones in `validate:` on the monitoring host.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

ROLES = {name: REPO / "roles" / name for name in ("monitoring", "node_exporter")}
RENDER = REPO / "tests" / "monitoring" / "render.yml"
FILES = ("prometheus.yml", "egov.rules.yml", "alertmanager.yml", "blackbox.yml")


def tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(str(REPO / ".venv" / "bin" / name))
    if found is None:
        pytest.skip(f"{name} missing: run `make monitoring-tools` (Debian 12's binaries into the venv)")
    return found


def render(out: Path, inventory: Path = REPO / "inventories" / "lab", *extra: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("ansible-playbook") is None:
        pytest.skip("ansible-playbook missing: run `make deps`")
    out.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        ["ansible-playbook", "-i", str(inventory), str(RENDER), "-e", f"monitoring_render_dir={out}",
         "-e", f"monitoring__rules_file={out / 'egov.rules.yml'}", *extra],
        capture_output=True, text=True, timeout=300, cwd=REPO)


def rendered(out: Path, inventory: Path = REPO / "inventories" / "lab") -> Path:
    proc = render(out, inventory)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    return out


def check(kind: str, path: Path) -> subprocess.CompletedProcess[str]:
    argv = {
        "rules": [tool("promtool"), "check", "rules", str(path)],
        "config": [tool("promtool"), "check", "config", str(path)],
        "alertmanager": [tool("amtool"), "check-config", str(path)],
        "blackbox": [tool("prometheus-blackbox-exporter"), "--config.check", f"--config.file={path}"],
    }[kind]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def lab_render(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rendered(tmp_path_factory.mktemp("render"))


def inventory_groups(inventory: Path) -> dict[str, list[str]]:
    """group -> its hosts (direct and through children) of a generated hosts.yml."""
    data = yaml.safe_load((inventory / "hosts.yml").read_text(encoding="utf-8"))
    flat: dict[str, dict[str, Any]] = {}

    def walk(name: str, node: Any) -> None:
        node = node or {}
        flat.setdefault(name, {"hosts": set(), "children": set()})
        flat[name]["hosts"] |= set(node.get("hosts") or {})
        for child, sub in (node.get("children") or {}).items():
            flat[name]["children"].add(child)
            walk(child, sub)

    for name, node in data.items():
        walk(name, node)

    def hosts(name: str) -> set[str]:
        entry = flat.get(name, {"hosts": set(), "children": set()})
        return set(entry["hosts"]).union(*(hosts(c) for c in entry["children"]))

    return {name: sorted(hosts(name)) for name in flat}


# --- the roles' shape ---------------------------------------------------------------------------

def test_every_live_config_is_validated_before_it_replaces_the_file() -> None:
    tasks = [t for f in (ROLES["monitoring"] / "tasks").glob("*.yml")
             for t in yaml.safe_load(f.read_text(encoding="utf-8")) or []]
    validated = {t["ansible.builtin.template"]["src"]: t["ansible.builtin.template"].get("validate", "")
                 for t in tasks if "ansible.builtin.template" in t}
    assert "promtool check rules" in validated["egov.rules.yml.j2"]
    assert "promtool check config" in validated["prometheus.yml.j2"]
    assert "amtool check-config" in validated["alertmanager.yml.j2"]
    assert "--config.check" in validated["blackbox.yml.j2"]


def test_no_port_or_province_literal_in_the_roles() -> None:
    province = yaml.safe_load((REPO / "inventories" / "lab" / "group_vars" / "all" / "province.yml")
                              .read_text(encoding="utf-8"))
    for role in ROLES.values():
        text = "\n".join(p.read_text(encoding="utf-8") for p in role.rglob("*") if p.is_file())
        assert province["province_domain"] not in text
        for port in ("993", "636", "587", "5432", "3306"):
            assert not re.search(rf"\b{port}\b", text), f"{role.name} hard-codes port {port}"


# --- the rendered configuration against Debian's checkers --------------------------------------

def test_rendered_configuration_passes_the_checkers(lab_render: Path) -> None:
    for kind, name in (("rules", "egov.rules.yml"), ("config", "prometheus.yml"),
                       ("alertmanager", "alertmanager.yml"), ("blackbox", "blackbox.yml")):
        proc = check(kind, lab_render / name)
        assert proc.returncode == 0, f"{name}: {proc.stdout}{proc.stderr}"
    rules = yaml.safe_load((lab_render / "egov.rules.yml").read_text(encoding="utf-8"))
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    assert {"HostDown", "ProbeFailed", "CertificateExpiringSoon", "DiskAlmostFull", "DiskFillingUp",
            "BackupStale", "RestoreDrillFailed"} <= alerts
    cert = next(r for g in rules["groups"] for r in g["rules"] if r["alert"] == "CertificateExpiringSoon")
    assert str(21 * 86400) in cert["expr"], cert["expr"]       # the 21 days


@pytest.mark.parametrize(("kind", "name", "breakage"), [
    ("rules", "egov.rules.yml", lambda t: t.replace('up{job="node"} == 0', 'up{job="node"} == ')),
    ("rules", "egov.rules.yml", lambda t: t.replace("for: 30s", "for: soon", 1)),
    ("rules", "egov.rules.yml", lambda t: t.replace("{{ $labels.host }}: the node", "{{ $labels.host: the node")),
    ("config", "prometheus.yml", lambda t: t.replace("scrape_interval: 5s", "scrape_interval: fast")),
    ("alertmanager", "alertmanager.yml", lambda t: t.replace("receiver: ops-mail", "receiver: nobody")),
    ("blackbox", "blackbox.yml", lambda t: t.replace('expect: "^220 "', 'expect: "^220 ("', 1)),
])
def test_a_broken_rule_or_config_is_refused(lab_render: Path, tmp_path: Path, kind: str, name: str,
                                            breakage: Callable[[str], str]) -> None:
    good = (lab_render / name).read_text(encoding="utf-8")
    bad = breakage(good)
    assert bad != good, "the breakage did not apply (the rendered file changed shape?)"
    target = tmp_path / name
    target.write_text(bad, encoding="utf-8")
    if kind == "config":        # the config names the rules file; keep it valid
        shutil.copy(lab_render / "egov.rules.yml", tmp_path / "egov.rules.yml")
        target.write_text(bad.replace(str(lab_render), str(tmp_path)), encoding="utf-8")
    proc = check(kind, target)
    assert proc.returncode != 0, f"{name} with a breakage was accepted:\n{proc.stdout}{proc.stderr}"


# --- targets from the inventory -----------------------------------------------------------------

def scrape_targets(prometheus_yml: Path) -> dict[str, list[dict[str, Any]]]:
    config = yaml.safe_load(prometheus_yml.read_text(encoding="utf-8"))
    return {job["job_name"]: [{"target": t, **sc.get("labels", {})} for sc in job["static_configs"]
                              for t in sc["targets"]] for job in config["scrape_configs"]}


def expected_probes(inventory: Path) -> set[tuple[str, str, str]]:
    services = yaml.safe_load((inventory / "group_vars" / "all" / "services.yml").read_text(encoding="utf-8"))
    defaults = yaml.safe_load((ROLES["monitoring"] / "defaults" / "main.yml").read_text(encoding="utf-8"))
    groups = inventory_groups(inventory)
    protos: dict[str, set[str]] = {}
    for entries in services["host_firewall_services_by_group"].values():
        for entry in entries:
            protos.setdefault(entry["name"], set()).update(entry["proto"])

    def probed(service: str, listener: str) -> bool:
        wanted = "udp" if defaults["monitoring_probe_modules"].get(listener) == "dns_udp" else "tcp"
        return wanted in protos.get(f"{service}-{listener}", {"tcp", "udp"})

    return {(host, service, listener)
            for service, listeners in services["egov_service_ports"].items()
            for listener, port in listeners.items()
            if listener not in defaults["monitoring_probe_skip_listeners"] and str(port).isdigit()
            and probed(service, listener)
            for host in groups.get(services["egov_service_groups"].get(service, service), [])}


def test_every_dc_host_and_every_service_endpoint_is_a_target(lab_render: Path) -> None:
    inventory = REPO / "inventories" / "lab"
    jobs = scrape_targets(lab_render / "prometheus.yml")
    assert {t["host"] for t in jobs["node"]} == set(inventory_groups(inventory)["dc_servers"])
    probes = {(t["host"], t["service"], t["listener"]) for t in jobs["blackbox"]}
    assert probes == expected_probes(inventory)
    modules = {(t["service"], t["listener"]): t["module"] for t in jobs["blackbox"]}
    assert modules[("mail", "smtp")] == "smtp_starttls" and modules[("mail", "imaps")] == "imaps"
    assert modules[("directory", "ldaps")] == "tls_connect" and modules[("dns", "dns")] == "dns_udp"
    assert modules[("sso", "https")] == "https_any"
    assert ("dns", "ntp") not in modules, "UDP-only NTP is not a blackbox probe"
    services = yaml.safe_load((inventory / "group_vars" / "all" / "services.yml").read_text(encoding="utf-8"))
    protos: dict[str, set[str]] = {}
    for entries in services["host_firewall_services_by_group"].values():
        for entry in entries:
            protos.setdefault(entry["name"], set()).update(entry["proto"])
    udp_only = {name for name, found in protos.items() if found == {"udp"}}
    assert udp_only, "the model has UDP-only listeners (NTP, syslog from the switches)"
    assert not {f"{s}-{li}" for s, li in modules} & udp_only, "a TCP probe of a UDP-only listener"


def test_a_host_added_to_the_model_is_monitored_after_a_rerun(model_copy: Path, edit_yaml: Any,
                                                              tmp_path: Path) -> None:
    """mail gets a third host in a copy of the model: after `egov inventory generate`, the rendered
    configuration scrapes mail-03 and probes its every endpoint; no list was edited."""
    if shutil.which("egov") is None:
        pytest.skip("egov missing: run `make deps`")
    edit_yaml(model_copy / "province.yml", lambda d: d["services"]["mail"].update(hosts=3))
    root = tmp_path / "inventories"
    gen = subprocess.run(["egov", "inventory", "generate", "--model", str(model_copy / "province.yml"),
                          "--root", str(root)], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert gen.returncode == 0, gen.stdout + gen.stderr
    jobs = scrape_targets(rendered(tmp_path / "render", root / "lab") / "prometheus.yml")
    assert "mail-03" in {t["host"] for t in jobs["node"]}
    probed = {t["listener"] for t in jobs["blackbox"] if t["host"] == "mail-03"}
    assert probed == {"smtp", "submission", "imaps", "http", "https"}, probed


# --- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("extra", "expected"), [
    ("monitoring_prometheus_listen=0.0.0.0:9090", "monitoring_prometheus_listen must be on loopback"),
    ('{"monitoring_alert_mail_to": ["ops"]}', "monitoring_alert_mail_to must be a non-empty list of mail addresses"),
    ("monitoring_node_group=nowhere", "monitoring_node_group must be an inventory group"),
])
def test_bad_input_names_the_variable(tmp_path: Path, extra: str, expected: str) -> None:
    proc = render(tmp_path, REPO / "inventories" / "lab", "-e", extra)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-2000:]
    assert expected in out, out[-3000:]
