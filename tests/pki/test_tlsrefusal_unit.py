"""Tests of the tests: only the expected client-certificate refusal counts as one (recorded outputs)."""

from __future__ import annotations

import pytest

from tests.pki.tlsrefusal import (
    Outcome,
    classify_curl,
    classify_python_error,
    classify_s_client,
    is_client_cert_refusal,
    is_handshake_refusal,
)

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


# `echo | timeout 20 openssl s_client -connect H:P -tls1_2 -cipher C 2>&1` as OpenSSL 3.0 (Debian 12) prints
# it, recorded against `openssl s_server -cipher 'ECDHE+AESGCM'`, a closed port and a listener that resets
S_CLIENT_TAIL = (
    "---\nno peer certificate available\n---\nNo client certificate CA names sent\n---\n"
    "SSL handshake has read 7 bytes and written 112 bytes\nVerification: OK\n---\n"
    "New, (NONE), Cipher is (NONE)\nSecure Renegotiation IS NOT supported\nCompression: NONE\n"
    "SSL-Session:\n    Protocol  : TLSv1.2\n    Cipher    : 0000\n    Verify return code: 0 (ok)\n---\n"
)
S_CLIENT = {
    "cipher-refused": (
        1,
        "806BBD8FA27F0000:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:"
        "../ssl/record/rec_layer_s3.c:1602:SSL alert number 40\nCONNECTED(00000003)\n" + S_CLIENT_TAIL,
        "tls_alert",
    ),
    "reset": (1, "write:errno=104\nCONNECTED(00000003)\n" + S_CLIENT_TAIL, "tls_closed"),
    "handshake": (
        0,
        "depth=0 CN = directory-01.soctrang.gov.vn\nverify return:1\nCONNECTED(00000003)\n---\n"
        "Server Temp Key: X25519, 253 bits\n---\nNew, TLSv1.2, Cipher is ECDHE-RSA-AES256-GCM-SHA384\n"
        "SSL-Session:\n    Protocol  : TLSv1.2\n    Cipher    : ECDHE-RSA-AES256-GCM-SHA384\n"
        "    Verify return code: 0 (ok)\n",
        "handshake",
    ),
    "closed-port": (
        1,
        "80FB1390257F0000:error:8000006F:system library:BIO_connect:Connection refused:"
        "../crypto/bio/bio_sock2.c:117:calling connect()\n80FB1390257F0000:error:10000067:BIO routines:"
        "BIO_connect:connect error:../crypto/bio/bio_sock2.c:119:\nconnect:errno=111\n",
        "refused",
    ),
    "silent": (124, "CONNECTED(00000003)\n", "timeout"),
    "unknown-cipher": (
        1,
        "Call to SSL_CONF_cmd(-cipher, NOSUCH) failed\n80EB83C2207F0000:error:0A0000B9:SSL routines:"
        "SSL_CTX_set_cipher_list:no cipher match:../ssl/ssl_lib.c:2741:\n",
        "client",
    ),
    "garbage": (1, "something else entirely\n", "other"),
}


@pytest.mark.parametrize("name", S_CLIENT)
def test_s_client_outputs_are_classified(name: str) -> None:
    rc, output, kind = S_CLIENT[name]
    outcome = classify_s_client(rc, output)
    assert outcome.kind == kind, outcome
    # only a server reached over TCP that ended the handshake counts as refusing a cipher: a closed port,
    # a timeout or our own openssl refusing the cipher list never does
    assert is_handshake_refusal(outcome) is (kind in ("tls_alert", "tls_closed"))


def test_s_client_details() -> None:
    assert classify_s_client(*S_CLIENT["handshake"][:2]).detail == "TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384"
    assert classify_s_client(*S_CLIENT["cipher-refused"][:2]).detail == "handshake failure"
