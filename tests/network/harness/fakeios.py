"""Test-harness adaptation of fake-switches' Cisco model (NOT production code).

fake-switches 1.5.0 only models VLANs and interfaces. The province's intended switch
configuration also carries global lines (hostname, AAA, users, NTP, syslog, SNMPv3, banner,
vty lines, a management ACL), and Netmiko leaves configuration mode with `end`, which no
fake-switches model implements. This module adds, in the emulator only:

- `end` in every configuration mode (Netmiko's production behaviour is unchanged), and
  leaving a sub-mode when a parent-mode command is entered (the emulator showed no prompt);
- `hostname` (changes the prompt, as on IOS);
- a store of global configuration lines and of two kinds of sub-blocks (`line vty`,
  `ip access-list standard`), shown back by `show running-config`; `snmp-server user` is
  accepted but never shown, as on IOS;
- anything else is still answered "No such command", which is how the tests provoke a device
  rejecting a command.
"""

from __future__ import annotations

from typing import Any

from fake_switches.cisco.cisco_core import Cisco2960_24TT_L_SwitchCore
from fake_switches.cisco.command_processor.config import ConfigCommandProcessor
from fake_switches.cisco.command_processor.config_interface import ConfigInterfaceCommandProcessor
from fake_switches.cisco.command_processor.config_vlan import ConfigVlanCommandProcessor
from fake_switches.cisco.command_processor.config_vrf import ConfigVRFCommandProcessor
from fake_switches.cisco.command_processor.enabled import EnabledCommandProcessor
from fake_switches.command_processing.base_command_processor import BaseCommandProcessor

SINGLE = ("hostname ", "ip default-gateway ", "ip domain-name ", "banner motd ", "logging trap ", "enable secret ",
          "ip ssh time-out ", "ip ssh authentication-retries ", "ip ssh version ", "snmp-server location ",
          "aaa authentication login default ", "aaa authorization exec default ")
HIDDEN = ("snmp-server user ",)


def _store(conf: Any) -> dict[str, list[Any]]:
    if not hasattr(conf, "harness_lines"):
        conf.harness_lines = {}
    return conf.harness_lines


def _key(line: str) -> str:
    return next((p for p in SINGLE if line.startswith(p)), line)


class BlockProcessor(BaseCommandProcessor):
    """A sub-mode that stores its child lines (`line vty`, `ip access-list standard`)."""

    def __init__(self, mode: str, children: tuple[str, ...]) -> None:
        super().__init__()
        self.mode = mode
        self.accepted = children

    def init(self, switch_configuration: Any, terminal_controller: Any, logger: Any, piping_processor: Any,
             *args: Any) -> None:
        super().init(switch_configuration, terminal_controller, logger, piping_processor)
        self.block: list[str] = args[0]

    def get_prompt(self) -> str:
        return f"{self.switch_configuration.name}(config-{self.mode})#"

    def parse_and_execute_command(self, line: str) -> bool:
        text = line.strip()
        if not text:
            return True
        if text == "exit":
            self.is_done = True
            return True
        negated = text.startswith("no ")
        body = text[3:] if negated else text
        if not body.startswith(self.accepted):
            return False          # falls back to the parent mode, as IOS does
        key = body.split()[0] if not body.startswith(("permit", "deny")) else body
        self.block[:] = [c for c in self.block if (c.split()[0] if not c.startswith(("permit", "deny")) else c) != key]
        if not negated:
            self.block.append(body)
        return True


class HarnessConfigProcessor(ConfigCommandProcessor):
    def _set(self, line: str) -> None:
        store = _store(self.switch_configuration)
        store[_key(line)] = [line, []]

    def _unset(self, line: str) -> None:
        store = _store(self.switch_configuration)
        for key in [k for k, v in store.items() if v[0] == line or k == line or v[0].startswith(line + " ")]:
            del store[key]

    def _line(self, *words: str) -> str:
        return " ".join(words)

    def delegate_to_sub_processor(self, line: str) -> bool:
        # The emulator keeps a sub-mode active when its parent handles a command, and then shows
        # no prompt (Netmiko waits in vain). On IOS a parent-mode command leaves the sub-mode.
        processed = super().delegate_to_sub_processor(line)
        if not processed:
            self.sub_processor = None
        return processed

    def do_end(self, *_: str) -> None:
        # Missing in every fake-switches model; `end` from a sub-mode falls back to here.
        self.sub_processor = None
        self.is_done = True

    def do_hostname(self, name: str, *_: str) -> None:
        self.switch_configuration.name = name

    def do_service(self, *args: str) -> None:
        self._set(self._line("service", *args))

    def do_aaa(self, *args: str) -> None:
        self._set(self._line("aaa", *args))

    def do_username(self, *args: str) -> None:
        self._unset(f"username {args[0]}")
        self._set(self._line("username", *args))

    def do_no_username(self, name: str, *_: str) -> None:
        self._unset(f"username {name}")

    def do_enable(self, *args: str) -> None:
        self._set(self._line("enable", *args))

    def do_ntp(self, *args: str) -> None:
        self._set(self._line("ntp", *args))

    def do_no_ntp(self, *args: str) -> None:
        self._unset(self._line("ntp", *args))

    def do_logging(self, *args: str) -> None:
        self._set(self._line("logging", *args))

    def do_no_logging(self, *args: str) -> None:
        self._unset(self._line("logging", *args))

    def do_snmp_server(self, *args: str) -> None:
        line = self._line("snmp-server", *args)
        if line.startswith("snmp-server user "):
            self._unset(" ".join(line.split()[:3]))
        self._set(line)

    def do_no_snmp_server(self, *args: str) -> None:
        self._unset(self._line("snmp-server", *args))

    def do_banner(self, *args: str) -> None:
        self._set(self._line("banner", *args))

    def do_no_banner(self, *args: str) -> None:
        self._unset(self._line("banner", *args))

    def do_line(self, *args: str) -> None:
        line = self._line("line", *args)
        store = _store(self.switch_configuration)
        store.setdefault(line, [line, []])
        self.move_to(BlockProcessor("line", ("access-class", "transport", "login", "exec-timeout")), store[line][1])

    def do_ip(self, cmd: str, *args: str) -> None:
        if cmd in ("ssh", "domain-name", "default-gateway"):
            self._set(self._line("ip", cmd, *args))
        elif cmd == "access-list":
            line = self._line("ip", cmd, *args)
            store = _store(self.switch_configuration)
            store.setdefault(line, [line, []])
            self.move_to(BlockProcessor("std-nacl", ("permit", "deny")), store[line][1])
        else:
            super().do_ip(cmd, *args)

    def do_no_ip(self, cmd: str, *args: str) -> None:
        if cmd == "http":
            self._set(self._line("no ip http", *args))
        elif cmd in ("ssh", "domain-name", "default-gateway", "access-list"):
            self._unset(self._line("ip", cmd, *args))
        else:
            super().do_no_ip(cmd, *args)


class HarnessEnabledProcessor(EnabledCommandProcessor):
    def show_run(self) -> None:
        # Capture the emulator's own listing, then insert the harness-stored global lines.
        captured: list[str] = []
        original = self.write_line
        self.write_line = captured.append  # type: ignore[method-assign]
        try:
            super().show_run()
        finally:
            self.write_line = original  # type: ignore[method-assign]
        extra: list[str] = []
        for line, children in _store(self.switch_configuration).values():
            if line.startswith(HIDDEN):
                continue
            extra += [line, *(f" {c}" for c in children), "!"]
        for out_line in captured:
            if out_line.startswith("hostname "):
                original(out_line)
                original("!")
                for e in extra:
                    original(e)
                continue
            original(out_line)


class HarnessSwitchCore(Cisco2960_24TT_L_SwitchCore):
    """A 24+2 port IOS switch with the harness adaptations above."""

    def new_command_processor(self) -> EnabledCommandProcessor:
        return HarnessEnabledProcessor(
            config=HarnessConfigProcessor(
                config_vlan=ConfigVlanCommandProcessor(),
                config_vrf=ConfigVRFCommandProcessor(),
                config_interface=ConfigInterfaceCommandProcessor(),
            )
        )
