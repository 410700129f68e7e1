"""Fixtures of the one-stop-shop lab tests (issue 14): the lab, one converge, the clients.

The tests bring up what they need (`egov lab up --only dc --only site:<commune> --only site:<district>`,
additive) and, unless EGOV_LAB_CONVERGED=1 (`make lab-test` converged playbooks/site.yml already),
converge playbooks/oss.yml once. Clients: the counter PCs of a commune and of its district
(egl-oss-<slug>, the sites' one-stop-shop VLANs) and a citizen on the Internet side of the DC
firewall (egl-inet-citizen).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from egov import settings
from egov.lab.topology import INTERNET_CLIENT
from tests.conftest import REPO, lab_site_up, lab_ssh, province_policy_on, run
from tests.mail.conftest import converge, inventory_hosts, lab_ca_bundle
from tests.sso.conftest import official_password

INVENTORY = REPO / "inventories" / "lab"
PROVINCE = yaml.safe_load((INVENTORY / "group_vars" / "all" / "province.yml").read_text(encoding="utf-8"))
SERVICES = yaml.safe_load((INVENTORY / "group_vars" / "all" / "services.yml").read_text(encoding="utf-8"))
DOMAIN = PROVINCE["province_domain"]
COMMUNE = os.environ.get("EGOV_OSS_COMMUNE", "an-hiep")        # a commune of Châu Thành (as the other tests)
DISTRICT = "chau-thanh"
OTHER_COMMUNE = "thien-my"                                        # another commune of the same district
APP = ["oss-app-01", "oss-app-02"]
DB = ["oss-db-01", "oss-db-02"]
ARB = "oss-arb-01"
LB = "oss-lb-01"
GATEWAY = ["lgsp-01", "lgsp-02"]
OSS_HOSTS = [*APP, *DB, ARB, LB, *GATEWAY]
FIREWALLS = ["dc-fw-01", f"fw-{COMMUNE}", f"fw-{DISTRICT}", f"fw-{OTHER_COMMUNE}"]
APP_NAME = f"{next(k for k, v in SERVICES['egov_service_names'].items() if v == 'oss_lb')}.{DOMAIN}"
SSO_NAME = f"sso.{DOMAIN}"
LAND_PROCEDURE = "dd-cap-gcn-lan-dau"     # filed at the commune, decided at the district (liên thông)
CATALOGUE = SERVICES["egov_oss_catalogue"]


def netns(client: str) -> str:
    return f"egl-{client}"


def counter(slug: str) -> str:
    """The counter PC's namespace of a site (model: Site.counter_client_name)."""
    return netns(f"oss-{slug}")


CITIZEN = netns(INTERNET_CLIENT)


@dataclass
class Oss:
    addresses: dict[str, str]
    cafile: Path

    def ssh(self, host: str, command: str, *, check: bool = True, timeout: float = 60) -> str:
        return lab_ssh(self.addresses[host], command, check=check, timeout=timeout).stdout

    def resolve(self) -> list[str]:
        return ["--resolve", f"{APP_NAME}={self.addresses[LB]}", "--resolve", f"{SSO_NAME}={self.addresses['sso-01']}"]

    def flow_argv(self, ns: str, name: str, *args: str) -> list[str]:
        return ["ip", "netns", "exec", ns, sys.executable, "-m", "tests.oss.flows", name, "--app", APP_NAME,
                "--sso", SSO_NAME, "--ca", str(self.cafile), *self.resolve(), *args]

    def flow(self, ns: str, name: str, *args: str, timeout: float = 120) -> dict[str, Any]:
        """One flow of tests/oss/flows.py in a client namespace; its JSON evidence."""
        proc = run(self.flow_argv(ns, name, *args), timeout=timeout, check=False)
        assert proc.returncode == 0, f"{name} crashed:\n{proc.stdout}\n{proc.stderr[-3000:]}"
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))

    def official(self, ns: str, name: str, uid: str, *args: str) -> dict[str, Any]:
        return self.flow(ns, name, "--user", uid, "--password", official_password(uid), *args)

    def patroni(self, host: str, path: str = "cluster") -> dict[str, Any]:
        out = self.ssh(host, f"curl -s --max-time 5 http://{self.addresses[host]}:8008/{path}", check=False)
        return dict(json.loads(out)) if out.strip().startswith("{") else {}

    def started(self, argv: list[str]) -> subprocess.Popen[str]:
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)

    @staticmethod
    def crash(host: str) -> int:
        """The host dies at once: SIGKILL to every process of its container (nothing shuts down cleanly,
        nothing restarts). Returns how many processes were killed."""
        from egov.lab import host as hostmod
        pids = hostmod.cgroup_pids(host)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return len(pids)

    @staticmethod
    def revive() -> None:
        """`egov lab up` boots the crashed host again (its disk kept), as an operator powering it on."""
        run(["egov", "lab", "up", "--only", "dc"], timeout=600)


@pytest.fixture(scope="package")    # its firewall policy must not outlive tests/oss
def oss(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Oss]:
    systems = set(os.environ.get("EGOV_LAB_SYSTEMS", "").split(","))
    if settings.lab_converged() and "oss_app" not in systems:
        pytest.skip("the shared converge (EGOV_LAB_SYSTEMS) does not include the one-stop-shop yet")
    lab_site_up(COMMUNE, counter(COMMUNE))
    for slug in (DISTRICT, OTHER_COMMUNE):
        run(["egov", "lab", "up", "--only", f"site:{slug}"], timeout=900)
    if not Path(f"/run/netns/{CITIZEN}").exists():
        pytest.skip(f"the Internet-side client {CITIZEN} is missing after `egov lab up`")
    up = set(settings.lab_state_dir().joinpath("up-hosts").read_text(encoding="utf-8").split())
    if not set(OSS_HOSTS) <= up:
        pytest.skip(f"one-stop-shop hosts not up in the lab: {sorted(set(OSS_HOSTS) - up)}")
    if not settings.lab_converged():
        converge("oss.yml", ",".join(OSS_HOSTS))
    oss = Oss(addresses=inventory_hosts(), cafile=lab_ca_bundle(tmp_path_factory.mktemp("ca") / "lab-ca.pem"))
    # the province policy on the firewalls on the way (the counters' VLAN isolation is theirs)
    with province_policy_on(oss.addresses, FIREWALLS):
        yield oss
