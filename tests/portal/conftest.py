"""Fixtures of the portal lab tests (issue 13): the lab, one converge per session, a LAN client.

Lab tests bring up what they need (`egov lab up --only dc --only site:<slug>`, additive) and, unless
EGOV_LAB_CONVERGED=1 (`make lab-test` converged playbooks/site.yml already), converge the province
DNS (the portal's names) and playbooks/portal.yml once. The client is the office LAN namespace of a
commune (egl-pc-<slug>), the same one the mail and SSO tests use.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from egov import settings
from tests.conftest import lab_site_up, lab_ssh, run
from tests.mail.conftest import converge, inventory_hosts, lab_ca_bundle

REPO = Path(__file__).resolve().parents[2]
INVENTORY = REPO / "inventories" / "lab"
CLIENT = Path(__file__).resolve().parent / "netns_client.py"
BROWSER = REPO / "tests" / "browser.py"
SCREENSHOTS = REPO / "reports" / "portal"
SITE = os.environ.get("EGOV_PORTAL_SITE", "an-hiep")      # a commune of Châu Thành (as the mail/SSO tests)
NETNS = f"egl-pc-{SITE}"
PROVINCE = yaml.safe_load((INVENTORY / "group_vars" / "all" / "province.yml").read_text(encoding="utf-8"))
SERVICES = yaml.safe_load((INVENTORY / "group_vars" / "all" / "services.yml").read_text(encoding="utf-8"))
DOMAIN = PROVINCE["province_domain"]
WEB = ["portal-web-01", "portal-web-02"]
DB = ["portal-db-01", "portal-db-02"]
ARB = "portal-arb-01"
LB = "portal-lb-01"
PORTAL_HOSTS = [*WEB, *DB, ARB, LB]
# the 32 sites: the main portal on the province domain, one per department and district (the model's)
SITES = [{"domain": DOMAIN, "title": PROVINCE["province_name"]}] + [
    {"domain": f"{s['name']}.{DOMAIN}", "title": s["title"]} for s in SERVICES["egov_component_sites"]]


@dataclass
class Portal:
    addresses: dict[str, str]
    cafile: Path

    def ssh(self, host: str, command: str, *, check: bool = True, timeout: float = 60) -> str:
        return lab_ssh(self.addresses[host], command, check=check, timeout=timeout).stdout

    def _client_argv(self, action: str, request: dict[str, Any]) -> list[str]:
        req = {"action": action, "address": self.addresses[LB], "cafile": str(self.cafile), **request}
        return ["ip", "netns", "exec", NETNS, sys.executable, str(CLIENT), json.dumps(req)]

    def client(self, action: str, **request: Any) -> dict[str, Any]:
        """One probe of netns_client.py in the LAN client's namespace, toward the balancer."""
        proc = run(self._client_argv(action, request), timeout=float(request.get("seconds", 0)) + 180, check=False)
        assert proc.returncode == 0, f"{action} crashed:\n{proc.stdout}\n{proc.stderr[-3000:]}"
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))

    def client_started(self, action: str, **request: Any) -> subprocess.Popen[str]:
        """The same probe, started in the background (a stream while the test breaks something)."""
        return subprocess.Popen(self._client_argv(action, request), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)

    def php(self, host: str, code: str, timeout: float = 60) -> str:
        """PHP run as www-data on a web node with WordPress loaded for the main portal."""
        script = (f"<?php $_SERVER['HTTP_HOST'] = '{DOMAIN}'; $_SERVER['REQUEST_URI'] = '/'; "
                  f"$_SERVER['HTTPS'] = 'on'; require '/usr/share/wordpress/wp-load.php';\n{code}\n")
        b64 = base64.b64encode(script.encode()).decode()
        return self.ssh(host, f"f=$(mktemp --suffix=.php) && echo {b64} | base64 -d > $f && chmod 644 $f && "
                              f"runuser -u www-data -- php $f; rc=$?; rm -f $f; exit $rc", timeout=timeout)

    def browser(self, steps: list[dict[str, Any]]) -> dict[str, Any]:
        """Headless Chromium (tests/browser.py) in the LAN client's namespace: every site name maps to
        the balancer, the chain is verified against the lab CA only; screenshots go to reports/portal/."""
        names = {site["domain"]: self.addresses[LB] for site in SITES}
        req = {"cafile": str(self.cafile), "resolve": names, "screenshots": str(SCREENSHOTS), "steps": steps}
        proc = run(["ip", "netns", "exec", NETNS, sys.executable, str(BROWSER), json.dumps(req)], timeout=180,
                   check=False)
        assert proc.returncode == 0, f"the browser crashed:\n{proc.stdout}\n{proc.stderr[-3000:]}"
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))

    def galera(self, host: str) -> dict[str, Any]:
        return dict(json.loads(self.ssh(host, "/usr/local/lib/egov-portal-db/egov-galera-state")))

    def pool(self) -> dict[str, str]:
        """haproxy's view of the pool: '<backend>/<server>' -> status (UP, DOWN, ...)."""
        script = ("import socket; s=socket.socket(socket.AF_UNIX); s.connect('/run/haproxy/admin.sock'); "
                  "s.sendall(b'show stat\\n'); print(b''.join(iter(lambda: s.recv(65536), b'')).decode())")
        out = self.ssh(LB, f'python3 -c "{script}"')
        rows = [line.split(",") for line in out.splitlines() if line and not line.startswith("#")]
        return {f"{r[0]}/{r[1]}": r[17] for r in rows if len(r) > 17 and r[1] not in ("FRONTEND", "BACKEND")}

    def wait_pool(self, server: str, status: str, timeout: float = 60) -> float:
        """Seconds until every backend shows `server` with `status` (fails after timeout)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            states = {k: v for k, v in self.pool().items() if k.endswith(f"/{server}")}
            if states and all(v.startswith(status) for v in states.values()):
                return time.monotonic() - started
            time.sleep(1)
        pytest.fail(f"{server} not {status} in the balancer's pool after {timeout}s: {self.pool()}")


@pytest.fixture(scope="session")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    lab_site_up(SITE, NETNS)
    up = set(settings.lab_state_dir().joinpath("up-hosts").read_text(encoding="utf-8").split())
    if not set(PORTAL_HOSTS) <= up:
        pytest.skip(f"portal hosts not up in the lab: {sorted(set(PORTAL_HOSTS) - up)}")
    systems = set(os.environ.get("EGOV_LAB_SYSTEMS", "").split(","))
    if settings.lab_converged() and not {"portal_web", "portal"} & systems:
        pytest.skip("the shared converge (EGOV_LAB_SYSTEMS) does not include the portal yet")
    if not settings.lab_converged():
        converge("dns.yml", "dns")
        converge("portal.yml", ",".join(PORTAL_HOSTS))
    yield Portal(addresses=inventory_hosts(), cafile=lab_ca_bundle(tmp_path_factory.mktemp("ca") / "lab-ca.pem"))
