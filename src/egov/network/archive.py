"""Backups of running configurations: one file per device in a git repository, one commit and
one timestamped tag per backup run. Rollback reads a device's file at a chosen tag or commit."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import threading
from pathlib import Path

from egov.network.errors import DeviceError, ErrorKind

DEFAULT_ARCHIVE = Path("/var/lib/egov-network/backups")
_SECRET_LINE = re.compile(r"^(\s*snmp-server user \S+ \S+ v3).*$", re.MULTILINE)


def redact(text: str) -> str:
    """Never archive cleartext secrets (IOS hides SNMPv3 users; this covers devices that do not)."""
    return _SECRET_LINE.sub(r"\1 <redacted>", text)


class Archive:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def git(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(["git", "-C", str(self.path), *args], capture_output=True, text=True, check=False)
        if check and done.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def ensure(self) -> None:
        with self._lock:
            if (self.path / ".git").exists():
                return
            self.path.mkdir(parents=True, exist_ok=True)
            self.git("init", "-q", "-b", "main")
            self.git("config", "user.name", "egov network backup")
            self.git("config", "user.email", "network-backup@localhost")
            (self.path / "README").write_text("Running configurations of the province's network devices, one file "
                                              "per device, one commit and tag per backup run (egov network backup).\n")
            self.git("add", "README")
            self.git("commit", "-q", "-m", "archive created")

    def file_for(self, device: str) -> Path:
        return self.path / "devices" / f"{device}.cfg"

    def write(self, device: str, text: str) -> None:
        target = self.file_for(device)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(redact(text), encoding="utf-8")

    def commit(self, devices: list[str], message: str) -> str:
        """Commit the written files; returns the tag (backup-YYYYmmddTHHMMSSffffffZ)."""
        now = dt.datetime.now(dt.UTC)
        tag = "backup-" + now.strftime("%Y%m%dT%H%M%S%fZ")
        with self._lock:
            paths = [str(self.file_for(d).relative_to(self.path)) for d in devices if self.file_for(d).exists()]
            if paths:
                self.git("add", "--", *paths)
            self.git("commit", "-q", "--allow-empty", "-m", f"{message} at {now.isoformat()}")
            self.git("tag", tag)
        return tag

    def read(self, ref: str, device: str) -> str:
        rel = self.file_for(device).relative_to(self.path)
        done = subprocess.run(["git", "-C", str(self.path), "show", f"{ref}:{rel}"], capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            raise DeviceError(ErrorKind.BACKUP_MISSING, f"no backup of {device} at {ref!r} in {self.path}")
        return done.stdout

    def tags(self) -> list[str]:
        return [t for t in self.git("tag", "--list", "backup-*", "--sort=creatordate").split() if t]
