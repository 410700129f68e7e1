"""Browser-like HTTP flows of the portal's administration through the SSO, run from a LAN client.

Run inside a site client's network namespace (tests/portal/test_portal_sso.py does it):

    ip netns exec egl-pc-<slug> python -m tests.portal.sso_client admin --site snv.soctrang.gov.vn \\
        --user snv.001 --password ... --other tran-de.soctrang.gov.vn --ca lab-ca.pem \\
        --resolve snv.soctrang.gov.vn=<balancer> --resolve sso.soctrang.gov.vn=<sso> ...

The SSO side (session, login form, pinned names) is the client of tests/sso/flows.py. Each flow prints
one JSON object, the evidence the tests assert on; TLS is verified against the given CA bundle.
"""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import urlparse

import requests

from tests.sso import flows

WP_LOGGED_IN = "wordpress_logged_in_"


def _logged_in(s: requests.Session) -> bool:
    """Does the browser hold a WordPress login cookie (set by the plugin after the SSO)?"""
    return any(cookie.name.startswith(WP_LOGGED_IN) for cookie in s.cookies)


def _sso_cookie(s: requests.Session) -> bool:
    return any(cookie.name == "egovsso" for cookie in s.cookies)


def page(r: requests.Response) -> dict[str, Any]:
    """What an administration page answered: final URL and status, and whether it is the dashboard."""
    return {
        "url": r.url,
        "status": r.status_code,
        "host": urlparse(r.url).hostname,
        # wp-admin/index.php: the dashboard's widgets in a wp-admin body (any language)
        "dashboard": r.status_code == 200 and 'id="dashboard-widgets' in r.text and "wp-admin" in r.text,
        "hops": [f"{h.status_code} {urlparse(h.url).hostname}{urlparse(h.url).path}" for h in r.history],
        "excerpt": r.text[:300] if r.status_code != 200 else "",
    }


def admin(args: argparse.Namespace) -> dict[str, Any]:
    """https://<site>/wp-admin/ -> the SSO (password) -> back -> the site's dashboard; then, in the same
    browser, the wp-admin of every --other site."""
    s = flows._session(args.ca)
    first = s.get(f"https://{args.site}/wp-admin/", timeout=30)
    on_sso = urlparse(first.url).hostname == args.sso
    result: dict[str, Any] = {"redirected_to_sso": on_sso, "first": page(first)}
    if not on_sso:
        return result
    final = flows._portal_post(s, first, {"lmAuth": "1_Password", "user": args.user, "password": args.password})
    result.update(login=page(final), wordpress_cookie=_logged_in(s), sso_cookie=_sso_cookie(s))
    result["others"] = {site: page(s.get(f"https://{site}/wp-admin/", timeout=30)) for site in args.other}
    return result


def password(args: argparse.Namespace) -> dict[str, Any]:
    """A password login posted to wp-login.php as the WordPress form would; then wp-admin without the SSO."""
    s = flows._session(args.ca)
    s.cookies.set("wordpress_test_cookie", "WP Cookie check", domain=args.site)
    posted = s.post(f"https://{args.site}/wp-login.php", timeout=30, allow_redirects=False,
                    data={"log": args.user, "pwd": args.password, "wp-submit": "Log In", "testcookie": "1",
                          "redirect_to": f"https://{args.site}/wp-admin/"})
    after = s.get(f"https://{args.site}/wp-admin/", timeout=30, allow_redirects=False)
    return {
        "status": posted.status_code,
        "location": posted.headers.get("location", ""),
        "excerpt": posted.text[:300],
        "wordpress_cookie": _logged_in(s),
        "admin_status": after.status_code,
        "admin_location": after.headers.get("location", "").split("?")[0],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("flow", choices=["admin", "password"])
    p.add_argument("--site", required=True)
    p.add_argument("--other", action="append", default=[], help="another site whose wp-admin is visited after")
    p.add_argument("--sso", default="sso.soctrang.gov.vn")
    p.add_argument("--ca", required=True)
    p.add_argument("--user", default="")
    p.add_argument("--password", default="")
    p.add_argument("--resolve", action="append", default=[], help="name=address")
    args = p.parse_args(argv)
    flow = {"admin": admin, "password": password}[args.flow]
    # RuntimeError: the SSO answered without its login form
    return flows.run_flow(flow, args, (requests.exceptions.RequestException, RuntimeError))


if __name__ == "__main__":
    raise SystemExit(main())
