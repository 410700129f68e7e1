#!/usr/bin/env python3
"""Benchmark: re-scan the converged lab with independent, well-known scanners (not the repository's
own checks): `sslscan` for every TLS endpoint and `ssh-audit` for every SSH server of the chosen
services' hosts, from the place a client really connects from, as the model's flows say: a commune
LAN client's network namespace for what the sites reach, the network namespace of a lab host of the
client service for DC-internal listeners (e.g. LDAPS from the SSO host), else the controller on the
management segment (SSH, the management consoles).

For each endpoint it prints what the issue-12 scanner findings were about: the TLS versions
accepted, suites without forward secrecy or with CBC/SHA-1, the key-exchange groups outside
Mozilla's "intermediate" profile (X448, secp521r1), the certificate lifetime, and ssh-audit's
failed/warned algorithms. Debian packages: `apt-get install sslscan ssh-audit` (`make bench-scan`).

    python benchmarks/scan_endpoints.py [--services pki,directory,mail,sso] [--client egl-pc-an-hiep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from egov.lab.topology import PREFIX  # noqa: E402
from egov.model import Province, load_province  # noqa: E402

TLS_LISTENERS = {"https", "ldaps", "imaps", "ngsp"}
OUTSIDE_INTERMEDIATE_GROUPS = ("x448", "secp521r1")
SCAN_TIMEOUT = 120


@dataclass
class TlsResult:
    endpoint: str
    versions: list[str] = field(default_factory=list)
    weak_suites: list[str] = field(default_factory=list)
    bad_groups: list[str] = field(default_factory=list)
    cert_days: int | None = None
    seconds: float = 0.0
    error: str = ""


def run_in(netns: str | None, argv: list[str]) -> subprocess.CompletedProcess[str]:
    prefix = ["ip", "netns", "exec", netns] if netns else []
    return subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=SCAN_TIMEOUT)


def scan_tls(netns: str | None, address: str, port: int) -> TlsResult:
    result = TlsResult(endpoint=f"{address}:{port}")
    start = time.monotonic()
    proc = run_in(netns, ["sslscan", "--no-colour", "--xml=-", f"{address}:{port}"])
    result.seconds = time.monotonic() - start
    text = proc.stdout[proc.stdout.find("<?xml"):] if "<?xml" in proc.stdout else ""
    if not text:
        result.error = (proc.stderr or proc.stdout).strip()[-200:] or f"sslscan exit {proc.returncode}"
        return result
    root = ET.fromstring(text)
    for proto in root.iter("protocol"):
        if proto.get("enabled") == "1":
            result.versions.append(f"{proto.get('type')}{proto.get('version')}")
    for cipher in root.iter("cipher"):
        name = cipher.get("cipher", "")
        if cipher.get("sslversion") != "TLSv1.3" and (not name.startswith(("ECDHE", "DHE")) or "CBC" in name
                                                    or name.endswith("-SHA") or "AES128-SHA" in name):
            result.weak_suites.append(f"{cipher.get('sslversion')} {name}")
    for group in root.iter("group"):
        name = group.get("name", "")
        if any(bad in name for bad in OUTSIDE_INTERMEDIATE_GROUPS):
            result.bad_groups.append(f"{group.get('sslversion')} {name.split()[0]}")
    for cert in root.iter("certificate"):
        before, after = cert.findtext("not-valid-before"), cert.findtext("not-valid-after")
        if before and after:
            fmt = "%b %d %H:%M:%S %Y GMT"
            days = (time.mktime(time.strptime(" ".join(after.split()), fmt))
                    - time.mktime(time.strptime(" ".join(before.split()), fmt))) / 86400
            result.cert_days = round(days)
            break
    return result


def scan_ssh(netns: str | None, address: str) -> tuple[int, int, float, str]:
    start = time.monotonic()
    proc = run_in(netns, ["ssh-audit", "-j", address])
    seconds = time.monotonic() - start
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return 0, 0, seconds, (proc.stderr or proc.stdout).strip()[-200:]
    fails = warns = 0
    for kind in ("kex", "key", "enc", "mac"):
        for algo in data.get(kind, []):
            notes = algo.get("notes", {})
            fails += bool(notes.get("fail"))
            warns += bool(notes.get("warn"))
    return fails, warns, seconds, ""


def scan_source(province: Province, service: str, listener: str, lan_client: str | None) -> str | None:
    """The network namespace a real client of (service, listener) connects from (None: controller)."""
    sources: list[str] = []
    for flow in province.source.flows:
        if flow.to in (service, "dc") and listener in flow.listeners:
            sources += flow.from_
    if lan_client and any(s in ("sites", "internet") or s.startswith("site:") for s in sources):
        return lan_client
    up = set(p.name for p in Path("/run/netns").glob(f"{PREFIX}-*")) if Path("/run/netns").exists() else set()
    for src in sources:
        if src.startswith("service:"):
            for host in province.dc_hosts:
                if host.service == src.split(":", 1)[1] and host.service != service and f"{PREFIX}-{host.name}" in up:
                    return f"{PREFIX}-{host.name}"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--services", default="pki,directory,mail,sso",
                        help="services of the model whose hosts are scanned (comma-separated)")
    parser.add_argument("--client", default=None,
                        help="network namespace to scan from (default: the first commune LAN client that is up)")
    args = parser.parse_args()
    missing = [tool for tool in ("sslscan", "ssh-audit") if shutil.which(tool) is None]
    if missing:
        print(f"missing scanners: {', '.join(missing)} (apt-get install sslscan ssh-audit)", file=sys.stderr)
        return 2
    province = load_province(REPO / "model" / "province.yml")
    netns = args.client
    if netns is None:
        up = {p.name for p in Path("/run/netns").glob(f"{PREFIX}-pc-*")} if Path("/run/netns").exists() else set()
        netns = sorted(up)[0] if up else None
    wanted = set(args.services.split(","))
    services = province.source.services
    print(f"LAN client: {netns or 'none up'}; SSH from the controller; services: {', '.join(sorted(wanted))}")
    print(f"{'endpoint':32} {'host':14} {'TLS versions':26} {'weak suites':>11} {'bad groups':>10} "
          f"{'cert days':>9} {'s':>5}")
    totals = {"endpoints": 0, "old_tls": 0, "weak": 0, "groups": 0, "long_certs": 0}
    for host in province.dc_hosts:
        if host.service not in wanted:
            continue
        for listener, ports in services[host.service].listeners.items():
            if listener not in TLS_LISTENERS:
                continue
            port = int(ports[0].split("/")[1].split("-")[0])
            source = scan_source(province, host.service, listener, netns)
            res = scan_tls(source, str(host.address), port)
            totals["endpoints"] += 1
            old = [v for v in res.versions if v in ("tls1.0", "tls1.1", "ssl2", "ssl3")]
            totals["old_tls"] += bool(old)
            totals["weak"] += len(res.weak_suites)
            totals["groups"] += len(res.bad_groups)
            totals["long_certs"] += bool(res.cert_days and res.cert_days > 200)
            shown = res.error or ",".join(res.versions)
            print(f"{listener + ' ' + res.endpoint:32} {host.name:14} {shown[:26]:26} {len(res.weak_suites):>11} "
                  f"{len(res.bad_groups):>10} {res.cert_days if res.cert_days is not None else '-':>9} "
                  f"{res.seconds:>5.1f}  from {(source or 'controller').removeprefix(PREFIX + '-')}")
            for finding in [*res.weak_suites, *res.bad_groups][:6]:
                print(f"{'':32}   {finding}")
    print(f"\n{'ssh host':32} {'fail':>5} {'warn':>5} {'s':>5}")
    for host in province.dc_hosts:
        if host.service in wanted:
            fails, warns, seconds, error = scan_ssh(None, str(host.address))
            print(f"{host.name + ' ' + str(host.address):32} {fails:>5} {warns:>5} {seconds:>5.1f} {error}")
    print(f"\nTLS endpoints {totals['endpoints']}: accepting TLS<1.2 {totals['old_tls']}, weak suites "
          f"{totals['weak']}, groups outside intermediate {totals['groups']}, certificates over 200 days "
          f"{totals['long_certs']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
