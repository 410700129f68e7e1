"""service_cert on a lab host: idempotent, and re-issued (new serial) when forced into the renew window."""

from __future__ import annotations

import pytest

from tests.pki.conftest import CA_HOST, CA_PUBLIC, REPO, Lab, playbook, recap, run

pytestmark = pytest.mark.lab
PROBE = REPO / "tests" / "pki" / "renew.yml"
CERT = "/etc/ssl/egov/certs/trust-probe.crt"
SHARED_VARS = REPO / "playbooks" / "group_vars" / "all" / "trust_identity.yml"


def probe(*extra: str) -> dict[str, int]:
    # the probe lives outside playbooks/: load the shared settings playbooks/group_vars would give it
    proc = playbook(str(PROBE), "--limit", CA_HOST, "-e", f"@{SHARED_VARS}", *extra)
    counts = recap(proc.stdout).get(CA_HOST)
    assert proc.returncode == 0 and counts and counts["failed"] == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return counts


def serial(lab: Lab) -> str:
    return lab.ssh(CA_HOST, f"openssl x509 -noout -serial -in {CERT}").strip()


def test_second_run_changes_nothing_and_renewal_window_reissues(converged: Lab) -> None:
    probe()                                                    # converge (first issue if missing)
    before = serial(converged)
    assert probe()["changed"] == 0                             # a normal second run changes nothing
    assert serial(converged) == before
    # validity 200 days < renew window 1000 days: the certificate is inside the window -> re-issued
    assert probe("-e", "service_cert_renew_before_days=1000")["changed"] > 0
    after = serial(converged)
    assert after != before
    pem = converged.ssh(CA_HOST, f"cat {CERT}")
    verify = run(["openssl", "verify", "-CAfile", str(CA_PUBLIC / "root.crt"), "-untrusted",
                  str(CA_PUBLIC / "issuing.crt")], input=pem)
    assert verify.stdout.strip().endswith("OK")
    index = converged.ssh(CA_HOST, "cat /var/lib/egov-ca/issuing/index.txt")
    assert after.split("=", 1)[1].upper() in index.upper()      # recorded in the CA database
    chain = converged.ssh(CA_HOST, "cat /etc/ssl/egov/certs/trust-probe-fullchain.pem")
    assert chain.startswith(pem.strip()) and chain.count("BEGIN CERTIFICATE") == 2
    assert probe()["changed"] == 0                             # and back to steady state


def test_key_is_private_to_the_host(converged: Lab) -> None:
    mode = converged.ssh(CA_HOST, "stat -c '%a %U %G' /etc/ssl/egov/private/trust-probe.key")
    assert mode.split() == ["640", "root", "ssl-cert"]
