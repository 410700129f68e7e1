"""The video conference on the lab (issue 15): registration, refusals, the guest VLAN dropped, a meeting.

Needs the lab (root): `pytest tests/vc -m lab -p no:xdist`. Every SIP and RTP packet is sent from a
site's video-conference namespace (egl-vc-<slug>) through the site firewall, the DC firewall and the
MCU's host firewall; the registrar's and Janus's admin interfaces are queried from the controller (the
DC management segment). Each refusal is paired with the positive that proves the service answers the
same request from where it is allowed, so a broken MCU cannot pass for a refusal.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from egov.lab.topology import site_bridge
from tests.vc.conftest import (
    ACCOUNTS,
    ADMIN_PORT,
    COMMUNE,
    DISTRICT,
    DISTRICT_ROOM,
    DOMAIN,
    ENDPOINTS,
    FABRIC,
    GUEST_NETNS,
    HTTPS_PORT,
    JOIN,
    OTHER_COMMUNE,
    PORTS,
    PROVINCE_ROOM,
    RPC_PORT,
    SIP_PORT,
    SIP_TLS_PORT,
    SITES,
    Vc,
    first_line,
    vc_netns,
)
from tests.vc.rtp import window_level

pytestmark = [pytest.mark.lab]

RTP_PORT = 10020                 # the endpoint's local RTP port (inside vc_endpoint_rtp_ports, 10000-10099)


def _range(listener: str) -> range:
    low, _, high = str(PORTS[listener]).partition("-")
    return range(int(low), int(high or low) + 1)


def _ok(result: dict[str, Any]) -> None:
    """A good registration: challenged first (no request passes without its digest), then accepted."""
    assert result["statuses"] == [401, 200], result
    assert result["realm"] == DOMAIN, result


# ---- the lab's endpoint configuration ---------------------------------------------------------------------
def test_the_lab_endpoints_are_configured_with_their_registrar_address_and_rooms(vc: Vc) -> None:
    """playbooks/vc.yml's lab play wrote each site's endpoint: its own account, address and network, the MCU
    as registrar (TLS) and Janus API, its rooms only (the province's and its district's) with their PINs, the
    baresip account with its password; readable by root only."""
    for slug in SITES:
        account = ACCOUNTS[slug]
        endpoint = vc.endpoint(slug)
        assert endpoint["account"] == slug and endpoint["domain"] == DOMAIN, endpoint["account"]
        site = vc.site(slug)
        vlan = site.vlan("video_conference")
        assert endpoint["address"] == account["address"] == str(vlan.network.network_address + 10), endpoint
        assert endpoint["network"] == str(vlan.network), endpoint
        assert endpoint["registrar"] == f"sip:{vc.mcu_address}:{SIP_TLS_PORT};transport=tls", endpoint
        assert endpoint["janus"] == f"https://{DOMAIN}:{HTTPS_PORT}/janus", endpoint
        assert endpoint["janus_address"] == vc.mcu_address, endpoint
        assert site.district_code == vc.site(DISTRICT).code, slug
        # negative: no other district's room, no PIN but its own rooms'
        rooms = sorted(r["id"] for r in endpoint["rooms"])
        assert rooms == sorted(account["rooms"]) == sorted([PROVINCE_ROOM, DISTRICT_ROOM]), endpoint["rooms"]
        for room in endpoint["rooms"]:
            assert room["pin"] == vc.pin(room["id"]), f"{slug}: the PIN of room {room['id']} differs from the MCU's"
        accounts = (ENDPOINTS / slug / "accounts").read_text(encoding="utf-8")
        assert f"auth_pass={vc.password(slug)};" in accounts and f"<sip:{slug}@{DOMAIN};transport=tls>" in accounts
        for name in ("endpoint.json", "accounts", "config"):
            mode = (ENDPOINTS / slug / name).stat().st_mode
            assert mode & 0o077 == 0, f"{slug}/{name} is readable by others ({oct(mode)})"
    assert JOIN.exists() and JOIN.stat().st_mode & 0o111, JOIN


# ---- registration ----------------------------------------------------------------------------------------------
def test_every_site_that_is_up_registers_and_the_registrar_lists_exactly_those(vc: Vc) -> None:
    """Each site's endpoint registers over TLS with its own account from its own VLAN (401 then 200); the
    registrar's location table (JSON-RPC ul.dump from the management segment) then holds exactly the
    accounts of the sites that are up, each bound from its VLAN address over TLS."""
    assert {COMMUNE, DISTRICT, OTHER_COMMUNE} <= set(vc.up_sites), vc.up_sites
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = dict(zip(vc.up_sites, pool.map(vc.register, vc.up_sites), strict=True))
    failed = {slug: r for slug, r in results.items() if r["statuses"] != [401, 200]}
    assert not failed, failed
    for result in results.values():
        _ok(result)
    listed = vc.registrations()
    assert set(listed) == set(vc.up_sites), (f"registered but not listed: {sorted(set(vc.up_sites) - set(listed))}; "
                                              f"listed but not up: {sorted(set(listed) - set(vc.up_sites))}")
    for slug, contacts in listed.items():
        assert len(contacts) == 1, (slug, contacts)                 # max_contacts 1
        contact = contacts[0]
        assert f"@{ACCOUNTS[slug]['address']}:" in contact["Address"], (slug, contact)
        assert contact["Socket"] == f"tls:{vc.mcu_address}:{SIP_TLS_PORT}", (slug, contact)


def test_a_wrong_password_is_challenged_again_and_never_accepted(vc: Vc) -> None:
    wrong = vc.register(COMMUNE, password=vc.password(COMMUNE)[::-1] + "x")
    assert wrong["answered"] and 200 not in wrong["statuses"], wrong
    assert wrong["final"] in (401, 403), wrong
    assert wrong["statuses"] == [401, 401], wrong                     # Kamailio challenges a bad digest again
    _ok(vc.register(COMMUNE))                                         # the same request with the password


def test_an_account_used_from_another_sites_vlan_is_forbidden(vc: Vc) -> None:
    """The commune's account, right password, from the other commune's VC VLAN: 403 before any challenge;
    the other commune's own account from the same namespace registers; an unknown account is refused too."""
    elsewhere = vc.register(OTHER_COMMUNE, user=COMMUNE)
    assert elsewhere["statuses"] == [403], elsewhere
    assert "video-conference network" in elsewhere["reasons"][0], elsewhere     # the network check, not 'unknown'
    _ok(vc.register(OTHER_COMMUNE))
    # an account the model does not have (sent from a real site address): 403 as well
    stranger = vc.sip(vc_netns(OTHER_COMMUNE), "register", {
        "server": vc.mcu_address, "port": SIP_TLS_PORT, "transport": "tls", "user": "khong-co-tai-khoan",
        "password": "x" * 24, "domain": DOMAIN, "local": ACCOUNTS[OTHER_COMMUNE]["address"],
        "cafile": str(vc.cafile), "expires": 120, "timeout": 5})
    assert stranger["statuses"] == [403], stranger


# ---- the admin interfaces -------------------------------------------------------------------------------------
def _on_the_mcu(vc: Vc, script: str) -> str:
    """Python on the MCU itself (its own address as source: not the management segment)."""
    b64 = base64.b64encode(script.encode()).decode()
    return vc.ssh(vc.mcu, f"echo {b64} | base64 -d | python3").strip()


def test_the_registrar_control_interface_answers_the_management_segment_only(vc: Vc) -> None:
    version = vc.rpc("core.version")
    assert "kamailio" in json.dumps(version).lower(), version                  # from the controller: it answers
    ns = vc_netns(COMMUNE)
    assert vc.probe(ns, vc.mcu_address, SIP_TLS_PORT) == "connected"          # the VLAN reaches the MCU's SIP/TLS
    assert vc.probe(ns, vc.mcu_address, RPC_PORT) == "timeout"                # ...but not its RPC (dropped)
    # the daemon's own check behind the firewalls: a source outside the management segment gets 403
    status = _on_the_mcu(vc, (
        "import http.client\n"
        f"c = http.client.HTTPConnection('{vc.mcu_address}', {RPC_PORT}, timeout=5)\n"
        "c.request('POST', '/RPC', '{\"jsonrpc\": \"2.0\", \"method\": \"core.version\", \"id\": 1}')\n"
        "print(c.getresponse().status)\n"))
    assert status == "403", status


def test_the_janus_admin_api_answers_the_management_segment_with_its_secret_only(vc: Vc) -> None:
    sessions = vc.janus_admin({"janus": "list_sessions"})
    assert sessions.get("janus") == "success", sessions
    wrong = vc.janus_admin({"janus": "list_sessions"}, admin_secret="not-the-secret")
    assert wrong.get("janus") == "error" and wrong["error"]["code"] == 403, wrong
    ns = vc_netns(COMMUNE)
    assert vc.probe(ns, vc.mcu_address, HTTPS_PORT) == "connected"            # the VLAN reaches the Janus API
    assert vc.probe(ns, vc.mcu_address, ADMIN_PORT) == "timeout"              # ...but not the admin API
    status = _on_the_mcu(vc, (
        "import http.client, ssl\n"
        f"c = http.client.HTTPSConnection('{vc.mcu_address}', {ADMIN_PORT}, timeout=5, "
        "context=ssl._create_unverified_context())\n"
        "c.request('POST', '/admin', '{\"janus\": \"info\", \"transaction\": \"t\"}')\n"
        "print(c.getresponse().status)\n"))
    assert status == "403", status                                             # nginx: management networks only


# ---- the guest VLAN ---------------------------------------------------------------------------------------------
def _sh(*argv: str) -> None:
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0, f"{' '.join(argv)}: {proc.stderr}"


def test_the_same_registration_from_the_guest_vlan_is_dropped_by_the_site_firewall(vc: Vc) -> None:
    """A namespace plugged into the commune's guest VLAN (a veth on its bridge) reaches the MCU (ping through
    both firewalls), but its SIP REGISTER gets no answer: it arrives on the site firewall's guest interface and
    never leaves its WAN interface (counted there), while the same REGISTER from the VC VLAN leaves the WAN and
    is answered. A 403 would mean the packet got through (the registrar refuses the account from there)."""
    site = vc.site(COMMUNE)
    guest = site.vlan("guest")
    address = str(guest.network.network_address + 20)
    port = f"egvcg{site.slot}"
    firewall_ns = f"egl-{site.firewall_name}"
    subprocess.run(["ip", "netns", "delete", GUEST_NETNS], capture_output=True, timeout=30, check=False)
    _sh("ip", "netns", "add", GUEST_NETNS)
    try:
        _sh("ip", "link", "add", port, "netns", FABRIC, "type", "veth", "peer", "name", "eth0", "netns", GUEST_NETNS)
        _sh("ip", "-n", FABRIC, "link", "set", port, "master", site_bridge(site, guest.vlan), "up")
        for cmd in (["link", "set", "lo", "up"], ["link", "set", "eth0", "up"],
                    ["address", "add", f"{address}/{guest.network.prefixlen}", "dev", "eth0"],
                    ["route", "add", "default", "via", str(guest.gateway)]):
            _sh("ip", "-n", GUEST_NETNS, *cmd)
        ping = subprocess.run(["ip", "netns", "exec", GUEST_NETNS, "ping", "-c", "3", "-W", "2", vc.mcu_address],
                              capture_output=True, text=True, timeout=30, check=False)
        assert ping.returncode == 0, f"the guest namespace does not reach the MCU at all:\n{ping.stdout}"

        match = {"src": address, "dst": vc.mcu_address, "proto": 17, "dport": SIP_PORT}
        inside = vc.sniffer(firewall_ns, f"lan0.{guest.vlan}", 9, **match)
        outside = vc.sniffer(firewall_ns, "wan0", 9, **match)
        dropped = vc.register(COMMUNE, ns=GUEST_NETNS, local=address, transport="udp", timeout=4)
        arrived, left = vc.sniffed(inside), vc.sniffed(outside)
        assert not dropped["answered"] and dropped["sent"] >= 3, dropped
        assert arrived >= dropped["sent"], f"the guest's REGISTERs did not reach the site firewall ({arrived})"
        assert left == 0, f"{left} guest REGISTER packets left the site firewall's WAN interface"
        assert vc.probe(GUEST_NETNS, vc.mcu_address, SIP_TLS_PORT) == "timeout"   # nor SIP over TLS

        own = ACCOUNTS[COMMUNE]["address"]
        outside = vc.sniffer(firewall_ns, "wan0", 8, src=own, dst=vc.mcu_address, proto=17, dport=SIP_PORT)
        _ok(vc.register(COMMUNE, transport="udp", timeout=4))                  # the same packets from the VC VLAN
        assert vc.sniffed(outside) >= 2
    finally:
        subprocess.run(["ip", "netns", "delete", GUEST_NETNS], capture_output=True, timeout=30, check=False)


# ---- a meeting -----------------------------------------------------------------------------------------------------
A_TONE, B_TONE = 600.0, 1400.0    # Hz: on-bin for 20 ms frames at 16 kHz (50 Hz bins), far apart
A_TALKS, B_TALKS = (1.0, 3.5), (3.5, 6.0)
SETTLE = 0.6                      # s after a change before judging (AudioBridge prebuffer, mixing, Opus)
LOUD, QUIET = 800.0, 200.0        # tone level of what is heard / of silence (of an 8000 amplitude sent)


def _join(vc: Vc, slug: str, room: int) -> subprocess.Popen[str]:
    return vc.started(["ip", "netns", "exec", vc_netns(slug), str(JOIN), str(ENDPOINTS / slug), str(room),
                       "--rtp-port", str(RTP_PORT), "--seconds", "120"])


def _leave(proc: subprocess.Popen[str]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)          # egov-vc-join leaves the room and destroys its session
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    return int(proc.returncode)


def test_two_communes_meet_in_their_district_room_and_hear_each_other(vc: Vc) -> None:
    """an-hiep and thien-my join Châu Thành's room as plain-RTP participants of the AudioBridge
    (egov-vc-join) and exchange Opus RTP with the MCU, through both firewalls, from their announced ports.

    Why the criterion is sound: the AudioBridge sends every participant a mixed frame every 20 ms whether or
    not anyone speaks (silence when alone), so counting packets proves only the path. Each participant's mix
    is the room minus its own contribution. So each endpoint sends its own tone in its own interval and
    silence otherwise (an-hiep 600 Hz in 1.0-3.5 s, thien-my 1400 Hz in 3.5-6.0 s), decodes what it receives
    and measures the level of both tones per frame: an-hiep must hear 1400 Hz while, and only while, thien-my
    sends it, and never its own 600 Hz (and the reverse). The other's tone can only reach an endpoint through
    the other endpoint's RTP, the mixer and the return path: audio counted both ways at both ends."""
    a, b = COMMUNE, OTHER_COMMUNE
    for slug in (a, b):
        assert DISTRICT_ROOM in [r["id"] for r in vc.endpoint(slug)["rooms"]], slug
    joins = {slug: _join(vc, slug, DISTRICT_ROOM) for slug in (a, b)}
    try:
        joined = {slug: json.loads(first_line(proc, 60)) for slug, proc in joins.items()}
        for slug, info in joined.items():
            assert info["room"] == DISTRICT_ROOM, info
            assert info["mcu_rtp"]["ip"] == vc.mcu_address and info["mcu_rtp"]["port"] in _range("bridge-rtp"), info
            assert info["local_rtp"] == {"ip": ACCOUNTS[slug]["address"], "port": RTP_PORT}, info
        start = time.time() + 3
        plan = {a: [[*A_TALKS, A_TONE]], b: [[*B_TALKS, B_TONE]]}
        exchanges = {}
        for slug in (a, b):
            request = {"local": [ACCOUNTS[slug]["address"], RTP_PORT],
                       "remote": [joined[slug]["mcu_rtp"]["ip"], joined[slug]["mcu_rtp"]["port"]],
                       "payload_type": joined[slug]["mcu_rtp"].get("payload_type", 111), "start_at": start,
                       "duration": 6.0, "grace": 0.8, "rate": 16000, "amplitude": 8000, "tones": plan[slug],
                       "listen": [A_TONE, B_TONE]}
            exchanges[slug] = vc.started(["ip", "netns", "exec", vc_netns(slug), sys.executable, "-m",
                                          "tests.vc.rtp", "exchange", json.dumps(request)])
        results: dict[str, dict[str, Any]] = {}
        for slug, proc in exchanges.items():
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, f"the RTP exchange of {slug} failed:\n{out}\n{err[-3000:]}"
            results[slug] = json.loads(out.strip().splitlines()[-1])
        # both participants are in the room with their media set up (the MCU received their RTP)
        listed = {p.get("display"): p for p in vc.participants("audiobridge", DISTRICT_ROOM)}
        for slug in (a, b):
            assert slug in listed and listed[slug].get("setup") is True, listed
    finally:
        codes = {slug: _leave(proc) for slug, proc in joins.items()}
    assert codes == {a: 0, b: 0}, codes

    summary = {s: {k: v for k, v in r.items() if k != "frames"} for s, r in results.items()}
    for slug, r in results.items():
        assert r["sent"] == 300 and r["send_errors"] == 0, summary
        assert r["received"] >= 200 and r["decode_errors"] == 0 and r["not_rtp"] == 0, summary
        assert r["payload_types"] == [joined[slug]["mcu_rtp"].get("payload_type", 111)], summary
    a_window, b_window = (A_TALKS[0] + SETTLE, A_TALKS[1]), (B_TALKS[0] + SETTLE, B_TALKS[1])
    own = {a: 0, b: 1}                      # index of each one's own tone in "listen"
    other = {a: 1, b: 0}
    talks = {a: a_window, b: b_window}
    levels: dict[str, dict[str, Any]] = {}
    for slug, peer in ((a, b), (b, a)):
        frames = results[slug]["frames"]
        heard, n_heard = window_level(frames, other[slug], *talks[peer])
        before, n_before = window_level(frames, other[slug], *talks[slug])
        echo, _ = window_level(frames, own[slug], *talks[slug])
        levels[slug] = {"peer_talking": heard, "peer_silent": before, "own_echo": echo,
                        "frames": [n_heard, n_before]}
    for slug, peer in ((a, b), (b, a)):
        lv = levels[slug]
        assert min(lv["frames"]) >= 50, levels                       # ~95 frames in each 1.9 s window
        assert lv["peer_talking"] >= LOUD, f"{slug} did not hear {peer}: {levels}"
        assert lv["peer_silent"] <= QUIET, f"{slug} heard {peer}'s tone while {peer} was silent: {levels}"
        assert lv["own_echo"] <= QUIET, f"{slug} got its own audio back: {levels}"
    # after leaving: the room no longer lists them (the listing above was the live room)
    deadline = time.monotonic() + 15
    remaining: set[str] = {a, b}
    while remaining and time.monotonic() < deadline:
        remaining = {str(p.get("display")) for p in vc.participants("audiobridge", DISTRICT_ROOM)} & {a, b}
        if remaining:
            time.sleep(1)
    assert not remaining, f"still in room {DISTRICT_ROOM} after leaving: {remaining}"
