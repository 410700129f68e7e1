"""Real SIP and packet probes of the video-conference lab tests (issue 15), run in a lab namespace.

    ip netns exec egl-vc-<slug> python -m tests.vc.sip register '<json request>'
    ip netns exec egl-vc-<slug> python -m tests.vc.sip probe '<json request>'
    ip netns exec egl-fw-<slug> python -m tests.vc.sip sniff '<json request>'

Each prints one JSON object (sniff prints {"ready": true} first, once its socket is open):

- register: a SIP REGISTER with digest authentication (RFC 3261 §22, RFC 2617 with qop=auth) over UDP,
  TCP or TLS (the MCU's certificate verified against the given CA and the conference's name) from the
  namespace's address: every final status in order ([401, 200] for a good account), and whether
  anything answered at all (a firewall that drops the packets: no answer, no status).
- probe: one TCP connection attempt: connected, refused (a RST: something answered), timeout (dropped
  on the way) or unreachable (an ICMP error).
- sniff: counts the IPv4 packets seen on one interface (AF_PACKET, both directions) that match a
  source, destination, protocol and destination port: where a packet got to on a firewall.

Standard library only (the lab namespaces run the controller's Python).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import socket
import ssl
import struct
import sys
import time
from dataclasses import dataclass, field
from typing import Any

USER_AGENT = "egov-vc-test"


class SipError(Exception):
    """A malformed SIP message or challenge."""


# ---- digest (RFC 2617, as SIP uses it) ---------------------------------------------------------------
def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def digest_ha1(username: str, realm: str, password: str) -> str:
    """HA1 = MD5(username:realm:password) (what the MCU stores for each account)."""
    return md5_hex(f"{username}:{realm}:{password}")


def digest_response(*, ha1: str, method: str, uri: str, nonce: str, qop: str = "", nc: str = "00000001",
                    cnonce: str = "") -> str:
    """The request-digest: MD5(HA1:nonce:nc:cnonce:qop:HA2) with qop, MD5(HA1:nonce:HA2) without."""
    ha2 = md5_hex(f"{method}:{uri}")
    if qop:
        return md5_hex(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return md5_hex(f"{ha1}:{nonce}:{ha2}")


_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?')


def parse_challenge(value: str) -> dict[str, str]:
    """A WWW-Authenticate / Proxy-Authenticate value of scheme Digest -> its parameters (names lowercase)."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise SipError(f"not a Digest challenge: {value!r}")
    params: dict[str, str] = {}
    pos = 0
    while pos < len(rest):
        match = _PARAM.match(rest, pos)
        if not match or match.end() == pos:
            raise SipError(f"malformed challenge at {rest[pos:]!r}")
        raw = match.group(2)
        params[match.group(1).lower()] = raw[1:-1].replace('\\"', '"') if raw.startswith('"') else raw
        pos = match.end()
    if "realm" not in params or "nonce" not in params:
        raise SipError(f"challenge without realm or nonce: {value!r}")
    return params


def authorization(challenge: dict[str, str], *, username: str, password: str, method: str, uri: str,
                  cnonce: str, nc: int = 1) -> str:
    """The Authorization value answering `challenge` (qop=auth when offered; MD5 only)."""
    algorithm = challenge.get("algorithm", "MD5")
    if algorithm.upper() != "MD5":
        raise SipError(f"digest algorithm {algorithm} not supported")
    offered = [q.strip() for q in challenge.get("qop", "").split(",") if q.strip()]
    if offered and "auth" not in offered:
        raise SipError(f"qop {offered} not supported (auth only)")
    qop = "auth" if offered else ""
    ncv = f"{nc:08x}"
    response = digest_response(ha1=digest_ha1(username, challenge["realm"], password), method=method, uri=uri,
                               nonce=challenge["nonce"], qop=qop, nc=ncv, cnonce=cnonce)
    parts = [f'username="{username}"', f'realm="{challenge["realm"]}"', f'nonce="{challenge["nonce"]}"',
             f'uri="{uri}"', f'response="{response}"', "algorithm=MD5"]
    if qop:
        parts += [f'cnonce="{cnonce}"', f"qop={qop}", f"nc={ncv}"]
    if "opaque" in challenge:
        parts.append(f'opaque="{challenge["opaque"]}"')
    return "Digest " + ", ".join(parts)


# ---- messages ----------------------------------------------------------------------------------------
@dataclass
class SipResponse:
    status: int
    reason: str
    headers: dict[str, list[str]] = field(default_factory=dict)   # lowercase name -> values in order
    body: bytes = b""

    def header(self, name: str) -> str:
        values = self.headers.get(name.lower(), [])
        return values[0] if values else ""


_COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length"}


def parse_response(data: bytes) -> SipResponse:
    """One SIP response (status line, headers, body by Content-Length)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise SipError("no end of headers")
    lines = head.decode("utf-8", "replace").split("\r\n")
    match = re.match(r"SIP/2\.0 (\d{3}) ?(.*)$", lines[0])
    if not match:
        raise SipError(f"not a SIP response: {lines[0]!r}")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:             # folded continuation
            last = list(headers)[-1]
            headers[last][-1] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon:
            raise SipError(f"malformed header line {line!r}")
        key = name.strip().lower()
        headers.setdefault(_COMPACT.get(key, key), []).append(value.strip())
    length = int((headers.get("content-length") or ["0"])[0] or 0)
    return SipResponse(status=int(match.group(1)), reason=match.group(2), headers=headers, body=body[:length])


def split_stream(buffer: bytes) -> tuple[bytes | None, bytes]:
    """The first complete message of a stream (TCP/TLS) and the rest; (None, buffer) when incomplete."""
    while buffer.startswith(b"\r\n"):                        # keepalive CRLFs (RFC 5626)
        buffer = buffer[2:]
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None, buffer
    head = buffer[:end].decode("utf-8", "replace")
    match = re.search(r"^(?:content-length|l)\s*:\s*(\d+)", head, re.IGNORECASE | re.MULTILINE)
    total = end + 4 + (int(match.group(1)) if match else 0)
    if len(buffer) < total:
        return None, buffer
    return buffer[:total], buffer[total:]


def register_request(*, user: str, domain: str, local: str, local_port: int, transport: str, call_id: str,
                     from_tag: str, cseq: int, expires: int, contact_port: int, auth: str = "") -> bytes:
    """A REGISTER of sip:<user>@<domain> binding the endpoint's contact (its address and SIP port)."""
    lines = [
        f"REGISTER sip:{domain} SIP/2.0",
        f"Via: SIP/2.0/{transport.upper()} {local}:{local_port};branch=z9hG4bK{secrets.token_hex(8)};rport",
        "Max-Forwards: 70",
        f"From: <sip:{user}@{domain}>;tag={from_tag}",
        f"To: <sip:{user}@{domain}>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
        f"Contact: <sip:{user}@{local}:{contact_port}>",
        f"Expires: {expires}",
        f"User-Agent: {USER_AGENT}",
    ]
    if auth:
        lines.append(f"Authorization: {auth}")
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


# ---- transports ----------------------------------------------------------------------------------------
class _Channel:
    """One transport toward the registrar from the local address: send a request, wait for its final answer."""

    def __init__(self, transport: str, server: str, port: int, local: str, *, cafile: str | None,
                 server_name: str, timeout: float) -> None:
        self.transport = transport
        self.server = (server, port)
        self.timeout = timeout
        self.buffer = b""
        if transport == "udp":
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind((local, 0))
        elif transport in ("tcp", "tls"):
            raw = socket.create_connection(self.server, timeout=timeout, source_address=(local, 0))
            if transport == "tls":
                context = ssl.create_default_context(cafile=cafile)
                context.minimum_version = ssl.TLSVersion.TLSv1_2
                self.sock = context.wrap_socket(raw, server_hostname=server_name)
            else:
                self.sock = raw
        else:
            raise SipError(f"unknown transport {transport!r}")
        self.local_port = int(self.sock.getsockname()[1])

    def exchange(self, request: bytes, cseq: int) -> tuple[SipResponse | None, int]:
        """Send (UDP: retransmitted at 0.5, 1, 2 s, RFC 3261 timer A) and wait for the final response
        of this CSeq; returns it (None: no answer in time) and how many times it was sent."""
        deadline = time.monotonic() + self.timeout
        sends, next_send = 0, time.monotonic()
        interval = 0.5
        while True:
            now = time.monotonic()
            if now >= deadline:
                return None, sends
            if sends == 0 or (self.transport == "udp" and now >= next_send):
                if self.transport == "udp":
                    self.sock.sendto(request, self.server)
                else:
                    self.sock.sendall(request)
                sends += 1
                next_send = now + interval
                interval = min(interval * 2, 4.0)
            wait = min(deadline, next_send) - time.monotonic() if self.transport == "udp" else deadline - now
            self.sock.settimeout(max(0.01, wait))
            try:
                response = self._receive()
            except (TimeoutError, BlockingIOError):
                continue
            if response is None:
                continue
            if not response.header("cseq").startswith(f"{cseq} "):
                continue                                   # a late answer to an earlier request
            if response.status >= 200:
                return response, sends

    def _receive(self) -> SipResponse | None:
        if self.transport == "udp":
            data, _ = self.sock.recvfrom(65535)
            return parse_response(data)
        message, self.buffer = split_stream(self.buffer)
        while message is None:
            chunk = self.sock.recv(65535)
            if not chunk:
                raise SipError("the registrar closed the connection")
            message, self.buffer = split_stream(self.buffer + chunk)
        return parse_response(message)

    def close(self) -> None:
        self.sock.close()


def register(request: dict[str, Any]) -> dict[str, Any]:
    """REGISTER with the account; answer the digest challenge once. Never raises: errors are reported."""
    transport = request.get("transport", "tls")
    user, domain, local = request["user"], request["domain"], request["local"]
    expires = int(request.get("expires", 120))
    result: dict[str, Any] = {"transport": transport, "user": user, "from": local, "statuses": [],
                              "reasons": [], "answered": False, "final": None, "sent": 0, "error": ""}
    try:
        channel = _Channel(transport, request["server"], int(request["port"]), local, cafile=request.get("cafile"),
                           server_name=request.get("server_name", domain), timeout=float(request.get("timeout", 5)))
    except TimeoutError:
        result["error"] = "connect: timeout"
        return result
    except (OSError, ssl.SSLError, SipError) as exc:
        result["error"] = f"connect: {type(exc).__name__}: {exc}"
        return result
    call_id = f"{secrets.token_hex(12)}@{local}"
    from_tag = secrets.token_hex(6)
    common = {"user": user, "domain": domain, "local": local, "local_port": channel.local_port,
              "transport": transport, "call_id": call_id, "from_tag": from_tag, "expires": expires,
              "contact_port": int(request.get("contact_port", 5060))}
    try:
        response, sent = channel.exchange(register_request(cseq=1, **common), 1)
        result["sent"] += sent
        if response is not None:
            result["statuses"].append(response.status)
            result["reasons"].append(response.reason)
        if response is not None and response.status in (401, 407):
            name = "www-authenticate" if response.status == 401 else "proxy-authenticate"
            challenge = parse_challenge(response.header(name))
            result["realm"] = challenge["realm"]
            auth = authorization(challenge, username=user, password=request["password"], method="REGISTER",
                                 uri=f"sip:{domain}", cnonce=secrets.token_hex(8))
            response, sent = channel.exchange(register_request(cseq=2, auth=auth, **common), 2)
            result["sent"] += sent
            if response is not None:
                result["statuses"].append(response.status)
                result["reasons"].append(response.reason)
        if response is not None and response.status == 200:
            result["contacts"] = response.headers.get("contact", [])
    except (OSError, ssl.SSLError, SipError) as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        channel.close()
    result["answered"] = bool(result["statuses"])
    result["final"] = result["statuses"][-1] if result["statuses"] else None
    return result


# ---- a TCP connection attempt ------------------------------------------------------------------------
def probe(request: dict[str, Any]) -> dict[str, Any]:
    """connected | refused | timeout | unreachable (and the error text of anything else)."""
    started = time.monotonic()
    try:
        with socket.create_connection((request["address"], int(request["port"])),
                                      timeout=float(request.get("timeout", 3))):
            outcome = "connected"
    except TimeoutError:
        outcome = "timeout"
    except ConnectionRefusedError:
        outcome = "refused"
    except OSError as exc:
        outcome = "unreachable" if exc.errno in (113, 101) else f"error: {exc}"   # EHOSTUNREACH, ENETUNREACH
    return {"result": outcome, "seconds": round(time.monotonic() - started, 3)}


# ---- where packets got to ---------------------------------------------------------------------------------
def parse_frame(frame: bytes) -> tuple[str, str, int, int] | None:
    """An Ethernet frame -> (source, destination, IP protocol, destination port; 0 without ports) for IPv4."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack("!H", frame[12:14])[0]
    offset = 14
    if ethertype == 0x8100 and len(frame) >= 18:           # one 802.1Q tag
        ethertype = struct.unpack("!H", frame[16:18])[0]
        offset = 18
    if ethertype != 0x0800 or len(frame) < offset + 20:
        return None
    ip = frame[offset:]
    if ip[0] >> 4 != 4:
        return None
    ihl = (ip[0] & 0x0F) * 4
    proto = ip[9]
    src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
    port = 0
    if proto in (6, 17) and len(ip) >= ihl + 4:
        port = struct.unpack("!H", ip[ihl + 2:ihl + 4])[0]
    return src, dst, proto, port


def frame_matches(parsed: tuple[str, str, int, int] | None, request: dict[str, Any]) -> bool:
    if parsed is None:
        return False
    src, dst, proto, port = parsed
    return ((not request.get("src") or src == request["src"]) and (not request.get("dst") or dst == request["dst"])
            and (not request.get("proto") or proto == int(request["proto"]))
            and (not request.get("dport") or port == int(request["dport"])))


def sniff(request: dict[str, Any]) -> dict[str, Any]:
    """Count the matching packets on request['iface'] for request['seconds'] (prints the ready line)."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))   # ETH_P_ALL
    sock.bind((request["iface"], 0))
    print(json.dumps({"ready": True}), flush=True)
    deadline = time.monotonic() + float(request.get("seconds", 5))
    count = 0
    seen: list[list[Any]] = []
    try:
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                frame = sock.recv(65535)
            except TimeoutError:
                break
            parsed = parse_frame(frame)
            if frame_matches(parsed, request):
                count += 1
                if len(seen) < 5 and parsed is not None:
                    seen.append(list(parsed))
    finally:
        sock.close()
    return {"iface": request["iface"], "count": count, "packets": seen}


ACTIONS = {"register": register, "probe": probe, "sniff": sniff}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ACTIONS:
        print(f"usage: python -m tests.vc.sip {{{'|'.join(ACTIONS)}}} '<json request>'", file=sys.stderr)
        return 2
    print(json.dumps(ACTIONS[argv[0]](json.loads(argv[1]))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
