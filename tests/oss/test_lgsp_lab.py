"""The integration gateway LGSP (issue 14): mutual TLS with client certificates of the CA.

From the Internet side of the DC firewall (the national platform, simulated by a client with its own
certificate): a valid, allowed certificate reads a dossier over the API; no certificate, a
certificate the CA revoked, a valid certificate of a system that is not a client, and a client over
its rate limit are refused; every request is in the central log. Needs the lab (root).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.oss.conftest import CITIZEN, COMMUNE, DOMAIN, GATEWAY, LAND_PROCEDURE, Oss, counter
from tests.oss.test_oss_lab import _first_official

pytestmark = [pytest.mark.lab]

PKI = "pki-01"
LOGS = "logs-01"
NGSP = f"ngsp.{DOMAIN}"          # an allowed client (role lgsp: lgsp_clients)
DVC = f"dvc.{DOMAIN}"            # allowed too; its certificate is revoked by the test
ROGUE = f"rogue.{DOMAIN}"        # a valid certificate of the CA, but no client of the gateway
NGSP_PORT = 8443


def _issue(oss: Oss, tmp: Path, cn: str, name: str) -> tuple[Path, Path]:
    """A client key made here and its certificate signed by the lab CA (profile client_cert)."""
    key, csr = tmp / f"{name}.key", tmp / f"{name}.csr"
    subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
                    "-subj", f"/O=Test/CN={cn}"], check=True, capture_output=True)
    cert = tmp / f"{name}.crt"
    pem = oss.ssh(PKI, f"echo {csr.read_text().strip()!r} | /usr/local/sbin/egov-ca-sign client_cert {name} 30")
    cert.write_text(pem)
    return key, cert


@pytest.fixture(scope="module")
def clients(oss: Oss, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    tmp = tmp_path_factory.mktemp("lgsp")
    stamp = str(int(time.time()))
    return {label: _issue(oss, tmp, cn, f"lgsp-test-{label}-{stamp}")
            for label, cn in (("ngsp", NGSP), ("dvc", DVC), ("rogue", ROGUE))}


@pytest.fixture(scope="module")
def dossier(oss: Oss) -> str:
    taken = oss.official(counter(COMMUNE), "intake", _first_official(COMMUNE), "--procedure", LAND_PROCEDURE)
    assert taken.get("status") == 200, taken
    return str(taken["number"])


def _get(oss: Oss, path: str, cert: tuple[Path, Path] | None = None, host: str = GATEWAY[0]) -> tuple[int, str]:
    """curl from the Internet-side client to the gateway's NGSP listener; (HTTP status or 0, body/error)."""
    argv = ["ip", "netns", "exec", CITIZEN, "curl", "-s", "--max-time", "10", "--cacert", str(oss.cafile),
            "--resolve", f"lgsp.{DOMAIN}:{NGSP_PORT}:{oss.addresses[host]}", "-w", "\n%{http_code}"]
    if cert:
        argv += ["--key", str(cert[0]), "--cert", str(cert[1])]
    proc = subprocess.run([*argv, f"https://lgsp.{DOMAIN}:{NGSP_PORT}{path}"], capture_output=True, text=True,
                          timeout=30)
    body, _, code = proc.stdout.rpartition("\n")
    return int(code or 0), body or proc.stderr


def test_an_allowed_client_reads_a_dossier_through_both_gateways(oss: Oss, clients: dict[str, tuple[Path, Path]],
                                                               dossier: str) -> None:
    for host in GATEWAY:
        status, body = _get(oss, f"/oss/v1/dossiers/{dossier}", clients["ngsp"], host)
        assert status == 200 and dossier in body and '"history"' in body, (host, status, body[:500])


def test_no_certificate_or_a_system_that_is_no_client_is_refused(oss: Oss, clients: dict[str, tuple[Path, Path]],
                                                                dossier: str) -> None:
    status, body = _get(oss, f"/oss/v1/dossiers/{dossier}")
    assert status == 400 and "No required SSL certificate" in body, (status, body[:300])
    status, body = _get(oss, f"/oss/v1/dossiers/{dossier}", clients["rogue"])
    assert status == 403, (status, body[:300])


def test_a_revoked_certificate_is_refused(oss: Oss, clients: dict[str, tuple[Path, Path]], dossier: str) -> None:
    status, _ = _get(oss, f"/oss/v1/dossiers/{dossier}", clients["dvc"])
    assert status == 200, "the dvc client must work before its revocation"
    name = clients["dvc"][1].stem
    oss.ssh(PKI, f"/usr/local/sbin/egov-ca-revoke {name} && /usr/local/sbin/egov-ca-crl")
    for host in GATEWAY:
        oss.ssh(host, "systemctl start egov-crl-refresh.service", timeout=120)
    for host in GATEWAY:
        status, body = _get(oss, f"/oss/v1/dossiers/{dossier}", clients["dvc"], host)
        assert status == 400 and "SSL certificate error" in body, (host, status, body[:300])
        why = oss.ssh(host, "journalctl --since -5min --no-pager | grep egov_lgsp | grep -c 'certificate revoked'",
                      check=False)
        assert int(why.strip() or 0) >= 1, f"{host}: no 'certificate revoked' in the gateway's log"
    status, _ = _get(oss, f"/oss/v1/dossiers/{dossier}", clients["ngsp"])
    assert status == 200, "another client's certificate is still good"


def test_a_client_over_its_rate_is_answered_429_and_requests_reach_the_central_log(
        oss: Oss, clients: dict[str, tuple[Path, Path]], dossier: str) -> None:
    # 40 requests on one connection, as fast as curl sends them: above 10/s with a burst of 20
    key, cert = clients["ngsp"]
    url = f"https://lgsp.{DOMAIN}:{NGSP_PORT}/oss/v1/dossiers/{dossier}"
    pin = f"lgsp.{DOMAIN}:{NGSP_PORT}:{oss.addresses[GATEWAY[0]]}"
    proc = subprocess.run(["ip", "netns", "exec", CITIZEN, "curl", "-s", "--max-time", "30",
                           "--cacert", str(oss.cafile), "--resolve", pin, "--key", str(key),
                           "--cert", str(cert), "-w", "%{http_code}\\n", *["-o", "/dev/null", url] * 40],
                          capture_output=True, text=True, timeout=60)
    codes = [int(c) for c in proc.stdout.split()]
    assert len(codes) == 40 and 429 in codes and 200 in codes, codes
    time.sleep(3)
    logged = oss.ssh(LOGS, f"grep -rh 'egov_lgsp' /var/log/remote 2>/dev/null | grep -c '{dossier}' || true")
    assert int(logged.strip() or 0) >= 40, f"{logged} request lines of {dossier} in the central log"
