"""The lab CA on pki-01, proved with real clients (issue 6).

Every certificate the CA issued verifies against the lab root; the CRLs are published over HTTP and
signed by the right CA; the OCSP responder answers "good" / "revoked" to real `openssl ocsp` queries
sent from a commune's LAN client through the firewalls; the admin interface accepts a valid
official's certificate and refuses the revoked one and no certificate; TLS >= 1.2 only.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.pki.conftest import (
    CA_HOST,
    CA_PUBLIC,
    DOMAIN,
    REVOKED_OFFICIALS,
    SECRETS,
    VALID_OFFICIALS,
    Lab,
    run,
)
from tests.pki.tlsrefusal import classify_curl, is_client_cert_refusal

pytestmark = pytest.mark.lab
OFFICIALS = SECRETS / "officials"


def openssl(*args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run(["openssl", *args], input=input, check=check)


def serial_of(pem: str) -> int:
    out = openssl("x509", "-noout", "-serial", input=pem).stdout
    return int(out.strip().split("=", 1)[1], 16)


@pytest.fixture(scope="module")
def ca(converged: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Root and issuing certificates copied to the controller by lab_ca, plus a chain file."""
    root, issuing = CA_PUBLIC / "root.crt", CA_PUBLIC / "issuing.crt"
    assert root.is_file() and issuing.is_file(), f"lab_ca did not copy the CA certificates to {CA_PUBLIC}"
    chain = tmp_path_factory.mktemp("ca") / "chain.pem"
    chain.write_text(issuing.read_text() + root.read_text())
    return {"root": root, "issuing": issuing, "chain": chain}


def fetch(lab: Lab, host: str, path: str, out: Path) -> subprocess.CompletedProcess[str]:
    """HTTP GET from the commune LAN client to pki-01 with the given virtual host."""
    return lab.netns("curl", "-sS", "-f", "-m", "20", "-H", f"Host: {host}", "-o", str(out),
                     f"http://{lab.ca_address}{path}")


# --- chain ---------------------------------------------------------------------------------------


def test_root_is_self_signed_ca_and_issuing_is_its_subordinate(ca: dict[str, Path]) -> None:
    root = openssl("x509", "-in", str(ca["root"]), "-noout", "-text").stdout
    issuing = openssl("x509", "-in", str(ca["issuing"]), "-noout", "-text").stdout
    assert "CA:TRUE" in root and "CA:TRUE, pathlen:0" in issuing
    assert openssl("verify", "-CAfile", str(ca["root"]), str(ca["issuing"])).stdout.strip().endswith("OK")
    assert f"URI:http://crl.{DOMAIN}/root.crl" in issuing


def test_every_issued_certificate_verifies_against_the_lab_root(converged: Lab, ca: dict[str, Path]) -> None:
    index = converged.ssh(CA_HOST, "cat /var/lib/egov-ca/issuing/index.txt")
    serials = [row.split("\t")[3] for row in index.splitlines() if row.strip()]
    assert len(serials) >= 1 + len(VALID_OFFICIALS) + len(REVOKED_OFFICIALS) + 1, index   # ocsp, officials, pki
    pems = converged.ssh(CA_HOST, "cat " + " ".join(f"/var/lib/egov-ca/issuing/newcerts/{s}.pem" for s in serials))
    certs = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", pems, flags=re.S)
    assert len(certs) == len(serials)
    for pem in certs:
        proc = openssl("verify", "-CAfile", str(ca["root"]), "-untrusted", str(ca["issuing"]), "-purpose", "any",
                       input=pem, check=False)
        assert proc.returncode == 0 and proc.stdout.strip().endswith("OK"), proc.stdout + proc.stderr


def test_leaf_certificates_carry_crl_and_ocsp_urls(converged: Lab) -> None:
    text = converged.ssh(CA_HOST, "openssl x509 -noout -text -in /etc/ssl/egov/certs/pki.crt")
    assert f"URI:http://crl.{DOMAIN}/issuing.crl" in text
    assert f"OCSP - URI:http://ocsp.{DOMAIN}/" in text
    assert f"CA Issuers - URI:http://crl.{DOMAIN}/issuing.crt" in text
    assert f"DNS:pki.{DOMAIN}" in text


def test_ca_keys_stay_on_pki_and_are_private(converged: Lab) -> None:
    modes = converged.ssh(CA_HOST, "stat -c '%a %U %n' /var/lib/egov-ca/root/private/ca.key "
                                   "/var/lib/egov-ca/issuing/private/ca.key /var/lib/egov-ca/root")
    assert modes.split() == ["600", "root", "/var/lib/egov-ca/root/private/ca.key",
                             "600", "root", "/var/lib/egov-ca/issuing/private/ca.key",
                             "700", "root", "/var/lib/egov-ca/root"]
    assert not list(CA_PUBLIC.glob("*.key"))


# --- CRL -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "signer"), [("root", "root"), ("issuing", "issuing")])
def test_crl_is_published_and_signed_by_the_right_ca(converged: Lab, ca: dict[str, Path], tmp_path: Path,
                                                     name: str, signer: str) -> None:
    der = tmp_path / f"{name}.crl"
    proc = fetch(converged, f"crl.{DOMAIN}", f"/{name}.crl", der)
    assert proc.returncode == 0, proc.stderr
    good = openssl("crl", "-inform", "DER", "-in", str(der), "-noout", "-CAfile", str(ca[signer]), check=False)
    assert good.returncode == 0 and "verify OK" in good.stderr + good.stdout, good.stderr
    other = "issuing" if signer == "root" else "root"
    bad = openssl("crl", "-inform", "DER", "-in", str(der), "-noout", "-CAfile", str(ca[other]), check=False)
    assert "verify OK" not in bad.stderr + bad.stdout
    issuer = openssl("crl", "-inform", "DER", "-in", str(der), "-noout", "-issuer").stdout
    subject = openssl("x509", "-in", str(ca[signer]), "-noout", "-subject").stdout
    assert issuer.split("=", 1)[1].strip() == subject.split("=", 1)[1].strip()


def test_issuing_crl_lists_the_revoked_official_only(converged: Lab, tmp_path: Path) -> None:
    der = tmp_path / "issuing.crl"
    assert fetch(converged, f"crl.{DOMAIN}", "/issuing.crl", der).returncode == 0
    text = openssl("crl", "-inform", "DER", "-in", str(der), "-noout", "-text").stdout
    listed = {int(s, 16) for s in re.findall(r"Serial Number:\s*([0-9A-F]+)", text)}
    for uid in REVOKED_OFFICIALS:
        assert serial_of((OFFICIALS / f"{uid}.crt").read_text()) in listed, uid
    for uid in VALID_OFFICIALS:
        assert serial_of((OFFICIALS / f"{uid}.crt").read_text()) not in listed, uid
    assert "Key Compromise" in text


# --- OCSP ------------------------------------------------------------------------------------------


def ocsp_status(lab: Lab, ca: dict[str, Path], cert: Path) -> str:
    proc = lab.netns("openssl", "ocsp", "-issuer", str(ca["issuing"]), "-cert", str(cert), "-CAfile",
                     str(ca["chain"]), "-url", f"http://{lab.ca_address}/", "-header", f"Host=ocsp.{DOMAIN}",
                     "-timeout", "20")
    assert "Response verify OK" in proc.stderr + proc.stdout, proc.stderr + proc.stdout
    return proc.stdout


@pytest.mark.parametrize("uid", VALID_OFFICIALS)
def test_ocsp_says_good_for_a_valid_certificate(converged: Lab, ca: dict[str, Path], uid: str) -> None:
    assert f"{uid}.crt: good" in ocsp_status(converged, ca, OFFICIALS / f"{uid}.crt")


@pytest.mark.parametrize("uid", REVOKED_OFFICIALS)
def test_ocsp_says_revoked_for_the_revoked_official(converged: Lab, ca: dict[str, Path], uid: str) -> None:
    out = ocsp_status(converged, ca, OFFICIALS / f"{uid}.crt")
    assert f"{uid}.crt: revoked" in out and "Reason: keyCompromise" in out, out


def test_ocsp_responder_is_not_reachable_directly(converged: Lab) -> None:
    """Port 2560 answers on pki-01's loopback (nginx proxies to it) but never from the network."""
    proc = converged.netns("curl", "-sS", "-m", "5", f"http://{converged.ca_address}:2560/")
    outcome = classify_curl(proc.returncode, proc.stdout, proc.stderr)
    assert outcome.kind in ("refused", "timeout"), outcome   # not answered; not a DNS/usage error
    local = converged.ssh(CA_HOST, "curl -s -m 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:2560/", check=False)
    assert local.strip() != "000", "the responder does not answer on loopback"


# --- admin interface (client certificate login) -----------------------------------------------------


def admin_get(lab: Lab, ca: dict[str, Path], uid: str | None) -> subprocess.CompletedProcess[str]:
    cert = ["--cert", str(OFFICIALS / f"{uid}.crt"), "--key", str(OFFICIALS / f"{uid}.key")] if uid else []
    return lab.netns("curl", "-sS", "-m", "20", "--cacert", str(ca["chain"]), "--resolve",
                     f"pki.{DOMAIN}:443:{lab.ca_address}", *cert, "-w", "\n%{http_code}",
                     f"https://pki.{DOMAIN}/admin/")


@pytest.mark.parametrize("uid", VALID_OFFICIALS)
def test_admin_accepts_a_valid_officials_certificate(converged: Lab, ca: dict[str, Path], uid: str) -> None:
    proc = admin_get(converged, ca, uid)
    assert proc.returncode == 0, proc.stderr
    body, code = proc.stdout.rsplit("\n", 1)
    assert code == "200", body
    assert "CA status" in body and f"CN={uid}" in body and "<td>issuing</td>" in body


@pytest.mark.parametrize("uid", [*REVOKED_OFFICIALS, None], ids=[*REVOKED_OFFICIALS, "no-certificate"])
def test_admin_refuses_revoked_and_missing_certificates(converged: Lab, ca: dict[str, Path], uid: str | None) -> None:
    proc = admin_get(converged, ca, uid)
    outcome = classify_curl(proc.returncode, proc.stdout, proc.stderr)
    # nginx refuses at HTTP level (400 + its message) or with a certificate alert; a connection
    # refused, a timeout, a DNS failure or an untrusted SERVER certificate is a broken lab.
    assert is_client_cert_refusal(outcome, missing=uid is None), (outcome, proc.stdout[-300:], proc.stderr)
    assert "CA status" not in proc.stdout


def test_admin_tls_is_1_2_or_later(converged: Lab) -> None:
    target = f"{converged.ca_address}:443"
    for version, accepted in (("-tls1", False), ("-tls1_1", False), ("-tls1_2", True), ("-tls1_3", True)):
        proc = converged.netns("openssl", "s_client", "-connect", target, "-servername", f"pki.{DOMAIN}",
                               version, "-cipher", "DEFAULT:@SECLEVEL=0", timeout=30, input="")
        negotiated = re.search(r"^New, (TLSv[\d.]+), Cipher is (?!\(NONE\))", proc.stdout, flags=re.M)
        assert (negotiated is not None) is accepted, f"{version}: {proc.stdout[-800:]} {proc.stderr[-400:]}"


# --- ca_trust on the CA host ------------------------------------------------------------------------


def test_trust_store_chain_and_crl_files(converged: Lab) -> None:
    chain = converged.ssh(CA_HOST, "cat /etc/ssl/egov/ca-chain.pem")
    assert chain.count("BEGIN CERTIFICATE") == 2
    crl = converged.ssh(CA_HOST, "cat /etc/ssl/egov/crl.pem")
    assert crl.count("BEGIN X509 CRL") == 2
    # the system trust store verifies the province's TLS servers (curl with the default CA bundle)
    code = converged.ssh(CA_HOST, f"curl -s -o /dev/null -w '%{{http_code}}' --resolve "
                                  f"pki.{DOMAIN}:443:{converged.ca_address} https://pki.{DOMAIN}/admin/", check=False)
    assert code.strip() == "400", code         # TLS verified by the trust store; no client certificate
    timer = converged.ssh(CA_HOST, "systemctl is-enabled egov-crl-refresh.timer egov-ca-crl.timer")
    assert timer.split() == ["enabled", "enabled"]


# --- tests of the refusal test (negative cases on the real lab) -------------------------------------


def test_a_closed_port_or_a_broken_client_certificate_is_not_a_refusal(converged: Lab, ca: dict[str, Path],
                                                                         tmp_path: Path) -> None:
    """What the old test counted as "refused" (any curl failure) is now a failure of the test."""
    closed = converged.netns("curl", "-sS", "-m", "5", "--cacert", str(ca["chain"]), "-w", "\n%{http_code}",
                             f"https://{converged.ca_address}:4443/admin/")
    outcome = classify_curl(closed.returncode, closed.stdout, closed.stderr)
    assert outcome.kind in ("refused", "timeout"), outcome
    assert not is_client_cert_refusal(outcome, missing=False) and not is_client_cert_refusal(outcome, missing=True)
    # a broken client certificate: the valid official's certificate with another official's key
    valid, other = VALID_OFFICIALS[0], REVOKED_OFFICIALS[0]
    broken = converged.netns("curl", "-sS", "-m", "20", "--cacert", str(ca["chain"]), "--resolve",
                             f"pki.{DOMAIN}:443:{converged.ca_address}", "--cert", str(OFFICIALS / f"{valid}.crt"),
                             "--key", str(OFFICIALS / f"{other}.key"), "-w", "\n%{http_code}",
                             f"https://pki.{DOMAIN}/admin/")
    outcome = classify_curl(broken.returncode, broken.stdout, broken.stderr)
    assert not is_client_cert_refusal(outcome, missing=False), (outcome, broken.stderr)
