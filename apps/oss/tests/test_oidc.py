"""The OIDC client against a local fake issuer: a good token, and each way a token must be refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from egov_oss.config import OidcConfig
from egov_oss.errors import AuthError
from egov_oss.oidc import Identity, OidcClient
from fake_issuer import FakeIssuer


@pytest.fixture()
def issuer() -> Iterator[FakeIssuer]:
    fake = FakeIssuer()
    yield fake
    fake.close()


@pytest.fixture()
def client(issuer: FakeIssuer, tmp_path: Path) -> OidcClient:
    secret = tmp_path / "client-secret"
    secret.write_text("s3cret\n")
    return OidcClient(OidcConfig(issuer=issuer.url, client_id="egov-oss", client_secret_file=str(secret),
                                 redirect_uri="https://mc.soctrang.gov.vn/oidc/callback", timeout=3))


def test_good_token(issuer: FakeIssuer, client: OidcClient) -> None:
    assert client.verify(issuer.sign(), "n-1") == Identity(uid="canbo1", agency="xa-an-lac-thon")
    assert client.verify(issuer.sign(sub=None, preferred_username="canbo9"), "n-1").uid == "canbo9"


def test_authorization_url_and_code_exchange(issuer: FakeIssuer, client: OidcClient) -> None:
    url = urlparse(client.authorization_url("st", "no"))
    q = parse_qs(url.query)
    assert url.path == "/authorize" and q["state"] == ["st"] and q["nonce"] == ["no"]
    assert q["client_id"] == ["egov-oss"] and q["response_type"] == ["code"]
    issuer.next_id_token = "tok"
    assert client.exchange_code("abc") == "tok"
    assert "code=abc" in issuer.token_requests[0]["body"]
    assert issuer.token_requests[0]["auth"].startswith("Basic ")


@pytest.mark.parametrize(("overrides", "nonce", "message"), [
    ({"key": rsa.generate_private_key(public_exponent=65537, key_size=2048)}, "n-1", "Signature verification"),
    ({"aud": "another-client"}, "n-1", "audience"),
    ({}, "n-2", "nonce"),
    ({"nonce": None}, "n-1", "nonce"),
    ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "n-1", "expired"),
    ({"iss": "https://evil.example"}, "n-1", "issuer"),
    ({"egov_unit": None}, "n-1", "egov_unit"),
], ids=["bad-signature", "wrong-audience", "wrong-nonce", "no-nonce", "expired", "wrong-issuer", "no-unit"])
def test_refused_tokens(issuer: FakeIssuer, client: OidcClient, overrides: dict[str, object], nonce: str,
                        message: str) -> None:
    with pytest.raises(AuthError, match=message):
        client.verify(issuer.sign(**overrides), nonce)


def test_unsigned_and_garbage_tokens(issuer: FakeIssuer, client: OidcClient) -> None:
    import jwt
    unsigned = jwt.encode({"iss": issuer.url, "aud": "egov-oss", "sub": "x", "nonce": "n-1"}, "", algorithm="none")
    with pytest.raises(AuthError):
        client.verify(unsigned, "n-1")
    with pytest.raises(AuthError, match="malformed"):
        client.verify("not-a-jwt", "n-1")


def test_unreachable_issuer(tmp_path: Path) -> None:
    c = OidcClient(OidcConfig(issuer="http://127.0.0.1:1", client_id="x", client_secret_file=str(tmp_path / "s"),
                              redirect_uri="https://x/cb", timeout=1))
    with pytest.raises(AuthError, match="cannot fetch"):
        c.discovery()


def test_the_unit_claim_from_userinfo_when_the_id_token_has_none(issuer: FakeIssuer, client: OidcClient) -> None:
    """LemonLDAP::NG's way: the id_token names the user, userinfo (bearer access token) carries egov_unit."""
    issuer.next_id_token = issuer.sign(egov_unit=None)
    assert client.login("abc", "n-1") == Identity(uid="canbo1", agency="xa-an-lac-thon")


def test_userinfo_of_another_user_is_refused(issuer: FakeIssuer, client: OidcClient) -> None:
    issuer.next_id_token = issuer.sign(egov_unit=None)
    issuer.userinfo = {"sub": "someone-else", "egov_unit": "xa-an-lac-thon"}
    with pytest.raises(AuthError, match="another user"):
        client.login("abc", "n-1")


def test_no_unit_anywhere_is_refused(issuer: FakeIssuer, client: OidcClient) -> None:
    issuer.next_id_token = issuer.sign(egov_unit=None)
    issuer.userinfo = {"sub": "canbo1"}
    with pytest.raises(AuthError, match="egov_unit"):
        client.login("abc", "n-1")
