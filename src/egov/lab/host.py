"""One lab node: its network namespace, its links, and (for containers) overlay + systemd-nspawn."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from egov.lab.image import LAB_USER
from egov.lab.sh import ip_batch, ok, run
from egov.lab.topology import FABRIC_NS, PREFIX, Node, fabric_port, mac_for

CGROUP_ROOTS = (Path("/sys/fs/cgroup/systemd"), Path("/sys/fs/cgroup/unified"))
NETNS_DIR = Path("/run/netns")
PROPAGATE_DIR = Path("/run/systemd/nspawn/propagate")


@dataclass(frozen=True)
class Paths:
    state: Path

    @property
    def base(self) -> Path:
        return self.state / "base"

    @property
    def hosts(self) -> Path:
        return self.state / "hosts"

    @property
    def ssh(self) -> Path:
        return self.state / "ssh"

    @property
    def key(self) -> Path:
        return self.ssh / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.ssh / "known_hosts"

    def host_dir(self, name: str) -> Path:
        return self.hosts / name

    def root(self, name: str) -> Path:
        return self.hosts / name / "root"


def netns_exists(name: str) -> bool:
    return (NETNS_DIR / name).exists()


def cgroup_dirs(name: str) -> list[Path]:
    return [root / PREFIX / name for root in CGROUP_ROOTS if root.exists()]


def cgroup_pids(name: str) -> list[int]:
    """Every process of the node (nspawn and everything it started), from its cgroups."""
    pids: set[int] = set()
    for top in cgroup_dirs(name):
        if not top.exists():
            continue
        for procs in top.rglob("cgroup.procs"):
            with contextlib.suppress(OSError):
                pids.update(int(p) for p in procs.read_text().split())
    return sorted(pids)


def nspawn_pid(paths: Paths, name: str) -> int | None:
    pidfile = paths.host_dir(name) / "nspawn.pid"
    try:
        pid = int(pidfile.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    if any(part.endswith(b"systemd-nspawn") for part in cmdline) and f"--machine={name}".encode() in cmdline:
        return pid
    return None


def in_own_netns(paths: Paths, node_name: str, netns: str) -> bool:
    """True when the container's init runs in the lab namespace ``netns`` (and not in a namespace
    left over from an earlier, crashed or concurrent run)."""
    pid = nspawn_pid(paths, node_name)
    if pid is None:
        return False
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if not children:
            return False
        return os.stat(f"/proc/{children[0]}/ns/net").st_ino == os.stat(NETNS_DIR / netns).st_ino
    except OSError:
        return False


def is_mounted(path: Path) -> bool:
    target = str(path)
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        return any(line.split()[1] == target for line in mounts)


def links_present(node: Node) -> bool:
    try:
        out = run(["ip", "-n", node.netns, "-o", "link", "show"])
    except Exception:
        return False
    names = {line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line}
    return all(link.ifname in names for link in node.links)


# -- networking ------------------------------------------------------------------------------------
def create_netns(node: Node) -> None:
    """Namespace, veth pairs into the fabric bridges, addresses, VLANs and routes."""
    if not netns_exists(node.netns):
        run(["ip", "netns", "add", node.netns])
    fabric_cmds: list[str] = []
    node_cmds = ["link set lo up"]
    for link in node.links:
        port = fabric_port(node.name, link.ifname)
        fabric_cmds += [
            f"link add name {port} type veth peer name {link.ifname} address {mac_for(node.name, link.ifname)} "
            f"netns {node.netns}",
            f"link set {port} master {link.bridge}",
            f"link set {port} up",
        ]
        node_cmds.append(f"link set {link.ifname} up")
        node_cmds += [f"address add {cidr} dev {link.ifname}" for cidr in link.addresses]
    ip_batch(fabric_cmds, FABRIC_NS)
    node_cmds += [f"route add {dest} via {via}" for dest, via in node.routes]
    ip_batch(node_cmds, node.netns)
    sysctls = {"net.ipv4.ip_forward": "1" if node.forwarding else "0"}
    for key, value in sysctls.items():
        run(["ip", "netns", "exec", node.netns, "sysctl", "-qw", f"{key}={value}"])


def delete_netns(node_name: str) -> None:
    netns = f"{PREFIX}-{node_name}"
    if netns_exists(netns):
        # deleting the namespace destroys its veth ends, and with them the fabric ends
        run(["ip", "netns", "delete", netns], check=False)


# -- containers -------------------------------------------------------------------------------------
def prepare_root(paths: Paths, node: Node, base: Path, public_key: str, apt_proxy: str, domain: str) -> str:
    """Mount the overlay and write the per-host files; returns the host's SSH public key."""
    hdir = paths.host_dir(node.name)
    upper, work, root = hdir / "upper", hdir / "work", hdir / "root"
    for path in (upper, work, root):
        path.mkdir(parents=True, exist_ok=True)
    if not is_mounted(root):
        run(["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={base},upperdir={upper},workdir={work}", str(root)])
    (root / "etc/hostname").write_text(node.name + "\n")
    (root / "etc/hosts").write_text(f"127.0.0.1 localhost\n{node.address} {node.name}.{domain} {node.name}\n")
    key = root / "etc/ssh/ssh_host_ed25519_key"
    if not key.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"root@{node.name}", "-f", str(key)])
    ssh_dir = root / "home" / LAB_USER / ".ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    auth = ssh_dir / "authorized_keys"
    auth.write_text(public_key.strip() + "\n")
    owner = _lab_user_ids(root)
    for path in (ssh_dir, auth):
        os.chown(path, *owner)
    os.chmod(auth, 0o600)
    proxy_conf = root / "etc/apt/apt.conf.d/01egov-proxy"
    proxy_conf.write_text(f'Acquire::http::Proxy "{apt_proxy}";\n' if apt_proxy else "")
    return " ".join((root / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()[:2])


def _lab_user_ids(root: Path) -> tuple[int, int]:
    for line in (root / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == LAB_USER:
            return int(fields[2]), int(fields[3])
    raise RuntimeError(f"user {LAB_USER} missing from the base image at {root}")


def start_container(paths: Paths, node: Node) -> int:
    """Boot systemd as PID 1 in the node's namespace; returns the nspawn PID."""
    hdir = paths.host_dir(node.name)
    groups = cgroup_dirs(node.name)
    for group in groups:
        group.mkdir(parents=True, exist_ok=True)
    join = "; ".join(f"echo $$ > {group}/cgroup.procs" for group in groups)
    # --console=read-only: nspawn copies the console to console.log. With --console=passive nothing
    # read the console's pty here (console.log stayed empty); once its buffer filled, PID 1 blocked in
    # a tty write (a Galera node printing start-job status while it waited for its quorum on a cold
    # start) and systemctl answered "Transport endpoint is not connected".
    argv = [
        "systemd-nspawn", "--quiet", "--boot", f"--directory={paths.root(node.name)}", f"--machine={node.name}",
        f"--hostname={node.name}", "--register=no", "--keep-unit", "--private-network",
        f"--network-namespace-path={NETNS_DIR / node.netns}", "--resolv-conf=off", "--timezone=off",
        "--link-journal=no", "--console=read-only",
    ]
    script = f"{join}; exec " + " ".join(argv)
    console = open(hdir / "console.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(["sh", "-c", script], stdin=subprocess.DEVNULL, stdout=console, stderr=console,
                            start_new_session=True, close_fds=True)
    console.close()
    (hdir / "nspawn.pid").write_text(f"{proc.pid}\n")
    return proc.pid


def stop_container(paths: Paths, name: str, timeout: float = 10.0) -> None:
    """Power off (SIGTERM to nspawn = clean shutdown), then kill what is left, unmount, clean cgroups."""
    pid = nspawn_pid(paths, name)
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (nspawn_pid(paths, name) or cgroup_pids(name)):
        time.sleep(0.2)
    for leftover in cgroup_pids(name):
        with contextlib.suppress(ProcessLookupError):
            os.kill(leftover, signal.SIGKILL)
    for _ in range(50):
        if not cgroup_pids(name):
            break
        time.sleep(0.1)
    root = paths.root(name)
    if is_mounted(root) and not ok(["umount", str(root)]):
        run(["umount", "--lazy", str(root)])
    for top in cgroup_dirs(name):
        if top.exists():
            for sub in sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
                with contextlib.suppress(OSError):
                    sub.rmdir()
            with contextlib.suppress(OSError):
                top.rmdir()
    shutil.rmtree(PROPAGATE_DIR / name, ignore_errors=True)
