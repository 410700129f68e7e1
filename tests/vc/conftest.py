"""Fixtures of the video-conference lab tests (issue 15): the lab, one converge, the sites' endpoints.

The tests bring up what they need (`egov lab up --only dc --only site:<commune>`, then the district and a
second commune, additive): the district chau-thanh and its communes an-hiep and thien-my, each with its
video-conference client egl-vc-<slug> at host .10 of the site's video_conference VLAN (the address its
account is bound to). Unless EGOV_LAB_CONVERGED=1 (the shared converge ran already), they converge
playbooks/vc.yml once (the MCU, and the lab's endpoint configurations on the controller:
<lab state>/vc-endpoints/<account>/{config,accounts,endpoint.json} and <lab state>/vc-endpoints/egov-vc-join);
EGOV_VC_DEPS=1 converges the MCU's prerequisites first (molecule/vc/prerequisites.yml: baseline, pki, logs,
dns on the MCU). The province policy is pushed onto dc-fw-01 and the three site firewalls (as the
one-stop-shop tests do) and taken off again where it was absent.

Credentials are the controller's run-time files (<lab state>/secrets/vc/: endpoints/<account>, rooms/<id>-pin,
janus-admin), the same ones roles vc_mcu and vc_endpoint read. Every SIP, RTP and browser packet is sent
from a lab namespace (tests/vc/sip.py, tests/vc/rtp.py, tests/vc/janus_browser.py) through the site
firewall, the DC firewall and the MCU's host firewall; the admin interfaces are queried from the
controller, which sits on the DC management segment.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import queue
import secrets
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from egov import settings
from egov.model import Province, Site, load_province
from tests.conftest import REPO, lab_site_up, lab_ssh, province_policy_on, run
from tests.mail.conftest import converge, inventory_hosts, lab_ca_bundle

INVENTORY = REPO / "inventories" / "lab"
SERVICES = yaml.safe_load((INVENTORY / "group_vars" / "all" / "services.yml").read_text(encoding="utf-8"))
CONFERENCE: dict[str, Any] = SERVICES["egov_vc_conference"]
PORTS: dict[str, Any] = SERVICES["egov_service_ports"]["vc_mcu"]
DOMAIN: str = CONFERENCE["domain"]
ACCOUNTS: dict[str, dict[str, Any]] = {a["user"]: a for a in CONFERENCE["accounts"]}
COMMUNE = os.environ.get("EGOV_VC_COMMUNE", "an-hiep")     # a commune of Châu Thành (as the other tests)
DISTRICT = "chau-thanh"
OTHER_COMMUNE = "thien-my"                                   # another commune of the same district
SITES = [COMMUNE, DISTRICT, OTHER_COMMUNE]
FIREWALLS = ["dc-fw-01", *(f"fw-{slug}" for slug in SITES)]
PROVINCE_ROOM: int = next(r["id"] for r in CONFERENCE["rooms"] if r["kind"] == "province")
DISTRICT_ROOM: int = next(r["id"] for r in CONFERENCE["rooms"] if r["kind"] == "district" and r["district"] == DISTRICT)
SIP_PORT = int(PORTS["sip"])
SIP_TLS_PORT = int(PORTS["sip-tls"])
RPC_PORT = int(PORTS["sip-rpc"])
ADMIN_PORT = int(PORTS["janus-admin"])
HTTPS_PORT = int(PORTS["https"])
SECRETS = settings.secrets_dir() / "vc"
ENDPOINTS = settings.lab_state_dir() / "vc-endpoints"
JOIN = ENDPOINTS / "egov-vc-join"
GUEST_NETNS = "egvc-guest"           # the namespace the guest-VLAN test plugs in (its own prefix, not the lab's)
FABRIC = "egl-fabric"


def vc_netns(slug: str) -> str:
    """The video-conference client's namespace of a site (model: Site.vc_client_name)."""
    return f"egl-vc-{slug}"


def secret(relative: str) -> str:
    """A run-time credential of the controller (Ansible's password lookup: the value before ' salt=')."""
    path = SECRETS / relative
    if not path.exists():
        pytest.skip(f"no {path} (playbooks/vc.yml not converged: role vc_mcu creates it)")
    return path.read_text(encoding="utf-8").split(" salt=")[0].strip()


class _Https(http.client.HTTPSConnection):
    """HTTPS to an address, the certificate checked against the conference's name (SNI and Host)."""

    def __init__(self, address: str, port: int, context: ssl.SSLContext, timeout: float) -> None:
        super().__init__(DOMAIN, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def first_line(proc: subprocess.Popen[str], timeout: float) -> str:
    """The next line a background process prints (fails the test on EOF or timeout)."""
    assert proc.stdout is not None
    out: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: out.put(proc.stdout.readline() if proc.stdout else ""), daemon=True).start()
    try:
        line = out.get(timeout=timeout)
    except queue.Empty:
        proc.kill()
        pytest.fail(f"{proc.args!r}: nothing printed within {timeout} s")
    if not line:
        err = proc.stderr.read() if proc.stderr else ""
        pytest.fail(f"{proc.args!r} ended ({proc.wait()}) without output:\n{err[-3000:]}")
    return line


@dataclass
class Vc:
    province: Province
    addresses: dict[str, str]
    cafile: Path
    mcu: str
    up_sites: list[str]                                        # sites up in the lab that have an account
    registered: set[str] = field(default_factory=set)

    @property
    def mcu_address(self) -> str:
        return self.addresses[self.mcu]

    def site(self, slug: str) -> Site:
        return self.province.site(slug)

    def ssh(self, host: str, command: str, *, check: bool = True, timeout: float = 60) -> str:
        return lab_ssh(self.addresses[host], command, check=check, timeout=timeout).stdout

    # ---- credentials and the lab's endpoint configuration -------------------------------------------------
    @staticmethod
    def password(user: str) -> str:
        return secret(f"endpoints/{user}")

    @staticmethod
    def pin(room: int) -> str:
        return secret(f"rooms/{room}-pin")

    @staticmethod
    def endpoint(user: str) -> dict[str, Any]:
        path = ENDPOINTS / user / "endpoint.json"
        if not path.exists():
            pytest.skip(f"no {path}: converge playbooks/vc.yml after `egov lab up` of the site (its lab play "
                        "writes the endpoints of the sites that are up)")
        return dict(json.loads(path.read_text(encoding="utf-8")))

    # ---- probes from a namespace ----------------------------------------------------------------------------
    def sip(self, ns: str, action: str, request: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
        """One probe of tests/vc/sip.py in a namespace; its JSON evidence."""
        proc = run(["ip", "netns", "exec", ns, sys.executable, "-m", "tests.vc.sip", action, json.dumps(request)],
                   timeout=timeout, check=False)
        assert proc.returncode == 0, f"{action} in {ns} crashed:\n{proc.stdout}\n{proc.stderr[-3000:]}"
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))

    def register(self, slug: str, *, user: str | None = None, password: str | None = None, ns: str | None = None,
                 local: str | None = None, transport: str = "tls", expires: int = 120,
                 timeout: float = 5) -> dict[str, Any]:
        """REGISTER account `user` (default: the site's own) from a namespace (default: the site's VC client)."""
        account = user or slug
        port = SIP_TLS_PORT if transport == "tls" else SIP_PORT
        request = {"server": self.mcu_address, "port": port, "transport": transport, "user": account,
                   "password": self.password(account) if password is None else password, "domain": DOMAIN,
                   "local": local or ACCOUNTS[slug]["address"], "cafile": str(self.cafile), "expires": expires,
                   "timeout": timeout}
        result = self.sip(ns or vc_netns(slug), "register", request, timeout=timeout * 3 + 30)
        if result.get("final") == 200 and expires > 0:
            self.registered.add(account)
        return result

    def probe(self, ns: str, address: str, port: int, timeout: float = 3) -> str:
        return str(self.sip(ns, "probe", {"address": address, "port": port, "timeout": timeout})["result"])

    def sniffer(self, ns: str, iface: str, seconds: float, **match: Any) -> subprocess.Popen[str]:
        """A packet counter on a firewall's interface (started; ready when this returns)."""
        request = {"iface": iface, "seconds": seconds, **match}
        proc = self.started(["ip", "netns", "exec", ns, sys.executable, "-m", "tests.vc.sip", "sniff",
                             json.dumps(request)])
        ready = json.loads(first_line(proc, 30))
        assert ready.get("ready"), ready
        return proc

    @staticmethod
    def sniffed(proc: subprocess.Popen[str]) -> int:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, f"the sniffer failed:\n{out}\n{err[-2000:]}"
        return int(json.loads(out.strip().splitlines()[-1])["count"])

    @staticmethod
    def started(argv: list[str]) -> subprocess.Popen[str]:
        return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=REPO)

    # ---- the admin interfaces, from the controller (DC management segment) ---------------------------------------
    def rpc(self, method: str, *params: Any, timeout: float = 10) -> dict[str, Any]:
        """Kamailio's JSON-RPC over HTTP (listener sip-rpc, path /RPC)."""
        conn = http.client.HTTPConnection(self.mcu_address, RPC_PORT, timeout=timeout)
        body = {"jsonrpc": "2.0", "method": method, "id": 1, **({"params": list(params)} if params else {})}
        conn.request("POST", "/RPC", body=json.dumps(body), headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        conn.close()
        assert response.status == 200, f"JSON-RPC {method}: HTTP {response.status}: {text[:500]}"
        return dict(json.loads(text))

    def registrations(self) -> dict[str, list[dict[str, Any]]]:
        """AoR -> its contacts, from `ul.dump` (Domains[].Domain.AoRs[].Info.{AoR, Contacts[].Contact})."""
        reply = self.rpc("ul.dump")
        assert "result" in reply, reply
        out: dict[str, list[dict[str, Any]]] = {}
        for domain in reply["result"].get("Domains", []):
            for aor in domain.get("Domain", {}).get("AoRs", []):
                info = aor.get("Info", {})
                contacts = [c.get("Contact", {}) for c in info.get("Contacts", [])]
                out[str(info["AoR"]).split("@")[0]] = contacts
        return out

    def janus_admin(self, body: dict[str, Any], *, admin_secret: str | None = None,
                    timeout: float = 10) -> dict[str, Any]:
        """Janus's admin API (listener janus-admin: nginx TLS -> loopback), with the admin secret."""
        context = ssl.create_default_context(cafile=str(self.cafile))
        conn = _Https(self.mcu_address, ADMIN_PORT, context, timeout)
        payload = {**body, "transaction": secrets.token_hex(8),
                   "admin_secret": secret("janus-admin") if admin_secret is None else admin_secret}
        conn.request("POST", "/admin", body=json.dumps(payload), headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        conn.close()
        assert response.status == 200, f"admin API {body.get('janus')}: HTTP {response.status}: {text[:500]}"
        return dict(json.loads(text))

    def participants(self, plugin: str, room: int) -> list[dict[str, Any]]:
        """listparticipants of a room through the admin API (message_plugin: no PIN, the admin secret)."""
        reply = self.janus_admin({"janus": "message_plugin", "plugin": f"janus.plugin.{plugin}",
                                  "request": {"request": "listparticipants", "room": room}})
        assert reply.get("janus") == "success", reply
        response = reply.get("response", {})
        assert "participants" in response, response
        return list(response["participants"])


def _prerequisites() -> None:
    """EGOV_VC_DEPS=1: the MCU's prerequisites, in molecule/vc/prerequisites.yml's order and limits."""
    spec = yaml.safe_load((REPO / "molecule" / "vc" / "prerequisites.yml").read_text(encoding="utf-8"))
    for item in spec["prepare_playbooks"]:
        converge(item["playbook"], item["limit"])


@pytest.fixture(scope="package")    # its firewall policy must not outlive tests/vc
def vc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vc]:
    systems = set(os.environ.get("EGOV_LAB_SYSTEMS", "").split(","))
    if settings.lab_converged() and "vc_mcu" not in systems:
        pytest.skip("the shared converge (EGOV_LAB_SYSTEMS) does not include the video conference yet")
    lab_site_up(COMMUNE, vc_netns(COMMUNE))
    for slug in (DISTRICT, OTHER_COMMUNE):
        run(["egov", "lab", "up", "--only", f"site:{slug}"], timeout=900)
    missing = [vc_netns(s) for s in SITES if not Path(f"/run/netns/{vc_netns(s)}").exists()]
    if missing:
        pytest.skip(f"video-conference clients missing after `egov lab up`: {missing}")
    province = load_province(REPO / "model" / "province.yml")
    mcu = next(h.name for h in province.dc_hosts if h.service == CONFERENCE["service"])
    up = set(settings.lab_up_hosts().read_text(encoding="utf-8").split())
    if mcu not in up:
        pytest.skip(f"the MCU {mcu} is not up in the lab")
    if not settings.lab_converged():
        if os.environ.get("EGOV_VC_DEPS") == "1":
            _prerequisites()
        converge("vc.yml", f"{mcu},localhost")
    else:
        # the shared converge (--limit its hosts) leaves out the lab's endpoints, whose configuration
        # follows the sites that are up (brought up above): its play on the controller alone
        converge("vc.yml", "localhost")
    # every site that is up and has an account and its client (the registrar must list exactly these)
    up_sites = [s.slug for s in province.sites if s.firewall_name in up and s.slug in ACCOUNTS
                and Path(f"/run/netns/{vc_netns(s.slug)}").exists()]
    vc = Vc(province=province, addresses=inventory_hosts(), mcu=mcu, up_sites=up_sites,
            cafile=lab_ca_bundle(tmp_path_factory.mktemp("ca") / "lab-ca.pem"))
    with province_policy_on(vc.addresses, FIREWALLS):
        try:
            yield vc
        finally:
            # leave the registrar as it was: every account this session registered, unregistered (Expires: 0)
            for user in sorted(vc.registered):
                if user in up_sites:
                    # best effort: a binding left behind expires by itself (120 s)
                    with contextlib.suppress(AssertionError, subprocess.TimeoutExpired, pytest.skip.Exception):
                        vc.register(user, expires=0)
            subprocess.run(["ip", "netns", "delete", GUEST_NETNS], capture_output=True, timeout=30, check=False)
