"""LDAPS cipher suites on the lab (issue 12, section 3): Mozilla "intermediate" on both directory hosts.

From a client the flow matrix allows (mail-01), `openssl s_client -connect <directory>:636 -tls1_2`:
a forward-secret AEAD suite (`ECDHE+AESGCM`) completes the handshake, and static-RSA key exchange
(`AES128-SHA`, `AES128-GCM-SHA256`) and CBC with SHA-1 (`AES128-SHA`, `ECDHE-RSA-AES128-SHA`) are refused
in the handshake. A refusal counts only when the server was reached over TCP and ended the handshake
(tests/pki/tlsrefusal.py `classify_s_client`): a closed port or a timeout is a broken lab, not a
refusal; and the accepted probe runs first on the same address and port, so it is the refused
probes' negative case.

Needs root and the lab: `EGOV_LAB_CONVERGED=1 pytest -q -m lab -p no:xdist tests/directory/test_ldaps_ciphers.py`
(or without EGOV_LAB_CONVERGED: the fixture converges playbooks/pki.yml and directory.yml first).
"""

from __future__ import annotations

import shlex

import pytest

from tests.directory.conftest import CLIENT_CA, Lab
from tests.pki.tlsrefusal import Outcome, classify_s_client, is_handshake_refusal

pytestmark = pytest.mark.lab

CLIENT = "mail-01"
ACCEPTED = "ECDHE+AESGCM"
REFUSED = {
    "AES128-SHA": "static RSA key exchange, CBC with SHA-1",
    "AES128-GCM-SHA256": "static RSA key exchange",
    "ECDHE-RSA-AES128-SHA": "CBC with SHA-1",
}


def s_client(lab: Lab, address: str, cipher: str) -> tuple[Outcome, str]:
    proc = lab.clients[CLIENT].run(
        f"echo | timeout 20 openssl s_client -connect {address}:636 -tls1_2 -cipher {shlex.quote(cipher)} "
        f"-CAfile {CLIENT_CA} 2>&1", timeout=60)
    output = proc.stdout + proc.stderr
    return classify_s_client(proc.returncode, output), output


@pytest.mark.parametrize("which", ["provider", "replica"])
def test_ldaps_takes_ecdhe_gcm_and_refuses_static_rsa_and_cbc_sha1(lab: Lab, which: str) -> None:
    address = getattr(lab, which).address
    accepted, output = s_client(lab, address, ACCEPTED)
    assert accepted.kind == "handshake", f"{ACCEPTED} on {address}:636 from {CLIENT}: {accepted}\n{output[-1500:]}"
    protocol, cipher = accepted.detail.split()
    assert protocol == "TLSv1.2" and cipher.startswith("ECDHE-") and "-GCM-" in cipher, accepted
    assert "Verify return code: 0 (ok)" in output, output[-1500:]
    for suite, why in REFUSED.items():
        refused, output = s_client(lab, address, suite)
        assert is_handshake_refusal(refused), (f"{suite} ({why}) on {address}:636 from {CLIENT}: expected a "
                                               f"handshake refusal, got {refused}\n{output[-1500:]}")
