"""HTTP(S) probes of the portal, run inside a site LAN client's network namespace (stdlib only).

    ip netns exec egl-pc-<slug> python tests/portal/netns_client.py '<json request>'

Prints one JSON object. Every request goes to the balancer's address with the site's name as SNI
and Host, the certificate chain and name verified against the given CA bundle, so it crosses the site
firewall, the DC firewall and the balancer like a citizen's browser would.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import re
import socket
import ssl
import sys
import time
from typing import Any

TIMEOUT = 15


class _Https(http.client.HTTPSConnection):
    """HTTPS to a fixed address with another name for SNI and certificate checks."""

    def __init__(self, address: str, name: str, port: int, context: ssl.SSLContext, timeout: float) -> None:
        super().__init__(name, port, context=context, timeout=timeout)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def fetch(address: str, name: str, *, tls: bool, cafile: str | None, port: int, path: str = "/",
          timeout: float = TIMEOUT) -> dict[str, Any]:
    started = time.monotonic()
    conn: http.client.HTTPConnection
    try:
        if tls:
            ctx = ssl.create_default_context(cafile=cafile)
            conn = _Https(address, name, port, ctx, timeout)
        else:
            conn = http.client.HTTPConnection(address, port, timeout=timeout)
        conn.request("GET", path, headers={"Host": name, "User-Agent": "egov-portal-probe"})
        resp = conn.getresponse()
        body = resp.read(300_000).decode(errors="replace")
        headers = {k.lower(): v for k, v in resp.getheaders()}
        result: dict[str, Any] = {"ok": True, "status": resp.status, "headers": headers}
        title = re.search(r"<title>(.*?)</title>", body, re.S)
        result["title"] = title.group(1).strip() if title else ""
        result["body"] = body[:2000]
        result["links"] = sorted(set(re.findall(r'href="(https://[^"]+)"', body)))[:200]
        if tls and isinstance(conn.sock, ssl.SSLSocket):
            cert: dict[str, Any] = dict(conn.sock.getpeercert() or {})
            result["issuer"] = {rdn[0][0]: rdn[0][1] for rdn in cert.get("issuer", ())}
            result["san"] = [pair[1] for pair in cert.get("subjectAltName", ()) if pair[0] == "DNS"]
        conn.close()
    except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    result["seconds"] = round(time.monotonic() - started, 4)
    return result


def many(req: dict[str, Any]) -> dict[str, Any]:
    """One request per name (in parallel): {name: result}."""
    tls = bool(req.get("tls", True))
    port = int(req.get("port", 443 if tls else 80))
    with concurrent.futures.ThreadPoolExecutor(max_workers=int(req.get("workers", 8))) as pool:
        futures = {name: pool.submit(fetch, req["address"], name, tls=tls, cafile=req.get("cafile"), port=port,
                                     path=req.get("path", "/"))
                   for name in req["names"]}
        return {name: future.result() for name, future in futures.items()}


def stream(req: dict[str, Any]) -> dict[str, Any]:
    """A bounded stream of requests (`clients` in parallel for `seconds`) over the names, counted."""
    deadline = time.monotonic() + float(req["seconds"])
    names = req["names"]

    def client(index: int) -> list[tuple[float, bool, str, float]]:
        out = []
        i = index
        while time.monotonic() < deadline:
            name = names[i % len(names)]
            i += 1
            r = fetch(req["address"], name, tls=True, cafile=req.get("cafile"), port=int(req.get("port", 443)),
                      path=req.get("path", "/"), timeout=float(req.get("timeout", 10)))
            out.append((time.monotonic(), r.get("ok", False) and r.get("status") == 200, r.get("error", ""),
                        r["seconds"]))
        return out

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=int(req["clients"])) as pool:
        results = [x for f in [pool.submit(client, n) for n in range(int(req["clients"]))] for x in f.result()]
    elapsed = time.monotonic() - started
    failed = [(round(t - started, 2), e) for t, ok, e, _ in results if not ok]
    latencies = sorted(d for _, ok, _, d in results if ok)

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 4) if latencies else 0.0

    return {"requests": len(results), "failed": len(failed), "failures": failed[:20], "seconds": round(elapsed, 2),
            "rps": round((len(results) - len(failed)) / elapsed, 1) if elapsed else 0.0,
            "p50": pct(0.50), "p95": pct(0.95)}


def main() -> None:
    req = json.loads(sys.argv[1])
    action = req.pop("action")
    result = {"many": many, "stream": stream}[action](req)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
