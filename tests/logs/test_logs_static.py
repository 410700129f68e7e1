"""Central logs without the lab (issue 16): role specs, rsyslog configurations checked by the real
rsyslogd (-N1) with a broken one refused, the device policy's denied-packet logging, bad input.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ROLES = {"log_server": REPO / "roles" / "log_server", "firewall_log": REPO / "roles" / "firewall_log"}
RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
LAB_VARS = REPO / "inventories" / "lab" / "group_vars" / "all"


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_ports_and_retention_come_from_the_model() -> None:
    services = _yaml(LAB_VARS / "services.yml")
    province = _yaml(LAB_VARS / "province.yml")
    ports = services["egov_service_ports"]["logs"]
    assert set(ports) == {"syslog-tls", "syslog"}, ports        # no plain TCP receiver any more
    assert province["province_log_retention_days"] >= 1
    defaults = _yaml(ROLES["log_server"] / "defaults" / "main.yml")
    assert "egov_service_ports" in defaults["log_server_tls_port"]
    assert "province_log_retention_days" in defaults["log_server_retention_days"]
    base = _yaml(REPO / "roles" / "base" / "defaults" / "main.yml")
    assert "syslog-tls" in base["base_rsyslog_port"]


# ---- rsyslog configurations, rendered and checked by the real daemon -----------------------------

def _render(template: Path, **variables: Any) -> str:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             extensions=["jinja2.ext.do"])
    env.filters["intersect"] = lambda a, b: [x for x in a if x in b]      # the Ansible filter
    return env.from_string(template.read_text(encoding="utf-8")).render(ansible_managed="test", **variables)


def _rsyslogd_n1(conf: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    if not Path(RSYSLOGD).exists():
        pytest.skip("rsyslogd missing: run `make deps` (the controller gets rsyslog to check configurations)")
    text = f'global(workDirectory="{workdir}")\n' + conf.read_text(encoding="utf-8")
    conf.write_text(text, encoding="utf-8")
    return subprocess.run([RSYSLOGD, "-N1", "-f", str(conf)], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A throw-away CA and a server certificate (the daemon checks that the files load)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl missing")
    d = tmp_path_factory.mktemp("pki")
    cmds = [
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
         "-days", "2", "-subj", "/CN=test CA"],
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr",
         "-subj", "/CN=logs-01.dc.example.test"],
        ["openssl", "x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
         "-out", "srv.crt", "-days", "2"],
    ]
    for cmd in cmds:
        subprocess.run(cmd, cwd=d, check=True, capture_output=True, timeout=60)
    return {"ca": d / "ca.crt", "cert": d / "srv.crt", "key": d / "srv.key", "dir": d}


def _server_conf(tmp_path: Path, pki: dict[str, Path], table: dict[str, Any] | str, **over: Any) -> Path:
    certs = tmp_path / "ssl"
    (certs / "certs").mkdir(parents=True)
    (certs / "private").mkdir()
    shutil.copy(pki["cert"], certs / "certs" / "syslog-fullchain.pem")
    shutil.copy(pki["key"], certs / "private" / "syslog.key")
    sources = tmp_path / "sources.json"
    sources.write_text(table if isinstance(table, str) else json.dumps(table), encoding="utf-8")
    variables = {"log_server_tls_ca_file": str(pki["ca"]), "service_cert_dir": str(certs),
                 "log_server_tls_cert_name": "syslog", "log_server_sources_file": str(sources),
                 "log_server_store": str(tmp_path / "remote"), "log_server_max_sessions": 1000,
                 "log_server_tls_port": 16514, "log_server_udp_port": 10514, **over}
    conf = tmp_path / "server.conf"
    conf.write_text(_render(ROLES["log_server"] / "templates" / "log-server.conf.j2", **variables), encoding="utf-8")
    return conf


GOOD_TABLE = {"version": 1, "nomatch": "", "type": "string",
              "table": [{"index": "10.94.0.12", "value": "dc/logs-01"},
                        {"index": "10.94.16.55", "value": "an-hiep/fw-an-hiep"}]}


def test_server_configuration_passes_rsyslogd(tmp_path: Path, pki: dict[str, Path]) -> None:
    conf = _server_conf(tmp_path, pki, GOOD_TABLE)
    proc = _rsyslogd_n1(conf, tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = conf.read_text(encoding="utf-8")
    assert 'StreamDriver.Name="gtls"' in text and 'port="16514"' in text and 'port="10514"' in text


def test_server_without_udp_has_no_plain_input(tmp_path: Path, pki: dict[str, Path]) -> None:
    conf = _server_conf(tmp_path, pki, GOOD_TABLE, log_server_udp_port=0)
    assert _rsyslogd_n1(conf, tmp_path).returncode == 0
    assert "imudp" not in conf.read_text(encoding="utf-8")


@pytest.mark.parametrize(("breakage", "expected"), [
    ("table", "lookup"),              # a senders' table that is not JSON
    ("syntax", "error"),              # a configuration with a syntax error
    ("parameter", "parameter"),       # an unknown action parameter
])
def test_broken_server_configuration_is_refused(tmp_path: Path, pki: dict[str, Path], breakage: str,
                                                expected: str) -> None:
    conf = _server_conf(tmp_path, pki, "{not json" if breakage == "table" else GOOD_TABLE)
    text = conf.read_text(encoding="utf-8")
    if breakage == "syntax":
        text = text.replace("ruleset(name=\"egov_remote\") {", "ruleset(name=\"egov_remote\") {{", 1)
    elif breakage == "parameter":
        text = text.replace('dynaFileCacheSize="500"', 'dynaFileCacheSize="500" noSuchParameter="on"', 1)
    conf.write_text(text, encoding="utf-8")
    proc = _rsyslogd_n1(conf, tmp_path)
    assert proc.returncode != 0, f"rsyslogd accepted a broken configuration ({breakage}):\n{proc.stderr}"
    assert expected in proc.stderr.lower(), proc.stderr


def _forward_conf(tmp_path: Path, ca: str, *, log_host: bool = False) -> Path:
    variables = {"group_names": ["logs"] if log_host else ["pki", "dc"], "base_rsyslog_log_host_groups": ["logs"],
                 "base_rsyslog_log_host": "10.94.0.12", "base_rsyslog_port": 6514, "base_rsyslog_tls_ca_file": ca,
                 "base_rsyslog_tls_permitted_peers": ["logs-01.dc.example.test"],
                 "base_rsyslog_queue_max_disk_space": "1g", "base_rsyslog_resume_interval": 10}
    conf = tmp_path / "forward.conf"
    conf.write_text(_render(REPO / "roles" / "base" / "templates" / "rsyslog-forward.conf.j2", **variables),
                    encoding="utf-8")
    return conf


def test_client_forwarding_passes_rsyslogd_and_is_reliable(tmp_path: Path, pki: dict[str, Path]) -> None:
    conf = _forward_conf(tmp_path, str(pki["ca"]))
    proc = _rsyslogd_n1(conf, tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = conf.read_text(encoding="utf-8")
    for needle in ('StreamDriver="gtls"', 'StreamDriverAuthMode="x509/name"',
                   'StreamDriverPermittedPeers="logs-01.dc.example.test"', 'queue.type="LinkedList"',
                   'queue.filename="egov_fwd"', 'queue.saveOnShutdown="on"', 'action.resumeRetryCount="-1"'):
        assert needle in text, needle


def test_client_before_the_ca_chain_still_passes(tmp_path: Path) -> None:
    """A fresh host gets the baseline before the CA chain (pki.yml): its configuration must load."""
    conf = _forward_conf(tmp_path, str(tmp_path / "not-yet" / "ca-chain.pem"))
    proc = _rsyslogd_n1(conf, tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_log_host_does_not_forward_to_itself(tmp_path: Path) -> None:
    text = _forward_conf(tmp_path, "/x", log_host=True).read_text(encoding="utf-8")
    assert "omfwd" not in text


# ---- the device policy: denied packets logged to the group ulogd reads -----------------------------

def test_firewall_policy_logs_denied_packets_to_the_ulogd_group() -> None:
    from egov.model import load_province
    from egov.network import credentials, inventory
    from egov.network.render import Renderer

    policy = _yaml(REPO / "network" / "policy.yml")
    group = policy["deny_log_group"]
    playbook = (REPO / "playbooks" / "logs.yml").read_text(encoding="utf-8")
    assert "network/policy.yml" in playbook and ".deny_log_group" in playbook   # ulogd reads that group
    province = load_province()
    site = province.site("an-hiep")
    device = next(d for d in inventory.derive(province) if d.name == site.firewall_name)
    text = Renderer(province, credentials.generate(firewall_user="root", known_hosts=None)).render(device).text
    final = [line.strip() for line in text.splitlines() if line.strip().startswith("log prefix")]
    assert final == [f'log prefix "{policy["deny_log_prefix"]} {site.firewall_name} " group {group}'], final


@pytest.mark.parametrize(("extra", "expected"), [
    ("log_server_retention_days=0", "log_server_retention_days an integer >= 1"),
    ("log_server_store=/var/log", "log_server_store a"),
    ("log_server_tls_port=syslog", "log_server_tls_port must be a TCP port"),
])
def test_bad_input_names_the_variable(extra: str, expected: str) -> None:
    if shutil.which("ansible-playbook") is None:
        pytest.skip("ansible-playbook missing: run `make deps`")
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(REPO / "inventories" / "lab"), str(REPO / "playbooks" / "logs.yml"),
         "--limit", "logs-01", "--tags", "log_server_preflight", "-e", extra],
        capture_output=True, text=True, timeout=300, cwd=REPO)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-2000:]
    assert expected in " ".join(out.split()), out[-3000:]
