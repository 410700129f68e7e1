"""Real Linux firewalls for tests: sshd + nftables in network namespaces (prefix egnt-, 10.250.0.0/16).

Topology of one site (addresses from the test province, see testmodel.py):

    root netns (controller 10.250.0.254) --mgmt--> egnt-fw (site firewall, sshd)
    egnt-pc (client: office .10 and video-conference .10 on VLAN subinterfaces) --lan0.<vid>--> egnt-fw
    egnt-fw --wan0--> egnt-dc (every DC host address, responders on their ports)

Nothing here routes outside the namespaces it creates.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "egnt-"


def sh(*args: str, check: bool = True, ns: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = ["ip", "netns", "exec", ns, *args] if ns else list(args)
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


def available() -> str | None:
    """None when the harness can run here, else the reason it cannot."""
    import os
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    for tool in ("ip", "nft", "ssh-keygen"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if not Path("/usr/sbin/sshd").exists():
        return "openssh-server (/usr/sbin/sshd) is not installed"
    return None


@dataclass
class Firewall:
    name: str
    netns: str
    address: str          # where the controller reaches sshd
    sshd: subprocess.Popen[bytes] | None = None


@dataclass
class Lab:
    workdir: Path
    key: Path
    namespaces: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    firewalls: list[Firewall] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def add_ns(self, name: str) -> str:
        assert name.startswith(PREFIX)
        sh("ip", "netns", "del", name, check=False)
        sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        sh("ip", "link", "set", "lo", "up", ns=name)
        sh("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=name)
        return name

    def veth(self, a: str, a_ns: str | None, b: str, b_ns: str | None) -> None:
        sh("ip", "link", "del", a, check=False)
        sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        if a_ns is None:
            self.links.append(a)
        for dev, ns in ((a, a_ns), (b, b_ns)):
            if ns:
                sh("ip", "link", "set", dev, "netns", ns)
            sh("ip", "link", "set", dev, "up", ns=ns)

    def start_sshd(self, fw: Firewall) -> None:
        conf = self.workdir / f"sshd-{fw.netns}.conf"
        host_key = self.workdir / f"hostkey-{fw.netns}"
        if not host_key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host_key)], check=True)
        conf.write_text(f"ListenAddress {fw.address}\nPort 22\nHostKey {host_key}\n"
                        f"PidFile {self.workdir}/sshd-{fw.netns}.pid\nAuthorizedKeysFile {self.key}.pub\n"
                        "PermitRootLogin prohibit-password\nPasswordAuthentication no\nUsePAM no\n"
                        "StrictModes no\nLogLevel ERROR\n")
        pub = Path(f"{host_key}.pub").read_text().split()
        with (self.workdir / "known_hosts").open("a") as known:
            known.write(f"{fw.address} {pub[0]} {pub[1]}\n")
        Path("/run/sshd").mkdir(exist_ok=True)
        fw.sshd = subprocess.Popen(["ip", "netns", "exec", fw.netns, "/usr/sbin/sshd", "-D", "-e", "-f", str(conf)],
                                   stdout=subprocess.DEVNULL, stderr=(self.workdir / f"sshd-{fw.netns}.log").open("wb"))
        self.processes.append(fw.sshd)

    def hosts_entry(self, fw: Firewall, **extra: object) -> dict[str, object]:
        return {"host": fw.address, "port": 22, "username": "root", "key_file": str(self.key),
                "state_dir": str(self.workdir / "state" / fw.name),
                "known_hosts": str(self.workdir / "known_hosts"), **extra}

    def teardown(self) -> None:
        for proc in self.processes:
            proc.terminate()
        for proc in self.processes:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
        for link in self.links:
            sh("ip", "link", "del", link, check=False)
        for name in self.namespaces:
            sh("ip", "netns", "pids", name, check=False)
            pids = sh("ip", "netns", "pids", name, check=False).stdout.split()
            for pid in pids:
                sh("kill", "-9", pid, check=False)
            sh("ip", "netns", "del", name, check=False)


def new_lab(workdir: Path) -> Lab:
    key = workdir / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return Lab(workdir=workdir, key=key)


def add_plain_firewall(lab: Lab, name: str, index: int) -> Firewall:
    """A firewall host reachable from the controller on its own /30 (10.250.200.0/24)."""
    ns = lab.add_ns(f"{PREFIX}{name}"[:15])
    root_if, ns_if = f"egnt-m{index}", "mgmt0"
    lab.veth(root_if, None, ns_if, ns)
    base = 4 * index
    sh("ip", "addr", "add", f"10.250.200.{base + 1}/30", "dev", root_if)
    sh("ip", "addr", "add", f"10.250.200.{base + 2}/30", "dev", ns_if, ns=ns)
    fw = Firewall(name=name, netns=ns, address=f"10.250.200.{base + 2}")
    lab.start_sshd(fw)
    lab.firewalls.append(fw)
    wait_listening(fw.address, 22)
    return fw


def wait_listening(address: str, port: int, seconds: float = 10.0) -> None:
    import socket
    import time
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection((address, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
