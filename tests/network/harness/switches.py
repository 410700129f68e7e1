"""Start a farm of emulated IOS switches (fake-switches + fakeios adaptations) in a subprocess."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FARM = Path(__file__).with_name("switchfarm.py")


@dataclass
class SwitchFarm:
    process: subprocess.Popen[bytes]
    entries: list[dict[str, Any]]
    hosts_file: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def free_port_base(count: int) -> int:
    import socket
    while True:
        base = 20000 + secrets.randbelow(30000)
        try:
            for offset in (0, count - 1):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue


def start(names: list[str], workdir: Path, username: str = "netops", password: str | None = None,
          enable: str | None = None, hostname_of: dict[str, str] | None = None) -> SwitchFarm:
    """One process serving every named switch on 127.0.0.1, consecutive ports."""
    password = password or secrets.token_urlsafe(12)
    enable = enable or secrets.token_urlsafe(12)
    base = free_port_base(len(names))
    entries = [{"name": n, "hostname": (hostname_of or {}).get(n, n), "ip": "127.0.0.1", "port": base + i,
                "username": username, "password": password, "enable": enable} for i, n in enumerate(names)]
    spec = workdir / "farm.yml"
    ready = workdir / "farm.ready"
    spec.write_text(yaml.safe_dump({"switches": entries}))
    log = (workdir / "farm.log").open("wb")
    proc = subprocess.Popen([sys.executable, str(FARM), str(spec), str(ready)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"switch farm did not start: {(workdir / 'farm.log').read_text()[-2000:]}")
        time.sleep(0.05)
    hosts = workdir / "switch-hosts.yml"
    hosts.write_text(yaml.safe_dump({"devices": {e["name"]: {"host": e["ip"], "port": e["port"],
                                                              "username": username, "password": password,
                                                              "enable": enable} for e in entries}}))
    return SwitchFarm(process=proc, entries=entries, hosts_file=hosts)
