"""Device credentials: from an ansible-vault file, or generated at run time. Never plain text in git.

File layout (YAML, vault-encrypted):

    switch:   {username: netops, password: ..., enable: ...}
    firewall: {username: ansible, key_file: /path/id_ed25519, known_hosts: /path/known_hosts}
    snmp:     {user: egov-mon, auth: ..., priv: ...}
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import subprocess
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from egov import settings
from egov.errors import EgovError
from egov.network.paths import REPO_ROOT

LAB_KEY = settings.lab_ssh_key()
LAB_KNOWN_HOSTS = settings.lab_known_hosts()
_CISCO_B64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_STD_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@dataclass(frozen=True)
class Login:
    username: str
    password: str | None = None
    enable: str | None = None
    key_file: str | None = None
    known_hosts: str | None = None


@dataclass(frozen=True)
class Credentials:
    switch: Login
    firewall: Login
    snmp: dict[str, str] = field(default_factory=dict)
    source: str = "generated"

    def login_for(self, kind: str) -> Login:
        return self.switch if kind == "switch" else self.firewall


class CredentialsError(EgovError):
    pass


def generate(firewall_user: str = "ansible", key_file: Path = LAB_KEY, known_hosts: Path | None = LAB_KNOWN_HOSTS
             ) -> Credentials:
    """Fresh random secrets for a lab run (held in memory only)."""
    return Credentials(
        switch=Login(username="netops", password=secrets.token_urlsafe(18), enable=secrets.token_urlsafe(18)),
        firewall=Login(username=firewall_user, key_file=str(key_file),
                       known_hosts=str(known_hosts) if known_hosts and known_hosts.exists() else None),
        snmp={"user": "egov-mon", "auth": secrets.token_urlsafe(18), "priv": secrets.token_urlsafe(18)},
        source="generated",
    )


def from_mapping(data: dict[str, Any], source: str) -> Credentials:
    try:
        switch = Login(**data["switch"])
        firewall = Login(**data["firewall"])
    except (KeyError, TypeError) as exc:
        raise CredentialsError(f"{source}: needs switch.{{username,password,enable}} and firewall.{{username,...}}: "
                               f"{exc}") from exc
    snmp = {k: str(v) for k, v in (data.get("snmp") or {}).items()}
    return Credentials(switch=switch, firewall=firewall, snmp=snmp, source=source)


def load_vault(path: Path, vault_password_file: Path | None = None) -> Credentials:
    """Decrypt an ansible-vault file with `ansible-vault view` (vault password file from the
    argument or ANSIBLE_VAULT_PASSWORD_FILE)."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith("$ANSIBLE_VAULT;"):
        if _inside_repo(path):
            raise CredentialsError(f"{path} is not vault-encrypted and lies inside the repository: refusing "
                                   "plain-text credentials (encrypt it with ansible-vault)")
        return from_mapping(yaml.safe_load(text) or {}, str(path))
    cmd = ["ansible-vault", "view", str(path)]
    pw_file = vault_password_file or os.environ.get("ANSIBLE_VAULT_PASSWORD_FILE")
    if pw_file:
        cmd += ["--vault-password-file", str(pw_file)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, check=False)
    if done.returncode != 0:
        raise CredentialsError(f"cannot decrypt {path}: {done.stderr.strip()}")
    return from_mapping(yaml.safe_load(done.stdout) or {}, f"vault:{path}")


def _inside_repo(path: Path) -> bool:
    try:
        path.resolve().relative_to(REPO_ROOT)
    except ValueError:
        return False
    return True


@cache
def cisco_type9(password: str, salt_seed: str) -> str:
    """IOS `secret 9` (scrypt N=16384 r=1 p=1) with a salt derived from salt_seed, so renders are stable."""
    digest = hmac.new(password.encode(), salt_seed.encode(), hashlib.sha256).digest()
    salt = "".join(_CISCO_B64[b % 64] for b in digest[:14])
    key = hashlib.scrypt(password.encode(), salt=salt.encode(), n=16384, r=1, p=1, dklen=32)
    encoded = base64.b64encode(key).decode().rstrip("=").translate(str.maketrans(_STD_B64, _CISCO_B64))
    return f"$9${salt}${encoded}"


def ascii_fold(text: str) -> str:
    """Vietnamese to ASCII for devices that only take ASCII (IOS banners, SNMP location)."""
    text = text.replace("Đ", "D").replace("đ", "d")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
