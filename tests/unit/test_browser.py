"""The browser harness of the web tests (tests/browser.py) on loopback: it loads a page over HTTPS
trusting only the given CA, follows a link, keeps a screenshot, and reports a chain from another CA
as a certificate error instead of showing the page."""

from __future__ import annotations

import http.server
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import browser

pytestmark = pytest.mark.skipif(bool(browser.available()), reason=f"no browser here: {browser.available()}")
NAME = "cổng.portal.test"            # an IDN, as a Vietnamese unit's site name could be
ACE = NAME.encode("idna").decode()


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def _ca(directory: Path, name: str) -> tuple[Path, Path]:
    key, cert = directory / f"{name}.key", directory / f"{name}.pem"
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key),
             "-out", str(cert), "-days", "2", "-subj", f"/O=egov test/CN={name}",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return key, cert


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, Path]]:
    d = tmp_path_factory.mktemp("tls")
    ca_key, ca = _ca(d, "test-ca")
    _, other_ca = _ca(d, "other-ca")
    key, csr, cert, ext = d / "leaf.key", d / "leaf.csr", d / "leaf.pem", d / "ext.cnf"
    ext.write_text(f"subjectAltName=DNS:{ACE}\nextendedKeyUsage=serverAuth\n", encoding="utf-8")
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key),
             "-out", str(csr), "-subj", f"/CN={ACE}")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
             "-out", str(cert), "-days", "1", "-extfile", str(ext))
    pages = {"/": f"<html><head><title>Trang chủ</title></head><body><h1>Cổng thông tin</h1>"
                  f"<a href='https://{ACE}:{{port}}/lien-he/'>Liên hệ</a></body></html>",
             "/lien-he/": "<html><head><title>Liên hệ</title></head><body><h1>Liên hệ</h1></body></html>"}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path, "").replace("{port}", str(self.server.server_address[1])).encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], ca, other_ca
    server.shutdown()


def test_a_page_and_a_followed_link_over_verified_tls(site: tuple[int, Path, Path], tmp_path: Path) -> None:
    port, ca, _ = site
    result = browser.browse({"cafile": str(ca), "resolve": {ACE: "127.0.0.1"}, "screenshots": str(tmp_path),
                             "steps": [{"get": f"https://{ACE}:{port}/"}, {"click": "Liên hệ"}, {"shot": "contact"}]})
    assert not result["error"], result
    home, contact = result["steps"]
    assert (home["title"], home["h1"], home["cert_error"]) == ("Trang chủ", "Cổng thông tin", False), home
    assert contact["url"] == f"https://{ACE}:{port}/lien-he/" and contact["title"] == "Liên hệ", contact
    shot = Path(result["screenshots"][0])
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 1000


def test_a_chain_from_another_ca_is_a_certificate_error(site: tuple[int, Path, Path]) -> None:
    port, _, other_ca = site
    result = browser.browse({"cafile": str(other_ca), "resolve": {ACE: "127.0.0.1"},
                             "steps": [{"get": f"https://{ACE}:{port}/"}]})
    page = result["steps"][0] if result["steps"] else {}
    assert page.get("cert_error") or "ERR_CERT" in result["error"], result
    assert page.get("title") != "Trang chủ", result


def test_a_missing_link_is_reported_not_ignored(site: tuple[int, Path, Path]) -> None:
    port, ca, _ = site
    result = browser.browse({"cafile": str(ca), "resolve": {ACE: "127.0.0.1"},
                             "steps": [{"get": f"https://{ACE}:{port}/"}, {"click": "Không có"}]})
    assert result["error"].startswith("LookupError: no link 'Không có'"), result
