"""Tests of the tests: a broken certificate or a dead SSO is not "client certificate refused"."""

from __future__ import annotations

import pytest

from tests.pki.tlsrefusal import is_client_cert_refusal
from tests.sso.refusal import outcome_of

REVOKED_400 = {
    "status": 400,
    "sso_cookie": False,
    "body": "<html>\r\n<head><title>400 The SSL certificate error</title></head>\r\n<body>",
}
NONE_400 = {
    "status": 400,
    "location": "",
    "body": "<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>\r\n<body>",
}
ALERT = {
    "tls_refused": True,
    "sso_cookie": False,
    "error": "HTTPSConnectionPool(host='sso.soctrang.gov.vn', port=443): Max retries exceeded with url: / "
    "(Caused by SSLError(SSLError(1, '[SSL: SSLV3_ALERT_CERTIFICATE_REVOKED] sslv3 alert "
    "certificate revoked (_ssl.c:2580)')))",
}
BROKEN = {
    # our client's own certificate/key unusable: a broken certificate, not a refusal by the SSO
    "bad-client-key": {
        "tls_refused": True,
        "error": "HTTPSConnectionPool(...): Max retries exceeded (Caused by "
        "SSLError(SSLError(9, '[X509: KEY_VALUES_MISMATCH] key values mismatch (_ssl.c:3917)')))",
    },
    "server-untrusted": {
        "tls_refused": True,
        "error": "(Caused by SSLError(SSLCertVerificationError(1, '[SSL: "
        "CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate')))",
    },
    "eof": {
        "tls_refused": True,
        "error": "(Caused by SSLError(SSLEOFError(8, '[SSL: UNEXPECTED_EOF_WHILE_READING] "
        "EOF occurred in violation of protocol (_ssl.c:992)')))",
    },
    "forbidden": {"status": 403, "body": "<html><head><title>403 Forbidden</title></head>"},
    "login-page": {"status": 200, "body": "<html><head><title>LemonLDAP::NG</title></head>"},
    "bad-gateway": {"status": 502, "body": "<html><head><title>502 Bad Gateway</title></head>"},
    "unauthorized": {"status": 401, "body": ""},
}


def test_revoked_certificate_refusals() -> None:
    assert is_client_cert_refusal(outcome_of(REVOKED_400), missing=False)
    assert is_client_cert_refusal(outcome_of(ALERT), missing=False)


def test_missing_certificate_refusal() -> None:
    assert is_client_cert_refusal(outcome_of(NONE_400), missing=True)
    assert not is_client_cert_refusal(outcome_of(NONE_400), missing=False)


@pytest.mark.parametrize("name", BROKEN)
@pytest.mark.parametrize("missing", [False, True])
def test_anything_else_is_not_a_refusal(name: str, missing: bool) -> None:
    assert not is_client_cert_refusal(outcome_of(BROKEN[name]), missing=missing), BROKEN[name]
