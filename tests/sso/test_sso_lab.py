"""SSO and webmail, proven with real clients from a commune LAN client through the real firewalls.

Needs the lab (root): `pytest tests/sso -m lab`. The session fixture brings the DC up (additive) and
converges trust, directory, mail, sso and webmail once (EGOV_LAB_CONVERGED=1 skips that).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.pki.tlsrefusal import is_client_cert_refusal
from tests.sso.conftest import SECRETS, inventory, official_password, record
from tests.sso.refusal import outcome_of

pytestmark = pytest.mark.lab

VALID = "snv.001"  # lab_ca_official_certificates
REVOKED = "stttt.099"  # lab_ca_revoked_officials


def _mail(uid: str) -> str:
    return f"{uid}@{inventory()['province_domain']}"


def _cert(uid: str) -> tuple[str, str]:
    crt, key = SECRETS / f"officials/{uid}.crt", SECRETS / f"officials/{uid}.key"
    if not crt.exists() or not key.exists():
        pytest.skip(f"{crt} / {key} missing: role lab_ca has not issued them")
    return str(crt), str(key)


def test_webmail_login_through_sso_shows_the_mailbox(flow: Any) -> None:
    result = flow("webmail-login", "--user", VALID, "--mail", _mail(VALID), "--password", official_password(VALID))
    assert result.get("redirected_to_sso"), result
    assert result["on_webmail"] and result["mailbox_page"], result
    assert result["user_shown"], result
    record("webmail_login_round_trip_seconds", result["seconds"])


def test_sso_access_token_opens_imap_and_submission_with_xoauth2(flow: Any) -> None:
    """The path Roundcube takes after the OIDC login, with imaplib/smtplib: the token of the `webmail`
    client is accepted by Dovecot (IMAPS 993) and Postfix (587 STARTTLS) via introspection; a forged
    token is refused by both."""
    secret = SECRETS / "sso/oidc-webmail"
    if not secret.exists():
        pytest.skip(f"{secret} missing: playbooks/sso.yml has not run")
    result = flow("oidc-mail", "--user", VALID, "--mail", _mail(VALID), "--password", official_password(VALID),
                  "--client-secret", secret.read_text().strip())
    assert result["code"] and result["token"], result
    assert result["imap"] and result["smtp"], result
    assert not result["forged_imap"] and not result["forged_smtp"], result


def test_webmail_login_with_a_wrong_password_is_denied(flow: Any) -> None:
    result = flow("webmail-login", "--user", VALID, "--mail", _mail(VALID), "--password", "not-the-password")
    assert result.get("redirected_to_sso"), result
    assert not result["on_webmail"], result
    assert not result["mailbox_page"], result
    assert not result["sso_cookie"], result


def test_certificate_login_with_a_valid_official_certificate(flow: Any) -> None:
    cert, key = _cert(VALID)
    result = flow("portal-certificate", "--cert", cert, "--key", key)
    assert result.get("sso_cookie"), result


def test_certificate_login_with_a_revoked_certificate_is_refused(flow: Any) -> None:
    cert, key = _cert(REVOKED)
    result = flow("portal-certificate", "--cert", cert, "--key", key)
    assert not result.get("sso_cookie"), result
    # nginx: 400 "The SSL certificate error" (or a certificate alert), never any TLS/connection error
    assert is_client_cert_refusal(outcome_of(result), missing=False), result


def test_manager_refuses_requests_without_a_client_certificate(flow: Any) -> None:
    from_site = flow("manager")
    assert is_client_cert_refusal(outcome_of(from_site), missing=True), from_site
    # management segment (the controller) without a certificate: refused as well
    from_management = flow("manager", netns=None)
    assert is_client_cert_refusal(outcome_of(from_management), missing=True), from_management


def test_manager_refuses_an_official_outside_the_management_segment(flow: Any) -> None:
    cert, key = _cert(VALID)
    result = flow("manager", "--cert", cert, "--key", key)
    assert result.get("status") == 403, result


def test_tls_1_2_minimum_and_chain_verifies_against_the_lab_ca(flow: Any) -> None:
    result = flow("tls")
    for host, versions in result.items():
        assert not versions["TLSv1"]["ok"], (host, versions)
        assert not versions["TLSv1.1"]["ok"], (host, versions)
        assert versions["TLSv1.2"]["ok"], (host, versions)  # chain verified by ssl (cafile = lab CA)
        assert versions["TLSv1.3"]["ok"], (host, versions)


def test_a_session_opened_on_one_node_is_served_by_the_other(flow: Any) -> None:
    addresses = inventory()["province_service_addresses"]["sso"]
    result = flow("portal-password", "--user", VALID, "--password", official_password(VALID),
                  "--other-node", addresses[1], sso_address=addresses[0])
    assert result["sso_cookie"], result
    assert result.get("other_node_authenticated") and not result.get("other_node_login_form"), result
