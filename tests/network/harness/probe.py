"""Real-packet probes for the traffic-matrix test (run inside a namespace with `ip netns exec`).

serve  — on a DC host: TCP listeners and UDP echo servers on the given ports (a port already taken
         by a real service is left to it), plus an AF_PACKET sniffer that records every TCP SYN / UDP
         datagram arriving from the site pool. The sniffer sees packets before the host's own input
         firewall (the OS baseline's `inet host_firewall`), so "delivered" proves what the network
         firewalls let through, whatever the host itself then does with it.
         Writes READY once listening; on SIGTERM writes the seen list (JSON) to OUT and exits.
probe  — on a LAN client: every probe of a JSON list at once; TCP = handshake completes,
         UDP = the echo comes back (or, toward a real DNS/NTP service, any reply to a real query).
         Prints one result per probe as JSON: connected / refused / timeout / unreachable.

Only addresses given on the command line are contacted (lab addresses in the lab's namespaces).
"""

from __future__ import annotations

import ipaddress
import json
import signal
import socket
import struct
import sys
import threading
import time
from pathlib import Path

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def serve(tcp: list[int], udp: list[int], watch: str, ready: Path, out: Path) -> None:
    seen: set[tuple[str, str, int]] = set()
    lock = threading.Lock()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    watch_net = ipaddress.ip_network(watch)

    sniffer = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sniffer.settimeout(0.2)

    # a busy host (bind9, rsyslog) fills a small buffer while the Python thread parses: 8 MiB
    sniffer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    drained = threading.Event()

    def record(frame: bytes, address: tuple) -> None:
        if address[2] == PACKET_OUTGOING or len(frame) < 34 or frame[12:14] != b"\x08\x00":
            return
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        proto = ip[9]
        src = socket.inet_ntoa(ip[12:16])
        if ipaddress.ip_address(src) not in watch_net or proto not in (6, 17) or len(ip) < ihl + 14:
            return
        dport = struct.unpack("!H", ip[ihl + 2:ihl + 4])[0]
        if proto == 6 and (ip[ihl + 13] & 0x12) != 0x02:      # SYN without ACK only
            return
        with lock:
            seen.add((src, "tcp" if proto == 6 else "udp", dport))

    def sniff() -> None:
        try:
            while not stop.is_set():
                try:
                    record(*sniffer.recvfrom(65535))
                except TimeoutError:
                    continue
            # on SIGTERM: the frames still queued in the socket arrived before it; count them too
            sniffer.setblocking(False)
            while True:
                record(*sniffer.recvfrom(65535))
        except (BlockingIOError, OSError):
            pass
        finally:
            drained.set()

    threading.Thread(target=sniff, daemon=True).start()

    def tcp_accept(sock: socket.socket) -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                conn.close()
            except (TimeoutError, OSError):
                continue

    def udp_echo(sock: socket.socket) -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(2048)
                sock.sendto(data, peer)
            except (TimeoutError, OSError):
                continue

    bound: dict[str, list[int]] = {"tcp": [], "udp": []}
    for port in tcp:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
            sock.listen(64)
        except OSError:
            sock.close()          # a real service already listens there
            continue
        bound["tcp"].append(port)
        threading.Thread(target=tcp_accept, args=(sock,), daemon=True).start()
    for port in udp:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            sock.close()
            continue
        bound["udp"].append(port)
        threading.Thread(target=udp_echo, args=(sock,), daemon=True).start()
    ready.write_text(json.dumps(bound))
    while not stop.wait(0.2):
        pass
    drained.wait(10)
    with lock:
        out.write_text(json.dumps(sorted(seen)))


# payloads a real UDP service answers (any reply from the destination proves the listener got it)
DNS_QUERY = bytes.fromhex("e9e90100000100000000000000000600010001")   # id, RD, 1 question: ". SOA IN"
NTP_QUERY = b"\x23" + b"\x00" * 47                                      # NTPv4 client request
ECHO = b"egov-traffic-matrix"
UDP_PAYLOADS = {53: DNS_QUERY, 123: NTP_QUERY}
ANSWERING_UDP = frozenset(UDP_PAYLOADS)


def probe_one(dst: str, proto: str, port: int, timeout: float, echo: bool = True) -> str:
    """"connected" (handshake / reply), "refused" (RST / port unreachable), "timeout", "unreachable"."""
    if proto == "tcp":
        try:
            with socket.create_connection((dst, port), timeout=timeout):
                return "connected"
        except ConnectionRefusedError:
            return "refused"
        except TimeoutError:
            return "timeout"
        except OSError:            # EHOSTUNREACH / ENETUNREACH / EACCES (ICMP admin prohibited)
            return "unreachable"
    payload = ECHO if echo else UDP_PAYLOADS.get(port, ECHO)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    refused = False
    try:
        sock.connect((dst, port))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                sock.send(payload)
                sock.settimeout(min(0.7, max(0.05, deadline - time.monotonic())))
                reply = sock.recv(2048)
                if reply == payload or (payload is not ECHO and reply):
                    return "connected"
            except TimeoutError:
                continue
            except ConnectionRefusedError:     # ICMP port unreachable: delivered, nobody listening
                refused = True
                time.sleep(0.2)
            except OSError:
                return "unreachable"
        return "refused" if refused else "timeout"
    finally:
        sock.close()


def probe(specs: list[dict[str, object]], timeout: float) -> list[str]:
    results: list[str] = ["timeout"] * len(specs)

    def run(i: int, spec: dict[str, object]) -> None:
        results[i] = probe_one(str(spec["dst"]), str(spec["proto"]), int(spec["port"]),  # type: ignore[call-overload]
                               timeout, bool(spec.get("echo", True)))

    threads = [threading.Thread(target=run, args=(i, s)) for i, s in enumerate(specs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def main() -> None:
    mode = sys.argv[1]
    if mode == "serve":
        tcp = [int(p) for p in sys.argv[2].split(",") if p]
        udp = [int(p) for p in sys.argv[3].split(",") if p]
        serve(tcp, udp, sys.argv[4], Path(sys.argv[5]), Path(sys.argv[6]))
    elif mode == "probe":
        specs = json.loads(Path(sys.argv[2]).read_text())
        print(json.dumps(probe(specs, float(sys.argv[3]))))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
