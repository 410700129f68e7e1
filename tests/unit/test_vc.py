"""The video conference derived from the model (issue 15): the 123 endpoint accounts, the rooms, the
endpoints' addresses, the flows every enforcement layer derives for the MCU, the model's refusals of a
bad conference section, and the MCU's configuration rendered from the model (Janus has no checker;
Kamailio's `kamailio -c` runs when a binary is at hand: $EGOV_KAMAILIO or `kamailio` on PATH)."""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jinja2
import pytest

from egov import vc
from egov.cloud.paths import make_stacks_importable
from egov.model import Province, load_province
from egov.network.policy import dc_rules, site_rules
from egov.network.registry import policy_data
from egov.service_vars import services_vars
from tests.conftest import REPO, model_problem

make_stacks_importable()
TEMPLATES = REPO / "roles" / "vc_mcu" / "templates"
ENDPOINT_TEMPLATES = REPO / "roles" / "vc_endpoint" / "templates"
MCU_LISTENERS = {"https", "janus-admin", "janus-media", "bridge-rtp", "sip-media", "sip", "sip-tls", "sip-rpc",
                 "turn", "turn-relay"}
ADMIN_LISTENERS = {"janus-admin", "sip-rpc"}


@pytest.fixture(scope="module")
def province() -> Province:
    return load_province()


@pytest.fixture(scope="module")
def conference(province: Province) -> dict[str, Any]:
    found = vc.conference(province)
    assert found is not None
    return found


def _net(text: str) -> ipaddress.IPv4Network:
    return ipaddress.IPv4Network(text)


# -- accounts -----------------------------------------------------------------------------------------
def test_123_accounts_one_per_endpoint(province: Province, conference: dict[str, Any]) -> None:
    accounts = conference["accounts"]
    kinds = [a["kind"] for a in accounts]
    assert len(accounts) == 123 == 3 + 11 + 109
    assert (kinds.count("provincial"), kinds.count("district"), kinds.count("commune")) == (3, 11, 109)
    facts = province.source.facts.baseline_2016
    assert kinds.count("provincial") == facts.vc_endpoints_provincial
    assert kinds.count("district") == facts.vc_endpoints_district
    assert len({a["user"] for a in accounts}) == 123, "an account name keys one endpoint"
    assert [a["unit"] for a in accounts if a["kind"] != "provincial"] == [s.code for s in province.sites]
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9-]*", a["user"]) for a in accounts)
    assert not any("password" in key or "ha1" in key for a in accounts for key in a), "credentials are run time"


def test_every_site_endpoint_sits_in_its_video_conference_vlan(province: Province, conference: dict[str, Any]) -> None:
    by_user = {a["user"]: a for a in conference["accounts"]}
    host = province.source.services["vc_mcu"].conference.endpoint_host  # type: ignore[union-attr]
    for site in province.sites:
        account = by_user[site.slug]
        vlan = site.vlan("video_conference")
        assert _net(account["network"]) == vlan.network and account["vlan"] == vlan.vlan
        assert ipaddress.IPv4Address(account["address"]) == vlan.network.network_address + host
        assert ipaddress.IPv4Address(account["address"]) != vlan.gateway
        for other in ("office", "guest", "management", "one_stop_shop"):
            assert ipaddress.IPv4Address(account["address"]) not in site.vlan(other).network


def test_the_provincial_endpoints_have_their_own_block(province: Province, conference: dict[str, Any]) -> None:
    block = province.source.addressing.provincial_video_conference
    assert block is not None
    provincial = [a for a in conference["accounts"] if a["kind"] == "provincial"]
    assert [a["user"] for a in provincial] == ["vpubnd", "stttt", "snv"]
    assert [a["address"] for a in provincial] == ["10.94.8.10", "10.94.8.11", "10.94.8.12"]
    assert all(_net(a["network"]) == block.prefix for a in provincial)
    dc = [s.prefix for s in province.source.addressing.dc_segments.values()]
    assert not any(block.prefix.overlaps(n) for n in [*dc, province.source.addressing.site_pool])
    assert block.prefix.subnet_of(province.source.addressing.supernet)


# -- rooms --------------------------------------------------------------------------------------------
def test_rooms_the_province_every_district_and_an_adhoc_range(province: Province, conference: dict[str, Any]) -> None:
    rooms = conference["rooms"]
    users = [a["user"] for a in conference["accounts"]]
    assert rooms[0]["id"] == 1000 and rooms[0]["kind"] == "province" and rooms[0]["invited"] == users
    districts = rooms[1:]
    assert [r["district"] for r in districts] == [d.slug for d in province.districts]
    assert [r["id"] for r in districts] == [1000 + d.slot for d in province.districts]
    provincial = [a["user"] for a in conference["accounts"] if a["kind"] == "provincial"]
    for room, district in zip(districts, province.districts, strict=True):
        communes = [c.slug for c in province.communes_of(district.code)]
        assert room["invited"] == [*provincial, district.slug, *communes]
    adhoc = conference["adhoc_rooms"]
    assert (adhoc["first"], adhoc["last"], adhoc["count"]) == (9000, 9019, 20)
    assert not {r["id"] for r in rooms} & set(range(adhoc["first"], adhoc["last"] + 1))


def test_an_endpoint_may_join_the_province_room_and_its_district_room(province: Province,
                                                                      conference: dict[str, Any]) -> None:
    by_user = {a["user"]: a for a in conference["accounts"]}
    commune = province.communes[0]
    district = province.site(commune.district_code)
    assert by_user[commune.slug]["rooms"] == [1000, 1000 + district.slot]
    assert by_user[commune.slug]["district"] == district.slug
    assert by_user[district.slug]["rooms"] == [1000, 1000 + district.slot]
    assert by_user["vpubnd"]["rooms"] == [1000, *(1000 + d.slot for d in province.districts)]


def test_the_inventory_carries_the_conference(province: Province, conference: dict[str, Any]) -> None:
    generated = services_vars(province)
    assert generated["egov_vc_conference"] == conference
    assert conference["domain"] == f"vc.{province.domain}"
    assert generated["egov_service_names"]["vc"] == "vc_mcu"
    ports = generated["egov_service_ports"]["vc_mcu"]
    assert set(ports) == MCU_LISTENERS
    assert (ports["janus-media"], ports["bridge-rtp"], ports["sip-media"], ports["turn-relay"]) == \
        ("20000-20199", "20200-20399", "20400-20499", "49152-49251")


# -- flows: every layer derives the same narrow ports ------------------------------------------------
def test_host_firewall_of_the_mcu(province: Province) -> None:
    entries = services_vars(province)["host_firewall_services_by_group"]["vc_mcu"]
    by_name: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_name.setdefault(entry["name"], []).append(entry)
    vlans = [s.vlan("video_conference").network for s in province.sites]
    monitoring = [ipaddress.IPv4Network(f"{h.address}/32") for h in province.dc_hosts if h.service == "monitoring"]
    management = [str(province.source.addressing.dc_segments["management"].prefix)]
    assert {name.removeprefix("vc_mcu-") for name in by_name if name.startswith("vc_mcu-")} == MCU_LISTENERS
    probed = {"https", "sip", "sip-tls"}        # the monitoring's probes (service:monitoring)
    for listener in MCU_LISTENERS - ADMIN_LISTENERS:
        want = [str(n) for n in ipaddress.collapse_addresses(vlans + (monitoring if listener in probed else []))]
        for entry in by_name[f"vc_mcu-{listener}"]:
            assert entry["sources"] == want, listener
    for listener in ADMIN_LISTENERS:
        assert [e["sources"] for e in by_name[f"vc_mcu-{listener}"]] == [management], listener
    assert [(e["proto"], e["ports"]) for e in by_name["vc_mcu-sip"]] == [(["udp"], [5060]), (["tcp"], [5060])]
    assert [(e["proto"], e["ports"]) for e in by_name["vc_mcu-turn-relay"]] == [(["udp"], ["49152-49251"])]
    assert not any(e.get("any") for e in entries), "nothing of the MCU is open to the internet"


def test_security_group_of_the_mcu(province: Province) -> None:
    from province_cloud.flows import ingress_rules

    rules = {r.description for r in ingress_rules(province) if r.description.split(" -> ")[1].startswith("vc_mcu ")}
    assert "site:video_conference -> vc_mcu udp/20000-20199" in rules
    assert "site:video_conference -> vc_mcu udp/49152-49251" in rules
    assert "management -> vc_mcu tcp/7088" in rules and "management -> vc_mcu tcp/5071" in rules
    assert not any("udp/10000-20000" in r for r in rules), "the old wide media range is gone"
    assert not any(r.startswith("site:video_conference") and ("7088" in r or "5071" in r) for r in rules)


def test_device_policy_toward_the_mcu(province: Province) -> None:
    policy = policy_data()
    mcu = next(h for h in province.dc_hosts if h.service == "vc_mcu")
    site = province.site("942")
    rules = [r.nft() for r in site_rules(province, site, policy) if r.comment == "site:video_conference -> vc_mcu"]
    vlan = site.vlan("video_conference").network
    assert f'iifname "lan0.30" ip saddr {vlan} ip daddr {mcu.address} udp dport ' \
           "{ 3478, 5060, 20000-20499, 49152-49251 } accept" in " ".join(rules)
    assert f'iifname "lan0.30" ip saddr {vlan} ip daddr {mcu.address} tcp dport ' \
           "{ 443, 3478, 5060-5061 } accept" in " ".join(rules)
    guest = str(site.vlan("guest").network)
    assert not any(guest in r.nft() and str(mcu.address) in r.nft() for r in site_rules(province, site, policy))
    admin = [r for r in dc_rules(province, policy) if r.comment == "management -> vc_mcu"]
    assert admin and all(r.saddr == (province.source.addressing.dc_segments["management"].prefix,) for r in admin)
    assert {p for r in admin for p in r.ports} >= {(7088, 7088), (5071, 5071)}


# -- bad models ---------------------------------------------------------------------------------------
def _replace(model_dir: Path, old: str, new: str) -> int:
    """Replace text in province.yml in place (the lines keep their numbers); the line it is on."""
    path = model_dir / "province.yml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text[:text.index(old)].count("\n") + 1


def test_an_unknown_department_of_a_provincial_endpoint_is_named(model_copy: Path) -> None:
    line = _replace(model_copy, "- {department: stttt,", "- {department: sxx,")
    message = model_problem(model_copy, "provincial_endpoints[1].department", "unknown department 'sxx'")
    assert message.startswith(f"{model_copy / 'province.yml'}:{line}: services.vc_mcu.conference."), message


def test_a_wrong_count_of_provincial_endpoints_is_named(model_copy: Path) -> None:
    _replace(model_copy, "        - {department: snv, name: Phòng họp Sở Nội vụ}\n", "")
    message = model_problem(model_copy, "services.vc_mcu.conference.provincial_endpoints",
                            "2 provincial endpoints, the plan says 3")
    assert message.startswith(f"{model_copy / 'province.yml'}:")


def test_an_adhoc_range_over_the_district_rooms_is_named(model_copy: Path) -> None:
    line = _replace(model_copy, "adhoc_rooms: {first: 9000, count: 20}", "adhoc_rooms: {first: 1005, count: 20}")
    message = model_problem(model_copy, "services.vc_mcu.conference.adhoc_rooms", "overlaps the district rooms")
    assert message.startswith(f"{model_copy / 'province.yml'}:{line}: "), message


def test_an_endpoint_host_outside_the_vlan_is_named(model_copy: Path) -> None:
    _replace(model_copy, "endpoint_host: 10\n", "endpoint_host: 15\n")
    model_problem(model_copy, "services.vc_mcu.conference.endpoint_host", "does not fit a site's video_conference VLAN")


def test_a_provincial_block_overlapping_the_dc_is_named(model_copy: Path) -> None:
    _replace(model_copy, "provincial_video_conference: {vlan: 30, prefix: 10.94.8.0/28}",
             "provincial_video_conference: {vlan: 30, prefix: 10.94.1.0/28}")
    model_problem(model_copy, "addressing.provincial_video_conference.prefix", "overlaps 10.94.1.0/24")


def test_a_typo_in_the_conference_section_is_refused(model_copy: Path) -> None:
    _replace(model_copy, "province_room: 1000", "province_rooms: 1000")
    model_problem(model_copy, "services.vc_mcu.conference.province_rooms", "unknown key")


# -- the MCU's configuration, rendered from the model -------------------------------------------------
def _mcu_vars(province: Province) -> dict[str, Any]:
    generated = services_vars(province)
    conf, ports = generated["egov_vc_conference"], generated["egov_service_ports"]["vc_mcu"]
    mcu = next(h for h in province.dc_hosts if h.service == "vc_mcu")
    accounts = [dict(a, ha1=hashlib.md5(f"{a['user']}:{conf['domain']}:pw-{a['user']}".encode()).hexdigest())
                for a in conf["accounts"]]
    return {
        "ansible_managed": "Ansible managed", "vc_mcu_conference": conf, "vc_mcu__domain": conf["domain"],
        "vc_mcu__address": str(mcu.address), "vc_mcu__names": [conf["domain"], f"{mcu.name}.dc.{province.domain}"],
        "vc_mcu__accounts": accounts, "vc_mcu__turn_relay": ports["turn-relay"].split("-"),
        "vc_mcu__rooms": [dict(r, pin=f"{r['id']}99", secret=f"secret{r['id']}") for r in conf["rooms"]],
        "vc_mcu__janus_etc": "/etc/janus", "vc_mcu_janus_lib_dir": "/usr/lib/x86_64-linux-gnu/janus",
        "vc_mcu__janus_other_plugins": ["libjanus_streaming.so"],
        "vc_mcu__janus_other_transports": ["libjanus_mqtt.so"],
        "vc_mcu__janus_loggers": ["libjanus_jsonlog.so"], "vc_mcu__janus_events": ["libjanus_sampleevh.so"],
        "vc_mcu__kamailio_tls_cfg": "/etc/kamailio/tls.cfg",
        "vc_mcu_https_port": ports["https"], "vc_mcu_janus_admin_port": ports["janus-admin"],
        "vc_mcu_janus_media_ports": ports["janus-media"], "vc_mcu_bridge_rtp_ports": ports["bridge-rtp"],
        "vc_mcu_sip_media_ports": ports["sip-media"], "vc_mcu_sip_port": ports["sip"],
        "vc_mcu_sip_tls_port": ports["sip-tls"], "vc_mcu_sip_rpc_port": ports["sip-rpc"],
        "vc_mcu_turn_port": ports["turn"], "vc_mcu_turn_relay_ports": ports["turn-relay"],
        "vc_mcu_janus_http_local_port": 8088, "vc_mcu_janus_ws_local_port": 8188, "vc_mcu_janus_admin_local_port": 7089,
        "vc_mcu_management_networks": [str(province.source.addressing.dc_segments["management"].prefix)],
        "vc_mcu_janus_admin_secret": "a" * 32, "vc_mcu_room_admin_key": "k" * 32, "vc_mcu_sip_nonce_secret": "n" * 32,
        "vc_mcu_service_cert_name": "vc", "vc_mcu_audio_sampling_rate": 16000, "vc_mcu_video_publishers": 16,
        "vc_mcu_video_bitrate": 512000, "vc_mcu_register_max_expires": 600, "vc_mcu_janus_debug_level": 4,
        "vc_mcu_kamailio_debug": 1,
    }


def _render(name: str, values: dict[str, Any], where: Path = TEMPLATES) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(where), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, autoescape=False)
    return env.get_template(name).render(**values)


def _jcfg_shape(text: str) -> list[str]:
    """Problems of a rendered libconfig (jcfg) file: unbalanced braces, an unquoted string value."""
    problems = []
    depth = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        depth += line.count("{") - line.count("}")
        if depth < 0:
            problems.append(f"line {number}: '}}' without '{{'")
        if "=" in line and not line.endswith("{"):
            value = line.split("=", 1)[1].strip()
            if not re.fullmatch(r'"[^"]*"|-?\d+|true|false|\[.*\]', value):
                problems.append(f"line {number}: value {value!r} is not a quoted string, number, boolean or list")
    if depth:
        problems.append(f"{depth} unclosed '{{'")
    return problems


@pytest.mark.parametrize("name", ["janus.jcfg.j2", "janus.transport.http.jcfg.j2", "janus.transport.websockets.jcfg.j2",
                                  "janus.plugin.videoroom.jcfg.j2", "janus.plugin.audiobridge.jcfg.j2",
                                  "janus.plugin.sip.jcfg.j2"])
def test_janus_files_render_as_libconfig(province: Province, name: str) -> None:
    assert _jcfg_shape(_render(name, _mcu_vars(province))) == []


def test_janus_uses_exactly_the_model_ranges_and_rooms(province: Province) -> None:
    values = _mcu_vars(province)
    core = _render("janus.jcfg.j2", values)
    bridge = _render("janus.plugin.audiobridge.jcfg.j2", values)
    room = _render("janus.plugin.videoroom.jcfg.j2", values)
    sip = _render("janus.plugin.sip.jcfg.j2", values)
    http = _render("janus.transport.http.jcfg.j2", values) + _render("janus.transport.websockets.jcfg.j2", values)
    assert 'rtp_port_range = "20000-20199"' in core and f'ice_enforce_list = "{values["vc_mcu__address"]}"' in core
    assert 'rtp_port_range = "20200-20399"' in bridge and 'rtp_port_range = "20400-20499"' in sip
    assert 'local_ip = "127.0.0.1"' in sip, "the SIP plugin signals to Kamailio over loopback only"
    assert re.findall(r'\bip = "([^"]+)"', http) == ["127.0.0.1"] and 'ws_ip = "127.0.0.1"' in http
    assert 'admin_ip = "127.0.0.1"' in http
    for text in (bridge, room):
        ids = [int(i) for i in re.findall(r"^room-(\d+): \{", text, re.MULTILINE)]
        assert ids == [r["id"] for r in values["vc_mcu__rooms"]]
        assert text.count("pin = ") == len(ids) and 'admin_key = "' in text


def test_kamailio_has_every_account_bound_to_its_network(province: Province) -> None:
    values = _mcu_vars(province)
    text = _render("kamailio.cfg.j2", values)
    cases = re.findall(r'case "([^"]+)":\n\t+\$var\(ha1\) = "([0-9a-f]{32})";\n\t+\$var\(network\) = "([^"]+)";', text)
    assert [(u, n) for u, _, n in cases] == [(a["user"], a["network"]) for a in values["vc_mcu__accounts"]]
    address = values["vc_mcu__address"]
    assert re.findall(r"^listen=(.*)$", text, re.MULTILINE) == [
        f"udp:{address}:5060", f"tcp:{address}:5060", f"tls:{address}:5061", f"tcp:{address}:5071",
        "udp:127.0.0.1:5060"]
    turn = _render("turnserver.conf.j2", values)
    users = re.findall(r"^user=([^:]+):0x[0-9a-f]{32}$", turn, re.MULTILINE)
    assert users == [a["user"] for a in values["vc_mcu__accounts"]]
    assert "min-port=49152\nmax-port=49251\n" in turn and f"allowed-peer-ip={address}\n" in turn


def _kamailio() -> str | None:
    return os.environ.get("EGOV_KAMAILIO") or shutil.which("kamailio")


@pytest.mark.skipif(_kamailio() is None,
                    reason="no kamailio binary here (set EGOV_KAMAILIO to a `kamailio -c` wrapper)")
def test_kamailio_accepts_the_rendered_configuration_and_refuses_a_broken_one(province: Province,
                                                                             tmp_path: Path) -> None:
    text = _render("kamailio.cfg.j2", _mcu_vars(province))
    good, bad = tmp_path / "kamailio.cfg", tmp_path / "bad.cfg"
    good.write_text(text, encoding="utf-8")
    bad.write_text(text.replace("is_in_subnet(", "is_in_subnett(", 1), encoding="utf-8")
    command = _kamailio()
    assert command is not None
    argv = [command] if os.environ.get("EGOV_KAMAILIO") else [command, "-c", "-f"]
    ok = subprocess.run([*argv, str(good)], capture_output=True, text=True, timeout=60, check=False)
    assert ok.returncode == 0 and "config file ok" in ok.stdout + ok.stderr, ok.stderr[-2000:]
    refused = subprocess.run([*argv, str(bad)], capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode != 0


def test_the_endpoint_account_line_names_its_registrar_and_credentials(province: Province) -> None:
    conf = services_vars(province)["egov_vc_conference"]
    account = next(a for a in conf["accounts"] if a["kind"] == "commune")
    values = {"ansible_managed": "Ansible managed", "item": account, "vc_endpoint__domain": conf["domain"],
              "vc_endpoint__password": "secret-of-the-test", "vc_endpoint__mcu_address": "10.94.1.19",
              "vc_endpoint_sip_tls_port": 5061, "vc_endpoint_register_interval": 300,
              "vc_endpoint_audio_codecs": ["opus", "PCMA"], "vc_endpoint_config_root": "/etc/egov-vc-endpoint",
              "vc_endpoint_sip_port": 5060, "vc_endpoint_ca_file": "/etc/ssl/egov/ca-chain.pem",
              "vc_endpoint_rtp_ports": "10000-10099"}
    line = _render("baresip-accounts.j2", values, ENDPOINT_TEMPLATES).splitlines()[-1]
    assert line.startswith(f"<sip:{account['user']}@{conf['domain']};transport=tls>;auth_user={account['user']};"
                           "auth_pass=secret-of-the-test;")
    assert 'outbound="sip:10.94.1.19:5061;transport=tls"' in line
    config = _render("baresip-config.j2", values, ENDPOINT_TEMPLATES)
    assert f"sip_listen\t\t{account['address']}:5060" in config
