"""Tests of the tests: only the expected client-certificate refusal counts as one (recorded outputs)."""

from __future__ import annotations

import pytest

from tests.pki.tlsrefusal import Outcome, classify_curl, classify_python_error, is_client_cert_refusal

NGINX_400_BAD = (
    "<html>\r\n<head><title>400 The SSL certificate error</title></head>\r\n<body>\r\n<center><h1>400 Bad Request"
    "</h1></center>\r\n<center>The SSL certificate error</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n"
    "</html>\r\n\n400"
)
NGINX_400_NONE = (
    "<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>\r\n<body>\r\n<center><h1>400"
    " Bad Request</h1></center>\r\n<center>No required SSL certificate was sent</center>\r\n</body>\r\n</html>\r\n\n400"
)

# (rc, stdout, stderr, kind) as curl 7.88 (Debian 12) prints them with -sS -w '\n%{http_code}'
CURL = {
    "refused": (
        7,
        "\n000",
        "curl: (7) Failed to connect to 10.94.2.40 port 443 after 0 ms: Couldn't connect to server",
    ),
    "refused-old": (7, "", "curl: (7) Failed to connect to 10.94.2.40 port 443: Connection refused"),
    "timeout": (28, "\n000", "curl: (28) Failed to connect to 10.94.2.40 port 443 after 20001 ms: Timeout was reached"),
    "timeout-read": (28, "", "curl: (28) Operation timed out after 20001 milliseconds with 0 bytes received"),
    "dns": (6, "\n000", "curl: (6) Could not resolve host: pki.soctrang.gov.vn"),
    "server-untrusted": (60, "\n000", "curl: (60) SSL certificate problem: unable to get local issuer certificate"),
    "alert-revoked": (
        56,
        "\n000",
        "curl: (56) OpenSSL SSL_read: error:0A000414:SSL routines::sslv3 alert certificate revoked, errno 0",
    ),
    "alert-required": (
        56,
        "\n000",
        "curl: (56) OpenSSL SSL_read: error:0A00045C:SSL routines::tlsv13 alert certificate required, errno 0",
    ),
    "handshake-other": (
        35,
        "\n000",
        "curl: (35) OpenSSL/3.0.11: error:0A00042E:SSL routines::tlsv1 alert protocol version",
    ),
    "http-revoked": (0, NGINX_400_BAD, ""),
    "http-none": (0, NGINX_400_NONE, ""),
    "http-502": (0, "<html><head><title>502 Bad Gateway</title></head></html>\n502", ""),
    "http-200": (0, "<p>CA status</p>\n200", ""),
}

KINDS = {
    "refused": "refused",
    "refused-old": "refused",
    "timeout": "timeout",
    "timeout-read": "timeout",
    "dns": "dns",
    "server-untrusted": "server_cert",
    "alert-revoked": "tls_alert",
    "alert-required": "tls_alert",
    "handshake-other": "other",
    "http-revoked": "http",
    "http-none": "http",
    "http-502": "http",
    "http-200": "http",
}


@pytest.mark.parametrize("name", CURL)
def test_curl_outputs_are_classified(name: str) -> None:
    assert classify_curl(*CURL[name]).kind == KINDS[name]


@pytest.mark.parametrize(
    ("name", "missing"),
    [("http-revoked", False), ("alert-revoked", False), ("http-none", True), ("alert-required", True)],
)
def test_the_expected_refusal_counts(name: str, missing: bool) -> None:
    assert is_client_cert_refusal(classify_curl(*CURL[name]), missing=missing)


@pytest.mark.parametrize(
    "name",
    [
        "refused",
        "refused-old",
        "timeout",
        "timeout-read",
        "dns",
        "server-untrusted",
        "handshake-other",
        "http-502",
        "http-200",
    ],
)
@pytest.mark.parametrize("missing", [False, True])
def test_a_broken_lab_is_not_a_refusal(name: str, missing: bool) -> None:
    assert not is_client_cert_refusal(classify_curl(*CURL[name]), missing=missing)


def test_the_wrong_nginx_message_is_not_the_refusal_asked_for() -> None:
    # a revoked certificate answered "no certificate sent" means the client did not send it
    assert not is_client_cert_refusal(classify_curl(*CURL["http-none"]), missing=False)
    assert not is_client_cert_refusal(classify_curl(*CURL["http-revoked"]), missing=True)


PY = {
    "revoked": (
        "HTTPSConnectionPool(host='sso.soctrang.gov.vn', port=443): Max retries exceeded with url: / "
        "(Caused by SSLError(SSLError(1, '[SSL: SSLV3_ALERT_CERTIFICATE_REVOKED] sslv3 alert certificate "
        "revoked (_ssl.c:2580)')))",
        "tls_alert",
    ),
    "server-cert": (
        "HTTPSConnectionPool(host='sso.soctrang.gov.vn', port=443): Max retries exceeded with url: / "
        "(Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate "
        "verify failed: unable to get local issuer certificate (_ssl.c:992)')))",
        "server_cert",
    ),
    "refused": (
        "HTTPSConnectionPool(host='sso.soctrang.gov.vn', port=443): Max retries exceeded with url: / "
        "(Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f>: Failed to "
        "establish a new connection: [Errno 111] Connection refused'))",
        "refused",
    ),
    "timeout": (
        "HTTPSConnectionPool(host='sso.soctrang.gov.vn', port=443): Max retries exceeded with url: / "
        "(Caused by ConnectTimeoutError(<urllib3.connection.HTTPSConnection object>, 'Connection to "
        "sso.soctrang.gov.vn timed out. (connect timeout=30)'))",
        "timeout",
    ),
    "dns": (
        "HTTPSConnectionPool(host='sso.soctrang.gov.vn', port=443): Max retries exceeded with url: / (Caused "
        "by NameResolutionError(\"Failed to resolve 'sso.soctrang.gov.vn' ([Errno -2] Name or service not "
        'known)"))',
        "dns",
    ),
    "eof": (
        "HTTPSConnectionPool(host='sso.soctrang.gov.vn', port=443): Max retries exceeded with url: / (Caused "
        "by SSLError(SSLEOFError(8, '[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol "
        "(_ssl.c:992)')))",
        "other",
    ),
}


@pytest.mark.parametrize("name", PY)
def test_python_errors_are_classified(name: str) -> None:
    error, kind = PY[name]
    outcome = classify_python_error(error)
    assert outcome.kind == kind, outcome
    assert is_client_cert_refusal(outcome, missing=False) is (kind == "tls_alert")


def test_outcome_reached_server() -> None:
    assert Outcome("http", 400).reached_server and Outcome("tls_alert").reached_server
    assert not Outcome("refused").reached_server
