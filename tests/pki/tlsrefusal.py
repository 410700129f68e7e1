"""Tell an expected client-certificate refusal from any other failure (pure functions, unit-tested).

nginx (pki-01 admin, SSO portal/manager) completes the TLS handshake whatever the client sends and
refuses at HTTP level: 400 "No required SSL certificate was sent" (no certificate, `ssl_verify_client
on`) and 400 "The SSL certificate error" (a revoked / untrusted certificate, also with `optional`).
A server that refuses in the handshake instead sends a certificate alert (bad certificate, revoked,
unknown ca, certificate required). Everything else — connection refused, timeout, DNS, our own
verification of the SERVER certificate failing, a 5xx — is a broken lab, never a refusal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# curl exit codes (man curl, EXIT CODES)
CURL_DNS = {5, 6}
CURL_REFUSED = 7
CURL_TIMEOUT = 28
CURL_TLS_HANDSHAKE = {35, 56}  # SSL connect error / failure receiving data (alert after handshake)
CURL_SERVER_CERT = {58, 60, 77, 83}  # our side: local cert problem, server cert not trusted, CA file, issuer

NGINX_NO_CERT = "No required SSL certificate was sent"
NGINX_BAD_CERT = "The SSL certificate error"

# server alerts that mean "your client certificate is refused"
CERT_ALERTS = re.compile(
    r"alert (certificate revoked|bad certificate|unknown ca|certificate required|certificate unknown"
    r"|certificate expired|unsupported certificate)"
    r"|ALERT_(CERTIFICATE_REVOKED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_REQUIRED|CERTIFICATE_UNKNOWN"
    r"|CERTIFICATE_EXPIRED|UNSUPPORTED_CERTIFICATE)",
    re.I,
)


@dataclass(frozen=True)
class Outcome:
    # http | tls_alert | refused | timeout | dns | server_cert | other; s_client also: handshake | tls_closed | client
    kind: str
    status: int = 0  # HTTP status for kind == "http"
    detail: str = ""  # the alert, the body's title or the error

    @property
    def reached_server(self) -> bool:
        return self.kind in ("http", "tls_alert")


def html_title(body: str) -> str:
    m = re.search(r"<title>\s*(.*?)\s*</title>", body, re.S | re.I)
    return m.group(1) if m else body.strip()[:200]


def classify_curl(rc: int, stdout: str, stderr: str) -> Outcome:
    """curl run with `-sS -w '\\n%{http_code}'` (without -f)."""
    err = stderr.strip()
    if rc == 0:
        body, _, code = stdout.rpartition("\n")
        if code.strip().isdigit() and code.strip() != "000":
            return Outcome("http", int(code), html_title(body))
        return Outcome("other", detail=f"rc 0 without an HTTP status: {stdout[-200:]!r}")
    if rc in CURL_DNS or "Could not resolve" in err:
        return Outcome("dns", detail=err)
    if rc == CURL_TIMEOUT or "timed out" in err.lower() or "Timeout was reached" in err:
        return Outcome("timeout", detail=err)
    if rc == CURL_REFUSED or "Connection refused" in err or "Couldn't connect" in err:
        return Outcome("refused", detail=err)
    if rc in CURL_SERVER_CERT or "SSL certificate problem" in err:
        return Outcome("server_cert", detail=err)
    if rc in CURL_TLS_HANDSHAKE:
        m = CERT_ALERTS.search(err)
        if m:
            return Outcome("tls_alert", detail=m.group(0))
    return Outcome("other", detail=f"rc {rc}: {err}")


def classify_python_error(error: str) -> Outcome:
    """The text of a requests / ssl exception (e.g. flows.py's `error`)."""
    if re.search(
        r"Name or service not known|Temporary failure in name resolution|NameResolutionError|getaddrinfo", error
    ):
        return Outcome("dns", detail=error)
    if re.search(r"timed out|TimeoutError|ConnectTimeout|ReadTimeout", error, re.I):
        return Outcome("timeout", detail=error)
    if re.search(r"Connection refused|Errno 111|NewConnectionError", error):
        return Outcome("refused", detail=error)
    if "CERTIFICATE_VERIFY_FAILED" in error or "certificate verify failed" in error:
        return Outcome("server_cert", detail=error)
    m = CERT_ALERTS.search(error)
    if m:
        return Outcome("tls_alert", detail=m.group(0))
    return Outcome("other", detail=error)


def is_client_cert_refusal(outcome: Outcome, *, missing: bool) -> bool:
    """The server refused the client certificate (missing=False: revoked/untrusted; True: none sent)."""
    if outcome.kind == "tls_alert":
        return True
    if outcome.kind == "http" and outcome.status == 400:
        return (NGINX_NO_CERT if missing else NGINX_BAD_CERT) in outcome.detail
    return False


# --- openssl s_client: did the server refuse the handshake, or was it never reached? -------------------

S_CLIENT_NEW = re.compile(r"^New, (?P<proto>\S+), Cipher is (?P<cipher>\S+)", re.M)
S_CLIENT_ALERT = re.compile(r"(?:sslv3|tlsv1|tlsv13) alert (?P<alert>[a-z ]+?)(?::|$)", re.M | re.I)
TIMEOUT_RC = 124  # coreutils timeout


def classify_s_client(rc: int, output: str) -> Outcome:
    """`echo | timeout N openssl s_client -connect HOST:PORT ...`, stdout and stderr together.

    handshake: a cipher was negotiated (detail "TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256"); tls_alert: TCP
    connected and the server ended the handshake with an alert (detail the alert); tls_closed: TCP
    connected and the server closed or reset without one; refused / timeout / dns: the server was never
    reached; client: our own openssl refused the request (e.g. a cipher it does not know); other: the rest.
    """
    if rc == TIMEOUT_RC:
        return Outcome("timeout", detail=f"no answer before the time limit: {output[-200:]!r}")
    if "no cipher match" in output or "SSL_CONF_cmd" in output:
        return Outcome("client", detail=output.strip().splitlines()[0] if output.strip() else "")
    if "Connection refused" in output or "errno=111" in output:
        return Outcome("refused", detail="connection refused")
    if "Connection timed out" in output or "errno=110" in output or "No route to host" in output:
        return Outcome("timeout", detail="connection timed out")
    if re.search(r"BIO_lookup|Name or service not known|nodename nor servname", output):
        return Outcome("dns", detail=output.strip()[:200])
    if "CONNECTED(" not in output:
        return Outcome("other", detail=f"rc {rc}: {output[-300:]!r}")
    new = S_CLIENT_NEW.search(output)
    if new and new["cipher"] != "(NONE)":
        return Outcome("handshake", detail=f"{new['proto']} {new['cipher']}")
    alert = S_CLIENT_ALERT.search(output)
    if alert:
        return Outcome("tls_alert", detail=alert["alert"])
    if new:
        return Outcome("tls_closed", detail="the server ended the handshake without an alert")
    return Outcome("other", detail=f"rc {rc}, connected, no handshake result: {output[-300:]!r}")


def is_handshake_refusal(outcome: Outcome) -> bool:
    """The server was reached over TCP and refused the TLS handshake (not a closed port, not a timeout)."""
    return outcome.kind in ("tls_alert", "tls_closed")
