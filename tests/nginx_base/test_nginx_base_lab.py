"""Role nginx_base on the lab (the SSO hosts, whose role depends on it): the TLS floor every server
block inherits, checked from the controller with openssl's own client, and the `nginx -t` helper
refusing a broken http-context file. Runs after `make lab-test`'s converge (EGOV_LAB_CONVERGED=1)."""

from __future__ import annotations

import pytest

from tests.conftest import run
from tests.mail.conftest import Lab, lab  # noqa: F401  (the mail tests' lab fixture, shared)

pytestmark = pytest.mark.lab
HOSTS = ["sso-01", "sso-02"]
HELPER = "/usr/local/lib/egov-nginx/nginx-site-check"


def handshake(address: str, *options: str) -> bool:
    """True when the server completes a TLS handshake on 443 with these client options."""
    proc = run(["timeout", "20", "openssl", "s_client", "-connect", f"{address}:443", "-brief", *options],
               check=False, input="", timeout=30)
    return proc.returncode == 0 and "Protocol version" in proc.stderr + proc.stdout


@pytest.mark.parametrize("host", HOSTS)
def test_tls_floor_of_every_server_block(lab: Lab, host: str) -> None:  # noqa: F811
    address = lab.addresses[host]
    assert handshake(address, "-tls1_2")
    assert handshake(address, "-tls1_3", "-groups", "X25519")
    # the packaged nginx.conf offered these: now refused (the client is allowed to ask for them)
    assert not handshake(address, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
    assert not handshake(address, "-tls1_3", "-groups", "X448")
    assert not handshake(address, "-tls1_3", "-groups", "P-521")
    assert not handshake(address, "-tls1_2", "-cipher", "AES128-SHA:AES256-SHA:AES128-GCM-SHA256")


@pytest.mark.parametrize("host", HOSTS)
def test_no_version_banner(lab: Lab, host: str) -> None:  # noqa: F811
    conf = lab.ssh(host, "nginx -T 2>/dev/null | grep -E '^\\s*(server_tokens|ssl_protocols|ssl_ecdh_curve)\\s'")
    assert "server_tokens off;" in conf
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in conf and "TLSv1.1" not in conf
    assert "ssl_ecdh_curve X25519:prime256v1:secp384r1;" in conf


def test_the_check_helper_refuses_a_broken_file_and_accepts_a_good_one(lab: Lab) -> None:  # noqa: F811
    good = lab.ssh(HOSTS[0], f"printf 'ssl_session_timeout 1h;\\n' > /tmp/good.conf && {HELPER} http /tmp/good.conf"
                             " && echo accepted", check=False)
    bad = lab.ssh(HOSTS[0], f"printf 'ssl_protocols TLSv1.2\\n' > /tmp/bad.conf && {HELPER} http /tmp/bad.conf"
                            " && echo accepted; rm -f /tmp/good.conf /tmp/bad.conf", check=False)
    assert "accepted" in good
    assert "accepted" not in bad
