"""Read Pulumi.yaml and Pulumi.<stack>.yaml into the flat config map the Pulumi runtime expects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from egov.cloud.paths import POLICY_DIR, STACKS_DIR
from egov.errors import EgovError

# Stand-ins for values CI sets with `pulumi config set` (never committed); a mocked run needs them.
MOCK_SSH_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockedKeyForPlansOnly egov-ops@mock"


class StackConfigError(EgovError, ValueError):
    """A Pulumi project or stack file is missing or malformed; the message names the file and key."""


@dataclass(frozen=True)
class StackConfig:
    project: str
    stack: str
    values: dict[str, Any]          # "project:key" / "openstack:key" -> value as written in YAML
    secure_keys: tuple[str, ...]    # keys given as `secure:` ciphertext

    def runtime_map(self) -> dict[str, str]:
        """Strings for pulumi.runtime.set_all_config: objects as JSON, scalars as text."""
        out = {}
        for key, value in self.values.items():
            out[key] = value if isinstance(value, str) else json.dumps(value)
        return out

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(f"{self.project}:{key}", default)


def project_name(stacks_dir: Path = STACKS_DIR) -> str:
    path = stacks_dir / "Pulumi.yaml"
    data = _read(path)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise StackConfigError(f"{path}: key 'name' is missing or not a string")
    return name


def read_stack_config(stack: str, stacks_dir: Path = STACKS_DIR, *, mocked: bool = True) -> StackConfig:
    """The stack's config; with ``mocked``, values CI would set are filled with stand-ins."""
    project = project_name(stacks_dir)
    path = stacks_dir / f"Pulumi.{stack}.yaml"
    data = _read(path)
    config = data.get("config") or {}
    if not isinstance(config, dict):
        raise StackConfigError(f"{path}: key 'config' must be a mapping")
    values: dict[str, Any] = {}
    secure: list[str] = []
    for key, value in config.items():
        full = key if ":" in key else f"{project}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            secure.append(full)
            value = "mock-secret"
        values[full] = value
    if mocked:
        values.setdefault(f"{project}:sshPublicKey", MOCK_SSH_PUBLIC_KEY)
    return StackConfig(project=project, stack=stack, values=values, secure_keys=tuple(secure))


def read_policy_config(stack: str, policy_dir: Path = POLICY_DIR) -> dict[str, dict[str, Any]]:
    """stacks/policy/config.<stack>.json: the --policy-pack-config file of that stack."""
    path = policy_dir / f"config.{stack}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StackConfigError(f"{path}: no policy config for stack {stack!r}") from exc
    except json.JSONDecodeError as exc:
        raise StackConfigError(f"{path}: not JSON: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise StackConfigError(f"{path}: must map policy names to objects")
    return data


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StackConfigError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise StackConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise StackConfigError(f"{path}: must be a mapping")
    return data
