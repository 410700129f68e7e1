"""Real HTTP flows against the SSO and the webmail, run from a site LAN client.

Run inside a client's network namespace (the tests do this with `ip netns exec egl-pc-<slug>`):

    python -m tests.sso.flows webmail-login --user snv.001 --password ... --resolve sso.soctrang.gov.vn=10.94.1.11 ...

Each flow prints one JSON object (the evidence the tests assert on). Names are pinned to the
inventory's addresses with --resolve (like curl --resolve); TLS is verified against the lab CA chain.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import imaplib
import json
import smtplib
import socket
import ssl
import sys
import time
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import requests

_RESOLVE: dict[str, str] = {}
_orig_getaddrinfo = socket.getaddrinfo


def _getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    return _orig_getaddrinfo(_RESOLVE.get(host, host), *args, **kwargs)


class _Forms(HTMLParser):
    """Collect the forms of a page: action, method and every input's name/value."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get"), "fields": {}})
        elif tag in ("input", "button") and self.forms and a.get("name"):
            if a.get("type") in ("radio", "checkbox") and "checked" not in a:
                return
            self.forms[-1]["fields"].setdefault(a["name"], a.get("value", ""))


def forms(html: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def _session(ca: str, cert: tuple[str, str] | None = None) -> requests.Session:
    s = requests.Session()
    # no proxy and no REQUESTS_CA_BUNDLE from the environment: with trust_env, requests lets that
    # variable override Session.verify, and the lab CA would not be the trust anchor
    s.trust_env = False
    s.verify = ca
    if cert:
        s.cert = cert
    return s


def _login_form(html: str) -> dict[str, Any]:
    for form in forms(html):
        if "user" in form["fields"] or "lmAuth" in form["fields"]:
            return form
    raise RuntimeError("no LemonLDAP::NG login form on the page")


def _portal_post(s: requests.Session, page: requests.Response, data: dict[str, str]) -> requests.Response:
    form = _login_form(page.text)
    fields = dict(form["fields"])
    fields.update(data)
    action = urljoin(page.url, form["action"] or page.url)
    return s.post(action, data=fields, allow_redirects=True, timeout=30)


def webmail_login(args: argparse.Namespace) -> dict[str, Any]:
    """Browser-like: webmail -> SSO (password) -> back to Roundcube -> mailbox page."""
    s = _session(args.ca)
    t0 = time.monotonic()
    first = s.get(f"https://{args.webmail}/", timeout=30)
    on_portal = urlparse(first.url).hostname == args.sso
    result: dict[str, Any] = {"first_url": first.url, "redirected_to_sso": on_portal}
    if not on_portal:
        result["first_status"] = first.status_code
        return result
    # the portal asks which method: password (LDAP)
    final = _portal_post(s, first, {"lmAuth": "1_Password", "user": args.user, "password": args.password})
    result.update(
        final_url=final.url,
        final_status=final.status_code,
        seconds=round(time.monotonic() - t0, 3),
        on_webmail=urlparse(final.url).hostname == args.webmail,
        mailbox_page=("_task=mail" in final.url or '"task":"mail"' in final.text) and "mailboxlist" in final.text,
        user_shown=args.mail in final.text,
        sso_cookie=bool(s.cookies.get("egovsso")),
        roundcube_error=("login/oauth" in final.url and "_task=mail" not in final.url),
    )
    return result


def _xoauth2(user: str, token: str) -> str:
    return base64.b64encode(f"user={user}\x01auth=Bearer {token}\x01\x01".encode()).decode()


def oidc_mail(args: argparse.Namespace) -> dict[str, Any]:
    """Like Roundcube, without Roundcube: authorization code flow of the `webmail` client on the
    portal (password login), code exchanged for an access token, then IMAPS 993 and submission 587
    (STARTTLS) authenticated with XOAUTH2 and that token; a forged token must be refused by both."""
    s = _session(args.ca)
    redirect = f"https://{args.webmail}/index.php/login/oauth"
    query = urlencode({"response_type": "code", "client_id": "webmail", "scope": "openid email profile",
                       "redirect_uri": redirect, "state": "egov-test"})
    page = s.get(f"https://{args.sso}/oauth2/authorize?{query}", timeout=30)
    form = _login_form(page.text)
    fields = dict(form["fields"])
    fields.update({"lmAuth": "1_Password", "user": args.user, "password": args.password})
    r = s.post(urljoin(page.url, form["action"] or page.url), data=fields, allow_redirects=False, timeout=30)
    # follow redirects on the portal only: the code must not reach the real webmail (single use)
    while r.is_redirect and urlparse(r.headers["location"]).hostname == args.sso:
        r = s.get(urljoin(r.url, r.headers["location"]), allow_redirects=False, timeout=30)
    location = r.headers.get("location", "")
    code = parse_qs(urlparse(location).query).get("code", [""])[0]
    result: dict[str, Any] = {"code": bool(code), "redirect": location.split("?")[0]}
    if not code:
        return result
    # back channel, like the relying party: a new client without the user's SSO cookie
    tok = _session(args.ca).post(f"https://{args.sso}/oauth2/token", timeout=30, auth=("webmail", args.client_secret),
                 data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect})
    token = tok.json().get("access_token", "") if tok.ok else ""
    result["token"] = bool(token)
    if not token:
        result["token_error"] = tok.text[:300]
        return result
    ctx = ssl.create_default_context(cafile=args.ca)
    for label, bearer in (("", token), ("forged_", "not-" + token)):
        try:
            with imaplib.IMAP4_SSL(args.mail_host, 993, ssl_context=ctx, timeout=30) as imap:
                # imaplib base64-encodes what the callback returns
                raw = f"user={args.mail}\x01auth=Bearer {bearer}\x01\x01".encode()
                typ, _ = imap.authenticate("XOAUTH2", lambda _challenge, r=raw: r)
                result[f"{label}imap"] = typ == "OK" and imap.select("INBOX")[0] == "OK"
        except (imaplib.IMAP4.error, OSError) as exc:
            result[f"{label}imap"] = False
            result[f"{label}imap_error"] = str(exc)[:200]
        try:
            with smtplib.SMTP(args.mail_host, 587, timeout=30) as smtp:
                smtp.starttls(context=ctx)
                smtp.ehlo()
                code_, msg = smtp.docmd("AUTH", "XOAUTH2 " + _xoauth2(args.mail, bearer))
                result[f"{label}smtp"] = code_ == 235
                result[f"{label}smtp_reply"] = f"{code_} {msg.decode(errors='replace')}"[:200]
        except (smtplib.SMTPException, OSError) as exc:
            result[f"{label}smtp"] = False
            result[f"{label}smtp_reply"] = str(exc)[:200]
    return result


def portal_password(args: argparse.Namespace) -> dict[str, Any]:
    """Password login on the portal alone (optionally verify the session on another node)."""
    s = _session(args.ca)
    page = s.get(f"https://{args.sso}/", timeout=30)
    done = _portal_post(s, page, {"lmAuth": "1_Password", "user": args.user, "password": args.password})
    cookie = s.cookies.get("egovsso")
    result: dict[str, Any] = {"status": done.status_code, "sso_cookie": bool(cookie), "url": done.url}
    if cookie and args.other_node:
        # same session id presented to the other node (pinned address): authenticated there too?
        _RESOLVE[args.sso] = args.other_node
        s2 = _session(args.ca)
        s2.cookies.set("egovsso", cookie, domain=args.cookie_domain)
        again = s2.get(f"https://{args.sso}/", timeout=30)
        result["other_node_authenticated"] = bool(forms(again.text)) is False or "logout" in again.text.lower()
        result["other_node_login_form"] = any("user" in f["fields"] for f in forms(again.text))
    return result


def portal_certificate(args: argparse.Namespace) -> dict[str, Any]:
    """Certificate login on the portal with the official's client certificate."""
    s = _session(args.ca, (args.cert, args.key))
    try:
        page = s.get(f"https://{args.sso}/", timeout=30)
    except requests.exceptions.SSLError as exc:
        return {"tls_refused": True, "error": str(exc)[:1000], "sso_cookie": False}
    if page.status_code != 200:
        return {"status": page.status_code, "sso_cookie": False, "body": page.text[:300]}
    done = _portal_post(s, page, {"lmAuth": "2_Certificate"})
    return {"status": done.status_code, "sso_cookie": bool(s.cookies.get("egovsso")), "url": done.url}


def manager(args: argparse.Namespace) -> dict[str, Any]:
    s = _session(args.ca, (args.cert, args.key) if args.cert else None)
    try:
        r = s.get(f"https://{args.manager}/", timeout=30, allow_redirects=False)
    except requests.exceptions.SSLError as exc:
        return {"tls_refused": True, "error": str(exc)[:1000]}
    return {"status": r.status_code, "body": r.text[:300], "location": r.headers.get("location", "")}


def tls(args: argparse.Namespace) -> dict[str, Any]:
    """Handshake with each protocol version; chain verified against the CA."""
    out: dict[str, Any] = {}
    for host in (args.sso, args.webmail):
        versions: dict[str, Any] = {}
        for name, version in (("TLSv1", ssl.TLSVersion.TLSv1), ("TLSv1.1", ssl.TLSVersion.TLSv1_1),
                              ("TLSv1.2", ssl.TLSVersion.TLSv1_2), ("TLSv1.3", ssl.TLSVersion.TLSv1_3)):
            ctx = ssl.create_default_context(cafile=args.ca)
            ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
            with contextlib.suppress(ssl.SSLError):
                ctx.set_ciphers("ALL:@SECLEVEL=0")
            ctx.minimum_version = version
            ctx.maximum_version = version
            try:
                with socket.create_connection((host, 443), timeout=10) as raw, \
                        ctx.wrap_socket(raw, server_hostname=host) as tls_sock:
                    versions[name] = {"ok": True, "version": tls_sock.version()}
            except (ssl.SSLError, OSError) as exc:
                versions[name] = {"ok": False, "error": str(exc)[:200]}
        out[host] = versions
    return out


def run_flow(flow: Callable[[argparse.Namespace], dict[str, Any]], args: argparse.Namespace,
             errors: tuple[type[Exception], ...] = (requests.exceptions.RequestException,)) -> int:
    """The command line of a flow module: pin the --resolve names, run the flow, print its JSON
    evidence (a request error is evidence too, not a crash)."""
    for item in args.resolve:
        name, _, address = item.partition("=")
        _RESOLVE[name] = address
    socket.getaddrinfo = _getaddrinfo  # type: ignore[assignment]
    try:
        result = flow(args)
    except errors as exc:
        result = {"request_error": f"{type(exc).__name__}: {exc}"[:500]}
    json.dump(result, sys.stdout)
    print()
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("flow", choices=["webmail-login", "portal-password", "portal-certificate", "manager", "tls",
                                    "oidc-mail"])
    p.add_argument("--sso", default="sso.soctrang.gov.vn")
    p.add_argument("--manager", default="sso-manager.soctrang.gov.vn")
    p.add_argument("--webmail", default="webmail.soctrang.gov.vn")
    p.add_argument("--cookie-domain", default="soctrang.gov.vn")
    p.add_argument("--ca", required=True)
    p.add_argument("--user", default="")
    p.add_argument("--mail", default="")
    p.add_argument("--password", default="")
    p.add_argument("--cert", default="")
    p.add_argument("--key", default="")
    p.add_argument("--other-node", default="")
    p.add_argument("--mail-host", default="mail.soctrang.gov.vn")
    p.add_argument("--client-secret", default="")
    p.add_argument("--resolve", action="append", default=[], help="name=address")
    args = p.parse_args(argv)
    flow = {"webmail-login": webmail_login, "portal-password": portal_password,
            "portal-certificate": portal_certificate, "manager": manager, "tls": tls,
            "oidc-mail": oidc_mail}[args.flow]
    return run_flow(flow, args)


if __name__ == "__main__":
    raise SystemExit(main())
