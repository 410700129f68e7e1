"""Capture every IPv4 packet of a network namespace for some seconds (AF_PACKET, no tcpdump needed).

    python sniff.py SECONDS
Prints "ready" once the socket is open, then, at the end, one JSON object: the count of packets and
the list of (src, dst, proto, dport) seen, deduplicated.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003


def main() -> None:
    seconds = float(sys.argv[1])
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.settimeout(0.2)
    print("ready", flush=True)
    seen: set[tuple[str, str, int, int]] = set()
    count = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            frame = sock.recv(65535)
        except TimeoutError:
            continue
        if len(frame) < 34 or struct.unpack("!H", frame[12:14])[0] != 0x0800:
            continue
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        proto = ip[9]
        src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
        dport = struct.unpack("!H", ip[ihl + 2:ihl + 4])[0] if proto in (6, 17) and len(ip) >= ihl + 4 else 0
        seen.add((src, dst, proto, dport))
        count += 1
    print(json.dumps({"packets": count, "flows": sorted(seen)}), flush=True)


if __name__ == "__main__":
    main()
