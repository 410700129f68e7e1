"""Site administration only through the SSO (issue 13), proven from a commune LAN client.

An official logs in to wp-admin of their own unit's site through LemonLDAP::NG (OpenID Connect, the
relying party `portal`; plugin egov-sso-admin.php) and reaches the dashboard; the same browser gets
403 on another unit's site; a commune official does not administer its district's site; a password
posted to wp-login.php is refused even when it is the right one. Needs the lab (root):
`pytest tests/portal/test_portal_sso.py -m lab`. Unless EGOV_LAB_CONVERGED=1, the `portal` fixture
converges the DNS and the portal, and this module converges playbooks/sso.yml (the relying party);
the directory must have been converged once (its officials' lab passwords).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from egov import settings
from egov.model import load_province
from egov.model.officials import Directory, build_directory
from tests.conftest import run
from tests.mail.conftest import converge
from tests.portal.conftest import DOMAIN, LB, NETNS, REPO, SERVICES, SITE, SITES, WEB, Portal
from tests.sso.conftest import inventory, official_password

pytestmark = [pytest.mark.lab, pytest.mark.xdist_group("portal")]

SSO_HOSTS = ["sso-01", "sso-02"]
PROBE = "egov-sso-probe"  # a local WordPress administrator with a known password, removed afterwards
Flow = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class Case:
    """Who logs in where: the site of a unit, an official of that unit, and an unrelated site."""

    site: str           # DNS name of the site
    uid: str            # an official of the site's owning unit
    other_site: str     # a site owned by another unit


def _directory() -> Directory:
    return build_directory(load_province(REPO / "model" / "province.yml"))


def _first_official(directory: Directory, unit_slug: str) -> str:
    return next(o.uid for o in directory.officials if o.unit.slug == unit_slug and o.index == 1)


@pytest.fixture(scope="module")
def directory() -> Directory:
    return _directory()


@pytest.fixture(scope="module")
def department(directory: Directory) -> Case:
    """The first department's site, its head (e.g. snv.001 on snv.<domain>), and the last district's site."""
    sites = SERVICES["egov_component_sites"]
    dept = next(s for s in sites if s["kind"] == "department")
    district = [s for s in sites if s["kind"] == "district"][-1]
    return Case(site=f"{dept['name']}.{DOMAIN}", uid=_first_official(directory, dept["code"]),
                other_site=f"{district['name']}.{DOMAIN}")


@pytest.fixture(scope="module")
def sso_converged(portal: Portal) -> None:
    """The SSO knows the relying party `portal` (playbooks/sso.yml after this change)."""
    up = set(settings.lab_state_dir().joinpath("up-hosts").read_text(encoding="utf-8").split())
    if not set(SSO_HOSTS) <= up:
        pytest.skip(f"SSO hosts not up in the lab: {sorted(set(SSO_HOSTS) - up)}")
    if settings.lab_converged():
        systems = set(os.environ.get("EGOV_LAB_SYSTEMS", "").split(","))
        if not {"sso", "directory"} <= systems:
            pytest.skip("the shared converge (EGOV_LAB_SYSTEMS) does not include the SSO and the directory")
        return
    converge("sso.yml", "sso")


@pytest.fixture(scope="module")
def flow(portal: Portal, sso_converged: None) -> Flow:
    """Run a flow of tests/portal/sso_client.py in the commune LAN client's namespace: every site's name
    pinned to the balancer, the SSO's name to its first node, TLS verified against the lab CA."""
    sso = f"sso.{DOMAIN}"
    pins = [f"{s['domain']}={portal.addresses[LB]}" for s in SITES]
    pins.append(f"{sso}={inventory()['province_service_addresses']['sso'][0]}")

    def run_flow(name: str, site: str, *args: str) -> dict[str, Any]:
        argv = ["ip", "netns", "exec", NETNS, sys.executable, "-m", "tests.portal.sso_client", name,
                "--site", site, "--sso", sso, "--ca", str(portal.cafile), *[f"--resolve={p}" for p in pins], *args]
        proc = run(argv, timeout=180, check=False)
        assert proc.returncode == 0, f"{name} crashed:\n{proc.stdout}\n{proc.stderr[-3000:]}"
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        assert "request_error" not in result, result
        return result

    return run_flow


def _wordpress_user(portal: Portal, login: str, domains: list[str]) -> dict[str, Any]:
    """The WordPress user `login` as the database holds it: email, unit meta, roles on each site."""
    code = f"""
$u = get_user_by('login', '{login}');
$out = ['exists' => (bool) $u];
if ($u) {{
    $out['email'] = $u->user_email;
    $out['unit'] = get_user_meta($u->ID, 'egov_unit', true);
    $out['roles'] = [];
    foreach (json_decode('{json.dumps(domains)}', true) as $domain) {{
        $blog = get_blog_id_from_url($domain, '/');
        $out['roles'][$domain] = $blog ? array_values((new WP_User($u->ID, '', $blog))->roles) : null;
    }}
}}
echo json_encode($out), "\\n";
"""
    return dict(json.loads(portal.php(WEB[0], code).strip().splitlines()[-1]))


def test_an_official_administers_their_own_units_site_through_the_sso_and_no_other(
        portal: Portal, flow: Flow, department: Case) -> None:
    result = flow("admin", department.site, "--user", department.uid, "--password",
                  official_password(department.uid), "--other", department.other_site, "--other", DOMAIN)
    assert result["redirected_to_sso"], result                          # wp-admin sent the browser to the SSO
    login = result["login"]
    assert login["url"] == f"https://{department.site}/wp-admin/", login
    assert login["status"] == 200 and login["dashboard"], login
    assert any("/wp-login.php" in hop and department.site in hop for hop in login["hops"]), login
    assert result["wordpress_cookie"] and result["sso_cookie"], result
    # the same browser, logged in, on sites of other units (a district, the main portal): 403
    for site, other in result["others"].items():
        assert other["status"] == 403 and not other["dashboard"], (site, other)
    user = _wordpress_user(portal, department.uid, [department.site, department.other_site, DOMAIN])
    assert user["exists"], user
    assert user["email"] == f"{department.uid}@{DOMAIN}", user          # login = uid, email from the claim
    assert user["unit"] == [department.uid.split(".")[0]], user         # the directory's departmentNumber
    assert user["roles"] == {department.site: ["administrator"], department.other_site: [], DOMAIN: []}, user


def test_a_district_official_administers_the_district_site_and_a_commune_official_does_not(
        portal: Portal, flow: Flow, directory: Directory) -> None:
    commune = next((u for u in directory.units if u.slug == SITE and u.kind == "commune"), None)
    if commune is None:
        pytest.skip(f"the LAN client's site {SITE} is not a commune of the directory")
    district = next(s for s in SERVICES["egov_component_sites"]
                    if s["kind"] == "district" and s["title"] == commune.district_name)
    site = f"{district['name']}.{DOMAIN}"
    head = _first_official(directory, district["name"])
    own = flow("admin", site, "--user", head, "--password", official_password(head))
    assert own["login"]["status"] == 200 and own["login"]["dashboard"], own
    official = _first_official(directory, commune.slug)
    other = flow("admin", site, "--user", official, "--password", official_password(official))
    assert other["redirected_to_sso"], other
    # signed in (the SSO said who they are), but the commune does not own its district's site
    assert other["wordpress_cookie"], other
    assert other["login"]["url"] == f"https://{site}/wp-admin/", other
    assert other["login"]["status"] == 403 and not other["login"]["dashboard"], other
    assert _wordpress_user(portal, official, [site])["roles"] == {site: []}


def test_a_password_posted_to_wp_login_is_refused_even_the_right_one(
        portal: Portal, flow: Flow, department: Case) -> None:
    """A local administrator of the site with a password we know (set from the CLI, where WordPress
    accepts it): the web refuses it, and the network administrator of the install likewise."""
    password = secrets.token_urlsafe(24)
    setup = f"""
require_once ABSPATH . 'wp-admin/includes/user.php';
$u = get_user_by('login', '{PROBE}');
$id = $u ? $u->ID : wpmu_create_user('{PROBE}', '{password}', '{PROBE}@{DOMAIN}');
wp_set_password('{password}', $id);
add_user_to_blog(get_blog_id_from_url('{department.site}', '/'), $id, 'administrator');
$check = wp_authenticate('{PROBE}', '{password}');
echo json_encode(['id' => $id, 'cli_password_ok' => !is_wp_error($check)]), "\\n";
"""
    cleanup = f"""
require_once ABSPATH . 'wp-admin/includes/user.php';
require_once ABSPATH . 'wp-admin/includes/ms.php';
$u = get_user_by('login', '{PROBE}');
echo json_encode(['deleted' => $u ? wpmu_delete_user($u->ID) : true]), "\\n";
"""
    try:
        probe = json.loads(portal.php(WEB[0], setup).strip().splitlines()[-1])
        assert probe["id"] and probe["cli_password_ok"], probe               # the password is the right one
        refused = flow("password", department.site, "--user", PROBE, "--password", password)
        assert refused["status"] == 403, refused
        assert not refused["wordpress_cookie"], refused
        assert refused["admin_status"] == 302, refused                       # still not logged in
        assert refused["admin_location"] == f"https://{department.site}/wp-login.php", refused
        admin = flow("password", DOMAIN, "--user", "egov-admin", "--password", password)
        assert admin["status"] == 403 and not admin["wordpress_cookie"], admin
    finally:
        assert json.loads(portal.php(WEB[0], cleanup).strip().splitlines()[-1])["deleted"]


def test_a_callback_without_the_flow_this_browser_started_is_refused(portal: Portal, department: Case) -> None:
    """Login CSRF: a code and state the SSO never issued to this browser (no signed flow cookie)."""
    path = "/wp-login.php?code=forged&state=" + secrets.token_hex(16)
    result = portal.client("many", names=[department.site], path=path)[department.site]
    assert result["ok"] and result["status"] == 403, result
