"""Fixtures of the SSO/webmail lab tests: lab checks, one converge per session, flows from a site client."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from egov import settings

REPO = Path(__file__).resolve().parents[2]
LAB = settings.lab_state_dir()
SECRETS = LAB / "secrets"
CA_DIR = LAB / "ca"
# a commune LAN client (office VLAN) whose firewall path reaches sso 443 and mail 443
CLIENT_NETNS = os.environ.get("EGOV_SSO_CLIENT", "egl-pc-an-hiep")
CLIENT_SITE = CLIENT_NETNS.removeprefix("egl-pc-")
HOSTS = ["sso-01", "sso-02", "mail-01", "mail-02"]
FIGURES = REPO / "reports" / "sso-figures.json"


def inventory() -> dict[str, Any]:
    return yaml.safe_load((REPO / "inventories/lab/group_vars/all/province.yml").read_text(encoding="utf-8"))


def record(name: str, value: Any) -> None:
    """Keep a measured figure (converge time, login round trip) in reports/sso-figures.json."""
    data = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    data[name] = value
    FIGURES.parent.mkdir(exist_ok=True)
    FIGURES.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _lab_ready_reason() -> str | None:
    if os.geteuid() != 0:
        return "the lab tests need root (network namespaces, systemd-nspawn)"
    for tool in ("egov", "ansible-playbook", "ip"):
        if not shutil.which(tool):
            return f"lab tooling missing: {tool} not on PATH (make deps)"
    return None


@pytest.fixture(scope="session")
def lab() -> None:
    reason = _lab_ready_reason()
    if reason:
        pytest.skip(reason)
    # additive: hosts already up are left alone
    subprocess.run(["egov", "lab", "up", "--only", "dc", "--only", f"site:{CLIENT_SITE}"], check=True,
                   cwd=REPO, stdout=subprocess.DEVNULL)


def _playbook(name: str, limit: str) -> tuple[float, str]:
    t0 = time.monotonic()
    proc = subprocess.run(["ansible-playbook", "-i", "inventories/lab", f"playbooks/{name}", "--limit", limit],
                          cwd=REPO, capture_output=True, text=True)
    elapsed = time.monotonic() - t0
    if proc.returncode != 0:
        pytest.fail(f"playbooks/{name} failed (rc={proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    return elapsed, proc.stdout


@pytest.fixture(scope="session")
def converged(lab: None) -> dict[str, float]:
    """Converge what the flows need, once per session: CA trust, directory, mail, SSO, webmail."""
    times: dict[str, float] = {}
    chain = (("pki.yml", "pki,sso,mail"), ("directory.yml", "directory"),
             ("mail.yml", "mail"), ("sso.yml", "sso"), ("webmail.yml", "mail"))
    # EGOV_SSO_CONVERGE=sso.yml,webmail.yml: only these (the others' systems already converged)
    wanted = settings.force_converge("sso", [playbook for playbook, _ in chain])
    # EGOV_LAB_CONVERGED=1: `make lab-test` converged playbooks/site.yml on these hosts already
    if not settings.lab_converged():
        for playbook, limit in chain:
            if wanted and playbook not in wanted:
                continue
            if not (REPO / "playbooks" / playbook).exists():
                pytest.skip(f"playbooks/{playbook} is not in this checkout yet (needed by the SSO flows)")
            times[playbook], _ = _playbook(playbook, limit)
        record("converge_seconds", {k: round(v, 1) for k, v in times.items()})
    return times


def official_password(uid: str) -> str:
    seed_file = SECRETS / "ldap/officials-seed"
    if not seed_file.exists():
        pytest.skip(f"{seed_file} missing: the directory role has not run")
    sys.path.insert(0, str(REPO / "src"))
    from egov.model.officials import lab_password

    return lab_password(seed_file.read_text().strip(), uid)


def ca_chain(tmp_dir: Path) -> str:
    chain = tmp_dir / "ca-chain.pem"
    parts = [CA_DIR / "issuing.crt", CA_DIR / "root.crt"]
    if not all(p.exists() for p in parts):
        pytest.skip(f"lab CA certificates missing in {CA_DIR}: role lab_ca has not run")
    chain.write_text("".join(p.read_text() for p in parts))
    return str(chain)


@pytest.fixture(scope="session")
def flow(converged: dict[str, float], tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Run a flow of tests/sso/flows.py inside the site LAN client's network namespace."""
    inv = inventory()
    domain = inv["province_domain"]
    addresses = inv["province_service_addresses"]
    ca = ca_chain(tmp_path_factory.mktemp("ca"))
    resolve = [f"sso.{domain}={addresses['sso'][0]}", f"sso-manager.{domain}={addresses['sso'][0]}",
               f"webmail.{domain}={addresses['mail'][0]}", f"mail.{domain}={addresses['mail'][0]}"]

    def run(name: str, *args: str, netns: str | None = CLIENT_NETNS, sso_address: str | None = None) -> dict[str, Any]:
        pins = list(resolve)
        if sso_address:
            pins = [p.split("=")[0] + "=" + sso_address if p.startswith(("sso.", "sso-manager.")) else p
                    for p in pins]
        cmd = [sys.executable, "-m", "tests.sso.flows", name, "--ca", ca,
               "--sso", f"sso.{domain}", "--manager", f"sso-manager.{domain}", "--webmail", f"webmail.{domain}",
               "--mail-host", f"mail.{domain}", "--cookie-domain", domain, *[f"--resolve={p}" for p in pins], *args]
        if netns:
            cmd = ["ip", "netns", "exec", netns, *cmd]
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=180)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])

    return run
