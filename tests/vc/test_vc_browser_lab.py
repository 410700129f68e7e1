"""A browser participant in the province room (issue 15): headless Chromium with a fake camera and microphone
joins VideoRoom 1000 through Janus over TLS from a site's video-conference VLAN; the admin API (from the DC
management segment) lists it among the room's participants as a publisher, and no longer once it left.

Needs the lab (root) and Debian's chromium + chromium-driver (`make deps`):
`pytest tests/vc/test_vc_browser_lab.py -m lab -p no:xdist`. The browser runs in egl-vc-<commune>
(tests/vc/janus_browser.py): its HTTPS (nginx -> Janus's API) and its WebRTC media (ICE/DTLS/SRTP on the
model's janus-media range) cross the site firewall, the DC firewall and the MCU's host firewall.
"""

from __future__ import annotations

import json
import secrets
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests import browser
from tests.vc.conftest import ACCOUNTS, COMMUNE, DOMAIN, HTTPS_PORT, PORTS, PROVINCE_ROOM, Vc, first_line, vc_netns
from tests.vc.janus_browser import candidates

pytestmark = [pytest.mark.lab]

def _listed(vc: Vc, display: str) -> list[dict[str, Any]]:
    return [p for p in vc.participants("videoroom", PROVINCE_ROOM) if p.get("display") == display]


def test_a_browser_joins_the_province_room_over_tls_and_the_admin_api_lists_it(vc: Vc) -> None:
    missing = browser.available()
    assert not missing, f"no browser on this controller: {missing} (make deps)"
    display = f"egov-browser-{secrets.token_hex(4)}"
    request = {"janus": f"https://{DOMAIN}:{HTTPS_PORT}/janus", "address": vc.mcu_address, "room": PROVINCE_ROOM,
               "pin": vc.pin(PROVINCE_ROOM), "display": display, "cafile": str(vc.cafile), "timeout": 60,
               "hold": 120}
    assert not _listed(vc, display)
    proc = vc.started(["ip", "netns", "exec", vc_netns(COMMUNE), sys.executable, "-m", "tests.vc.janus_browser",
                       json.dumps(request)])
    try:
        page = json.loads(first_line(proc, 150))
        brief = {k: v for k, v in page.items() if k != "events"}
        assert page.get("state") == "published", brief
        # negative first: the same join with a wrong PIN was refused by the VideoRoom (433 unauthorized)
        assert page["wrong_pin"]["error_code"] == 433 and page["wrong_pin"]["joined"] is False, brief
        assert sorted(page["tracks"]) == ["audio", "video"], brief
        assert page["ice"] in ("connected", "completed"), brief
        assert page["outbound"].get("audio", {}).get("packets", 0) > 0, brief
        assert page["outbound"].get("video", {}).get("packets", 0) > 0, brief
        # the media ends at the MCU, on the model's janus-media range, from the browser's VC VLAN address
        low, _, high = str(PORTS["janus-media"]).partition("-")
        remote = candidates(page["remote_candidates"])
        assert remote and all(c["ip"] == vc.mcu_address and int(low) <= c["port"] <= int(high) for c in remote), brief
        local = candidates(page["local_candidates"])
        assert any(c["ip"] == ACCOUNTS[COMMUNE]["address"] for c in local), brief
        # the room as the browser sees it, and as the admin API (management segment, admin secret) does
        assert {"display": display, "publisher": True} in page["listed"], brief
        admin = _listed(vc, display)
        assert len(admin) == 1 and admin[0].get("publisher") is True, vc.participants("videoroom", PROVINCE_ROOM)

        assert proc.stdin is not None
        proc.stdin.write("leave\n")
        proc.stdin.flush()
        left = json.loads(first_line(proc, 60))
        assert left.get("left") is True, left
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    # negative: once it left, the admin API no longer lists it (the listing is the live room)
    deadline = time.monotonic() + 15
    while _listed(vc, display) and time.monotonic() < deadline:
        time.sleep(1)
    assert not _listed(vc, display), vc.participants("videoroom", PROVINCE_ROOM)


def test_the_janus_api_is_open_to_the_vc_vlan_and_not_to_the_office_vlan(vc: Vc) -> None:
    """The Janus API (https) is open to the sites' VC VLANs only: the VC client opens it, the office client of
    the same site (egl-pc-<commune>, another VLAN of the same firewall) does not (dropped on the way)."""
    assert vc.probe(vc_netns(COMMUNE), vc.mcu_address, HTTPS_PORT) == "connected"
    office = f"egl-pc-{COMMUNE}"
    assert Path(f"/run/netns/{office}").exists(), f"no office client {office} after `egov lab up`"
    assert vc.probe(office, vc.mcu_address, HTTPS_PORT) == "timeout"
