"""Bring the lab up, report its state, and take it down — safely after a crash too.

Everything the lab creates is named or placed so that it can be found again without any
memory of the run that made it:
- network namespaces ``/run/netns/egl-*`` (the fabric holds every bridge);
- the controller's veth ``egl-ctl`` and the root-namespace routes recorded in ``root-routes``;
- overlay mounts and writable layers under ``<state>/hosts/<host>``;
- cgroups ``/sys/fs/cgroup/{systemd,unified}/egl/<host>`` holding every process of a host;
- the apt proxy, whose PID file and config live under ``<state>/apt-proxy``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from egov import settings
from egov.errors import EgovError
from egov.lab import host as hostmod
from egov.lab.image import build_base, debian_mirror
from egov.lab.proxy import PORT, start_proxy, stop_proxy
from egov.lab.sh import CommandError, ip_batch, run
from egov.lab.topology import CONTROLLER_IF, FABRIC_NS, PREFIX, Node, Topology, fabric_port
from egov.model import Province

logger = logging.getLogger(__name__)

REQUIRED_COMMANDS = ("ip", "bridge", "systemd-nspawn", "debootstrap", "apt-cacher-ng", "ssh-keygen", "mount")
SYSCTLS = {"fs.inotify.max_user_instances": 8192, "fs.inotify.max_user_watches": 1048576,
           "kernel.keys.maxkeys": 5000}

Progress = Callable[[str, int], None]   # (description, advance)


def __getattr__(name: str) -> Path:
    """`manager.DEFAULT_STATE`: the lab state directory, read when asked ($EGOV_LAB_STATE, egov.settings)."""
    if name == "DEFAULT_STATE":
        return settings.lab_state_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class LabError(EgovError, RuntimeError):
    pass


@dataclass
class NodeState:
    name: str
    kind: str
    address: str
    netns: bool
    mounted: bool
    running: bool
    ssh: bool

    @property
    def state(self) -> str:
        if self.kind == "client":
            return "up" if self.netns else "missing"
        if self.running and self.ssh:
            return "running"
        if self.running:
            return "booting"
        if self.netns or self.mounted:
            return "broken"
        return "missing"


def preflight() -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network namespaces, mounts, systemd-nspawn): run it as root")
    missing = [c for c in REQUIRED_COMMANDS if shutil.which(c) is None]
    if missing:
        raise LabError(f"missing commands: {', '.join(missing)}; run `make deps` to install them")
    cgroup_v1 = Path("/sys/fs/cgroup/systemd")
    if not cgroup_v1.exists() and not Path("/sys/fs/cgroup/unified").exists():
        raise LabError("no usable cgroup hierarchy (/sys/fs/cgroup/systemd or /unified) for systemd-nspawn")


def tune_kernel() -> None:
    for key, value in SYSCTLS.items():
        path = Path("/proc/sys") / key.replace(".", "/")
        with contextlib.suppress(OSError, ValueError):
            if int(path.read_text().split()[0]) < value:
                path.write_text(str(value))


# -- fabric and controller ------------------------------------------------------------------------
def ensure_fabric(topo: Topology) -> None:
    if not hostmod.netns_exists(FABRIC_NS):
        run(["ip", "netns", "add", FABRIC_NS])
    existing = set(run(["ip", "-n", FABRIC_NS, "-o", "link", "show", "type", "bridge"]).split())
    cmds = ["link set lo up"]
    for bridge in sorted(topo.bridges):
        if f"{bridge}:" in existing:
            continue
        cmds += [f"link add name {bridge} type bridge forward_delay 0", f"link set {bridge} up"]
    ip_batch(cmds, FABRIC_NS)


def _route_file(state: Path) -> Path:
    return state / "root-routes.json"


def ensure_controller(topo: Topology, state: Path) -> None:
    """The controller's leg on the DC management LAN, its routes, and the catch-all unreachable route."""
    mgmt_bridge = "br-mgmt"
    if not Path(f"/sys/class/net/{CONTROLLER_IF}").exists():
        run(["ip", "link", "add", "name", CONTROLLER_IF, "type", "veth", "peer", "name", "ctl0", "netns", FABRIC_NS])
    ip_batch(["link set ctl0 master " + mgmt_bridge, "link set ctl0 up"], FABRIC_NS)
    run(["ip", "link", "set", CONTROLLER_IF, "up"])
    have = run(["ip", "-o", "-4", "addr", "show", "dev", CONTROLLER_IF])
    if topo.controller_address not in have:
        run(["ip", "addr", "add", topo.controller_address, "dev", CONTROLLER_IF])
    routes = [f"{dest} via {via} dev {CONTROLLER_IF}" for dest, via in topo.controller_routes]
    routes.append(f"unreachable {topo.unreachable}")
    # recorded first, so that `down` after a crash removes exactly these
    _route_file(state).write_text(json.dumps(routes, indent=1) + "\n")
    for route in routes:
        run(["ip", "route", "replace", *route.split()])


def remove_controller(state: Path) -> None:
    route_file = _route_file(state)
    if route_file.exists():
        for route in json.loads(route_file.read_text()):
            run(["ip", "route", "del", *route.split()], check=False)
        route_file.unlink()
    if Path(f"/sys/class/net/{CONTROLLER_IF}").exists():
        run(["ip", "link", "del", CONTROLLER_IF], check=False)


# -- keys --------------------------------------------------------------------------------------------
def ensure_key(paths: hostmod.Paths) -> str:
    paths.ssh.mkdir(parents=True, exist_ok=True)
    os.chmod(paths.ssh, 0o700)
    if not paths.key.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "egov-lab", "-f", str(paths.key)])
    return paths.key.with_suffix(".pub").read_text()


def write_known_hosts(paths: hostmod.Paths, keys: dict[str, tuple[str, str]]) -> None:
    """keys: host -> (address, 'ssh-ed25519 AAAA...'); merged with the existing file."""
    entries: dict[str, str] = {}
    if paths.known_hosts.exists():
        for line in paths.known_hosts.read_text().splitlines():
            if line.strip():
                entries[line.split()[0]] = line
    for name, (address, key) in keys.items():
        entries[f"{name},{address}"] = f"{name},{address} {key}"
        for stale in [k for k in entries if k != f"{name},{address}" and address in k.split(",")]:
            del entries[stale]
    tmp = paths.known_hosts.with_suffix(".tmp")
    tmp.write_text("\n".join(sorted(entries.values())) + "\n")
    tmp.replace(paths.known_hosts)


# -- nodes ---------------------------------------------------------------------------------------------
def node_healthy(paths: hostmod.Paths, node: Node) -> bool:
    if not hostmod.netns_exists(node.netns) or not hostmod.links_present(node):
        return False
    if node.kind == "client":
        return True
    return hostmod.is_mounted(paths.root(node.name)) and hostmod.in_own_netns(paths, node.name, node.netns)


def destroy_node(paths: hostmod.Paths, name: str) -> None:
    hostmod.stop_container(paths, name)
    # delete the fabric ends first: a deleted namespace is freed asynchronously by the kernel, and
    # its veth peers would linger long enough to make re-creating the same port fail
    netns = f"{PREFIX}-{name}"
    if hostmod.netns_exists(netns) and hostmod.netns_exists(FABRIC_NS):
        out = run(["ip", "-n", netns, "-o", "link", "show", "type", "veth"], check=False)
        ifnames = [line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line]
        ip_batch([f"link del {fabric_port(name, ifname)}" for ifname in ifnames], FABRIC_NS, force=True)
    hostmod.delete_netns(name)


def ensure_node(paths: hostmod.Paths, node: Node, base: Path, public_key: str, apt_proxy: str,
                domain: str) -> tuple[str, str] | None:
    """Make the node exist and run; returns (address, host key) for containers."""
    if node_healthy(paths, node):
        if node.kind == "client":
            return None
        pub = paths.root(node.name) / "etc/ssh/ssh_host_ed25519_key.pub"
        return node.address, " ".join(pub.read_text().split()[:2])
    destroy_node(paths, node.name)       # clear whatever a crash left half-made
    hostmod.create_netns(node)
    if node.kind == "client":
        return None
    key = hostmod.prepare_root(paths, node, base, public_key, apt_proxy, domain)
    hostmod.start_container(paths, node)
    return node.address, key


def ssh_open(address: str, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((address, 22), timeout=timeout) as sock:
            sock.settimeout(timeout)
            return sock.recv(4).startswith(b"SSH-")
    except OSError:
        return False


def wait_for_ssh(nodes: list[Node], timeout: float, progress: Progress | None = None) -> list[str]:
    """Poll every container's SSH port; returns the names that never answered."""
    pending = {n.name: n.address for n in nodes}
    deadline = time.monotonic() + timeout
    with ThreadPoolExecutor(max_workers=32) as pool:
        while pending and time.monotonic() < deadline:
            results = dict(zip(pending, pool.map(ssh_open, pending.values()), strict=True))
            for name, up in results.items():
                if up:
                    del pending[name]
                    if progress:
                        progress(f"ssh {name}", 1)
            if pending:
                time.sleep(0.5)
    return sorted(pending)


# -- the whole lab -----------------------------------------------------------------------------------
@contextlib.contextmanager
def lab_lock(state: Path, log: Callable[[str], None] = logger.warning) -> Iterator[None]:
    """One `up`/`down` at a time: two concurrent runs would race on the same namespaces and mounts."""
    state.mkdir(parents=True, exist_ok=True)
    with open(state / ".lock", "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            log(f"waiting for another `egov lab` command to finish (pid {holder}, lock {state / '.lock'})")
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def lab_up(province: Province, topo: Topology, state: Path | None = None, *, workers: int = 6,
           progress: Progress | None = None, log: Callable[[str], None] = logger.info,
           ssh_timeout: float = 180) -> dict[str, object]:
    state = state or settings.lab_state_dir()
    preflight()
    with lab_lock(state, log):
        return _lab_up(province, topo, state, workers=workers, progress=progress, log=log, ssh_timeout=ssh_timeout)


def _lab_up(province: Province, topo: Topology, state: Path, *, workers: int, progress: Progress | None,
            log: Callable[[str], None], ssh_timeout: float) -> dict[str, object]:
    tune_kernel()
    paths = hostmod.Paths(state)
    state.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    mirror = debian_mirror()
    base = build_base(paths.base, mirror, log=log)
    public_key = ensure_key(paths)
    ensure_fabric(topo)
    ensure_controller(topo, state)
    gateway = topo.controller_address.split("/")[0]
    start_proxy(state, gateway, mirror)
    apt_proxy = f"http://{gateway}:{PORT}"
    record_selection(state, topo)

    keys: dict[str, tuple[str, str]] = {}
    failures: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(ensure_node, paths, node, base, public_key, apt_proxy, province.domain): node
                   for node in topo.nodes}
        for future in as_completed(futures):
            node = futures[future]
            try:
                result = future.result()
            except (CommandError, OSError, RuntimeError) as exc:
                failures[node.name] = str(exc)
                result = None
            if result:
                keys[node.name] = result
            if progress:
                progress(f"{node.kind} {node.name}", 1)
    write_known_hosts(paths, keys)
    containers = [n for n in topo.containers if n.name not in failures]
    silent = wait_for_ssh(containers, ssh_timeout, progress)
    for name in silent:
        failures[name] = f"no SSH answer within {ssh_timeout:.0f} s (see {paths.host_dir(name)}/console.log)"
    return {"nodes": len(topo.nodes), "containers": len(topo.containers), "clients": len(topo.clients),
            "seconds": round(time.monotonic() - started, 1), "failures": failures}


def record_selection(state: Path, topo: Topology) -> None:
    """Remember every node ever brought up (so status/down know them, and --limit files exist)."""
    path = state / "nodes.json"
    known: dict[str, dict[str, str]] = json.loads(path.read_text()) if path.exists() else {}
    for node in topo.nodes:
        known[node.name] = {"kind": node.kind, "address": node.address}
    path.write_text(json.dumps(dict(sorted(known.items())), indent=1) + "\n")


def known_nodes(state: Path) -> dict[str, dict[str, str]]:
    path = state / "nodes.json"
    return json.loads(path.read_text()) if path.exists() else {}


def discovered_names(state: Path) -> set[str]:
    """Names of nodes with anything left on the system, whether or not we remember them."""
    names = set(known_nodes(state))
    if hostmod.NETNS_DIR.exists():
        names |= {p.name[len(PREFIX) + 1:] for p in hostmod.NETNS_DIR.glob(f"{PREFIX}-*") if p.name != FABRIC_NS}
    hosts_dir = hostmod.Paths(state).hosts
    if hosts_dir.exists():
        names |= {p.name for p in hosts_dir.iterdir() if p.is_dir()}
    for root in hostmod.CGROUP_ROOTS:
        if (root / PREFIX).exists():
            names |= {p.name for p in (root / PREFIX).iterdir() if p.is_dir()}
    return names


def lab_status(state: Path | None = None) -> list[NodeState]:
    state = state or settings.lab_state_dir()
    paths = hostmod.Paths(state)
    known = known_nodes(state)
    names = sorted(discovered_names(state))
    rows: list[NodeState] = []
    with ThreadPoolExecutor(max_workers=32) as pool:
        addresses = [known.get(n, {}).get("address", "") for n in names]
        kinds = [known.get(n, {}).get("kind", "container") for n in names]
        sshs = list(pool.map(lambda a_k: bool(a_k[0]) and a_k[1] == "container" and ssh_open(a_k[0]),
                             zip(addresses, kinds, strict=True)))
    for name, address, kind, ssh in zip(names, addresses, kinds, sshs, strict=True):
        rows.append(NodeState(name=name, kind=kind, address=address,
                              netns=hostmod.netns_exists(f"{PREFIX}-{name}"),
                              mounted=hostmod.is_mounted(paths.root(name)),
                              running=hostmod.nspawn_pid(paths, name) is not None or bool(hostmod.cgroup_pids(name)),
                              ssh=ssh))
    return rows


def lab_down(state: Path | None = None, *, names: Iterable[str] | None = None, purge: bool = False,
             workers: int = 16, progress: Progress | None = None) -> dict[str, object]:
    """Remove what `up` made (all of it, or only the named nodes)."""
    state = state or settings.lab_state_dir()
    if os.geteuid() != 0:
        raise LabError("taking the lab down needs root")
    with lab_lock(state):
        return _lab_down(state, names=names, purge=purge, workers=workers, progress=progress)


def _lab_down(state: Path, *, names: Iterable[str] | None, purge: bool, workers: int,
              progress: Progress | None) -> dict[str, object]:
    paths = hostmod.Paths(state)
    targets = sorted(set(names) if names is not None else discovered_names(state))
    started = time.monotonic()
    errors: dict[str, str] = {}

    def one(name: str) -> None:
        destroy_node(paths, name)
        shutil.rmtree(paths.host_dir(name), ignore_errors=True)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(one, name): name for name in targets}
        for future in as_completed(futures):
            try:
                future.result()
            except (CommandError, OSError, RuntimeError) as exc:
                errors[futures[future]] = str(exc)
            if progress:
                progress(f"down {futures[future]}", 1)
    known = known_nodes(state)
    for name in targets:
        known.pop(name, None)
    if names is None or not known:
        stop_proxy(state)
        remove_controller(state)
        if hostmod.netns_exists(FABRIC_NS):
            run(["ip", "netns", "delete", FABRIC_NS], check=False)
        for root in hostmod.CGROUP_ROOTS:
            with contextlib.suppress(OSError):
                (root / PREFIX).rmdir()
        (state / "nodes.json").unlink(missing_ok=True)
        if purge:
            for sub in ("base", "apt-cache", "apt-proxy", "ssh", "hosts"):
                shutil.rmtree(state / sub, ignore_errors=True)
    else:
        (state / "nodes.json").write_text(json.dumps(known, indent=1) + "\n")
    return {"removed": len(targets), "seconds": round(time.monotonic() - started, 1), "errors": errors}


def leftovers(state: Path | None = None, unreachable: str | None = None) -> list[str]:
    """Anything of the lab still on the system (used by tests and `lab status`)."""
    state = state or settings.lab_state_dir()
    found: list[str] = []
    if hostmod.NETNS_DIR.exists():
        found += [f"netns {p.name}" for p in hostmod.NETNS_DIR.glob(f"{PREFIX}-*")]
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        found += [f"mount {line.split()[1]}" for line in mounts if line.split()[1].startswith(str(state))]
    for root in hostmod.CGROUP_ROOTS:
        if (root / PREFIX).exists():
            found.append(f"cgroup {root / PREFIX}")
    if Path(f"/sys/class/net/{CONTROLLER_IF}").exists():
        found.append(f"link {CONTROLLER_IF}")
    routes = run(["ip", "route", "show"], check=False)
    found += [f"route {line}" for line in routes.splitlines()
              if CONTROLLER_IF in line or (unreachable and line.startswith(f"unreachable {unreachable}"))]
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            cmd = (proc / "cmdline").read_bytes()
            if b"systemd-nspawn" in cmd and str(state).encode() in cmd:
                shown = cmd.replace(b"\0", b" ")[:80].decode(errors="replace")
                found.append(f"process {proc.name} {shown}")
    return found
