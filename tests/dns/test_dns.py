"""The province DNS (roles dns, dns_client) and NTP on the lab, with real DNS/NTP packets.

Queries go from the controller (DC management segment) and from a commune LAN client (network
namespace egl-pc-an-hiep, through the commune and DC firewalls) to both DNS servers.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import uuid
from typing import Any

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.tsigkeyring
import dns.xfr
import dns.zone
import pytest

from tests.dns import labdns

pytestmark = pytest.mark.lab
LAB_NETS = ("10.94.", "10.95.", "127.")
OUTSIDE_NAMES = ["www.google.com", "deb.debian.org", "example.org"]


def query(server: str, name: str, rdtype: str, recursion: bool = False) -> dns.message.Message:
    msg = dns.message.make_query(name, dns.rdatatype.from_text(rdtype))
    if not recursion:
        msg.flags &= ~dns.flags.RD
    response = dns.query.udp(msg, server, timeout=3)
    if response.flags & dns.flags.TC:
        response = dns.query.tcp(msg, server, timeout=5)
    return response


def answers(server: str, name: str, rdtype: str) -> set[str]:
    response = query(server, name, rdtype)
    assert response.rcode() == dns.rcode.NOERROR, f"{name} {rdtype} @{server}: {dns.rcode.to_text(response.rcode())}"
    return {rr.to_text() for rrset in response.answer for rr in rrset}


def txt(server: str, name: str) -> list[str]:
    response = query(server, name, "TXT")
    return [b"".join(rr.strings).decode() for rrset in response.answer for rr in rrset]


def serial(server: str, zone: str) -> int:
    response = query(server, zone, "SOA")
    return int(response.answer[0][0].serial)


def expected_a_records() -> dict[str, set[str]]:
    dom = labdns.domain()
    out = {f"{host}.dc.{dom}": {addr} for host, addr in labdns.dc_host_addresses().items()}
    for name, group in labdns.service_names().items():
        out[f"{name}.{dom}"] = {v["ansible_host"] for v in labdns.group_hosts(group).values()}
    return out


SERVERS = list(labdns.dns_servers().items()) if labdns.hosts_yml() else []


@pytest.mark.parametrize(("server_name", "server"), SERVERS, ids=[s[0] for s in SERVERS])
def test_every_dc_host_and_service_name_resolves_to_the_inventory_address(dns_lab, server_name, server) -> None:
    expected = expected_a_records()
    assert len(expected) >= 25 + len(labdns.service_names())
    got = {name: answers(server, name, "A") for name in expected}
    assert got == expected


@pytest.mark.parametrize(("server_name", "server"), SERVERS, ids=[s[0] for s in SERVERS])
def test_reverse_zones_give_every_dc_host_its_name(dns_lab, server_name, server) -> None:
    dom = labdns.domain()
    wrong = {}
    for host, addr in labdns.dc_host_addresses().items():
        ptr = answers(server, ".".join(reversed(addr.split("."))) + ".in-addr.arpa", "PTR")
        if ptr != {f"{host}.dc.{dom}."}:
            wrong[addr] = ptr
    assert not wrong


def test_site_lan_client_resolves_through_the_firewalls(dns_lab) -> None:
    expected = expected_a_records()
    names = sorted(expected)
    queries = [[server, name, "A", True] for server in labdns.dns_servers().values() for name in names]
    results = labdns.in_netns(labdns.CLIENT_NETNS, "dnsquery.py", json.dumps(queries))
    got: dict[tuple[str, str], set[str]] = {}
    for (server, name, _, _), result in zip(queries, results, strict=True):
        assert "error" not in result, (server, name, result)
        got[(server, name)] = set(result["answers"])
    assert got == {(server, name): expected[name] for server in labdns.dns_servers().values() for name in names}


@pytest.mark.parametrize(("server_name", "server"), SERVERS, ids=[s[0] for s in SERVERS])
def test_mail_records_mx_spf_dmarc(dns_lab, server_name, server) -> None:
    dom = labdns.domain()
    assert answers(server, dom, "MX") == {f"10 mail.{dom}."}
    assert txt(server, dom) == ["v=spf1 mx -all"]
    assert txt(server, f"_dmarc.{dom}") == [f"v=DMARC1; p=quarantine; rua=mailto:postmaster@{dom}"]
    assert answers(server, f"mail.{dom}", "A")  # the MX target resolves


@pytest.mark.parametrize(("server_name", "server"), SERVERS, ids=[s[0] for s in SERVERS])
def test_dkim_record_holds_the_public_half_of_the_secrets_dir_key(dns_lab, server_name, server) -> None:
    from cryptography.hazmat.primitives import serialization

    selector = labdns.dkim_selector()
    key_path = labdns.SECRETS / "dkim" / f"{selector}.key"
    assert key_path.exists(), f"{key_path} was not created"
    assert oct(key_path.stat().st_mode & 0o777) == "0o600"
    private = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    assert private.key_size == 2048
    spki = private.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
    records = txt(server, f"{selector}._domainkey.{labdns.domain()}")
    assert len(records) == 1
    tags = dict(part.strip().split("=", 1) for part in records[0].split(";") if part.strip())
    assert tags["v"] == "DKIM1" and tags["k"] == "rsa"
    assert base64.b64decode(tags["p"]) == spki


def test_secondary_serves_the_primary_serial_of_every_zone(dns_lab) -> None:
    (_, primary), (_, secondary) = list(labdns.dns_servers().items())[:2]
    zones = [labdns.domain(), *labdns.reverse_zones()]
    assert {z: serial(secondary, z) for z in zones} == {z: serial(primary, z) for z in zones}
    response = query(secondary, labdns.domain(), "SOA")
    assert response.flags & dns.flags.AA, "the secondary must answer authoritatively (zone transferred)"


def test_a_change_on_the_primary_reaches_the_secondary_and_bumps_the_serial(dns_lab) -> None:
    (_, primary), (_, secondary) = list(labdns.dns_servers().items())[:2]
    dom = labdns.domain()
    token = uuid.uuid4().hex
    name = f"probe-{token[:8]}"
    before = serial(primary, dom)
    extra = json.dumps({"dns_extra_records": [{"name": name, "type": "TXT", "value": f'"{token}"'}]})
    try:
        labdns.playbook("--limit", "dns", "--tags", "dns_zones", "-e", extra)
        after = serial(primary, dom)
        assert after > before
        assert txt(primary, f"{name}.{dom}") == [token]
        deadline = time.monotonic() + 30          # NOTIFY: the secondary transfers at once
        while time.monotonic() < deadline and serial(secondary, dom) != after:
            time.sleep(0.5)
        assert serial(secondary, dom) == after
        assert txt(secondary, f"{name}.{dom}") == [token]
    finally:
        labdns.playbook("--limit", "dns", "--tags", "dns_zones")   # back to the converged zone
    restored = serial(primary, dom)
    assert restored > after
    assert query(primary, f"{name}.{dom}", "TXT").rcode() == dns.rcode.NXDOMAIN


def _axfr(server: str, zone: str, keyring: Any = None) -> str:
    """AXFR outcome: 'ok:<records>' or the error."""
    try:
        z = dns.zone.from_xfr(dns.query.xfr(server, zone, keyring=keyring, keyalgorithm="hmac-sha256", timeout=5))
        return f"ok:{len(list(z.iterate_rdatas()))}"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def test_axfr_refused_to_anyone_but_the_secondary(dns_lab) -> None:
    dom = labdns.domain()
    servers = labdns.dns_servers()
    primary = next(iter(servers.values()))
    secret = (labdns.SECRETS / "dns" / "tsig-transfer").read_text().strip()
    keyring = dns.tsigkeyring.from_text({"egov-transfer": ("hmac-sha256", secret)})
    # the controller, without and even with the TSIG key (address and key are both required)
    for server in servers.values():
        assert "REFUSED" in _axfr(server, dom), server
        assert not _axfr(server, dom, keyring).startswith("ok:"), server
    # a commune LAN client
    code = ("import dns.query, dns.zone, sys\n"
            "try:\n    dns.zone.from_xfr(dns.query.xfr(sys.argv[1], sys.argv[2], timeout=5)); print('ok')\n"
            "except Exception as e:\n    print(type(e).__name__, e)\n")
    for server in servers.values():
        proc = subprocess.run(["ip", "netns", "exec", labdns.CLIENT_NETNS, sys.executable, "-c", code, server, dom],
                              capture_output=True, text=True, timeout=60)
        assert "REFUSED" in proc.stdout, proc.stdout + proc.stderr
    # positive control: the secondary, with the key, may transfer; without the key it may not
    secondary = list(servers)[1]
    with_key = labdns.ssh(secondary, f"sudo dig +time=3 -k /etc/bind/egov-transfer.key @{primary} {dom} AXFR")
    assert f"{dom}.\t" in with_key.stdout and "SOA" in with_key.stdout and "Transfer failed" not in with_key.stdout
    without = labdns.ssh(secondary, f"dig +time=3 @{primary} {dom} AXFR")
    assert "Transfer failed" in without.stdout, without.stdout


@pytest.mark.parametrize(("server_name", "server"), SERVERS, ids=[s[0] for s in SERVERS])
def test_version_is_hidden(dns_lab, server_name, server) -> None:
    msg = dns.message.make_query("version.bind", dns.rdatatype.TXT, dns.rdataclass.CH)
    response = dns.query.udp(msg, server, timeout=3)
    assert not response.answer or all("9." not in rr.to_text() for rrset in response.answer for rr in rrset)


def test_no_recursion_and_no_packet_leaves_the_lab(dns_lab) -> None:
    servers = labdns.dns_servers()
    sniffers = {}
    for host in servers:
        proc = subprocess.Popen(["ip", "netns", "exec", f"egl-{host}", sys.executable,
                                 str(labdns.HERE / "sniff.py"), "12"], stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        sniffers[host] = proc
    # recursive queries for names outside the zone, from the controller and from a commune client
    queries = [[address, name, "A", True] for address in servers.values() for name in OUTSIDE_NAMES]
    from_site = labdns.in_netns(labdns.CLIENT_NETNS, "dnsquery.py", json.dumps(queries))
    from_dc = [query(address, name, "A", recursion=True) for address, name, _, _ in queries]
    captured = {host: json.loads(proc.communicate(timeout=60)[0]) for host, proc in sniffers.items()}
    for (address, name, _, _), result in zip(queries, from_site, strict=True):
        assert result.get("rcode") == "REFUSED" and not result["answers"] and not result["ra"], (address, name, result)
    for (address, name, _, _), response in zip(queries, from_dc, strict=True):
        assert response.rcode() == dns.rcode.REFUSED and not response.answer, (address, name)
    for host, capture in captured.items():
        flows = [tuple(f) for f in capture["flows"]]
        # the capture works: it saw our queries arrive on port 53
        assert any(proto == 17 and dport == 53 and dst == servers[host] for _, dst, proto, dport in flows), host
        outside = [f for f in flows if not f[1].startswith(LAB_NETS) and not f[1].startswith(("224.", "255."))]
        assert not outside, f"{host} sent packets outside the lab: {outside}"


@pytest.mark.parametrize(("server_name", "server"), SERVERS, ids=[s[0] for s in SERVERS])
def test_dns_servers_serve_time_to_a_site_lan_client(dns_lab, server_name, server) -> None:
    code = ("import socket, sys\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)\n"
            "s.sendto(b'\\x23' + 47 * b'\\0', (sys.argv[1], 123)); d = s.recv(512); print(d[0] & 7, d[0] >> 6, d[1])\n")
    proc = subprocess.run(["ip", "netns", "exec", labdns.CLIENT_NETNS, sys.executable, "-c", code, server],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    mode, leap, stratum = map(int, proc.stdout.split())
    assert mode == 4 and leap != 3 and 1 <= stratum < 16, proc.stdout


@pytest.mark.parametrize("host", sorted(labdns.group_hosts("dns")) if labdns.hosts_yml() else [])
def test_dc_hosts_resolve_service_names_through_the_dc_dns(dns_lab, host) -> None:
    dom = labdns.domain()
    resolv = labdns.ssh(host, "cat /etc/resolv.conf").stdout
    assert [line.split()[1] for line in resolv.splitlines() if line.startswith("nameserver")] == list(
        labdns.dns_servers().values())
    for name, group in [("sso", "sso"), ("mail", "mail"), ("ldap", "directory")]:
        proc = labdns.ssh(host, f"getent ahostsv4 {name}.{dom} | awk '{{print $1}}' | sort -u")
        assert set(proc.stdout.split()) == {v["ansible_host"] for v in labdns.group_hosts(group).values()}, name
    short = labdns.ssh(host, "getent hosts mail-01")       # search domain dc.<domain>
    assert short.stdout.split()[:2] == [labdns.all_hostvars()["mail-01"]["ansible_host"], f"mail-01.dc.{dom}"]
