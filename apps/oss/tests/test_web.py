"""HTTP level (Flask test client): officials' pages, idempotent intake, refusals, the public lookup, the gateway
API's trust rule, ``/healthz``, and the SSO login flow against the fake issuer."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import psycopg
import pytest
from egov_oss import dossiers
from egov_oss.config import Config, OidcConfig
from egov_oss.web import create_app
from fake_issuer import FakeIssuer
from flask import Flask
from flask.testing import FlaskClient

from conftest import Pg

COMMUNE, OTHER, DISTRICT = "xa-an-lac-thon", "xa-an-my", "huyen-ke-sach"
HEADER = "X-Egov-Client-DN"
DN = "CN=lgsp.soctrang.gov.vn,O=So TTTT Soc Trang,C=VN"


def _app(pg: Pg, oidc: OidcConfig | None = None, dsn: str | None = None) -> Flask:
    app = create_app(Config(dsn=dsn or pg.app, oidc=oidc, trusted_proxies=("127.0.0.1", "10.9.0.0/24")),
                     secret_key=b"k" * 32)
    app.testing = True
    return app


def _login(client: FlaskClient, agency: str, uid: str = "canbo1") -> str:
    with client.session_transaction() as s:
        s["user"] = {"uid": uid, "agency": agency}
        s["csrf"] = "csrf-1"
    return "csrf-1"


@pytest.fixture()
def client(pg: Pg) -> FlaskClient:
    return _app(pg).test_client()


def _intake(client: FlaskClient, token: str = "tok-1") -> str:
    form = {"csrf": "csrf-1", "token": token, "procedure": "DD-01", "applicant_name": "Nguyễn Văn An",
            "applicant_contact": "0912345678"}
    r = client.post("/ho-so/moi", data=form)
    assert r.status_code == 303, r.get_data(as_text=True)
    return r.headers["Location"].rsplit("/", 1)[-1]


def test_pages_and_idempotent_intake(client: FlaskClient, pg: Pg) -> None:
    assert client.get("/").status_code == 302  # not logged in: off to the SSO
    _login(client, COMMUNE)
    page = client.get("/ho-so/moi").get_data(as_text=True)
    assert "Tiếp nhận hồ sơ" in page and "DD-01" in page and "KD-01" not in page
    assert re.search(r'name="token" value="[^"]{16,}"', page)
    number = _intake(client)
    assert number == f"{COMMUNE}-{dt.date.today().year}-000001"
    assert _intake(client) == number  # the browser retried the POST after a failover
    with psycopg.connect(pg.admin) as conn:
        assert conn.execute("SELECT count(*) FROM oss.dossier").fetchone() == (1,)
    assert number in client.get("/").get_data(as_text=True)
    detail = client.get(f"/ho-so/{number}").get_data(as_text=True)
    assert "Nguyễn Văn An" in detail and "Chuyển bước tiếp theo" in detail
    assert client.post(f"/ho-so/{number}/advance", data={"csrf": "csrf-1"}).status_code == 303
    assert client.post(f"/ho-so/{number}/transfer", data={"csrf": "csrf-1"}).status_code == 303
    # held by the district now: the commune sees it but its actions are refused
    r = client.post(f"/ho-so/{number}/reject", data={"csrf": "csrf-1"})
    assert r.status_code == 409 and "held by huyen-ke-sach" in r.get_data(as_text=True)
    assert client.post(f"/ho-so/{number}/advance", data={}).status_code == 400  # no CSRF token
    other = _app(pg).test_client()
    _login(other, OTHER)
    assert number not in other.get("/").get_data(as_text=True)
    assert other.get(f"/ho-so/{number}").status_code == 404
    assert other.post(f"/ho-so/{number}/advance", data={"csrf": "csrf-1"}).status_code == 404


def test_public_lookup_without_login_masks_the_name(client: FlaskClient, pg: Pg) -> None:
    number = dossiers.intake(pg.app_db(), COMMUNE, "canbo1", "DD-01", "Nguyễn Văn An", "0912345678", "k1")
    dossiers.act(pg.app_db(), COMMUNE, "canbo1", number, "advance")
    page = client.get(f"/tra-cuu?so={number}").get_data(as_text=True)
    assert "N***** V** A*" in page and "Nguyễn Văn An" not in page and "0912345678" not in page
    assert "Cấp giấy chứng nhận quyền sử dụng đất" in page and "UBND xã An Lạc Thôn" in page
    assert "canbo1" not in page
    r = client.get(f"/api/v1/public/dossiers/{number}")
    data = r.get_json()
    assert data is not None
    assert r.status_code == 200 and data["applicant"] == "N***** V** A*" and data["status"] == "in_progress"
    assert data["on_time"] is True and len(data["history"]) == 2
    assert "canbo1" not in r.get_data(as_text=True) and "official" not in data["history"][0]
    assert client.get("/api/v1/public/dossiers/nope-2026-000001").status_code == 404
    assert "Không tìm thấy" in client.get("/tra-cuu?so=nope").get_data(as_text=True)


def test_gateway_api_needs_the_header_from_a_trusted_proxy(client: FlaskClient, pg: Pg) -> None:
    number = dossiers.intake(pg.app_db(), COMMUNE, "canbo1", "DD-01", "Nguyễn Văn An", "0912345678", "k1")
    url = f"/api/v1/dossiers/{number}"
    assert client.get(url).status_code == 403  # no header
    assert client.get(url, headers={HEADER: ""}).status_code == 403  # empty header
    assert client.get(url, headers={HEADER: DN}, environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 403
    assert client.get(url, headers={HEADER: DN, "X-Forwarded-For": "127.0.0.1"},
                      environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 403
    r = client.get(url, headers={HEADER: DN})
    assert r.status_code == 200
    data = r.get_json()
    assert data is not None
    assert data["applicant"]["name"] == "Nguyễn Văn An" and data["history"][0]["official"] == "canbo1"
    assert client.get(url, headers={HEADER: DN}, environ_base={"REMOTE_ADDR": "10.9.0.3"}).status_code == 200
    assert client.get("/api/v1/dossiers/nope", headers={HEADER: DN}).status_code == 404
    # a unix-socket peer (no address): refused unless "unix" is a trusted proxy
    assert client.get(url, headers={HEADER: DN}, environ_base={"REMOTE_ADDR": ""}).status_code == 403
    on_socket = create_app(Config(dsn=pg.app, trusted_proxies=("unix",)), secret_key=b"k" * 32).test_client()
    assert on_socket.get(url, headers={HEADER: DN}, environ_base={"REMOTE_ADDR": ""}).status_code == 200
    assert on_socket.get(url, headers={HEADER: DN}, environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 403


def test_healthz(pg: Pg) -> None:
    r = _app(pg).test_client().get("/healthz")
    assert (r.status_code, r.get_data(as_text=True)) == (200, "ok\n")
    down = _app(pg, dsn="host=127.0.0.1 port=1 dbname=x user=x connect_timeout=1").test_client()
    assert down.get("/healthz").status_code == 503


@pytest.fixture()
def issuer() -> Iterator[FakeIssuer]:
    fake = FakeIssuer()
    yield fake
    fake.close()


def _sso_app(pg: Pg, issuer: FakeIssuer, tmp_path: Path) -> FlaskClient:
    secret = tmp_path / "secret"
    secret.write_text("s3cret")
    return _app(pg, OidcConfig(issuer=issuer.url, client_id="egov-oss", client_secret_file=str(secret),
                               redirect_uri="http://localhost/oidc/callback", timeout=3)).test_client()


def _start_login(client: FlaskClient) -> tuple[str, str]:
    r = client.get("/login?next=/ho-so/moi")
    assert r.status_code == 302
    q = parse_qs(urlparse(r.headers["Location"]).query)
    with client.session_transaction() as s:
        assert s["oidc"]["state"] == q["state"][0]
        return q["state"][0], s["oidc"]["nonce"]


def test_sso_login_flow(pg: Pg, issuer: FakeIssuer, tmp_path: Path) -> None:
    client = _sso_app(pg, issuer, tmp_path)
    state, nonce = _start_login(client)
    issuer.next_id_token = issuer.sign(nonce=nonce, egov_unit=DISTRICT, sub="canbo7")
    r = client.get(f"/oidc/callback?code=c1&state={state}")
    assert (r.status_code, r.headers["Location"].endswith("/ho-so/moi")) == (302, True)
    with client.session_transaction() as s:
        assert s["user"] == {"uid": "canbo7", "agency": DISTRICT} and "oidc" not in s
    assert "KD-01" in client.get("/ho-so/moi").get_data(as_text=True)


@pytest.mark.parametrize("case", ["unknown-agency", "wrong-state", "wrong-nonce", "replayed"])
def test_sso_login_refusals(pg: Pg, issuer: FakeIssuer, tmp_path: Path, case: str) -> None:
    client = _sso_app(pg, issuer, tmp_path)
    state, nonce = _start_login(client)
    issuer.next_id_token = issuer.sign(nonce="other" if case == "wrong-nonce" else nonce,
                                       egov_unit="so-khong-co" if case == "unknown-agency" else COMMUNE)
    if case == "replayed":
        assert client.get(f"/oidc/callback?code=c1&state={state}").status_code == 302
        client.post("/logout", data={"csrf": _login(client, COMMUNE)})
    r = client.get(f"/oidc/callback?code=c1&state={'x' if case == 'wrong-state' else state}")
    assert r.status_code == 403 and "Đăng nhập không thành công" in r.get_data(as_text=True)
    with client.session_transaction() as s:
        assert "user" not in s
