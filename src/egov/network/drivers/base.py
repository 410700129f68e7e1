"""What every driver offers, and the mapping of Netmiko/paramiko failures to error kinds."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import paramiko
from netmiko import ConnectHandler
from netmiko.exceptions import (
    ConfigInvalidException,
    NetmikoAuthenticationException,
    NetmikoTimeoutException,
    ReadTimeout,
)

from egov.network.credentials import Login
from egov.network.errors import DeviceError, ErrorKind
from egov.network.inventory import Device
from egov.network.registry import Platform


@dataclass(frozen=True)
class Options:
    timeout: float = 10.0             # connect / per-command read timeout, seconds
    confirm_timeout: float = 20.0     # firewalls: revert unless confirmed within this time
    state_dir: str = "/var/lib/egov-network"


@dataclass
class Change:
    changed: bool
    commands: list[str] = field(default_factory=list)   # what was (or would be) sent / the diff


class Driver:
    def __init__(self, device: Device, platform: Platform, login: Login, options: Options) -> None:
        self.device = device
        self.platform = platform
        self.login = login
        self.options = options

    # --- to implement per platform ---------------------------------------------------------------
    def running(self, conn: Any) -> str:
        raise NotImplementedError

    def differences(self, intended: str, running: str) -> list[str]:
        raise NotImplementedError

    def apply(self, conn: Any, intended: str, running: str) -> Change:
        raise NotImplementedError

    # --- shared ----------------------------------------------------------------------------------
    def connect_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "device_type": self.platform.netmiko_device_type,
            "host": self.device.host,
            "port": self.device.port,
            "username": self.login.username,
            "conn_timeout": self.options.timeout,
            "auth_timeout": self.options.timeout,
            "banner_timeout": self.options.timeout,
            "read_timeout_override": self.options.timeout,
            "fast_cli": True,
        }
        if self.login.password:
            params["password"] = self.login.password
        if self.login.enable:
            params["secret"] = self.login.enable
        if self.login.key_file:
            params.update(use_keys=True, key_file=self.login.key_file)
        if self.login.known_hosts:
            params.update(ssh_strict=True, system_host_keys=False, alt_host_keys=True,
                          alt_key_file=self.login.known_hosts)
        return params

    @contextmanager
    def session(self) -> Iterator[Any]:
        with translate_errors(self.device):
            conn = ConnectHandler(**self.connect_params())
            try:
                self.prepare(conn)
                yield conn
            finally:
                with suppress(Exception):   # closing a dead session must not hide the real error
                    conn.disconnect()

    def prepare(self, conn: Any) -> None:
        """Called once per session (e.g. enter enable mode)."""


@contextmanager
def translate_errors(device: Device) -> Iterator[None]:
    where = f"{device.host}:{device.port}"
    try:
        yield
    except DeviceError:
        raise
    except NetmikoAuthenticationException as exc:
        raise DeviceError(ErrorKind.AUTH, f"authentication to {where} refused: {_first_line(exc)}") from exc
    except ConfigInvalidException as exc:
        raise DeviceError(ErrorKind.REJECTED, f"device rejected a command: {_first_line(exc)}") from exc
    except ReadTimeout as exc:
        raise DeviceError(ErrorKind.TIMEOUT, f"{where} did not answer in time: {_first_line(exc)}") from exc
    except NetmikoTimeoutException as exc:
        raise DeviceError(ErrorKind.UNREACHABLE, f"cannot connect to {where}: {_first_line(exc)}") from exc
    except (TimeoutError, ConnectionError, socket.gaierror, OSError, EOFError) as exc:
        raise DeviceError(ErrorKind.UNREACHABLE, f"cannot connect to {where}: {exc}") from exc
    except paramiko.SSHException as exc:
        raise DeviceError(ErrorKind.UNREACHABLE, f"SSH failure with {where}: {exc}") from exc
    except ValueError as exc:     # netmiko raises ValueError e.g. when enable fails
        raise DeviceError(ErrorKind.AUTH if "enable" in str(exc).lower() else ErrorKind.INTERNAL,
                          f"{where}: {exc}") from exc


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines[:2])[:300] if lines else exc.__class__.__name__
