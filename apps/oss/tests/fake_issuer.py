"""A tiny local OpenID Connect issuer for the tests: discovery, JWKS and token endpoints on 127.0.0.1.

Keys are generated in the test with ``cryptography``; ``next_id_token`` is what the token endpoint hands out.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


class FakeIssuer:
    """Serve an issuer on an ephemeral port; ``sign`` makes id_tokens with its key (or another one)."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "k1"
        self.next_id_token: str | None = None
        self.token_requests: list[dict[str, str]] = []
        # what /userinfo answers (LemonLDAP::NG releases the unit claim there, not in the id_token)
        self.userinfo: dict[str, Any] = {"sub": "canbo1", "egov_unit": "xa-an-lac-thon"}
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _json(self, body: Any, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    self._json({"issuer": issuer.url, "authorization_endpoint": issuer.url + "/authorize",
                                "token_endpoint": issuer.url + "/token", "jwks_uri": issuer.url + "/jwks",
                                "userinfo_endpoint": issuer.url + "/userinfo"})
                elif self.path == "/userinfo":
                    if self.headers.get("Authorization") != "Bearer at":
                        self._json({"error": "invalid_token"}, 401)
                    else:
                        self._json(issuer.userinfo)
                elif self.path == "/jwks":
                    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(issuer.key.public_key()))
                    self._json({"keys": [{**jwk, "kid": issuer.kid, "use": "sig", "alg": "RS256"}]})
                else:
                    self._json({"error": "not found"}, 404)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                issuer.token_requests.append({"body": body, "auth": self.headers.get("Authorization", "")})
                self._json({"id_token": issuer.next_id_token, "token_type": "Bearer", "access_token": "at"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def sign(self, *, key: rsa.RSAPrivateKey | None = None, **overrides: Any) -> str:
        """An id_token for ``canbo1`` of ``xa-an-lac-thon``, valid 5 minutes; ``overrides`` change claims."""
        now = int(time.time())
        claims: dict[str, Any] = {"iss": self.url, "aud": "egov-oss", "sub": "canbo1", "iat": now, "exp": now + 300,
                                  "nonce": "n-1", "egov_unit": "xa-an-lac-thon"}
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": self.kid})  # type: ignore[arg-type]

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
