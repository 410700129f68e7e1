"""Cisco IOS-style switches: full intended config vs `show running-config`, pushed as a minimal change set."""

from __future__ import annotations

import re
from typing import Any

from egov.network import iosdiff
from egov.network.drivers.base import Change, Driver
from egov.network.errors import DeviceError, ErrorKind


class IosDriver(Driver):
    def prepare(self, conn: Any) -> None:
        if not conn.check_enable_mode():
            conn.enable()

    def running(self, conn: Any) -> str:
        return conn.send_command("show running-config")

    def differences(self, intended: str, running: str) -> list[str]:
        return iosdiff.differences(intended, running)

    def apply(self, conn: Any, intended: str, running: str) -> Change:
        commands = iosdiff.remediation(intended, running)
        if not commands:
            return Change(changed=False)
        pattern = "|".join(re.escape(p) for p in self.platform.error_patterns)
        # Netmiko turns command echo checking off for a whole batch holding a banner (and then reads
        # each command's output by timing, ~2 s each): send banners in a batch of their own.
        banners = [c for c in commands if c.startswith("banner ")]
        others = [c for c in commands if not c.startswith("banner ")]
        output = conn.send_config_set(others, error_pattern=pattern) if others else ""
        if banners:
            output += conn.send_config_set(banners, bypass_commands="", cmd_verify=False)
        if pattern and re.search(pattern, output):   # belt and braces: some errors come after the echo
            raise DeviceError(ErrorKind.REJECTED, _rejected_line(output, pattern))
        if any(c.startswith("hostname ") for c in commands):
            conn.set_base_prompt()
        conn.save_config()
        return Change(changed=True, commands=commands)


def _rejected_line(output: str, pattern: str) -> str:
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if re.search(pattern, line):
            before = lines[index - 1].strip() if index else ""
            return f"device rejected {before!r}: {line.strip()}"
    return "device rejected a command"
