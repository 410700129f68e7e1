"""The lab gateway's apt proxy (apt-cacher-ng): hosts install packages as from the province mirror."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from pathlib import Path

from egov.lab.sh import run

PORT = 3142


def _conf(state: Path, bind: str, mirror: str) -> Path:
    conf = state / "apt-proxy" / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    (state / "apt-proxy" / "log").mkdir(parents=True, exist_ok=True)
    (state / "apt-cache").mkdir(parents=True, exist_ok=True)
    (conf / "backends_debian").write_text(mirror.rstrip("/") + "/\n")
    (conf / "acng.conf").write_text(
        f"CacheDir: {state / 'apt-cache'}\n"
        f"LogDir: {state / 'apt-proxy' / 'log'}\n"
        "SupportDir: /usr/lib/apt-cacher-ng\n"
        f"Port: {PORT}\n"
        f"BindAddress: {bind}\n"
        f"PidFile: {state / 'apt-proxy' / 'pid'}\n"
        "Remap-debrep: file:deb_mirror*.gz /debian ; file:backends_debian\n"
        "Remap-secdeb: security.debian.org security.debian.org/debian-security deb.debian.org/debian-security "
        "/debian-security ; deb.debian.org/debian-security\n"
        "ExThreshold: 4\n"
        # an upstream that stops sending is dropped (and retried) after 20 s instead of holding clients
        "NetworkTimeout: 20\n"
        "DlMaxRetries: 3\n"
        "ForeGround: 0\n"
    )
    return conf


def proxy_pid(state: Path) -> int | None:
    try:
        pid = int((state / "apt-proxy" / "pid").read_text().strip())
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"apt-cacher-ng" in cmd and str(state).encode() in cmd else None


def listening(address: str, port: int = PORT, timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((address, port), timeout=timeout):
        return True
    return False


def start_proxy(state: Path, bind: str, mirror: str) -> None:
    if proxy_pid(state) and listening(bind):
        return
    stop_proxy(state)
    conf = _conf(state, bind, mirror)
    run(["apt-cacher-ng", "-c", str(conf), f"pidfile={state / 'apt-proxy' / 'pid'}"])
    for _ in range(50):
        if listening(bind):
            return
        time.sleep(0.1)
    raise RuntimeError(f"apt-cacher-ng did not start on {bind}:{PORT}; see {state / 'apt-proxy' / 'log'}")


def stop_proxy(state: Path) -> None:
    pid = proxy_pid(state)
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        for _ in range(30):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.1)
