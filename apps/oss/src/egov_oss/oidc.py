"""The SSO client: OpenID Connect authorization-code flow against LemonLDAP::NG.

The discovery document and the JWKS are fetched with ``requests`` (a timeout, ``verify=`` the province CA bundle),
and cached for ``cache_seconds``; an id_token whose ``kid`` is unknown refreshes the JWKS once (key rotation).
PyJWT's ``PyJWKClient`` is not used because in PyJWT 2.6 it fetches with urllib and cannot be given the CA bundle.
The id_token is verified with PyJWT: signature (RS/ES/PS algorithms only), ``iss``, ``aud`` = client id, ``exp``
(and ``iat``), and the ``nonce`` the login stored in the signed session. The official's uid is ``sub`` (else
``preferred_username``), the agency the ``egov_unit`` claim (configurable) that the SSO releases from the
directory's ``departmentNumber``. LemonLDAP::NG releases such extra claims at the userinfo endpoint, not in the
id_token: :meth:`OidcClient.login` then reads them there with the access token, and the userinfo's ``sub``
must be the id_token's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jwt
import requests

from .config import OidcConfig
from .errors import AuthError

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


@dataclass(frozen=True)
class Identity:
    """Who logged in: the official's uid and agency slug."""

    uid: str
    agency: str


class OidcClient:
    """A relying party for one issuer; see the module docstring."""

    def __init__(self, config: OidcConfig, *, cache_seconds: float = 300.0) -> None:
        self.config = config
        self.cache_seconds = cache_seconds
        self._discovery: tuple[float, dict[str, Any]] | None = None
        self._jwks: tuple[float, jwt.PyJWKSet] | None = None

    def _get(self, url: str) -> dict[str, Any]:
        try:
            r = requests.get(url, timeout=self.config.timeout, verify=self.config.ca_bundle or True)
            r.raise_for_status()
            data = r.json()
        except (requests.RequestException, ValueError) as e:
            raise AuthError(f"cannot fetch {url}: {e}") from e
        if not isinstance(data, dict):
            raise AuthError(f"{url} did not return a JSON object")
        return data

    def discovery(self) -> dict[str, Any]:
        """The issuer's ``/.well-known/openid-configuration`` (cached); its issuer must be ours."""
        now = time.monotonic()
        if self._discovery is None or now - self._discovery[0] > self.cache_seconds:
            doc = self._get(self.config.issuer.rstrip("/") + "/.well-known/openid-configuration")
            if doc.get("issuer") != self.config.issuer:
                raise AuthError(f"discovery issuer {doc.get('issuer')!r} is not {self.config.issuer!r}")
            self._discovery = (now, doc)
        return self._discovery[1]

    def _keys(self, refresh: bool = False) -> jwt.PyJWKSet:
        now = time.monotonic()
        if refresh or self._jwks is None or now - self._jwks[0] > self.cache_seconds:
            try:
                keys = jwt.PyJWKSet.from_dict(self._get(self.discovery()["jwks_uri"]))
            except (jwt.PyJWTError, KeyError) as e:
                raise AuthError(f"bad JWKS: {e}") from e
            self._jwks = (now, keys)
        return self._jwks[1]

    def authorization_url(self, state: str, nonce: str) -> str:
        """Where to send the browser to log in."""
        query = urlencode({"response_type": "code", "client_id": self.config.client_id,
                           "redirect_uri": self.config.redirect_uri, "scope": self.config.scope,
                           "state": state, "nonce": nonce})
        return f"{self.discovery()['authorization_endpoint']}?{query}"

    def _tokens(self, code: str) -> dict[str, Any]:
        url = self.discovery()["token_endpoint"]
        try:
            r = requests.post(url, data={"grant_type": "authorization_code", "code": code,
                                         "redirect_uri": self.config.redirect_uri},
                              auth=(self.config.client_id, self.config.client_secret()),
                              timeout=self.config.timeout, verify=self.config.ca_bundle or True)
            r.raise_for_status()
            tokens = r.json()
        except (requests.RequestException, ValueError) as e:
            raise AuthError(f"token request failed: {e}") from e
        if not isinstance(tokens, dict) or not isinstance(tokens.get("id_token"), str):
            raise AuthError("the token response has no id_token")
        return tokens

    def exchange_code(self, code: str) -> str:
        """Trade the authorization code for tokens at the token endpoint; return the id_token."""
        return str(self._tokens(code)["id_token"])

    def userinfo(self, access_token: str) -> dict[str, Any]:
        """The claims of the userinfo endpoint for an access token."""
        url = self.discovery().get("userinfo_endpoint")
        if not url:
            raise AuthError("the issuer has no userinfo endpoint")
        try:
            r = requests.get(url, headers={"Authorization": f"Bearer {access_token}"}, timeout=self.config.timeout,
                             verify=self.config.ca_bundle or True)
            r.raise_for_status()
            data = r.json()
        except (requests.RequestException, ValueError) as e:
            raise AuthError(f"userinfo request failed: {e}") from e
        if not isinstance(data, dict):
            raise AuthError("userinfo did not return a JSON object")
        return data

    def login(self, code: str, nonce: str) -> Identity:
        """The callback's work: exchange the code, verify the id_token, read the unit claim (userinfo if the
        id_token lacks it)."""
        tokens = self._tokens(code)
        access = tokens.get("access_token")
        fetch = (lambda: self.userinfo(access)) if isinstance(access, str) and access else None
        return self.verify(str(tokens["id_token"]), nonce, userinfo=fetch)

    def _key_for(self, token: str) -> Any:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as e:
            raise AuthError(f"malformed id_token: {e}") from e
        for refresh in (False, True):
            for key in self._keys(refresh).keys:
                if kid is None or key.key_id == kid:
                    return key.key
        raise AuthError(f"no key {kid!r} in the issuer's JWKS")

    def verify(self, token: str, nonce: str, userinfo: Callable[[], dict[str, Any]] | None = None) -> Identity:
        """Verify an id_token (signature, iss, aud, exp, nonce) and return who it names; ``userinfo`` (if
        given) supplies the unit claim when the id_token has none."""
        try:
            claims = jwt.decode(token, self._key_for(token), algorithms=ALGORITHMS, audience=self.config.client_id,
                                issuer=self.config.issuer, options={"require": ["exp", "iat", "iss", "aud"]},
                                leeway=30)
        except jwt.PyJWTError as e:
            raise AuthError(f"id_token rejected: {e}") from e
        if not nonce or claims.get("nonce") != nonce:
            raise AuthError("id_token rejected: nonce mismatch")
        uid = claims.get("sub") or claims.get("preferred_username")
        agency = claims.get(self.config.unit_claim)
        if not isinstance(uid, str) or not uid:
            raise AuthError("id_token names no user")
        if not agency and userinfo is not None:
            info = userinfo()
            if info.get("sub") != claims.get("sub"):
                raise AuthError("userinfo names another user than the id_token")
            agency = info.get(self.config.unit_claim)
        if not isinstance(agency, str) or not agency:
            raise AuthError(f"id_token has no {self.config.unit_claim!r} claim")
        return Identity(uid=uid, agency=agency)
