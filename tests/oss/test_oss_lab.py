"""The one-stop-shop on the lab (issue 14): the database cluster, the platform behind its balancer,
the counters' isolated VLAN, and a dossier carried end to end by real officials and a citizen.

Needs the lab (root): `pytest tests/oss -m lab`. Every request goes through the real site and DC
firewalls from a client namespace; TLS is verified against the lab CA.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from egov.model import load_province
from egov.model.officials import build_directory
from tests.oss.conftest import (
    APP_NAME,
    ARB,
    CITIZEN,
    COMMUNE,
    DB,
    DISTRICT,
    LAND_PROCEDURE,
    LB,
    OTHER_COMMUNE,
    REPO,
    Oss,
    counter,
)

pytestmark = [pytest.mark.lab]


def _first_official(unit_slug: str) -> str:
    directory = build_directory(load_province(REPO / "model" / "province.yml"))
    return next(o.uid for o in directory.officials if o.unit.slug == unit_slug and o.index == 1)


def _tcp(ns: str, address: str, port: int) -> bool:
    """A TCP connection from a client namespace (real packets through the firewalls)."""
    proc = subprocess.run(["ip", "netns", "exec", ns, "nc", "-z", "-w", "3", address, str(port)],
                          capture_output=True, timeout=30)
    return proc.returncode == 0


def test_the_database_has_a_leader_and_a_synchronous_standby(oss: Oss) -> None:
    cluster = oss.patroni(DB[0])
    roles = sorted(m["role"] for m in cluster.get("members", []))
    assert roles == ["leader", "sync_standby"], cluster
    assert all(m["state"] in ("running", "streaming") for m in cluster["members"]), cluster


def test_etcd_has_three_healthy_members(oss: Oss) -> None:
    for host in [*DB, ARB]:
        out = oss.ssh(host, "curl -s --max-time 5 http://127.0.0.1:2379/health")
        assert '"health":"true"' in out, (host, out)
    members = oss.ssh(DB[0], "ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:2379 member list")
    assert len(members.strip().splitlines()) == 3, members


def test_the_platform_answers_through_the_balancer_from_a_counter(oss: Oss) -> None:
    result = oss.flow(counter(COMMUNE), "lookup", "--number", "khong-co-ho-so")
    assert result.get("status") == 200 and result.get("api_status") == 404, result
    # plain HTTP is redirected to HTTPS by the balancer
    out = subprocess.run(["ip", "netns", "exec", counter(COMMUNE), "curl", "-s", "-o", "/dev/null", "-w",
                          "%{http_code} %{redirect_url}", "--max-time", "10", "--resolve",
                          f"{APP_NAME}:80:{oss.addresses[LB]}", f"http://{APP_NAME}/tra-cuu"],
                         capture_output=True, text=True, timeout=30).stdout
    assert out.startswith("301 https://"), out


def test_the_counter_vlan_reaches_the_application_and_nothing_else(oss: Oss) -> None:
    ns = counter(COMMUNE)
    assert _tcp(ns, oss.addresses[LB], 443)
    # negative cases: what every other VLAN of the site may open (the portal, mail, the mirror)
    for host, port in (("portal-lb-01", 443), ("mail-01", 25), ("mirror-01", 80), ("oss-db-01", 5432)):
        assert not _tcp(ns, oss.addresses[host], port), f"the counter VLAN reached {host}:{port}"
    # the office VLAN of the same site does reach the portal (the rule above is the VLAN's, not the site's)
    assert _tcp(f"egl-pc-{COMMUNE}", oss.addresses["portal-lb-01"], 443)


def _journey_step(oss: Oss, slug: str, uid: str, number: str, action: str) -> dict[str, Any]:
    result = oss.official(counter(slug), "act", uid, "--number", number, "--action", action,
                          "--note", f"{action} ({slug})")
    assert result.get("acted"), (slug, action, {k: v for k, v in result.items() if k != "page"}, result.get("page"))
    return result


def test_a_dossier_goes_from_the_commune_to_the_district_and_back_resolved(oss: Oss) -> None:
    """Intake at the commune's counter, transfer (liên thông) to the district, decided there, the
    result handed back at the commune; the citizen follows it from the Internet; another commune
    of the same district never sees it."""
    commune_official, district_official = _first_official(COMMUNE), _first_official(DISTRICT)
    taken = oss.official(counter(COMMUNE), "intake", commune_official, "--procedure", LAND_PROCEDURE,
                         "--applicant", "Trần Thị Bình")
    assert taken.get("logged_in") and taken.get("status") == 200, taken
    number = taken["number"]
    assert number.startswith(f"{COMMUNE}-") and taken["retry_same_number"], taken

    _journey_step(oss, COMMUNE, commune_official, number, "advance")
    _journey_step(oss, COMMUNE, commune_official, number, "transfer")        # to the district
    # the commune no longer holds it: it cannot act on it any more
    refused = oss.official(counter(COMMUNE), "act", commune_official, "--number", number, "--action", "advance")
    assert not refused.get("acted") or refused.get("status") == 409, refused
    _journey_step(oss, DISTRICT, district_official, number, "advance")
    _journey_step(oss, DISTRICT, district_official, number, "advance")       # the district signs
    _journey_step(oss, DISTRICT, district_official, number, "transfer")      # back to the commune
    _journey_step(oss, COMMUNE, commune_official, number, "advance")
    done = _journey_step(oss, COMMUNE, commune_official, number, "resolve")
    assert "Đã giải quyết" in done["page"], done["page"]

    citizen = oss.flow(CITIZEN, "lookup", "--number", number)
    assert citizen["api_status"] == 200, citizen
    public = citizen["api"]
    assert public["status"] == "resolved", public
    assert len(public["history"]) == 8, public                           # intake + 7 actions
    assert "Trần Thị Bình" not in citizen["page"], "the citizen's page shows the applicant's full name"

    other = _first_official(OTHER_COMMUNE)
    seen = oss.official(counter(COMMUNE), "view", other, "--number", number)
    assert seen.get("status") in (403, 404) and not seen.get("in_list"), {k: v for k, v in seen.items() if k != "page"}
    own = oss.official(counter(DISTRICT), "view", district_official, "--number", number)
    assert own.get("status") == 200, {k: v for k, v in own.items() if k != "page"}
