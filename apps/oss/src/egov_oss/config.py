"""The one config file (JSON; ``/etc/egov-oss/config.json`` or ``$EGOV_OSS_CONFIG``), read once at start.

Keys (only ``dsn`` is required)::

    dsn                   libpq conninfo of the app role, may list several hosts:
                          "host=db1,db2 dbname=oss user=egov_oss_app target_session_attrs=read-write connect_timeout=3"
    admin_dsn             conninfo for migrate / load-catalogue / seed (a role that may SET ROLE egov_oss_owner;
                          default: dsn)
    catalogue             path of the catalogue JSON rendered by Ansible
    secret_key_file       file holding the Flask session key (signed session: OIDC state/nonce, login)
    statement_timeout_ms  per-connection statement_timeout (default 5000)
    pool_size             connections kept per worker process (default 4; 0 = connect per request)
    trusted_proxies       addresses/networks of the front nginx (default ["127.0.0.1"]); "unix": a peer on the
                          server's unix socket (gunicorn bound to a socket only the front proxy's group reaches)
    client_dn_header      header in which nginx passes the verified mTLS client DN (default "X-Egov-Client-DN")
    oidc                  {issuer, client_id, client_secret_file, redirect_uri, ca_bundle, unit_claim, timeout}
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

DEFAULT_PATH = Path("/etc/egov-oss/config.json")


@dataclass(frozen=True)
class OidcConfig:
    """The SSO (LemonLDAP::NG) relying-party settings."""

    issuer: str
    client_id: str
    client_secret_file: str
    redirect_uri: str
    ca_bundle: str | None = None
    unit_claim: str = "egov_unit"
    timeout: float = 5.0
    scope: str = "openid profile"

    def client_secret(self) -> str:
        """The client secret, read from its file (kept out of the config itself)."""
        return _read_secret(self.client_secret_file)


@dataclass(frozen=True)
class Config:
    """The application's settings; see the module docstring for the keys."""

    dsn: str
    admin_dsn: str = ""
    catalogue: str | None = None
    secret_key_file: str | None = None
    statement_timeout_ms: int = 5000
    pool_size: int = 4
    trusted_proxies: tuple[str, ...] = ("127.0.0.1",)
    client_dn_header: str = "X-Egov-Client-DN"
    oidc: OidcConfig | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def migration_dsn(self) -> str:
        """The conninfo the admin commands use."""
        return self.admin_dsn or self.dsn

    def proxy_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """The trusted proxy list as networks (a bare address is a /32 or /128)."""
        try:
            return [ipaddress.ip_network(p, strict=False) for p in self.trusted_proxies if p != "unix"]
        except ValueError as e:
            raise ConfigError(f"trusted_proxies: {e}") from e

    def secret_key(self) -> bytes:
        """The Flask session key, read from ``secret_key_file``."""
        if not self.secret_key_file:
            raise ConfigError("secret_key_file is not set")
        return _read_secret(self.secret_key_file).encode()


def _read_secret(path: str) -> str:
    try:
        value = Path(path).read_text(encoding="utf-8").strip()
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}") from e
    if not value:
        raise ConfigError(f"{path} is empty")
    return value


def from_dict(data: dict[str, Any]) -> Config:
    """Build a :class:`Config` from the parsed JSON, with clear messages for bad keys."""
    if not isinstance(data.get("dsn"), str) or not data["dsn"]:
        raise ConfigError("config: 'dsn' (a libpq conninfo string) is required")
    known = {f for f in Config.__dataclass_fields__ if f not in ("oidc", "extra")}
    kwargs: dict[str, Any] = {k: v for k, v in data.items() if k in known}
    if "trusted_proxies" in kwargs:
        kwargs["trusted_proxies"] = tuple(kwargs["trusted_proxies"])
    oidc = data.get("oidc")
    if oidc is not None:
        try:
            kwargs["oidc"] = OidcConfig(**oidc)
        except TypeError as e:
            raise ConfigError(f"config: oidc: {e}") from e
    extra = {k: v for k, v in data.items() if k not in known and k != "oidc"}
    try:
        return Config(**kwargs, extra=extra)
    except TypeError as e:
        raise ConfigError(f"config: {e}") from e


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Read the config file: ``path``, else ``$EGOV_OSS_CONFIG``, else ``/etc/egov-oss/config.json``."""
    p = Path(path or os.environ.get("EGOV_OSS_CONFIG") or DEFAULT_PATH)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"cannot read config {p}: {e.strerror}") from e
    except json.JSONDecodeError as e:
        raise ConfigError(f"config {p} is not valid JSON: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"config {p} must be a JSON object")
    return from_dict(data)
