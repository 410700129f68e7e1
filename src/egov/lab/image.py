"""The shared Debian 12 base filesystem of every lab host: built once with debootstrap, cached."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from egov.lab.sh import run

logger = logging.getLogger(__name__)

PACKAGES = [
    "systemd", "systemd-sysv", "dbus", "openssh-server", "python3", "python3-apt", "iproute2", "procps",
    "sudo", "ca-certificates", "nftables", "iputils-ping", "netcat-openbsd", "less",
]
MASKED_UNITS = [
    "console-getty.service", "getty@tty1.service", "apt-daily.timer", "apt-daily-upgrade.timer",
    "e2scrub_all.timer", "e2scrub_reap.service", "systemd-networkd-wait-online.service",
    "fstrim.timer", "systemd-timesyncd.service",
]
RECIPE_VERSION = "3"
LAB_USER = "ansible"


def debian_mirror() -> str:
    """The Debian mirror this machine's apt uses (the lab's packages come from the same place)."""
    for path in [*sorted(Path("/etc/apt/sources.list.d").glob("*.sources")), Path("/etc/apt/sources.list")]:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        match = re.search(r"^URIs:\s*(\S+/debian)/?\s*$", text, re.M) or re.search(
            r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+/debian)/?\s+bookworm\b", text, re.M)
        if match:
            return match.group(1).rstrip("/")
    return "http://deb.debian.org/debian"


def recipe_digest(mirror: str) -> str:
    text = "|".join([RECIPE_VERSION, mirror, *PACKAGES, *MASKED_UNITS])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def base_is_current(base_dir: Path, mirror: str) -> bool:
    stamp = base_dir / "rootfs" / ".egov-lab-recipe"
    return stamp.exists() and stamp.read_text().strip() == recipe_digest(mirror)


def build_base(base_dir: Path, mirror: str | None = None, log: Callable[[str], None] = logger.info) -> Path:
    """Return the base rootfs, building it when missing or when the recipe changed."""
    mirror = mirror or debian_mirror()
    rootfs = base_dir / "rootfs"
    if base_is_current(base_dir, mirror):
        return rootfs
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap is not installed: run `make deps` (apt-get install debootstrap)")
    tmp = base_dir / "rootfs.building"
    if tmp.exists():
        shutil.rmtree(tmp)
    base_dir.mkdir(parents=True, exist_ok=True)
    log(f"building the Debian 12 base image with debootstrap from {mirror} (once, ~1 min)")
    run(["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", "bookworm", str(tmp), mirror],
        timeout=1800)
    _customise(tmp, mirror)
    (tmp / ".egov-lab-recipe").write_text(recipe_digest(mirror) + "\n")
    old = base_dir / "rootfs.old"
    if rootfs.exists():
        # hosts running on the old base keep it mounted; keep it aside until they are gone
        if old.exists():
            shutil.rmtree(old, ignore_errors=True)
        rootfs.rename(old)
    tmp.rename(rootfs)
    return rootfs


def _write(root: Path, rel: str, text: str, mode: int = 0o644) -> None:
    path = root / rel.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)


def _customise(root: Path, mirror: str) -> None:
    _write(root, "etc/apt/apt.conf.d/02gzip-indexes",
           'Acquire::GzipIndexes "true";\nAcquire::CompressionTypes::Order:: "gz";\n')
    _write(root, "etc/apt/apt.conf.d/03no-recommends", 'APT::Install-Recommends "false";\n')
    security = mirror.rsplit("/", 1)[0] + "/debian-security"
    _write(root, "etc/apt/sources.list",
           f"deb {mirror} bookworm main\ndeb {mirror} bookworm-updates main\ndeb {security} bookworm-security main\n")
    for unit in MASKED_UNITS:
        link = root / "etc/systemd/system" / unit
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.exists() or link.is_symlink():
            link.unlink()
        link.symlink_to("/dev/null")
    run(["chroot", str(root), "useradd", "--create-home", "--shell", "/bin/bash", "--comment", "lab automation",
         LAB_USER])
    _write(root, f"etc/sudoers.d/{LAB_USER}", f"{LAB_USER} ALL=(ALL) NOPASSWD: ALL\n", 0o440)
    _write(root, "etc/ssh/sshd_config.d/10-lab.conf", "PasswordAuthentication no\nUseDNS no\n")
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (root / "etc/machine-id").write_text("")
    run(["chroot", str(root), "apt-get", "clean"])
    for lists in (root / "var/lib/apt/lists").glob("*_Packages*"):
        lists.unlink()
    shutil.rmtree(root / "usr/share/doc", ignore_errors=True)
    shutil.rmtree(root / "usr/share/man", ignore_errors=True)
