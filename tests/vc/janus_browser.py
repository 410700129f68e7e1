"""A headless Chromium that joins a VideoRoom through Janus's HTTPS API as a WebRTC publisher (issue 15).

    ip netns exec egl-vc-<slug> python -m tests.vc.janus_browser '<json request>'

Run in a site's video-conference namespace: Chromium (Debian's, driven by Selenium and chromium-driver,
as tests/browser.py) opens a page this process serves on the namespace's loopback (http://127.0.0.1 is a
secure context, so getUserMedia and RTCPeerConnection are allowed), with a fake camera and microphone
(--use-fake-device-for-media-stream, --use-fake-ui-for-media-stream). The page speaks Janus's REST API
directly (fetch, no janus.js): create a session, attach janus.plugin.videoroom, join the room with a
WRONG PIN first (it must be refused), then with the right one as a publisher, send an offer with the
camera's and microphone's tracks (non-trickle: every host candidate in the SDP), apply Janus's answer,
wait for Janus's `webrtcup` and the PeerConnection's `connected`, and read its outbound RTP statistics.
The Janus API name maps to the MCU's address (--host-resolver-rules); its certificate is verified against
the lab CA only (tests/browser.py's throw-away NSS database).

Output: one JSON line when the page is done ({"state": "published"|"error", ...} with what it saw); then
the browser stays in the room until a line (or EOF) arrives on stdin (or `hold` seconds pass), leaves the
room, destroys its session and prints a second JSON line ({"left": true|false}).

Request: {"janus": "https://<name>/janus", "address": "<MCU address>", "room": 1000, "pin": "...",
          "display": "...", "cafile": "<pem>", "timeout": 60, "hold": 120}
"""

from __future__ import annotations

import http.server
import json
import os
import re
import select
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.browser import CHROMEDRIVER, CHROMIUM, _profile

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>egov vc publisher</title></head>
<body><h1>egov vc publisher</h1>
<script>
const C = window.EGOV_CONFIG;
const R = window.egov = {state: "starting", log: [], events: []};
const tx = () => Math.random().toString(36).slice(2, 14);
const note = (m) => R.log.push(((performance.now() / 1000).toFixed(2)) + " " + m);
let session = null, handle = null, pc = null, polling = true;
const waiters = [];
async function post(path, body) {
  // text/plain: a CORS "simple" request (no preflight); Janus parses the body whatever its type
  const r = await fetch(C.janus + path, {method: "POST", body: JSON.stringify({...body, transaction: tx()})});
  return await r.json();
}
function waitFor(pred, seconds, what) {
  return new Promise((resolve, reject) => {
    const hit = R.events.find(pred);
    if (hit) { resolve(hit); return; }
    const w = {pred, resolve};
    waiters.push(w);
    setTimeout(() => reject(new Error("no " + what + " within " + seconds + " s")), seconds * 1000);
  });
}
async function poll() {
  while (polling && session) {
    try {
      const r = await fetch(C.janus + "/" + session + "?maxev=10&rid=" + Date.now());
      const got = await r.json();
      for (const ev of (Array.isArray(got) ? got : [got])) {
        if (ev.janus === "keepalive") continue;
        R.events.push(ev);
        for (const w of waiters.slice()) {
          if (w.pred(ev)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(ev); }
        }
      }
    } catch (e) { note("poll: " + e); await new Promise(r => setTimeout(r, 500)); }
  }
}
const data = (ev) => (ev.plugindata || {}).data || {};
async function join(pin) {
  const t0 = R.events.length;   // before the request: its event may come back before its ack
  const ack = await post("/" + session + "/" + handle, {janus: "message",
    body: {request: "join", ptype: "publisher", room: C.room, pin: pin, display: C.display}});
  if (ack.janus !== "ack" && ack.janus !== "success") throw new Error("join: " + JSON.stringify(ack));
  return await waitFor((ev) => R.events.indexOf(ev) >= t0 && ev.sender === handle &&
                       (data(ev).videoroom === "joined" || data(ev).error_code), 20, "answer to the join");
}
async function main() {
  const created = await post("", {janus: "create"});
  session = created.data.id;
  const attached = await post("/" + session, {janus: "attach", plugin: "janus.plugin.videoroom"});
  handle = attached.data.id;
  poll();
  note("session " + session + " handle " + handle);
  const refused = await join(C.pin + "0");
  R.wrong_pin = {error_code: data(refused).error_code || null, error: data(refused).error || null,
                 joined: data(refused).videoroom === "joined"};
  const joined = await join(C.pin);
  if (data(joined).videoroom !== "joined") throw new Error("join refused: " + JSON.stringify(data(joined)));
  R.participant = data(joined).id;
  note("joined as " + R.participant);
  const media = await navigator.mediaDevices.getUserMedia({audio: true, video: {width: 320, height: 240}});
  R.tracks = media.getTracks().map(t => t.kind);
  pc = new RTCPeerConnection({iceServers: []});
  pc.oniceconnectionstatechange = () => note("ice " + pc.iceConnectionState);
  for (const track of media.getTracks()) pc.addTrack(track, media);
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== "complete") {
    await new Promise((resolve) => {
      pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === "complete") resolve(); };
      setTimeout(resolve, 5000);
    });
  }
  R.local_candidates = (pc.localDescription.sdp.match(/^a=candidate:.*$/gm) || []);
  const t0 = R.events.length;   // before the request, as in join()
  const ack = await post("/" + session + "/" + handle, {janus: "message",
    body: {request: "publish", audio: true, video: true},
    jsep: {type: "offer", sdp: pc.localDescription.sdp, trickle: false}});
  if (ack.janus !== "ack") throw new Error("publish: " + JSON.stringify(ack));
  const answered = await waitFor((ev) => R.events.indexOf(ev) >= t0 && ev.sender === handle && ev.jsep, 20,
                                 "answer to the offer");
  R.remote_candidates = (answered.jsep.sdp.match(/^a=candidate:.*$/gm) || []);
  await pc.setRemoteDescription(answered.jsep);
  await waitFor((ev) => ev.janus === "webrtcup" && ev.sender === handle, 20, "webrtcup from Janus");
  note("webrtcup");
  for (let i = 0; i < 100 && !["connected", "completed"].includes(pc.iceConnectionState); i++) {
    await new Promise(r => setTimeout(r, 100));
  }
  R.ice = pc.iceConnectionState;
  await new Promise(r => setTimeout(r, 2000));
  const stats = await pc.getStats();
  R.outbound = {};
  stats.forEach((s) => {
    if (s.type === "outbound-rtp") R.outbound[s.kind] = {packets: s.packetsSent, bytes: s.bytesSent};
  });
  const listed = await post("/" + session + "/" + handle, {janus: "message",
    body: {request: "listparticipants", room: C.room}});
  R.listed = (data(listed).participants || []).map(p => ({display: p.display, publisher: p.publisher}));
  R.state = "published";
}
window.egovLeave = async function () {
  try {
    await post("/" + session + "/" + handle, {janus: "message", body: {request: "leave"}});
    polling = false;
    if (pc) pc.close();
    await post("/" + session, {janus: "destroy"});
    R.left = true;
  } catch (e) { R.left = false; note("leave: " + e); }
};
main().catch((e) => { R.state = "error"; R.error = String(e); });
</script></body></html>
"""


CANDIDATE = re.compile(r"^a=candidate:\S+ \d+ (?P<proto>\w+) \d+ (?P<ip>[0-9.]+) (?P<port>\d+) typ (?P<type>\w+)",
                       re.IGNORECASE)


def candidates(lines: list[str]) -> list[dict[str, Any]]:
    """SDP a=candidate lines -> their transport, IPv4 address, port and type (other lines ignored)."""
    found: list[dict[str, Any]] = []
    for line in lines:
        match = CANDIDATE.match(line.strip())
        if match:
            found.append({**match.groupdict(), "port": int(match.group("port"))})
    return found


def page_for(config: dict[str, Any]) -> bytes:
    """The publisher page with its configuration (the Janus API, room, PIN, display name) in it."""
    return PAGE.replace("<script>", f"<script>window.EGOV_CONFIG = {json.dumps(config)};\n", 1).encode("utf-8")


def _serve(page: bytes) -> tuple[http.server.HTTPServer, int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, int(server.server_address[1])


def _released(hold: float) -> None:
    """Until a line or EOF on stdin, or `hold` seconds."""
    readable, _, _ = select.select([sys.stdin], [], [], hold)
    if readable:
        sys.stdin.readline()


def run(request: dict[str, Any]) -> None:
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    name = urlsplit(request["janus"]).hostname or ""
    config = {"janus": request["janus"], "room": int(request["room"]), "pin": str(request["pin"]),
              "display": request["display"]}
    page = page_for(config)
    server, port = _serve(page)
    timeout = float(request.get("timeout", 60))
    with tempfile.TemporaryDirectory(prefix="egov-vc-browser-") as tmp:
        home = Path(tmp)
        _profile(home, request.get("cafile"))
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-default-apps", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                    "--autoplay-policy=no-user-gesture-required",
                    # the host candidate as an address, not an mDNS name (Janus ignores mDNS candidates)
                    "--disable-features=WebRtcHideLocalIpsWithMdns",
                    f"--host-resolver-rules=MAP {name} {request['address']}, EXCLUDE localhost",
                    f"--user-data-dir={home / 'profile'}"):
            options.add_argument(arg)
        service = Service(CHROMEDRIVER, env={**os.environ, "HOME": str(home)})
        driver = webdriver.Chrome(options=options, service=service)
        result: dict[str, Any] = {}
        try:
            driver.set_page_load_timeout(30)
            driver.get(f"http://127.0.0.1:{port}/")
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                result = dict(driver.execute_script("return window.egov || {}") or {})
                if result.get("state") in ("published", "error"):
                    break
                time.sleep(0.5)
            else:
                result["state"] = "timeout"
            print(json.dumps(result), flush=True)
            _released(float(request.get("hold", 120)))
            driver.execute_script("window.egovLeave()")
            left: Any = None
            for _ in range(40):
                left = driver.execute_script("return window.egov.left")
                if left is not None:
                    break
                time.sleep(0.25)
            print(json.dumps({"left": bool(left)}), flush=True)
        except WebDriverException as exc:
            print(json.dumps({**result, "state": "error",
                              "error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}),
                  flush=True)
        finally:
            driver.quit()
            server.shutdown()


if __name__ == "__main__":
    run(json.loads(sys.argv[1]))
