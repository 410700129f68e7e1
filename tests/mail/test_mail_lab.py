"""Government mail on the lab, proved with real clients from a commune's office LAN (issue 6).

An official submits on 587 (STARTTLS + AUTH) to another official; the message arrives in the
recipient's IMAP INBOX (993) with a valid DKIM signature of the domain; the MX accepts every official
and refuses unknown users and relaying; no AUTH before STARTTLS; every endpoint presents a chain that
verifies against the lab CA and refuses TLS 1.0/1.1; the quota is the model's. Both mail hosts are
proved: mail-01 (mailboxes) and mail-02 (backup MX, submission relaying to mail-01, IMAP proxy).
"""

from __future__ import annotations

import base64
import re
import time
from typing import Any

import dkim
import dns.exception
import dns.resolver
import pytest
from cryptography.hazmat.primitives import serialization

from tests.mail.conftest import DKIM_SELECTOR, DNS_SERVERS, DOMAIN, MAIL_HOSTS, SECRETS, Lab

pytestmark = pytest.mark.lab

SENDER = "snv.001"                  # Sở Nội vụ
RECIPIENTS = {"mail-01": "an-hiep.001", "mail-02": "chau-thanh.001"}
QUOTA_GB = 2                        # model/province.yml services.mail.mailbox_quota_gb
ENDPOINTS = [(h, p) for h in MAIL_HOSTS for p in (25, 587, 993)]


def dkim_public_record() -> tuple[str, str]:
    """The DKIM TXT record: from the DC DNS when it publishes it, else from the key in the secrets dir."""
    key_file = SECRETS / "dkim" / f"{DKIM_SELECTOR}.key"
    expected = None
    if key_file.exists():
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        expected = base64.b64encode(der).decode()
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = DNS_SERVERS
    resolver.lifetime = 5
    try:
        answer = resolver.resolve(f"{DKIM_SELECTOR}._domainkey.{DOMAIN}", "TXT")
        txt = "".join(b"".join(r.strings).decode() for r in answer)
        published = re.search(r"p=([A-Za-z0-9+/=]+)", txt)
        assert published, f"DKIM TXT without p=: {txt}"
        if expected is not None:
            assert published.group(1) == expected, "the DNS publishes another DKIM key than the mail hosts sign with"
        return txt, "dns"
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.exception.Timeout, dns.resolver.NoNameservers):
        if expected is None:
            pytest.fail(f"no DKIM TXT in the DC DNS and no key at {key_file}")
        return f"v=DKIM1; k=rsa; p={expected}", "secrets"


@pytest.fixture(scope="module", params=MAIL_HOSTS)
def delivered(request: pytest.FixtureRequest, lab: Lab) -> dict[str, Any]:
    """One message submitted on <host>:587 by an official and read back on <host>:993 by another."""
    host = request.param
    recipient = RECIPIENTS[host]
    subject = f"Thử nghiệm {host} {time.time():.0f}"
    sent = lab.client("submit", host, user=SENDER, password=lab.password(SENDER), sender=f"{SENDER}@{DOMAIN}",
                      recipient=f"{recipient}@{DOMAIN}", subject=subject)
    assert "exception" not in sent, f"submission on {host}:587 failed: {sent}"
    assert sent["refused"] == {}, sent
    got = lab.client("imap_wait", host, user=recipient, password=lab.password(recipient),
                     message_id=sent["message_id"], timeout=90)
    assert "exception" not in got, f"IMAP on {host}:993 failed: {got}"
    return {"host": host, "recipient": recipient, "sent": sent, "got": got}


def test_submitted_message_arrives_in_the_recipients_inbox(delivered: dict[str, Any],
                                                           record_property: pytest.RecordProperty) -> None:
    got = delivered["got"]
    assert got["found_at"] is not None, f"message {delivered['sent']['message_id']} not in INBOX after 90 s"
    latency = got["found_at"] - delivered["sent"]["sent_at"]
    record_property("delivery_latency_s", round(latency, 2))
    print(f"{delivered['host']}: submit -> IMAP INBOX in {latency:.2f} s")
    raw = base64.b64decode(got["message"])
    assert delivered["sent"]["message_id"].encode() in raw
    assert got["tls_version"] in ("TLSv1.2", "TLSv1.3")


def test_delivered_message_has_a_valid_dkim_signature_of_the_domain(delivered: dict[str, Any]) -> None:
    raw = base64.b64decode(delivered["got"]["message"])
    assert b"DKIM-Signature:" in raw, "the message was not DKIM-signed"
    record, source = dkim_public_record()
    header = raw.split(b"\r\n\r\n", 1)[0].decode(errors="replace")
    assert f"d={DOMAIN}" in header and f"s={DKIM_SELECTOR}" in header, header

    def dnsfunc(name: bytes | str, timeout: int = 5) -> bytes:
        wanted = f"{DKIM_SELECTOR}._domainkey.{DOMAIN}."
        name = name.decode() if isinstance(name, bytes) else name
        return record.encode() if name.rstrip(".") + "." == wanted else b""

    assert dkim.verify(raw, dnsfunc=dnsfunc), f"DKIM signature does not verify (key from {source})"


def test_mailbox_is_created_on_first_delivery_with_the_models_quota(delivered: dict[str, Any], lab: Lab) -> None:
    quota = re.search(r"STORAGE (\d+) (\d+)", delivered["got"]["quota"])
    assert quota, f"no STORAGE quota in GETQUOTAROOT: {delivered['got']['quota']}"
    assert int(quota.group(2)) == QUOTA_GB * 1024 * 1024, quota.group(0)
    maildir = f"/var/vmail/{DOMAIN}/{delivered['recipient']}/Maildir"
    assert lab.ssh("mail-01", f"test -d {maildir}/cur && echo yes").strip() == "yes", maildir


@pytest.mark.parametrize("host", MAIL_HOSTS)
def test_no_auth_before_starttls_on_submission(lab: Lab, host: str) -> None:
    out = lab.client("smtp_ehlo", host, port=587)
    assert "exception" not in out, out
    assert "auth" not in out["clear_features"], f"AUTH offered in clear on {host}:587: {out['clear_features']}"
    assert "starttls" in out["clear_features"]
    assert 500 <= out["clear_auth"]["code"] < 600, f"AUTH in clear accepted: {out['clear_auth']}"
    assert out["clear_mail"]["code"] == 530, f"MAIL in clear not refused with 530: {out['clear_mail']}"
    assert "PLAIN" in out["tls_auth"].upper(), f"no AUTH after STARTTLS on {host}:587: {out}"


@pytest.mark.parametrize("host", MAIL_HOSTS)
def test_mx_offers_starttls_and_never_auth(lab: Lab, host: str) -> None:
    out = lab.client("smtp_ehlo", host, port=25)
    assert "exception" not in out, out
    assert "starttls" in out["clear_features"]
    assert "auth" not in out["clear_features"] and not out["tls_auth"], f"AUTH offered on {host}:25: {out}"


@pytest.mark.parametrize(("host", "port", "starttls"),
                         [(h, p, t) for h in MAIL_HOSTS for p, t in ((25, False), (25, True), (587, True))])
def test_unauthenticated_relay_is_refused(lab: Lab, host: str, port: int, starttls: bool) -> None:
    out = lab.client("smtp_relay", host, port=port, starttls=starttls, sender="spam@example.org",
                     recipient="victim@example.com")
    assert "exception" not in out, out
    assert 500 <= out["rcpt"]["code"] < 600, f"{host}:{port} accepted a relay: {out}"


@pytest.mark.parametrize("host", MAIL_HOSTS)
def test_every_official_is_a_recipient_and_nobody_else(lab: Lab, host: str, officials: list[str]) -> None:
    sample = sorted({*officials[::40], officials[0], officials[-1]})      # ~90 officials of every kind
    unknown = [f"nobody.999@{DOMAIN}", f"{officials[0]}x@{DOMAIN}"]
    out = lab.client("smtp_rcpt", host, recipients=[f"{u}@{DOMAIN}" for u in sample] + unknown, timeout=120)
    assert "exception" not in out, out
    refused = {r: v for r, v in out["rcpt"].items() if r not in unknown and v["code"] != 250}
    assert not refused, f"{len(refused)} officials refused on {host}:25, e.g. {list(refused.items())[:3]}"
    for r in unknown:
        assert out["rcpt"][r]["code"] == 550, f"unknown {r} not refused with 550 on {host}: {out['rcpt'][r]}"


@pytest.mark.parametrize(("host", "port"), ENDPOINTS)
def test_endpoint_chain_verifies_against_the_lab_ca(lab: Lab, host: str, port: int) -> None:
    out = lab.client("tls_probe", host, port=port)
    assert out.get("ok"), f"{host}:{port}: {out}"
    assert out["version"] in ("TLSv1.2", "TLSv1.3")
    names = {v for k, v in out["san"] if k == "DNS"}
    assert {f"mail.{DOMAIN}", f"smtp.{DOMAIN}", f"imap.{DOMAIN}", f"{host}.dc.{DOMAIN}"} <= names, names


@pytest.mark.parametrize("version", ["TLSv1", "TLSv1_1"])
@pytest.mark.parametrize(("host", "port"), ENDPOINTS)
def test_endpoint_refuses_old_tls(lab: Lab, host: str, port: int, version: str) -> None:
    out = lab.client("tls_probe", host, port=port, max_version=version)
    assert not out.get("ok"), f"{host}:{port} accepted {version}: {out}"
    # The server must say no to a ClientHello it received: a client unable to offer the version
    # (NO_PROTOCOLS_AVAILABLE) would prove nothing. Postfix answers with a protocol_version alert;
    # Dovecot closes the connection after the ClientHello (EOF) — the same client code completes a
    # TLS 1.2 handshake in test_endpoint_chain_verifies_against_the_lab_ca.
    refusals = {"TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL"}
    if port == 993:
        refusals.add("UNEXPECTED_EOF_WHILE_READING")
    assert out.get("reason") in refusals, out


@pytest.mark.parametrize("host", MAIL_HOSTS)
def test_rspamd_ui_and_plain_imap_listen_on_loopback_only(lab: Lab, host: str) -> None:
    listeners = lab.ssh(host, "ss -Hltn")
    local = {m.group(2): m.group(1) for m in re.finditer(r"\s(\S+):(\d+)\s", listeners)}
    for port in ("11334", "11332", "143"):
        bound = re.findall(rf"\s(\S+):{port}\s", listeners)
        assert bound, f"nothing listens on {host}:{port}"
        assert set(bound) <= {"127.0.0.1", "[::1]"}, f"{host}:{port} bound to {bound}"
    assert local.get("993") in ("0.0.0.0", "*", "[::]")
