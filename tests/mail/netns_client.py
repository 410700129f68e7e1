"""Mail protocol probes, run inside a site LAN client's network namespace (stdlib only).

    ip netns exec egl-pc-<slug> python tests/mail/netns_client.py '<json request>'

Prints one JSON object. Every probe talks the real protocol (smtplib, imaplib, ssl) to a mail host
address, verifying certificates against the given CA bundle and the service name (SNI), so it goes
through the site firewall, the DC firewall and the mail host's own firewall like an official's PC.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import imaplib
import json
import smtplib
import socket
import ssl
import sys
import time
from email.message import EmailMessage
from typing import Any

TIMEOUT = 20


def tls_context(cafile: str | None, *, verify: bool = True) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=cafile) if verify else ssl._create_unverified_context()
    if not verify:
        ctx.check_hostname = False
    return ctx


def reply(code: int, text: bytes | str) -> dict[str, Any]:
    return {"code": code, "text": text.decode(errors="replace") if isinstance(text, bytes) else text}


def smtp_ehlo(req: dict[str, Any]) -> dict[str, Any]:
    """EHLO in clear, then AUTH in clear (must be refused), then STARTTLS and EHLO again."""
    result: dict[str, Any] = {}
    with smtplib.SMTP(req["address"], req["port"], timeout=TIMEOUT, local_hostname="pc.lab") as s:
        s.ehlo()
        result["clear_features"] = sorted(s.esmtp_features)
        result["clear_auth"] = reply(*s.docmd("AUTH", "PLAIN " + base64.b64encode(b"\0probe\0probe").decode()))
        result["clear_mail"] = reply(*s.docmd("MAIL", "FROM:<probe@example.org>"))
        s.rset()
        s.starttls(context=tls_context(req.get("cafile"), verify=False))
        s.ehlo()
        result["tls_features"] = sorted(s.esmtp_features)
        result["tls_auth"] = s.esmtp_features.get("auth", "")
    return result


def smtp_relay(req: dict[str, Any]) -> dict[str, Any]:
    """Unauthenticated MAIL/RCPT to an outside domain (after STARTTLS when asked)."""
    with smtplib.SMTP(req["address"], req["port"], timeout=TIMEOUT, local_hostname="pc.lab") as s:
        s.ehlo()
        if req.get("starttls"):
            s.starttls(context=tls_context(req.get("cafile"), verify=False))
            s.ehlo()
        mail = reply(*s.docmd("MAIL", f"FROM:<{req['sender']}>"))
        rcpt = reply(*s.docmd("RCPT", f"TO:<{req['recipient']}>"))
        return {"mail": mail, "rcpt": rcpt}


def smtp_rcpt(req: dict[str, Any]) -> dict[str, Any]:
    """Which recipients does the MX accept (RCPT replies), in one session."""
    with smtplib.SMTP(req["address"], 25, timeout=TIMEOUT, local_hostname="pc.lab") as s:
        s.ehlo()
        s.starttls(context=tls_context(req.get("cafile"), verify=False))
        s.ehlo()
        mail = reply(*s.docmd("MAIL", "FROM:<probe@example.org>"))
        rcpts = {r: reply(*s.docmd("RCPT", f"TO:<{r}>")) for r in req["recipients"]}
        s.rset()
        return {"mail": mail, "rcpt": rcpts}


def submit(req: dict[str, Any]) -> dict[str, Any]:
    """Submission on 587: STARTTLS (verified), AUTH, one message. Returns its Message-ID and timing."""
    msg = EmailMessage()
    msg["From"] = req["sender"]
    msg["To"] = req["recipient"]
    msg["Subject"] = req["subject"]
    msg["Date"] = email.utils.formatdate(localtime=True)
    msg["Message-ID"] = email.utils.make_msgid(domain=req["sender"].split("@")[1])
    msg.set_content(req.get("body", "Kính gửi anh/chị,\n\nThư thử nghiệm của hệ thống thư điện tử.\n"))
    ctx = tls_context(req["cafile"])
    started = time.time()
    with smtplib.SMTP(req["address"], 587, timeout=TIMEOUT, local_hostname="pc.lab") as s:
        s.ehlo()
        s._host = req["server_name"]  # type: ignore[attr-defined]  # verify the service name, not the address
        s.starttls(context=ctx)
        s.ehlo()
        s.login(req["user"], req["password"])
        refused = s.send_message(msg)
    return {"message_id": msg["Message-ID"], "refused": refused, "sent_at": started}


class VerifiedIMAP(imaplib.IMAP4_SSL):
    """IMAPS to an address, certificate verified against the service name (SNI)."""

    def __init__(self, address: str, server_name: str, ctx: ssl.SSLContext) -> None:
        self._address = address
        self._server_name = server_name
        super().__init__(server_name, 993, ssl_context=ctx, timeout=TIMEOUT)

    def _create_socket(self, timeout: float | None) -> ssl.SSLSocket:  # type: ignore[override]
        sock = socket.create_connection((self._address, self.port), timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self._server_name)


def _quoted(value: str) -> str:
    """An IMAP quoted string (imaplib sends arguments as they are: a space would split them)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _arrived_after(conn: imaplib.IMAP4, msg_id: bytes, after: float | None) -> bool:
    if after is None:
        return True
    _typ, data = conn.fetch(msg_id, "(INTERNALDATE)")
    stamp = imaplib.Internaldate2tuple(data[0] if isinstance(data[0], bytes) else b"")
    return stamp is not None and time.mktime(stamp) >= after


def imap_wait(req: dict[str, Any]) -> dict[str, Any]:
    """IMAPS 993 (verified): log in, wait until the Message-ID is in INBOX, return it and the quota.

    Or another header: ``header`` + ``value`` (IMAP SEARCH HEADER, a substring), and ``after`` (epoch
    seconds) to ignore messages that arrived earlier (e.g. an alert mail of a previous run)."""
    deadline = time.time() + req.get("timeout", 60)
    conn = VerifiedIMAP(req["address"], req["server_name"], tls_context(req["cafile"]))
    try:
        conn.login(req["user"], req["password"])
        result: dict[str, Any] = {"tls_version": conn.sock.version()}
        _typ, quota = conn.getquotaroot("INBOX")
        result["quota"] = repr(quota)   # e.g. [[b'"INBOX" "User quota"'], [b'"User quota" (STORAGE 0 2097152)']]
        while True:
            conn.select("INBOX")
            _typ, data = conn.search(None, "HEADER", req.get("header", "Message-ID"),
                                     _quoted(req.get("value") or req["message_id"]))
            ids = [i for i in data[0].split() if _arrived_after(conn, i, req.get("after"))]
            if ids:
                result["found_at"] = time.time()
                _typ, fetched = conn.fetch(ids[-1], "(RFC822)")
                raw = next(part[1] for part in fetched if isinstance(part, tuple))
                result["message"] = base64.b64encode(raw).decode()
                return result
            if time.time() > deadline:
                result["found_at"] = None
                return result
            time.sleep(0.5)
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            conn.logout()


def tls_probe(req: dict[str, Any]) -> dict[str, Any]:
    """TLS handshake on 25/587 (STARTTLS) or 993 (implicit), optionally capped to an old version."""
    ctx = tls_context(req["cafile"])
    if req.get("max_version"):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cafile=req["cafile"])
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion[req["max_version"]]
        ctx.maximum_version = ssl.TLSVersion[req["max_version"]]
    raw = socket.create_connection((req["address"], req["port"]), timeout=TIMEOUT)
    try:
        if req["port"] in (25, 587):
            f = raw.makefile("rb")
            f.readline()
            raw.sendall(b"EHLO pc.lab\r\n")
            while (line := f.readline())[3:4] == b"-":
                pass
            raw.sendall(b"STARTTLS\r\n")
            line = f.readline()
            if not line.startswith(b"220"):
                return {"ok": False, "error": f"STARTTLS refused: {line!r}"}
        try:
            with ctx.wrap_socket(raw, server_hostname=req["server_name"]) as tls:
                cert = tls.getpeercert()
                return {"ok": True, "version": tls.version(), "subject": cert.get("subject"),
                        "san": cert.get("subjectAltName")}
        except ssl.SSLCertVerificationError as exc:
            return {"ok": False, "error": str(exc), "reason": "CERTIFICATE_VERIFY_FAILED"}
        except ssl.SSLError as exc:
            return {"ok": False, "error": str(exc), "reason": exc.reason, "library": exc.library}
    finally:
        raw.close()


ACTIONS = {"smtp_ehlo": smtp_ehlo, "smtp_relay": smtp_relay, "smtp_rcpt": smtp_rcpt, "submit": submit,
           "imap_wait": imap_wait, "tls_probe": tls_probe}


def main() -> None:
    req = json.loads(sys.argv[1])
    try:
        out = ACTIONS[req["action"]](req)
    except (OSError, smtplib.SMTPException, imaplib.IMAP4.error, ssl.SSLError) as exc:
        out = {"exception": type(exc).__name__, "error": str(exc)}
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
